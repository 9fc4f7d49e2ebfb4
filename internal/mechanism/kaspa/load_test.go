package kaspa

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/kaspasim"
	"github.com/vigil-validator/vigil/internal/mechanism"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

// countingProxy forwards to a real Prometheus, counting PromQL queries and
// slowing each down a little, so that concurrent API requests overlap a
// scoring pass as they would against a loaded server.
func countingProxy(t *testing.T, target string, delay time.Duration) (string, *atomic.Int64) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	var queries atomic.Int64
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/query" {
			queries.Add(1)
			time.Sleep(delay)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &queries
}

// TestAPILoadRunsOneScoringPassAtATime: 2,000 GETs of /ratings and /metrics,
// 64 at a time, each round arriving after the cached answer expired, cost
// one scoring pass (five PromQL queries) per round, not one per request.
// The answers say when they were computed. And a binding stored under
// another SS58 spelling of a rated key (as an older registry accepted) does
// not make the key's weight depend on map order: 100 scorings, one answer.
func TestAPILoadRunsOneScoringPassAtATime(t *testing.T) {
	t.Parallel()
	sim, prom := simulatePool(t, kaspasim.Config{Profiles: []kaspasim.Profile{kaspasim.Honest, kaspasim.Honest, kaspasim.Intermittent}, Seed: 3}, 3, time.Minute)
	promURL, queries := countingProxy(t, prom.URL(), 20*time.Millisecond)

	st := storetest.Open(t, "sqlite", clock.Real())
	ctx := context.Background()
	add := func(worker, hotkey string) {
		t.Helper()
		if err := st.AddKaspaMapping(ctx, &store.KaspaMapping{Worker: worker, Hotkey: hotkey, RegistrationTime: 1,
			RegistrationTimeInt: 1_000_000, Signature: "00", Source: store.KaspaSourceLocal}, 30); err != nil {
			t.Fatal(err)
		}
	}
	workers := sim.Workers()
	for _, w := range workers {
		add(w.Name, w.Hotkey)
	}
	// The first hotkey again under the generic-substrate prefix.
	pub, _, err := keys.SS58Decode(workers[0].Hotkey)
	if err != nil {
		t.Fatal(err)
	}
	other, err := keys.SS58Encode(pub[:], 0)
	if err != nil {
		t.Fatal(err)
	}
	add("spare_"+other, other)

	// Scoring evaluates the queries at the mechanism's clock; fixed is a
	// time whose window Prometheus has already scraped in full, so a pass
	// evaluated there always reads the same samples.
	time.Sleep(2 * time.Second)
	fixed := time.Now().Add(-time.Second)
	clk := clock.NewFake(fixed)
	const ttl = 5 * time.Second
	m, err := New(settings(func(s *Settings) {
		s.PrometheusEndpoint, s.PoolWallet, s.Window, s.RatingsTTL = promURL, kaspasim.DefaultWallet, 5*time.Minute, ttl
	}), mechanism.Deps{Store: st, Metagraph: &mechanism.Metagraph{}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(m.API())
	defer api.Close()

	first, err := m.Scores(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != len(workers) || first[subtensor.AccountID(pub)] == 0 {
		t.Fatalf("scores %v: want one per rated hotkey, the first one above zero", first)
	}
	for i := range 100 {
		s, err := m.Scores(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(s, first) {
			t.Fatalf("scoring %d gave %v, the first gave %v", i+1, s, first)
		}
	}

	const rounds, perRound, concurrent = 20, 100, 64
	base := queries.Load()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrent}}
	var bad atomic.Int64
	for round := range rounds {
		clk.Advance(ttl) // every cached answer has expired
		jobs := make(chan string)
		var wg sync.WaitGroup
		for range concurrent {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for path := range jobs {
					resp, err := client.Get(api.URL + path)
					if err != nil {
						bad.Add(1)
						continue
					}
					at, aerr := time.Parse(time.RFC3339Nano, resp.Header.Get(HeaderComputedAt))
					age, gerr := strconv.Atoi(resp.Header.Get("Age"))
					if resp.StatusCode != 200 || aerr != nil || gerr != nil || age < 0 || age > int(ttl/time.Second) || at.After(clk.Now()) {
						bad.Add(1)
					}
					resp.Body.Close()
				}
			}()
		}
		for i := range perRound {
			if i%2 == 0 {
				jobs <- "/ratings"
			} else {
				jobs <- "/metrics"
			}
		}
		close(jobs)
		wg.Wait()
		if n := queries.Load() - base; n > int64(5*(round+1)) {
			t.Fatalf("after %d rounds of %d requests, %d PromQL queries: more than one scoring pass per round", round+1, perRound, n)
		}
	}
	if bad.Load() != 0 {
		t.Errorf("%d answers failed, or lacked a sound %s/Age", bad.Load(), HeaderComputedAt)
	}
	t.Logf("%d GETs, %d at a time: %d PromQL queries", rounds*perRound, concurrent, queries.Load()-base)

	resp, err := http.Get(api.URL + "/ratings")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ratings map[string]float64
	if err := json.NewDecoder(resp.Body).Decode(&ratings); err != nil {
		t.Fatal(err)
	}
	if _, listed := ratings[other]; listed || len(ratings) != len(workers) {
		t.Errorf("/ratings %v lists the other spelling, or not each rated key once", ratings)
	}
}
