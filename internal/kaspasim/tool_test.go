package kaspasim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vigil-validator/vigil/internal/command"
)

// result is what a run of the tool printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

func runSim(args ...string) result {
	var out, errb bytes.Buffer
	code := runKaspaSim(command.Env{Stdout: &out, Stderr: &errb, LookupEnv: func(string) (string, bool) { return "", false }}, args)
	return result{code, out.String(), errb.String()}
}

func TestKaspaSimHelp(t *testing.T) {
	r := runSim("--help")
	if r.code != command.ExitOK || r.stderr != "" {
		t.Fatalf("--help: %+v", r)
	}
	for _, want := range []string{"Usage: vigil kaspa-sim", "-profiles", "-wallet", "-hotkeys", "-seed", "-speed", "-json",
		"ks_miner_work_seconds_total", "intermittent", "flooding"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

func TestKaspaSimFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--frobnicate"}, "flag provided but not defined: -frobnicate"},
		{"unknown profile", []string{"--profiles", "honest:2,greedy:1"}, `--profiles: bad profile: "greedy"`},
		{"bad count", []string{"--profiles", "honest:x"}, `count "x"`},
		{"negative count", []string{"--profiles", "honest:-1"}, `count "-1"`},
		{"repeated profile", []string{"--profiles", "idle,idle:2"}, `"idle" appears twice`},
		{"no workers in mix", []string{"--profiles", "honest:0"}, "has no workers"},
		{"more profiles than workers", []string{"--workers", "2", "--profiles", "honest:2,idle:1"}, "describe 3 workers but there are only 2"},
		{"bad wallet", []string{"--wallet", "kaspa:qr4ksh6s3rmy5f4qyql2kh7p9z7f4c55da5r5gz2nnsd8ctt4k69whtr4u0wq"}, "--wallet: not a kaspa address"},
		{"testnet prefix", []string{"--wallet", "kaspatest:qr4ksh6s3rmy5f4qyql2kh7p9z7f4c55da5r5gz2nnsd8ctt4k69whtr4u0wp"}, "--wallet"},
		{"bad hotkey", []string{"--hotkeys", "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty,nope"}, `--hotkeys: hotkey "nope"`},
		{"empty hotkeys", []string{"--hotkeys", ""}, "--hotkeys: empty"},
		{"speed zero", []string{"--speed", "0"}, "--speed: 0"},
		{"speed too high", []string{"--speed", "1e6"}, "--speed"},
		{"workers", []string{"--workers", "-1"}, "--workers: -1"},
		{"nobody", []string{"--workers", "0", "--foreign", "0"}, "no workers"},
		{"deployment", []string{"--deployment", "ultrahigh"}, "--deployment"},
		{"log level", []string{"--log-level", "loud"}, "--log-level"},
		{"log level offset", []string{"--log-level", "info+2"}, `--log-level: unsupported level "info+2"`},
		{"argument", []string{"extra"}, `unexpected argument "extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runSim(tc.args...)
			if r.code != command.ExitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", r.code, r.stderr, tc.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q", r.stdout)
			}
		})
	}
}

func TestKaspaSimConfigFromFlags(t *testing.T) {
	cfgOf := func(args ...string) Config {
		t.Helper()
		fs := command.NewFlagSet(command.Env{Stderr: io.Discard}, "kaspa-sim", "", "")
		workers := fs.Int("workers", 8, "")
		profiles := fs.String("profiles", DefaultMix().String(), "")
		foreign := fs.Int("foreign", 1, "")
		hotkeys := fs.String("hotkeys", "", "")
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		cfg, err := kaspaSimConfig(fs, set, kaspaSimFlags{deployment: "main", workers: *workers, profiles: *profiles,
			foreign: *foreign, wallet: DefaultWallet, hotkeys: *hotkeys, speed: 1})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	if c := cfgOf(); len(c.Profiles) != 8 || len(c.Hotkeys) != 9 || c.Profiles[3] != Idle {
		t.Errorf("defaults: %v, %d hotkeys", c.Profiles, len(c.Hotkeys))
	}
	if c := cfgOf("--workers", "3"); len(c.Profiles) != 3 || c.Profiles[2] != Honest {
		t.Errorf("--workers 3: %v", c.Profiles)
	}
	if c := cfgOf("--workers", "10"); len(c.Profiles) != 10 || c.Profiles[9] != Honest {
		t.Errorf("--workers 10: %v", c.Profiles)
	}
	if c := cfgOf("--profiles", "flooding:2,idle"); len(c.Profiles) != 3 || c.Profiles[2] != Idle {
		t.Errorf("--profiles only: %v", c.Profiles)
	}
	if c := cfgOf("--workers", "4", "--profiles", "idle:1"); len(c.Profiles) != 4 || c.Profiles[0] != Idle || c.Profiles[3] != Honest {
		t.Errorf("--workers 4 --profiles idle:1: %v", c.Profiles)
	}
	if c := cfgOf("--hotkeys", "//Bob, //Charlie"); len(c.Hotkeys) != 2 || c.Hotkeys[1].URI != "//Charlie" {
		t.Errorf("--hotkeys: %+v", c.Hotkeys)
	}
}

// syncBuffer is a bytes.Buffer for a command that logs from goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestKaspaSimServesAndStopsOnSignal runs the command, scrapes it and
// stops it with SIGTERM.
func TestKaspaSimServesAndStopsOnSignal(t *testing.T) {
	pr, pw := io.Pipe()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runKaspaSim(command.Env{Stdout: pw, Stderr: &stderr}, []string{"--listen", "127.0.0.1:0", "--workers", "3",
			"--profiles", "honest,idle,flooding", "--foreign", "1", "--seed", "5", "--speed", "100", "--json"})
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no JSON line: %v; stderr %s", err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	var start struct {
		Metrics string `json:"metrics"`
		Wallet  string `json:"wallet"`
		Workers []WorkerStatus
	}
	if err := json.Unmarshal([]byte(line), &start); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	if len(start.Workers) != 4 || start.Workers[1].Profile != Idle || start.Workers[0].HotkeyURI != "//Bob" ||
		start.Workers[3].OwnerWallet || start.Wallet != DefaultWallet {
		t.Fatalf("workers: %+v", start)
	}
	time.Sleep(50 * time.Millisecond) // five simulated seconds at speed 100
	resp, err := http.Get(start.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(fams[MetricValidShares].GetMetric()); n != 4 {
		t.Errorf("%d valid-share series, want 4", n)
	}
	// The server answered, so the signal handler is installed.
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != command.ExitOK {
			t.Errorf("exit %d; stderr %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop on SIGTERM")
	}
}

func TestKaspaSimTextBannerAndListenError(t *testing.T) {
	hks, err := DevHotkeys(2)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := New(Config{Wallet: DefaultWallet, Hotkeys: hks,
		Profiles: []Profile{Intermittent}, Foreign: 1})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := printSimWorkers(command.Env{Stdout: &out}, sim, "127.0.0.1:2114", false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"http://127.0.0.1:2114/metrics (main bridge), 2 workers", "WORKER", "intermittent  owner", "//Charlie"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, out.String())
		}
	}
	r := runSim("--listen", "256.0.0.1:1", "--workers", "1")
	if r.code != command.ExitFailure || !strings.Contains(r.stderr, "vigil kaspa-sim: listen tcp") {
		t.Errorf("bad listen address: %+v", r)
	}
}
