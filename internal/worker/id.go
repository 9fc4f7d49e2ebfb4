package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
	"time"
)

// FingerprintID is the reference worker's id rule: SHA-256 over the sorted
// "key:value" pairs of the fingerprint joined by "|", the first 16 hex
// digits. Several workers on one host get the same id, and the newest
// connection replaces the older one at the miner, as with the reference.
func FingerprintID(fp map[string]string) string {
	keys := make([]string, 0, len(fp))
	for k := range fp {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ":" + fp[k]
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "|")))
	return hex.EncodeToString(sum[:])[:16]
}

// Fingerprint reads this host's fingerprint as the reference worker does:
// platform (Python's platform.platform() as far as it can be rebuilt: the
// glibc part names the system's glibc), machine, processor (uname -p,
// "unknown" read as blank), the primary MAC and /etc/machine-id. Where the
// rebuilt platform string differs from the Python one the id differs too:
// to keep a reference worker's id, configure worker_id.
func Fingerprint() map[string]string {
	release := kernelRelease()
	plat := runtimeSystem() + "-" + release + "-" + machine()
	if v := command("getconf", "GNU_LIBC_VERSION"); strings.HasPrefix(v, "glibc ") {
		plat += "-with-glibc" + strings.TrimPrefix(v, "glibc ")
	}
	proc := command("uname", "-p")
	if proc == "unknown" {
		proc = ""
	}
	mid, _ := os.ReadFile("/etc/machine-id")
	return map[string]string{"platform": plat, "machine": machine(), "processor": proc,
		"primary_mac": primaryMAC(), "machine_id": strings.TrimSpace(string(mid))}
}

func command(name string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// primaryMAC is the first non-zero MAC among eth0, en0, ens*, eno*, enp*,
// wlan0, wlo*, in that order, else of any interface but loopback.
func primaryMAC() string {
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	mac := func(i net.Interface) string {
		m := i.HardwareAddr.String()
		if m == "" || strings.Trim(m, "0:") == "" {
			return ""
		}
		return m
	}
	for _, pattern := range []string{"eth0", "en0", "ens*", "eno*", "enp*", "wlan0", "wlo*"} {
		for _, i := range ifs {
			if ok, _ := path.Match(pattern, i.Name); ok {
				if m := mac(i); m != "" {
					return m
				}
			}
		}
	}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback == 0 {
			if m := mac(i); m != "" {
				return m
			}
		}
	}
	return ""
}
