package kaspa

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/kaspasim"
	"github.com/vigil-validator/vigil/internal/mechanism"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/metrics"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/rating"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/registry"
	"github.com/vigil-validator/vigil/internal/prometheustest"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

// simulatePool runs kaspa-sim (owner wallet, one dev hotkey per profile,
// on a fake clock) scraped by a real Prometheus, and advances it steps
// times by step of simulated time, about one scrape apart.
func simulatePool(t *testing.T, cfg kaspasim.Config, steps int, step time.Duration) (*kaspasim.Sim, *prometheustest.Prometheus) {
	t.Helper()
	hotkeys, err := kaspasim.DevHotkeys(len(cfg.Profiles))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Unix(1_763_800_000, 0))
	cfg.Wallet, cfg.Hotkeys, cfg.Speed, cfg.Clock = kaspasim.DefaultWallet, hotkeys, 1, clk
	sim, err := kaspasim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	prom := prometheustest.Start(t, srv.URL+"/metrics")
	prom.WaitForSamples(t, kaspasim.MetricValidShares)
	for range steps {
		clk.Advance(step)
		sim.Advance()
		time.Sleep(1200 * time.Millisecond)
	}
	return sim, prom
}

// TestRatingsThroughPrometheusMatchTheSimulator runs the real path — a
// real Prometheus scraping kaspa-sim, the five PromQL queries, record
// assembly, rating — and compares its ratings with ratings computed from
// the simulator's own totals.
func TestRatingsThroughPrometheusMatchTheSimulator(t *testing.T) {
	// Ten simulated minutes, one a scrape or so.
	const simulated = 600
	sim, prom := simulatePool(t, kaspasim.Config{
		Profiles: []kaspasim.Profile{kaspasim.Honest, kaspasim.Honest, kaspasim.Idle, kaspasim.Inflated, kaspasim.Flooding, kaspasim.Invalid},
		Foreign:  1, Seed: 7,
	}, 10, simulated/10*time.Second)
	time.Sleep(2500 * time.Millisecond) // at least two scrapes of the final totals
	last := prom.Query(t, "max(timestamp("+kaspasim.MetricValidShares+"))")
	vec, ok := last.(model.Vector)
	if !ok || len(vec) != 1 {
		t.Fatalf("last scrape time: %v", last)
	}
	at := time.UnixMilli(int64(float64(vec[0].Value) * 1000))

	mc, err := metrics.New(metrics.Options{PrometheusEndpoint: prom.URL(), OwnerWallet: kaspasim.DefaultWallet, Window: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := mc.Fetch(context.Background(), at)
	if err != nil {
		t.Fatal(err)
	}
	mapping := map[string]string{}
	truth := map[string][]rating.WorkerMetrics{}
	for _, w := range sim.Snapshot().Workers {
		if !w.OwnerWallet {
			continue
		}
		mapping[w.Name] = w.Hotkey
		m := rating.WorkerMetrics{Worker: w.Name, ValidShares: int64(w.ValidShares), InvalidShares: int64(w.InvalidShares),
			TotalDifficulty: w.ShareDiff, UptimeSeconds: w.WorkSeconds}
		if n := w.ValidShares + w.InvalidShares; n > 0 {
			m.Difficulty = w.ShareDiff / float64(n)
		}
		truth[w.Hotkey] = append(truth[w.Hotkey], m)
	}
	if len(mapping) != 6 {
		t.Fatalf("%d owner-wallet workers", len(mapping))
	}
	p := rating.DefaultParams()
	p.Window = simulated * time.Second
	calc, err := rating.New(p)
	if err != nil {
		t.Fatal(err)
	}
	got := calc.RateAll(snap.ByHotkey(mapping))
	want := calc.RateAll(truth)
	for hk, w := range want {
		g := got[hk]
		if math.Abs(g-w) > 0.01*math.Max(w, 1e-9) && math.Abs(g-w) > 1e-6 {
			t.Errorf("%s: rating %.6f through Prometheus, %.6f from the simulator", hk, g, w)
		}
	}
	// And the profiles rank as the rating intends.
	byProfile := map[kaspasim.Profile]float64{}
	for _, w := range sim.Snapshot().Workers {
		if w.OwnerWallet {
			byProfile[w.Profile] = max(byProfile[w.Profile], got[w.Hotkey])
		}
	}
	if byProfile[kaspasim.Honest] <= 0 || byProfile[kaspasim.Idle] != 0 ||
		byProfile[kaspasim.Inflated] >= byProfile[kaspasim.Honest] || byProfile[kaspasim.Flooding] >= byProfile[kaspasim.Honest] {
		t.Fatalf("ratings by profile %v", byProfile)
	}
	t.Logf("ratings: %v", got)
}

// TestLastGoodRatingsSurviveAPrometheusOutage: when Prometheus goes away,
// the API keeps serving the last good ratings (marked stale) and the weight
// loop's Scores fails rather than inventing new ones.
func TestLastGoodRatingsSurviveAPrometheusOutage(t *testing.T) {
	sim, prom := simulatePool(t, kaspasim.Config{Profiles: []kaspasim.Profile{kaspasim.Honest, kaspasim.Honest}, Seed: 5}, 3, time.Minute)
	hotkeys := sim.Workers()

	st := storetest.Open(t, "sqlite", clock.Real())
	for _, w := range sim.Workers() {
		if err := st.AddKaspaMapping(context.Background(), &store.KaspaMapping{Worker: w.Name, Hotkey: w.Hotkey, RegistrationTime: 1,
			RegistrationTimeInt: 1_000_000, Signature: "00", Source: store.KaspaSourceLocal}, 30); err != nil {
			t.Fatal(err)
		}
	}
	clk := clock.NewFake(time.Now())
	m, err := New(settings(func(s *Settings) {
		s.PrometheusEndpoint, s.PoolWallet, s.Window = prom.URL(), kaspasim.DefaultWallet, 5*time.Minute
	}),
		mechanism.Deps{Store: st, Metagraph: &mechanism.Metagraph{}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(m.API())
	defer api.Close()
	get := func() (int, string, map[string]float64) {
		resp, err := http.Get(api.URL + "/ratings")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]float64
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, resp.Header.Get("Warning"), out
	}
	code, warn, good := get()
	if code != http.StatusOK || warn != "" || len(good) != 2 || good[hotkeys[0].Hotkey] == 0 {
		t.Fatalf("ratings with Prometheus up: %d %q %v", code, warn, good)
	}
	prom.Stop()
	clk.Advance(time.Minute) // past the ratings' reuse period
	code, warn, stale := get()
	if code != http.StatusOK || !strings.Contains(warn, "stale") || !reflect.DeepEqual(stale, good) {
		t.Fatalf("ratings with Prometheus down: %d %q %v", code, warn, stale)
	}
	if _, err := m.Scores(context.Background(), nil); err == nil {
		t.Fatal("Scores succeeded with Prometheus down")
	}
	// The health check says the last pass failed; the client reads the
	// same ratings the API serves.
	if err := m.HealthChecks()["kaspa scoring"](context.Background()); err == nil {
		t.Error("health passes after a failed scoring pass")
	}
	if got, err := (&registry.Client{BaseURL: api.URL}).Ratings(context.Background()); err != nil || !reflect.DeepEqual(got, good) {
		t.Errorf("registry.Client.Ratings: %v %v, want %v", got, err, good)
	}
}
