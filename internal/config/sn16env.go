package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// sn16Env maps the SN16 (HashTensor) validator's environment variables to
// vigil's, so an operator can switch without rewriting a compose file.
var sn16Env = map[string]struct {
	key     string
	convert func(string) (string, error)
}{
	"WALLET_NAME":                  {"VIGIL_WALLET_NAME", nil},
	"WALLET_HOTKEY":                {"VIGIL_WALLET_HOTKEY", nil},
	"WALLET_PATH":                  {"VIGIL_WALLET_PATH", nil},
	"PROMETHEUS_ENDPOINT":          {"VIGIL_KASPA_PROMETHEUS_ENDPOINT", nil},
	"KASPA_POOL_OWNER_WALLET":      {"VIGIL_KASPA_POOL_WALLET", nil},
	"SUBTENSOR_NETWORK":            {"VIGIL_CHAIN_NETWORK", nil},
	"RATING_WEIGHT":                {"VIGIL_KASPA_RATING_ALPHA", nil},
	"WINDOW":                       {"VIGIL_KASPA_WINDOW", timedelta},
	"MAX_WORKERS_PER_HOTKEY":       {"VIGIL_KASPA_MAX_WORKERS_PER_HOTKEY", nil},
	"REGISTRATION_TIME_TOLERANCE":  {"VIGIL_KASPA_REGISTRATION_TIME_TOLERANCE", timedelta},
	"MAX_DIFFICULTY":               {"VIGIL_KASPA_MAX_DIFFICULTY", nil},
	"SYNC_HOTKEY_WORKERS_INTERVAL": {"VIGIL_KASPA_SYNC_INTERVAL", timedelta},
	"PORT":                         {"VIGIL_KASPA_LISTEN", func(p string) (string, error) { return "0.0.0.0:" + p, nil }},
}

// sn16Netuids are the subnet of SUBTENSOR_NETWORK when no netuid is set.
var sn16Netuids = map[string]string{"finney": "16", "test": "368"}

// SN16Env wraps lookup so that vigil's variables fall back to the SN16
// validator's (WALLET_NAME, PROMETHEUS_ENDPOINT, KASPA_POOL_OWNER_WALLET,
// SUBTENSOR_NETWORK, …). A VIGIL_ variable wins over its SN16 twin. A
// value the reference's format allows but vigil's does not (a timedelta
// such as "01:00:00") is converted; one that does not parse is passed on
// for the configuration to refuse with a clear message.
func SN16Env(lookup func(string) (string, bool)) func(string) (string, bool) {
	l, _ := SN16EnvNamed(lookup)
	return l
}

// SN16EnvNamed is SN16Env with a second function that names the variable a
// VIGIL_ name's value really comes from (WINDOW for VIGIL_KASPA_WINDOW when
// only WINDOW is set), so that an error blames the variable the operator set.
func SN16EnvNamed(lookup func(string) (string, bool)) (func(string) (string, bool), func(string) string) {
	twins := make(map[string]string, len(sn16Env))
	for ref, m := range sn16Env {
		twins[m.key] = ref
	}
	source := func(name string) string {
		if _, ok := lookup(name); ok {
			return name
		}
		if name == "VIGIL_CHAIN_NETUID" {
			if _, ok := lookup("SUBTENSOR_NETWORK"); ok {
				return "SUBTENSOR_NETWORK"
			}
			return name
		}
		if ref, ok := twins[name]; ok {
			if _, ok := lookup(ref); ok {
				return ref
			}
		}
		return name
	}
	get := func(name string) (string, bool) {
		if v, ok := lookup(name); ok {
			return v, true
		}
		if name == "VIGIL_CHAIN_NETUID" {
			if net, ok := lookup("SUBTENSOR_NETWORK"); ok {
				if n, ok := sn16Netuids[net]; ok {
					return n, true
				}
			}
			return "", false
		}
		ref, ok := twins[name]
		if !ok {
			return "", false
		}
		v, ok := lookup(ref)
		if !ok {
			return "", false
		}
		if conv := sn16Env[ref].convert; conv != nil {
			if c, err := conv(v); err == nil {
				return c, true
			}
		}
		return v, true
	}
	return get, source
}

var hms = regexp.MustCompile(`^(?:(\d+) days?, )?(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$`)

// timedelta reads what pydantic accepts for a timedelta — seconds ("3600"),
// [D days, ]HH:MM:SS, or an ISO-8601 duration (PT1H) — as a Go duration.
func timedelta(s string) (string, error) {
	s = strings.TrimSpace(s)
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		return (time.Duration(secs * float64(time.Second))).String(), nil
	}
	if m := hms.FindStringSubmatch(s); m != nil {
		d, _ := strconv.Atoi(m[1] + "0")
		h, _ := strconv.Atoi(m[2])
		mi, _ := strconv.Atoi(m[3])
		sec, _ := strconv.ParseFloat(m[4], 64)
		total := time.Duration(d/10)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(sec*float64(time.Second))
		return total.String(), nil
	}
	if strings.HasPrefix(s, "PT") || strings.HasPrefix(s, "P") {
		rest := strings.TrimPrefix(strings.TrimPrefix(s, "P"), "T")
		if d, err := time.ParseDuration(strings.ToLower(rest)); err == nil && !strings.Contains(rest, "D") {
			return d.String(), nil
		}
	}
	return "", fmt.Errorf("not a timedelta: %q", s)
}
