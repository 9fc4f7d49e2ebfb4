package kaspasim

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vigil-validator/vigil/internal/clock"
)

var epoch = time.Date(2025, 7, 25, 12, 0, 0, 0, time.UTC)

// maxDifficulty is the rating's difficulty cap, in hashValue units.
const maxDifficulty = 16384

type fixture struct {
	sim *Sim
	clk *clock.Fake
	url string
}

// newFixture serves a simulation over a loopback HTTP server.
func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	if cfg.Wallet == "" {
		cfg.Wallet = DefaultWallet
	}
	if cfg.Hotkeys == nil {
		hks, err := DevHotkeys(len(cfg.Profiles) + cfg.Foreign)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Hotkeys = hks
	}
	clk := clock.NewFake(epoch)
	cfg.Clock = clk
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &fixture{s, clk, srv.URL}
}

func defaultProfiles(t *testing.T) []Profile {
	t.Helper()
	ps, err := DefaultMix().Expand(0)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func (f *fixture) get(t *testing.T, path string) (string, http.Header) {
	t.Helper()
	resp, err := http.Get(f.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", path, resp.Status, b)
	}
	return string(b), resp.Header
}

// scrape fetches /metrics as Prometheus does and parses the text format.
func (f *fixture) scrape(t *testing.T) scrape {
	t.Helper()
	body, h := f.get(t, "/metrics")
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q, want the text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

type scrape map[string]*dto.MetricFamily

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, lp := range m.GetLabel() {
		out[lp.GetName()] = lp.GetValue()
	}
	return out
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	}
	return math.NaN()
}

// byWorker sums a family's samples per worker label.
func (s scrape) byWorker(name string) map[string]float64 {
	out := map[string]float64{}
	if fam, ok := s[name]; ok {
		for _, m := range fam.GetMetric() {
			out[labelsOf(m)["worker"]] += value(m)
		}
	}
	return out
}

// series keys every sample of every family by name and labels.
func (s scrape) series() map[string]float64 {
	out := map[string]float64{}
	for name, fam := range s {
		for _, m := range fam.GetMetric() {
			l := labelsOf(m)
			keys := make([]string, 0, len(l))
			for k, v := range l {
				keys = append(keys, k+"="+v)
			}
			sort.Strings(keys)
			out[name+"{"+strings.Join(keys, ",")+"}"] = value(m)
		}
	}
	return out
}

// TestExpositionMatchesTheBridge checks every bridge metric's name, type and
// label names, and the label values a worker carries.
func TestExpositionMatchesTheBridge(t *testing.T) {
	t.Parallel()
	// A small network makes blocks frequent enough to see the block gauge.
	f := newFixture(t, Config{Profiles: defaultProfiles(t), Foreign: 1, Seed: 7, NetworkHashrate: 1e15})
	f.clk.Advance(20 * time.Minute)
	s := f.scrape(t)
	w := WorkerLabels
	want := map[string]struct {
		typ    dto.MetricType
		labels []string
	}{
		MetricValidShares:       {dto.MetricType_COUNTER, w},
		MetricValidShareDiff:    {dto.MetricType_COUNTER, w},
		MetricInvalidShares:     {dto.MetricType_COUNTER, withLabels("type")},
		MetricBlocksMined:       {dto.MetricType_COUNTER, w},
		MetricMinedBlocks:       {dto.MetricType_GAUGE, withLabels("nonce", "bluescore", "hash")},
		MetricDisconnects:       {dto.MetricType_COUNTER, w},
		MetricJobs:              {dto.MetricType_COUNTER, w},
		MetricBalance:           {dto.MetricType_GAUGE, []string{"wallet"}},
		MetricNetworkHashrate:   {dto.MetricType_GAUGE, nil},
		MetricNetworkDifficulty: {dto.MetricType_GAUGE, nil},
		MetricNetworkBlocks:     {dto.MetricType_GAUGE, nil},
		MetricUptime:            {dto.MetricType_GAUGE, w},
		MetricWorkSeconds:       {dto.MetricType_COUNTER, w},
	}
	for name, exp := range want {
		fam, ok := s[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if fam.GetType() != exp.typ {
			t.Errorf("%s: type %v, want %v", name, fam.GetType(), exp.typ)
		}
		wantLabels := slices.Sorted(slices.Values(exp.labels))
		for _, m := range fam.GetMetric() {
			got := slices.Sorted(func(yield func(string) bool) {
				for k := range labelsOf(m) {
					if !yield(k) {
						return
					}
				}
			})
			if !slices.Equal(got, wantLabels) {
				t.Errorf("%s: labels %v, want %v", name, got, wantLabels)
				break
			}
		}
	}
	for _, m := range s[MetricInvalidShares].GetMetric() {
		if typ := labelsOf(m)["type"]; !slices.Contains(invalidTypes[:], typ) {
			t.Errorf("invalid share type %q", typ)
		}
	}
	for _, m := range s[MetricMinedBlocks].GetMetric() {
		l := labelsOf(m)
		if len(l["hash"]) != 64 || l["nonce"] == "" || l["bluescore"] == "" || value(m) != 1 {
			t.Errorf("mined block %v = %v", l, value(m))
		}
	}
	// The labels of each worker's series are the worker's identity.
	ws := f.sim.Workers()
	for _, m := range s[MetricValidShares].GetMetric() {
		l := labelsOf(m)
		i := slices.IndexFunc(ws, func(w WorkerInfo) bool { return w.Name == l["worker"] })
		if i < 0 {
			t.Fatalf("unknown worker %q", l["worker"])
		}
		wi := ws[i]
		if l["miner"] != wi.Miner || l["wallet"] != wi.Wallet || l["ip"] != wi.IP {
			t.Errorf("worker %s: labels %v, want %+v", wi.Name, l, wi)
		}
		if !strings.Contains(wi.Name, wi.Hotkey) || strings.Contains(wi.Name, ".") {
			t.Errorf("worker name %q must embed hotkey %q and have no dot", wi.Name, wi.Hotkey)
		}
		if strings.Contains(l["ip"], ":") {
			t.Errorf("ip label %q carries a port", l["ip"])
		}
	}
	if got := len(s[MetricValidShares].GetMetric()); got != len(ws) {
		t.Errorf("%d valid-share series, want one per worker (%d)", got, len(ws))
	}
	// The bridge serves the default registry, Go runtime metrics included.
	if _, ok := s["go_goroutines"]; !ok {
		t.Error("go_goroutines missing")
	}
}

// TestCountersOnlyIncrease scrapes every 90 s for two hours: no counter
// goes down and no counter series disappears.
func TestCountersOnlyIncrease(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{Profiles: defaultProfiles(t), Foreign: 1, Seed: 3})
	prev := map[string]float64{}
	for range 80 {
		f.clk.Advance(90 * time.Second)
		s := f.scrape(t)
		cur := map[string]float64{}
		for name, fam := range s {
			if fam.GetType() != dto.MetricType_COUNTER || !strings.HasPrefix(name, "ks_") {
				continue
			}
			for k, v := range (scrape{name: fam}).series() {
				cur[k] = v
			}
		}
		for k, v := range prev {
			now, ok := cur[k]
			if !ok {
				t.Fatalf("counter %s disappeared", k)
			}
			if now < v {
				t.Fatalf("counter %s went from %v to %v", k, v, now)
			}
		}
		prev = cur
	}
}

// TestWorkSecondsAdvanceByTen: the work-seconds counter only ever moves in
// steps of 10, on 10-second boundaries.
func TestWorkSecondsAdvanceByTen(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{Profiles: []Profile{Honest}, Seed: 1})
	for i := range 30 {
		f.clk.Advance(7 * time.Second)
		got := f.scrape(t).byWorker(MetricWorkSeconds)
		for _, v := range got {
			if math.Mod(v, 10) != 0 || v > float64(7*(i+1)) {
				t.Fatalf("after %ds, work-seconds %v", 7*(i+1), v)
			}
		}
	}
}

// TestProfileSignatures checks, over one hour, what each profile shows a
// validator's queries.
func TestProfileSignatures(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{Profiles: defaultProfiles(t), Foreign: 1, Seed: 11})
	byName := map[string]WorkerInfo{}
	for _, w := range f.sim.Workers() {
		byName[w.Name] = w
	}
	// Skip vardiff's first minutes, then watch one hour minute by minute.
	f.clk.Advance(10 * time.Minute)
	first := f.scrape(t)
	uptimeSeen := map[string][]bool{}
	uptimeValues := map[string]map[float64]bool{}
	last := first
	for range 60 {
		f.clk.Advance(time.Minute)
		last = f.scrape(t)
		up := last.byWorker(MetricUptime)
		for name := range byName {
			v, ok := up[name]
			uptimeSeen[name] = append(uptimeSeen[name], ok)
			if ok {
				if uptimeValues[name] == nil {
					uptimeValues[name] = map[float64]bool{}
				}
				uptimeValues[name][v] = true
				if v < float64(epoch.Unix()) || v > float64(f.clk.Now().Unix()) {
					t.Errorf("%s: uptime gauge %v is not a connect time", name, v)
				}
			}
		}
	}
	delta := func(metric string) map[string]float64 {
		a, b := first.byWorker(metric), last.byWorker(metric)
		out := map[string]float64{}
		for k, v := range b {
			out[k] = v - a[k]
		}
		return out
	}
	valid, diff, invalid := delta(MetricValidShares), delta(MetricValidShareDiff), delta(MetricInvalidShares)
	work, disc := delta(MetricWorkSeconds), delta(MetricDisconnects)
	perShare := func(name string) float64 { return diff[name] / valid[name] }

	for _, w := range f.sim.Snapshot().Workers {
		if !isPow2(w.Difficulty) {
			t.Errorf("%s: difficulty %v is not a power of two", w.Name, w.Difficulty)
		}
	}
	maxHonestPerShare := 0.0
	for name, w := range byName {
		if w.Profile == Honest {
			maxHonestPerShare = math.Max(maxHonestPerShare, perShare(name))
		}
	}
	for name, w := range byName {
		rate := valid[name] / 60
		always := !slices.Contains(uptimeSeen[name], false)
		switch w.Profile {
		case Honest:
			if rate < 18 || rate > 42 {
				t.Errorf("honest %s: %.1f shares/min", name, rate)
			}
			if d := diff[name] / valid[name]; d > maxDifficulty {
				t.Errorf("honest %s: %.1f hashValue per share", name, d)
			}
			if work[name] != 3600 || !always {
				t.Errorf("honest %s: %v work-seconds, always connected %v", name, work[name], always)
			}
			if w.OwnerWallet != (w.Wallet == DefaultWallet) {
				t.Errorf("%s: owner_wallet %v for wallet %s", name, w.OwnerWallet, w.Wallet)
			}
			if !w.OwnerWallet {
				if _, _, err := DecodeAddress(w.Wallet); err != nil {
					t.Errorf("foreign %s: %v", name, err)
				}
				if _, ok := first.byWorker(MetricValidShares)[name]; !ok {
					t.Errorf("foreign %s has no series", name)
				}
			}
		case Idle:
			if valid[name] != 0 || last.byWorker(MetricValidShares)[name] != 0 {
				t.Errorf("idle %s: %v shares", name, last.byWorker(MetricValidShares)[name])
			}
			if ws := last.byWorker(MetricWorkSeconds)[name]; ws != 0 {
				t.Errorf("idle %s has %v work-seconds", name, ws)
			}
			if !always {
				t.Errorf("idle %s disconnected", name)
			}
		case Intermittent:
			appear, disappear := 0, 0
			for i := 1; i < len(uptimeSeen[name]); i++ {
				a, b := uptimeSeen[name][i-1], uptimeSeen[name][i]
				if !a && b {
					appear++
				}
				if a && !b {
					disappear++
				}
			}
			if appear < 2 || disappear < 2 {
				t.Errorf("intermittent %s: uptime series appeared %d and disappeared %d times", name, appear, disappear)
			}
			if len(uptimeValues[name]) < 2 {
				t.Errorf("intermittent %s: one connect time %v across reconnects", name, uptimeValues[name])
			}
			if disc[name] < 2 {
				t.Errorf("intermittent %s: %v disconnects", name, disc[name])
			}
			if work[name] >= 3600*0.9 || work[name] <= 0 {
				t.Errorf("intermittent %s: %v work-seconds", name, work[name])
			}
		case Inflated:
			if d := perShare(name); d < 10*maxHonestPerShare || d < 10*maxDifficulty {
				t.Errorf("inflated %s: %.0f per share, honest up to %.0f", name, d, maxHonestPerShare)
			}
			if rate < 15 || rate > 35 {
				t.Errorf("inflated %s: %.1f shares/min", name, rate)
			}
		case Flooding:
			if rate < 200 {
				t.Errorf("flooding %s: %.1f shares/min", name, rate)
			}
			if perShare(name) > maxDifficulty {
				t.Errorf("flooding %s: %.0f per share", name, perShare(name))
			}
		case Invalid:
			frac := invalid[name] / (invalid[name] + valid[name])
			if frac < 0.15 || frac > 0.35 {
				t.Errorf("invalid %s: %.2f of submissions rejected", name, frac)
			}
			types := map[string]bool{}
			for _, m := range last[MetricInvalidShares].GetMetric() {
				if l := labelsOf(m); l["worker"] == name && value(m) > 0 {
					types[l["type"]] = true
				}
			}
			if len(types) != 4 {
				t.Errorf("invalid %s: rejected as %v, want all four types", name, types)
			}
			if rate < 18 {
				t.Errorf("invalid %s: %.1f valid shares/min", name, rate)
			}
		}
	}
}

// isPow2 allows for the rounding of a sum of hashValues.
func isPow2(x float64) bool {
	l := math.Log2(x)
	return math.Abs(l-math.Round(l)) < 1e-9
}

// TestOtherWalletsAreDistinct: foreign workers each mine to their own valid
// wallet, never the owner's.
func TestOtherWalletsAreDistinct(t *testing.T) {
	f := newFixture(t, Config{Profiles: []Profile{Honest}, Foreign: 3, Seed: 5})
	f.clk.Advance(time.Minute)
	wallets := map[string]string{}
	for _, m := range f.scrape(t)[MetricValidShares].GetMetric() {
		l := labelsOf(m)
		wallets[l["worker"]] = l["wallet"]
	}
	seen := map[string]bool{}
	for _, w := range f.sim.Workers() {
		got := wallets[w.Name]
		if got != w.Wallet {
			t.Errorf("%s: wallet label %q, want %q", w.Name, got, w.Wallet)
		}
		if w.OwnerWallet != (got == DefaultWallet) {
			t.Errorf("%s: owner %v, wallet %s", w.Name, w.OwnerWallet, got)
		}
		if !w.OwnerWallet {
			if seen[got] {
				t.Errorf("wallet %s reused", got)
			}
			seen[got] = true
		}
	}
	if len(seen) != 3 {
		t.Errorf("%d other wallets, want 3", len(seen))
	}
}

func TestSameSeedSameRun(t *testing.T) {
	t.Parallel()
	run := func(seed uint64) Snapshot {
		f := newFixture(t, Config{Profiles: defaultProfiles(t), Foreign: 1, Seed: seed})
		for range 6 {
			f.clk.Advance(7 * time.Minute)
			f.sim.Advance() // how often it is read must not matter
		}
		return f.sim.Snapshot()
	}
	a, b, c := run(42), run(42), run(43)
	if !reflect.DeepEqual(a, b) {
		t.Error("two runs with seed 42 differ")
	}
	if reflect.DeepEqual(a.Workers, c.Workers) {
		t.Error("seeds 42 and 43 give the same run")
	}
}

// TestSpeed: at speed 60 a minute of the clock is an hour of mining, and
// the uptime gauge still holds a time of the clock.
func TestSpeed(t *testing.T) {
	f := newFixture(t, Config{Profiles: []Profile{Honest, Intermittent}, Seed: 2, Speed: 60})
	f.clk.Advance(time.Minute)
	snap := f.sim.Snapshot()
	if snap.SimSeconds != 3600 {
		t.Fatalf("sim seconds %d, want 3600", snap.SimSeconds)
	}
	if v := snap.Workers[0].ValidShares; v < 18*60 || v > 42*60 {
		t.Errorf("%d shares in a simulated hour", v)
	}
	for _, w := range snap.Workers {
		if w.Connected && (w.ConnectedAt < epoch.Unix() || w.ConnectedAt > f.clk.Now().Unix()) {
			t.Errorf("%s: connected at %d, outside the clock's minute", w.Name, w.ConnectedAt)
		}
	}
}

// TestVarDiffConverges: a worker put on a difficulty far from its
// hashrate is brought into the 20–40 shares/min band at a power of two.
func TestVarDiffConverges(t *testing.T) {
	for _, start := range []float64{8192, 0.125} {
		f := newFixture(t, Config{Profiles: []Profile{Honest}, Seed: 9})
		w := f.sim.workers[0]
		w.diff = start
		f.clk.Advance(45 * time.Minute)
		f.sim.Advance()
		expected := w.info.HashrateGHs / (w.diff * HashValuePerDiff) * 60
		if expected < 20 || expected >= 40 || !isPow2(w.diff) {
			t.Errorf("from %v: diff %v gives %.1f shares/min", start, w.diff, expected)
		}
	}
}

// TestHighDiffDeployment: honest workers on the high-difficulty bridge sit
// above the rating's cap, and an inflated worker there outruns the
// bridge's 2000 TH/s sanity check.
func TestHighDiffDeployment(t *testing.T) {
	f := newFixture(t, Config{Profiles: []Profile{Honest, Inflated}, Seed: 4, Deployment: HighDiff})
	f.clk.Advance(30 * time.Minute)
	s := f.scrape(t)
	ws := f.sim.Workers()
	valid, diff := s.byWorker(MetricValidShares), s.byWorker(MetricValidShareDiff)
	if d := diff[ws[0].Name] / valid[ws[0].Name]; d < 16384*HashValuePerDiff*(1-1e-9) {
		t.Errorf("honest on highdiff: %.0f per share", d)
	}
	fam := s[MetricHashrateViolation]
	if fam == nil || fam.GetType() != dto.MetricType_COUNTER {
		t.Fatal("no hashrate violations")
	}
	for _, m := range fam.GetMetric() {
		l := labelsOf(m)
		if l["worker"] != ws[1].Name || l["violation_type"] != "excessive_hashrate" || len(l) != 5 {
			t.Errorf("violation %v", l)
		}
	}
	if HighDiff.Port() != 2115 || Main.Port() != 2114 {
		t.Error("ports")
	}
}

func TestWorkersEndpoint(t *testing.T) {
	f := newFixture(t, Config{Profiles: []Profile{Honest, Idle}, Foreign: 1, Seed: 1})
	f.clk.Advance(90 * time.Second)
	body, h := f.get(t, "/workers")
	if ct := h.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	for _, want := range []string{`"profile": "idle"`, `"hotkey_uri": "//Bob"`, `"owner_wallet": false`, `"sim_seconds": 90`} {
		if !strings.Contains(body, want) {
			t.Errorf("/workers lacks %s:\n%s", want, body)
		}
	}
	if body, _ := f.get(t, "/"); !strings.Contains(body, "/metrics") {
		t.Errorf("index: %s", body)
	}
}

func TestRunAdvancesEverySecond(t *testing.T) {
	f := newFixture(t, Config{Profiles: []Profile{Honest}, Seed: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.sim.Run(ctx) }()
	if err := f.clk.BlockUntilWaiters(ctx, 1); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.sim.mu.Lock()
		tt := f.sim.t
		f.sim.mu.Unlock()
		if tt == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not advance the simulation")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	hks, err := DevHotkeys(1)
	if err != nil {
		t.Fatal(err)
	}
	ok := Config{Wallet: DefaultWallet, Hotkeys: hks, Profiles: []Profile{Honest}}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no wallet", func(c *Config) { c.Wallet = "" }, "no wallet specified"},
		{"bad wallet", func(c *Config) { c.Wallet = "kaspa:nope" }, "not a kaspa address"},
		{"no hotkeys", func(c *Config) { c.Hotkeys = nil }, "no hotkeys specified"},
		{"bad hotkey", func(c *Config) { c.Hotkeys = []Hotkey{{SS58: "5abc"}} }, "hotkey 0"},
		{"no workers", func(c *Config) { c.Profiles = nil }, "no workers specified"},
		{"bad profile", func(c *Config) { c.Profiles = []Profile{"greedy"} }, "bad profile"},
		{"negative foreign", func(c *Config) { c.Foreign = -1 }, "negative"},
		{"speed", func(c *Config) { c.Speed = MaxSpeed + 1 }, "speed"},
		{"deployment", func(c *Config) { c.Deployment = "ultrahigh" }, "unknown deployment"},
	} {
		c := ok
		c.Hotkeys = slices.Clone(ok.Hotkeys)
		tc.edit(&c)
		if _, err := New(c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := New(ok); err != nil {
		t.Fatal(err)
	}
}

func TestParseHotkey(t *testing.T) {
	bob, err := ParseHotkey("//Bob")
	if err != nil || bob.SS58 != "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty" || bob.URI != "//Bob" {
		t.Fatalf("//Bob: %+v %v", bob, err)
	}
	again, err := ParseHotkey(bob.SS58)
	if err != nil || again.SS58 != bob.SS58 || again.URI != "" {
		t.Errorf("ss58: %+v %v", again, err)
	}
	for _, bad := range []string{"", "Bob", "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694tx", "//"} {
		if _, err := ParseHotkey(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	hks, err := DevHotkeys(7)
	if err != nil || hks[0].URI != "//Bob" || hks[4].URI != "//Ferdie" || hks[6].URI != "//Miner7" {
		t.Errorf("dev hotkeys %+v %v", hks, err)
	}
}
