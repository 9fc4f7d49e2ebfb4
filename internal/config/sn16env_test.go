package config

import (
	"strings"
	"testing"
)

func TestSN16EnvironmentMapsToVigilKeys(t *testing.T) {
	env := map[string]string{
		"WALLET_NAME": "sn16", "WALLET_HOTKEY": "hk1", "PROMETHEUS_ENDPOINT": "http://10.0.0.9:9090",
		"KASPA_POOL_OWNER_WALLET": "kaspa:qq7yl7tjhkyr56x380j7hpa2r4jz97dyqn74a69wumpe5rv97wyxk4cxa7e7t",
		"SUBTENSOR_NETWORK":       "test", "RATING_WEIGHT": "2", "WINDOW": "01:30:00", "PORT": "9000",
		"REGISTRATION_TIME_TOLERANCE": "120", "SYNC_HOTKEY_WORKERS_INTERVAL": "PT10M", "MAX_WORKERS_PER_HOTKEY": "12",
		"VIGIL_KASPA_MAX_DIFFICULTY": "8192", "MAX_DIFFICULTY": "1",
	}
	lookup := SN16Env(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	cfg, err := LoadRole(DefaultValidator(), Source{LookupEnv: lookup})
	if err != nil {
		t.Fatal(err)
	}
	k := cfg.Kaspa
	if cfg.Wallet.Name != "sn16" || cfg.Wallet.Hotkey != "hk1" || cfg.Chain.Network != "test" || cfg.Chain.Netuid == nil || *cfg.Chain.Netuid != 368 ||
		k.PrometheusEndpoint != "http://10.0.0.9:9090" || k.PoolWallet != env["KASPA_POOL_OWNER_WALLET"] || k.RatingAlpha != 2 ||
		k.Window.Minutes() != 90 || k.Listen != "0.0.0.0:9000" || k.RegistrationTimeTolerance.Seconds() != 120 || k.SyncInterval.Minutes() != 10 ||
		k.MaxWorkersPerHotkey != 12 || k.MaxDifficulty != 8192 {
		t.Fatalf("config from the SN16 environment: %+v %+v", cfg.Chain, k)
	}
	// A value that is no timedelta reaches validation and is refused there,
	// naming the variable the operator set.
	env["WINDOW"] = "abc"
	named, name := SN16EnvNamed(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	_, err = LoadRole(DefaultValidator(), Source{LookupEnv: named, EnvName: name})
	if err == nil || !strings.Contains(err.Error(), "from WINDOW") || strings.Contains(err.Error(), "VIGIL_KASPA_WINDOW") {
		t.Fatalf("WINDOW=abc: %v; want the error to name WINDOW", err)
	}
}
