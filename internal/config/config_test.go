package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/mechanism/kaspa"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "validator.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

const minimal = "chain:\n  netuid: 7\n"

func TestLoadValidatorErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		name    string
		file    string
		env     map[string]string
		flags   map[string]string
		wantErr string // every error must start with the key it is about
	}{
		{"unknown top-level key", minimal + "databse:\n  url: sqlite:x.db\n", nil, nil, "databse: unknown key (validator.yaml:3)"},
		{"unknown nested key", minimal + "database:\n  urll: sqlite:x.db\n", nil, nil, "database.urll: unknown key (validator.yaml:4)"},
		{"unsupported scheme", minimal + "database:\n  url: mysql://u@h/db\n", nil, nil, `database.url: unsupported scheme "mysql"`},
		{"url without scheme", minimal + "database:\n  url: vigil.db\n", nil, nil, `database.url: no scheme in "vigil.db"`},
		{"postgres without host", minimal + "database:\n  url: postgres:///db\n", nil, nil, "database.url: no host"},
		{"bad url from env", minimal, map[string]string{"VIGIL_DATABASE_URL": "redis://x"}, nil, `database.url: unsupported scheme "redis"`},
		{"missing netuid", "log:\n  level: debug\n", nil, nil, "chain.netuid: required"},
		{"netuid not a number", "chain:\n  netuid: seven\n", nil, nil, `chain.netuid: invalid value "seven" (validator.yaml:2): expected an integer from 0 to 65535`},
		{"netuid too large from env", minimal, map[string]string{"VIGIL_CHAIN_NETUID": "70000"}, nil, `chain.netuid: invalid value "70000" from VIGIL_CHAIN_NETUID`},
		{"bad duration from flag", minimal, nil, map[string]string{"shutdown-drain-timeout": "soon"}, `shutdown.drain_timeout: invalid value "soon" from --shutdown-drain-timeout: expected a duration`},
		{"zero drain timeout", minimal + "shutdown:\n  drain_timeout: 0s\n", nil, nil, "shutdown.drain_timeout: 0s out of range"},
		{"bad log format", minimal + "log:\n  format: xml\n", nil, nil, `log.format: unsupported format "xml"`},
		{"bad log level", minimal, map[string]string{"VIGIL_LOG_LEVEL": "loud"}, nil, `log.level: unsupported level "loud"`},
		{"bad ops listen", minimal + "ops:\n  listen: localhost\n", nil, nil, `ops.listen: not a host:port address "localhost"`},
		{"bad network", "chain:\n  netuid: 7\n  network: http://node\n", nil, nil, "chain.network: unsupported network"},
		{"console token without the console", minimal + "console:\n  enabled: false\n  token_file: /etc/vigil/console.token\n", nil, nil, "console.token_file: set while console.enabled is false"},
		{"wallet name with slash", minimal + "wallet:\n  name: ../x\n", nil, nil, `wallet.name: "../x" is not a plain name`},
		{"section given a scalar", minimal + "database: sqlite:x.db\n", nil, nil, "database: expected a mapping of keys (validator.yaml:3)"},
		{"leaf given a list", minimal + "log:\n  level: [debug]\n", nil, nil, "log.level: expected a single value"},
		{"top level not a mapping", "- a\n- b\n", nil, nil, "top level: expected a mapping"},
		{"duplicate key", minimal + "log:\n  level: debug\n  level: info\n", nil, nil, `"level" already defined`},
		{"sqlite options", minimal + "database:\n  url: sqlite:x.db?_pragma=foo\n", nil, nil, "database.url: SQLite options are set by vigil"},
		{"rating alpha negative", minimal, map[string]string{"VIGIL_KASPA_RATING_ALPHA": "-1"}, nil, "kaspa.rating_alpha: -1 out of range"},
		{"ops and api on one port", minimal + "ops:\n  listen: 127.0.0.1:8000\n", nil, nil, "ops.listen: 127.0.0.1:8000 clashes with kaspa.listen 0.0.0.0:8000"},
		{"a mechanism no subnet has", minimal + "weights:\n  mechanisms: 0,16\n", nil, nil, "weights.mechanisms: mechanism 16: a subnet has at most 16 (ids 0 to 15)"},
		{"a mechanism named twice", minimal + "weights:\n  mechanisms: 1,0,1\n", nil, nil, "weights.mechanisms: mechanism 1 is named twice"},
		{"ratings ttl too short", minimal + "kaspa:\n  ratings_ttl: 10ms\n", nil, nil, "kaspa.ratings_ttl: 10ms out of range 1s-1h"},
		{"subnets not a list", minimal + "subnets:\n  netuid: 2\n", nil, nil, "subnets: expected a list (validator.yaml:4)"},
		{"a subnet without netuid", minimal + "subnets:\n  - mechanism: kaspa\n    kaspa:\n      listen: 127.0.0.1:8001\n", nil, nil, "subnets[0].netuid: required"},
		{"an unknown key in a subnet", minimal + "subnets:\n  - netuid: 2\n    kaspaa: {}\n", nil, nil, "subnets[0].kaspaa: unknown key (validator.yaml:5)"},
		{"a bad value in a subnet", minimal + "subnets:\n  - netuid: 2\n    kaspa:\n      window: 5s\n", nil, nil, "subnets[0].kaspa.window: 5s: whole seconds from 1m to 24h"},
		{"a netuid served twice", minimal + "subnets:\n  - netuid: 7\n    kaspa:\n      listen: 127.0.0.1:8001\n", nil, nil, "subnets[0].netuid: netuid 7 is served twice"},
		{"an unknown mechanism in a subnet", minimal + "subnets:\n  - netuid: 2\n    mechanism: doge\n", nil, nil, `subnets[0].mechanism: unknown mechanism "doge" (want kaspa or compute)`},
		{"two public APIs on one port", minimal + "subnets:\n  - netuid: 2\n", nil, nil, "kaspa.listen: 0.0.0.0:8000 clashes with subnets[0].kaspa.listen 0.0.0.0:8000"},
		{"bad weights.mechanisms in a subnet", minimal + "subnets:\n  - netuid: 2\n    weights:\n      mechanisms: x\n    kaspa:\n      listen: 127.0.0.1:8001\n", nil, nil, `subnets[0].weights.mechanisms: "x" is not a mechanism id`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadRole(DefaultValidator(), Source{File: writeFile(t, tc.file), LookupEnv: envOf(tc.env), Flags: tc.flags})
			if err == nil {
				t.Fatalf("want error containing %q, got none", tc.wantErr)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %q does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestLoadLayersOverrideInOrder(t *testing.T) {
	file := writeFile(t, `
log:
  level: debug
database:
  url: sqlite:file.db
  max_open_conns: 3
chain:
  netuid: 7
  network: finney
shutdown:
  drain_timeout: 45s
`)
	env := map[string]string{
		"VIGIL_DATABASE_URL":    "postgres://u:p@127.0.0.1:5432/vigil",
		"VIGIL_CHAIN_NETUID":    "9",
		"VIGIL_UNRELATED_THING": "ignored",
	}
	flags := map[string]string{"chain-netuid": "11", "log-format": "json"}
	cfg, err := LoadRole(DefaultValidator(), Source{File: file, LookupEnv: envOf(env), Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log.Level != "debug" || cfg.Log.Format != "json" {
		t.Errorf("log = %+v, want level from file and format from flag", cfg.Log)
	}
	if cfg.Database.URL != env["VIGIL_DATABASE_URL"] {
		t.Errorf("database.url = %q, want the environment's", cfg.Database.URL)
	}
	if cfg.Database.MaxOpenConns != 3 {
		t.Errorf("database.max_open_conns = %d, want 3 from file", cfg.Database.MaxOpenConns)
	}
	if cfg.Database.BusyTimeout != 5*time.Second {
		t.Errorf("database.busy_timeout = %s, want the default 5s", cfg.Database.BusyTimeout)
	}
	if cfg.Chain.Netuid == nil || *cfg.Chain.Netuid != 11 {
		t.Errorf("chain.netuid = %v, want 11 from the flag", cfg.Chain.Netuid)
	}
	if cfg.Chain.Network != "finney" || cfg.Shutdown.DrainTimeout != 45*time.Second {
		t.Errorf("chain.network = %q, drain = %s", cfg.Chain.Network, cfg.Shutdown.DrainTimeout)
	}
}

func TestLoadEmptyAndNullKeepDefaults(t *testing.T) {
	cfg, err := LoadRole(DefaultValidator(), Source{File: writeFile(t, minimal+"log:\n  level:\ndatabase:\n")})
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultValidator()
	if cfg.Log != want.Log || cfg.Database != want.Database {
		t.Errorf("got %+v %+v, want defaults", cfg.Log, cfg.Database)
	}
	if _, err := LoadRole(DefaultValidator(), Source{File: writeFile(t, ""), Flags: map[string]string{"chain-netuid": "1"}}); err != nil {
		t.Errorf("empty file: %v", err)
	}
}

// TestSubnetsList: each entry of subnets: starts from the defaults (kaspa,
// the mechanism's settings) and takes the file's values; SubnetList puts
// the top-level subnet first.
func TestSubnetsList(t *testing.T) {
	file := minimal + "kaspa:\n  window: 2h\nsubnets:\n  - netuid: 2\n    weights:\n      every_blocks: 50\n      mechanisms: 0,1\n    kaspa:\n      listen: 127.0.0.1:8001\n  - netuid: 3\n    kaspa:\n      listen: 127.0.0.1:8002\n      rating_alpha: 0\n"
	cfg, err := LoadRole(DefaultValidator(), Source{File: writeFile(t, file)})
	if err != nil {
		t.Fatal(err)
	}
	list := cfg.SubnetList()
	if len(list) != 3 || *list[0].Netuid != 7 || *list[1].Netuid != 2 || *list[2].Netuid != 3 {
		t.Fatalf("subnets %+v", list)
	}
	if list[0].Kaspa.Window != 2*time.Hour || list[1].Kaspa.Window != DefaultValidator().Kaspa.Window {
		t.Errorf("windows %v %v: the top-level setting must not leak into the list", list[0].Kaspa.Window, list[1].Kaspa.Window)
	}
	if list[1].Mechanism != "kaspa" || list[1].Weights.EveryBlocks != 50 || list[2].Kaspa.RatingAlpha != 0 || list[1].Kaspa.RatingAlpha != 1 {
		t.Errorf("entries %+v / %+v", list[1], list[2])
	}
	if ids, err := list[1].MechanismIDs(); err != nil || fmt.Sprint(ids) != "[0 1]" {
		t.Errorf("mechanisms %v %v", ids, err)
	}
	if _, ok := list[2].MechanismSettings().(kaspa.Settings); !ok {
		t.Errorf("settings of type %T", list[2].MechanismSettings())
	}
	// The list is file-only: no flag or variable for it.
	for _, k := range Keys(DefaultValidator()) {
		if strings.HasPrefix(k.Path, "subnets") {
			t.Errorf("key %s", k.Path)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := LoadRole(DefaultValidator(), Source{File: filepath.Join(t.TempDir(), "nope.yaml")})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("want a not-exist error, got %v", err)
	}
}

func TestKeysNamesAreConsistent(t *testing.T) {
	keys := Keys(DefaultValidator())
	seen := map[string]bool{}
	for _, k := range keys {
		if k.Help == "" {
			t.Errorf("%s has no help text", k.Path)
		}
		if want := EnvPrefix + strings.ToUpper(strings.NewReplacer(".", "_").Replace(k.Path)); k.Env != want {
			t.Errorf("%s: env %s, want %s", k.Path, k.Env, want)
		}
		if seen[k.Flag] {
			t.Errorf("flag %s defined twice", k.Flag)
		}
		seen[k.Flag] = true
	}
	if !seen["database-url"] || !seen["log-format"] || !seen["shutdown-drain-timeout"] {
		t.Errorf("expected flags missing from %v", seen)
	}
}

func TestBindFlags(t *testing.T) {
	fs := flag.NewFlagSet("validator", flag.ContinueOnError)
	vals := BindFlags(fs, Keys(DefaultValidator()))
	if err := fs.Parse([]string{"--database-url", "sqlite:x.db", "--chain-netuid=3"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadRole(DefaultValidator(), Source{Flags: vals})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database.URL != "sqlite:x.db" || *cfg.Chain.Netuid != 3 {
		t.Errorf("flags not applied: %+v %v", cfg.Database, *cfg.Chain.Netuid)
	}
	if u := fs.Lookup("database-url").Usage; !strings.Contains(u, "VIGIL_DATABASE_URL") || !strings.Contains(u, "default sqlite:vigil.db") {
		t.Errorf("usage %q does not name the env variable and default", u)
	}
}

// The example files are documentation: each must load, and each must mention
// every key its role has, so that a new key cannot go undocumented.
func TestExampleFiles(t *testing.T) {
	roles := map[string]func(string) ([]Key, error){
		"validator.yaml": func(p string) ([]Key, error) {
			_, err := LoadRole(DefaultValidator(), Source{File: p})
			return Keys(DefaultValidator()), err
		},
		"miner.yaml": func(p string) ([]Key, error) {
			_, err := LoadRole(DefaultMiner(), Source{File: p})
			return Keys(DefaultMiner()), err
		},
		"worker.yaml": func(p string) ([]Key, error) {
			_, err := LoadRole(DefaultWorker(), Source{File: p})
			return Keys(DefaultWorker()), err
		},
	}
	for name, load := range roles {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join("..", "..", "config", name)
			keys, err := load(p)
			if err != nil {
				t.Fatalf("example %s does not load: %v", name, err)
			}
			body, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				leaf := k.Path[strings.LastIndexByte(k.Path, '.')+1:]
				if !strings.Contains(string(body), leaf+":") {
					t.Errorf("%s does not document %s", name, k.Path)
				}
			}
		})
	}
}
