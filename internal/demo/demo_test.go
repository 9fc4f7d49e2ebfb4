package demo

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/prometheustest"
	"github.com/vigil-validator/vigil/internal/promserver"
)

// lockedBuffer is an io.Writer the demo and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// honestLead reports whether every honest miner is paid, and paid more
// than every misbehaving one.
func honestLead(tab Table) bool {
	minHonest, maxOther := 2.0, 0.0
	for _, r := range tab.Rows {
		if r.Honest() {
			minHonest = min(minHonest, r.Incentive)
		} else {
			maxOther = max(maxOther, r.Incentive)
		}
	}
	return minHonest > 0 && minHonest <= 1 && minHonest > maxOther
}

// TestDemoHonestMinersTakeTheIncentive runs the demo as `vigil demo` does,
// with every real part (chain, simulator, Prometheus, validator, miners
// over HTTP), until the chain pays the honest miners more than the
// misbehaving ones, then stops it as Ctrl-C would.
func TestDemoHonestMinersTakeTheIncentive(t *testing.T) {
	t.Parallel()
	bin := prometheustest.Binary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var (
		out  lockedBuffer
		mu   sync.Mutex
		ends Endpoints
		last Table
		won  bool
	)
	dir := filepath.Join(t.TempDir(), "demo")
	started := time.Now()
	err := Run(ctx, Config{Dir: dir, PrometheusBin: bin, Refresh: time.Second, Out: &out,
		OnStart: func(e Endpoints) { mu.Lock(); ends = e; mu.Unlock() },
		OnTable: func(tab Table) {
			mu.Lock()
			defer mu.Unlock()
			last = tab
			if !won && honestLead(tab) {
				won = true
				cancel()
			}
		}})
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	if !won {
		t.Fatalf("no honest lead within the time limit; last table:\n%s", last)
	}
	t.Logf("honest miners lead after %s:\n%s", time.Since(started).Round(time.Second), last)

	for _, r := range last.Rows {
		if r.Workers != len(r.Profiles) {
			t.Errorf("%s: %d workers registered through /register, want %d", r.URI, r.Workers, len(r.Profiles))
		}
		if r.Honest() && (!r.Rated || r.Rating <= 0 || r.Weight <= 0) {
			t.Errorf("%s: an honest miner unrated or unweighted: %+v", r.URI, r)
		}
	}
	if last.Submissions == 0 || last.WeightsAt == 0 {
		t.Errorf("no weights journaled or on chain: %+v", last)
	}
	text := out.String()
	for _, want := range []string{"vigil demo:", "RATING", "INCENTIVE", "stopping the demo"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Everything stopped: no part still listens.
	for _, raw := range []string{ends.Chain, ends.Prometheus, ends.API} {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			t.Fatalf("endpoint %q: %v", raw, err)
		}
		if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still listens after the demo stopped", raw)
		}
	}
	// A given directory is kept, with the log of what happened.
	log, err := os.ReadFile(filepath.Join(dir, "demo.log"))
	if err != nil || !bytes.Contains(log, []byte("demo miner registered a worker")) {
		t.Errorf("demo.log: %v\n%.2000s", err, log)
	}
}

func TestDemoRefusals(t *testing.T) {
	// A directory holding an earlier run is refused before anything starts.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "vigil.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := Run(context.Background(), Config{Dir: dir, PrometheusBin: "/bin/true", Out: &lockedBuffer{}})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a used directory: %v", err)
	}
	// No Prometheus anywhere: the error says how to get one.
	t.Setenv(promserver.BinEnv, "")
	t.Setenv("PATH", t.TempDir())
	saved := promserver.DefaultBinPath
	promserver.DefaultBinPath = filepath.Join(t.TempDir(), "none")
	t.Cleanup(func() { promserver.DefaultBinPath = saved })
	err = Run(context.Background(), Config{Out: &lockedBuffer{}})
	if !errors.Is(err, ErrNoPrometheus) || !strings.Contains(err.Error(), "make demo") {
		t.Errorf("without prometheus: %v", err)
	}
}

func TestTableString(t *testing.T) {
	tab := Table{Block: 42, WeightsAt: 40, Submissions: 3, Rows: []Row{
		{UID: 1, URI: "//Bob", Hotkey: "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty", Profiles: Miners[0].Profiles, Workers: 2, Rating: 1, Rated: true, Weight: 0.75, Incentive: 0.7},
		{UID: 3, URI: "//Dave", Hotkey: "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy", Profiles: Miners[2].Profiles},
	}, Waiting: []string{"//Dave rig 4: not registered yet: HTTP 400: Worker not found"}}
	s := tab.String()
	for _, want := range []string{"block 42", "last weights: block 40", "submissions: 3", "5FHneW…M694ty", "honest+honest", "1.0000", "0.7500", "0.7000",
		"//Dave", "idle", "Worker not found", "once Prometheus has scraped"} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
	if !tab.Rows[0].Honest() || tab.Rows[1].Honest() || (Row{}).Honest() {
		t.Error("Honest() by profile")
	}
}
