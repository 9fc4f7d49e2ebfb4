package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/demo"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, Env{Stdout: &out, Stderr: &errb, LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	return result{code, out.String(), errb.String()}
}

func TestDBMigrateUpTwiceThenCheck(t *testing.T) {
	all, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	latest := fmt.Sprint(all[len(all)-1].Version)
	storetest.Each(t, func(t *testing.T, engine string) {
		url := storetest.URL(t, engine)
		before := run(t, nil, "db", "check", "--database-url", url)
		if before.code != exitFailure || !strings.Contains(before.stdout, "pending:        0001_core") {
			t.Fatalf("check on an empty database: %+v, want exit 1 listing 0001_core", before)
		}
		first := run(t, nil, "db", "migrate", "up", "--database-url", url)
		if first.code != exitOK || !strings.Contains(first.stdout, "applied 0001_core") {
			t.Fatalf("first migrate up: %+v", first)
		}
		// The environment is an equal way to name the database.
		second := run(t, map[string]string{"VIGIL_DATABASE_URL": url}, "db", "migrate", "up")
		if second.code != exitOK || strings.Contains(second.stdout, "applied") || !strings.Contains(second.stdout, "already up to date at schema version "+latest) {
			t.Fatalf("second migrate up is not a no-op: %+v", second)
		}
		check := run(t, nil, "db", "check", "--database-url", url)
		if check.code != exitOK || !strings.Contains(check.stdout, "engine:         "+engine) ||
			!strings.Contains(check.stdout, "schema version: "+latest+" (this binary knows up to "+latest+")") || !strings.Contains(check.stdout, "status:         ok") {
			t.Fatalf("check after migrate: %+v", check)
		}
		status := run(t, nil, "db", "migrate", "status", "--database-url", url)
		if status.code != exitOK || !strings.Contains(status.stdout, "0001") || strings.Contains(status.stdout, "pending") {
			t.Fatalf("status: %+v", status)
		}
	})
}

func TestDBRefusesNewerSchema(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		url := storetest.URL(t, engine)
		if r := run(t, nil, "db", "migrate", "up", "--database-url", url); r.code != exitOK {
			t.Fatal(r)
		}
		s, err := store.Open(context.Background(), store.Options{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.DB().Exec(s.Rebind("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, 'later', 'x', ?)"), 42, time.Now().UTC())
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		check := run(t, nil, "db", "check", "--database-url", url)
		if check.code != exitFailure || !strings.Contains(check.stderr, "schema version 42") || !strings.Contains(check.stderr, "refuses to run") {
			t.Errorf("check on a newer schema: %+v", check)
		}
		up := run(t, nil, "db", "migrate", "up", "--database-url", url)
		if up.code != exitFailure || !strings.Contains(up.stderr, "newer than this binary") {
			t.Errorf("migrate up on a newer schema: %+v", up)
		}
		status := run(t, nil, "db", "migrate", "status", "--database-url", url)
		if status.code != exitFailure || !strings.Contains(status.stdout, "(unknown to this binary)") {
			t.Errorf("status on a newer schema: %+v", status)
		}
		// The validator must refuse to start on it too.
		v := run(t, nil, "validator", "--chain-netuid", "1", "--ops-listen", "127.0.0.1:0", "--database-url", url)
		if v.code != exitFailure || !strings.Contains(v.stderr, "newer than this binary") {
			t.Errorf("validator on a newer schema: %+v", v)
		}
	})
}

func TestConfigErrorsFailAtStartNamingTheKey(t *testing.T) {
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown key", nil, []string{"validator", "--config", file("a.yaml", "chain:\n  netuid: 1\n  netiud: 2\n")}, "chain.netiud: unknown key (a.yaml:3)"},
		{"bad URL", nil, []string{"validator", "--config", file("b.yaml", "chain:\n  netuid: 1\ndatabase:\n  url: mysql://x/y\n")}, `database.url: unsupported scheme "mysql"`},
		{"missing required field", nil, []string{"validator", "--config", file("c.yaml", "log:\n  level: info\n")}, "chain.netuid: required"},
		{"config from VIGIL_CONFIG", map[string]string{"VIGIL_CONFIG": file("d.yaml", "opps:\n  listen: x\n")}, []string{"validator"}, "opps: unknown key (d.yaml:1)"},
		{"bad env value", map[string]string{"VIGIL_CHAIN_NETUID": "-1"}, []string{"validator"}, `chain.netuid: invalid value "-1" from VIGIL_CHAIN_NETUID`},
		{"db reads the validator file", nil, []string{"db", "check", "--config", file("e.yaml", "database:\n  url: sqlite:x.db\n  max_open: 3\n")}, "database.max_open: unknown key"},
		{"db bad URL", nil, []string{"db", "check", "--database-url", "mongodb://x"}, `database.url: unsupported scheme "mongodb"`},
		{"unknown flag", nil, []string{"validator", "--netuid", "1"}, "flag provided but not defined: -netuid"},
		{"missing file", nil, []string{"validator", "--config", filepath.Join(dir, "none.yaml")}, "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.env, tc.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", r.code, r.stderr, tc.want)
			}
		})
	}
}

func TestHelpAndCommands(t *testing.T) {
	if r := run(t, nil, "help"); r.code != exitOK || !strings.Contains(r.stdout, "validator   run a subnet validator") ||
		!strings.Contains(r.stdout, "meshhub-sim a MeshHub") {
		t.Errorf("help: %+v", r)
	}
	if r := run(t, nil); r.code != exitUsage || !strings.Contains(r.stderr, "Usage: vigil <command>") {
		t.Errorf("no arguments: %+v", r)
	}
	if r := run(t, nil, "frobnicate"); r.code != exitUsage || !strings.Contains(r.stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %+v", r)
	}
	if r := run(t, nil, "version"); r.code != exitOK || !strings.HasPrefix(r.stdout, "vigil dev (commit unknown, go1.") {
		t.Errorf("version: %+v", r)
	}
	for _, c := range commands() {
		r := run(t, nil, c.name, "--help")
		if r.code != exitOK || !strings.Contains(r.stdout, "Usage: vigil "+c.name) {
			t.Errorf("%s --help: %+v", c.name, r)
		}
		if h := run(t, nil, "help", c.name); h.stdout != r.stdout {
			t.Errorf("'help %s' differs from '%s --help'", c.name, c.name)
		}
	}
	if r := run(t, nil, "validator", "--help"); !strings.Contains(r.stdout, "-database-url") || !strings.Contains(r.stdout, "VIGIL_SHUTDOWN_DRAIN_TIMEOUT") {
		t.Errorf("validator --help does not list every flag: %s", r.stdout)
	}
	for _, c := range []struct {
		args []string
		say  string
	}{
		{[]string{"miner"}, "chain.netuid"},
		{[]string{"miner", "--chain-netuid", "1", "--validators-whitelist", "nobody"}, "validators.whitelist"},
		{[]string{"miner", "--chain-netuid", "1", "--axon-publish"}, "axon.publish"},
		{[]string{"worker", "--gpu-backend", "cuda"}, "gpu.backend"},
		{[]string{"worker", "--miner-url", "http://x"}, "miner.url"},
	} {
		if r := run(t, nil, c.args...); r.code != exitUsage || !strings.Contains(r.stderr, c.say) {
			t.Errorf("%v: %+v, want a usage error about %s", c.args, r, c.say)
		}
	}
	// The demo itself runs in internal/demo's tests; here, its flags.
	for _, args := range [][]string{{"demo", "extra"}, {"demo", "--for", "-1s"}, {"demo", "--block-time", "1ms"},
		{"demo", "--window", "10s"}, {"demo", "--refresh", "1ms"}, {"demo", "--mechanism", "bitcoin"},
		{"demo", "--challenge-interval", "1500ms"}, {"demo", "--matrix-size", "50"}, {"demo", "--matrix-size", "5000"}} {
		if r := run(t, nil, args...); r.code != exitUsage || !strings.Contains(r.stderr, "vigil demo:") {
			t.Errorf("%v: %+v, want a usage error", args, r)
		}
	}
	if r, want := run(t, nil, "demo", "--help"), fmt.Sprintf("(default %s)", demo.DefaultConfig().Window); !strings.Contains(r.stdout, want) {
		t.Errorf("demo --help does not give the demo's own window default %s: %s", want, r.stdout)
	}
	if r := run(t, nil, "db", "migrate", "sideways"); r.code != exitUsage || !strings.Contains(r.stderr, `got "migrate sideways"`) {
		t.Errorf("db migrate sideways: %+v", r)
	}
}
