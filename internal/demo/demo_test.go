package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/console/browsertest"
	"github.com/vigil-validator/vigil/internal/mechanism/compute/scoring"
	"github.com/vigil-validator/vigil/internal/prometheustest"
	"github.com/vigil-validator/vigil/internal/promserver"
	"github.com/vigil-validator/vigil/internal/store"
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

// honestLead reports whether every honest Kaspa miner is paid, and paid
// more than every misbehaving one.
func honestLead(tab Table) bool {
	if tab.Kaspa == nil {
		return false
	}
	minHonest, maxOther := 2.0, 0.0
	for _, r := range tab.Kaspa.Rows {
		if r.Honest() {
			minHonest = min(minHonest, r.Incentive)
		} else {
			maxOther = max(maxOther, r.Incentive)
		}
	}
	return minHonest > 0 && minHonest <= 1 && minHonest > maxOther
}

// computeRows are the compute table's rows by miner.
func computeRows(tab Table) map[string]ComputeRow {
	out := map[string]ComputeRow{}
	if tab.Compute != nil {
		for _, r := range tab.Compute.Rows {
			out[r.URI] = r
		}
	}
	return out
}

// computeOutcome reports whether the compute subnet shows what the demo
// is for: the honest miners hold weight and are paid, the fast one more
// than the throttled one; the wrong one failed and holds nothing; the
// leased one is paid by its lease.
func computeOutcome(tab Table) bool {
	r := computeRows(tab)
	bob, charlie, dave, ferdie := r["//Bob"], r["//Charlie"], r["//Dave"], r["//Ferdie"]
	return bob.Weight > charlie.Weight && charlie.Weight > 0 && bob.Incentive > 0 && charlie.Incentive > 0 &&
		dave.Failed > 0 && dave.Verified == 0 && dave.Weight == 0 && dave.Incentive == 0 &&
		ferdie.Lease == LeaseScore && ferdie.Weight > 0 && ferdie.Incentive > 0
}

// TestDemoBothSubnets runs the demo as 'make demo' does, with every real
// part (chain, simulator, Prometheus, MeshHub simulator, one validator
// node serving both subnets, Kaspa miners over HTTP, vigil miners and
// workers over loopback), until the chain pays the honest Kaspa miners more
// than the misbehaving ones and the compute subnet's outcome shows, then
// stops it as Ctrl-C would. The weights on chain are a weight pass the
// validator stored.
func TestDemoBothSubnets(t *testing.T) {
	t.Parallel()
	bin := prometheustest.Binary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var (
		out  lockedBuffer
		mu   sync.Mutex
		ends Endpoints
		last Table
		won  bool
	)
	// The web console is checked in a real browser once the outcome shows,
	// while the demo still runs.
	var (
		br              *browsertest.Browser
		consoleProblems []string
		consoleChecked  = make(chan struct{})
	)
	if browsertest.Find() != "" || os.Getenv("CI") == "true" {
		br = browsertest.New(t, time.Minute)
	}
	dir := filepath.Join(t.TempDir(), "demo")
	started := time.Now()
	err := Run(ctx, Config{Dir: dir, PrometheusBin: bin, Refresh: time.Second, Out: &out,
		OnStart: func(e Endpoints) { mu.Lock(); ends = e; mu.Unlock() },
		OnTable: func(tab Table) {
			mu.Lock()
			defer mu.Unlock()
			if won {
				return // the outcome's table is the one checked
			}
			last = tab
			if honestLead(tab) && computeOutcome(tab) {
				won = true
				go func(base string) {
					defer close(consoleChecked)
					defer cancel()
					if br != nil {
						consoleProblems = checkConsole(br, base)
					}
				}(ends.Console)
			}
		}})
	if won {
		<-consoleChecked
	}
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	if br == nil {
		t.Log("the web console's browser checks skipped: no chromium (scripts/chromium-deps.sh)")
	}
	for _, p := range consoleProblems {
		t.Errorf("web console: %s", p)
	}
	if !won {
		t.Fatalf("no outcome within the time limit; last table:\n%s", last)
	}
	t.Logf("outcome after %s:\n%s", time.Since(started).Round(time.Second), last)

	for _, r := range last.Kaspa.Rows {
		if r.Workers != len(r.Profiles) {
			t.Errorf("%s: %d workers registered through /register, want %d", r.URI, r.Workers, len(r.Profiles))
		}
		if r.Honest() && (!r.Rated || r.Rating <= 0 || r.Weight <= 0) {
			t.Errorf("%s: an honest miner unrated or unweighted: %+v", r.URI, r)
		}
	}
	if last.Kaspa.Submissions == 0 || last.Kaspa.WeightsAt == 0 || last.Compute.Submissions == 0 || last.Compute.WeightsAt == 0 {
		t.Errorf("no weights journaled or on chain: %+v %+v", last.Kaspa, last.Compute)
	}
	for _, r := range last.Compute.Rows {
		if r.Profiles[0] != Leased && r.Profiles[0] != Flaky && r.Workers != len(r.Profiles) {
			t.Errorf("%s: the validator heard from %d workers, want %d", r.URI, r.Workers, len(r.Profiles))
		}
		if r.Profiles[0] != Leased && r.Honest() && r.Verified == 0 {
			t.Errorf("%s: no verified challenge: %+v", r.URI, r)
		}
		// The validator takes a lease for a worker it knows (as the
		// reference does), so a round in the second between the worker's
		// first heartbeat and the next publication may catch it; no later
		// one may.
		if r.Profiles[0] == Leased && r.Verified+r.Failed > 1 {
			t.Errorf("%s: a leased worker was challenged after its lease: %+v", r.URI, r)
		}
	}
	text := out.String()
	for _, want := range []string{"vigil demo:", "RATING", "VERIFIED", "LEASE", "INCENTIVE", "stopping the demo"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Everything stopped: no part still listens.
	for _, raw := range []string{ends.Chain, ends.Prometheus, ends.API, ends.MeshHub, "tcp://" + ends.Axon, ends.Console} {
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
	// The compute weights on chain are one of the stored weight passes.
	checkOnChainPass(t, filepath.Join(dir, "vigil.db"), last.Compute)
}

// checkOnChainPass finds, among the weight passes stored in the demo's
// database, one whose weights are the shares the chain holds.
func checkOnChainPass(t *testing.T, db string, tab *ComputeTable) {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{URL: "sqlite:" + db})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.DB().Query("SELECT miners FROM compute_weight_passes WHERE netuid = ? ORDER BY id DESC", ComputeNetuid)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	onChain := map[string]float64{}
	for _, r := range tab.Rows {
		onChain[r.Hotkey] = r.Weight
	}
	passes := 0
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		passes++
		var ms []scoring.MinerScore
		if err := json.Unmarshal([]byte(raw), &ms); err != nil {
			t.Fatal(err)
		}
		match := len(ms) > 0
		for _, m := range ms {
			// u16 quantisation: max-normalised to 65535.
			if math.Abs(m.Weight-onChain[m.Hotkey]) > 1e-4 {
				match = false
			}
		}
		if match {
			return
		}
	}
	t.Errorf("none of %d stored weight passes has the weights on chain: %+v", passes, onChain)
}

// TestDemoComputeJSON runs the compute subnet alone, which needs no
// Prometheus, until a challenge is verified, with --json's output: one
// JSON object per refresh, with the compute table and no Kaspa one.
func TestDemoComputeJSON(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out lockedBuffer
	var tables int
	err := Run(ctx, Config{Mechanism: MechanismCompute, JSON: true, Refresh: 500 * time.Millisecond, Out: &out, PrometheusBin: "/nonexistent",
		OnTable: func(tab Table) {
			if tables++; computeRows(tab)["//Bob"].Verified > 0 {
				cancel()
			}
		}})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var parsed int
	for _, l := range lines {
		if !strings.HasPrefix(l, "{") {
			continue
		}
		var tab Table
		if err := json.Unmarshal([]byte(l), &tab); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if tab.Kaspa != nil || tab.Compute == nil || len(tab.Compute.Rows) != len(ComputeMiners) || tab.Block == 0 {
			t.Fatalf("line %q", l)
		}
		parsed++
	}
	if parsed == 0 || parsed != tables {
		t.Fatalf("%d JSON tables for %d refreshes:\n%s", parsed, tables, out.String())
	}
	if strings.Contains(out.String(), "vigil demo:") {
		t.Error("--json output carries the banner")
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
	tab := Table{Block: 42, Kaspa: &KaspaTable{Netuid: 1, WeightsAt: 40, Submissions: 3, Rows: []Row{
		{UID: 1, URI: "//Bob", Hotkey: "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty", Profiles: Miners[0].Profiles, Workers: 2, Rating: 1, Rated: true, Weight: 0.75, Incentive: 0.7},
		{UID: 3, URI: "//Dave", Hotkey: "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy", Profiles: Miners[2].Profiles},
	}, Waiting: []string{"//Dave rig 4: not registered yet: HTTP 400: Worker not found"}},
		Compute: &ComputeTable{Netuid: 2, WeightsAt: 39, Submissions: 2, Rows: []ComputeRow{
			{UID: 2, URI: "//Charlie", Hotkey: "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y", Profiles: ComputeMiners[1].Workers, Workers: 1,
				Verified: 7, Failed: 1, MeanMS: 412.25, Availability: 0.0833, Lease: 0, Score: 0.1234, Weight: 0.25, Incentive: 0.2},
		}}}
	s := tab.String()
	for _, want := range []string{"block 42", "kaspa subnet 1", "last weights: block 40", "submissions: 3", "5FHneW…M694ty", "honest+honest", "1.0000", "0.7500", "0.7000",
		"//Dave", "idle", "Worker not found", "once Prometheus has scraped",
		"compute subnet 2", "last weights: block 39", "throttled", "412.2", "0.083", "0.123", "0.2500", "no weight pass yet"} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
	if !tab.Kaspa.Rows[0].Honest() || tab.Kaspa.Rows[1].Honest() || (Row{}).Honest() {
		t.Error("Honest() by profile")
	}
}
