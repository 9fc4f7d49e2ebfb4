package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/metrics"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/rating"
)

const window = time.Hour

var q = metrics.QueriesFor(window)

// fakeProm answers /api/v1/query with a canned result per query; queries it
// does not know get an empty vector.
type fakeProm struct {
	results map[string]string // query → `"resultType":…,"result":…` JSON
	hits    atomic.Int64
}

func (f *fakeProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.hits.Add(1)
	body, ok := f.results[r.URL.Query().Get("query")]
	if !ok {
		body = `"resultType":"vector","result":[]`
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"status":"success","data":{%s}}`, body)
}

func vector(samples ...string) string {
	return `"resultType":"vector","result":[` + strings.Join(samples, ",") + `]`
}

func sample(wallet, worker, value string) string {
	labels := ""
	if wallet != "" {
		labels += fmt.Sprintf(`"wallet":%q`, wallet)
	}
	if worker != "" {
		if labels != "" {
			labels += ","
		}
		labels += fmt.Sprintf(`"worker":%q`, worker)
	}
	return fmt.Sprintf(`{"metric":{%s},"value":[1700000000.5,%q]}`, labels, value)
}

func newClient(t *testing.T, url string, mod ...func(*metrics.Options)) *metrics.Client {
	t.Helper()
	opts := metrics.Options{PrometheusEndpoint: url, OwnerWallet: owner, Window: window, Timeout: 5 * time.Second}
	for _, m := range mod {
		m(&opts)
	}
	c, err := metrics.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

func TestQueriesFor(t *testing.T) {
	got := metrics.QueriesFor(time.Hour)
	want := metrics.Queries{
		ValidShares:     "sum(increase(ks_valid_share_counter[3600s])) by (wallet, worker)",
		InvalidShares:   "sum(increase(ks_invalid_share_counter[3600s])) by (wallet, worker)",
		TotalDifficulty: "sum(increase(ks_valid_share_diff_counter[3600s])) by (wallet, worker)",
		Uptime:          "ks_miner_uptime_seconds[3600s]",
		UptimeSeconds:   "sum(increase(ks_miner_work_seconds_total[3600s])) by (worker, wallet)",
	}
	if got != want {
		t.Errorf("QueriesFor(1h) = %+v", got)
	}
	// Whole seconds, as the reference's int(total_seconds()).
	if got := metrics.QueriesFor(90*time.Second + 900*time.Millisecond).Uptime; got != "ks_miner_uptime_seconds[90s]" {
		t.Errorf("window 90.9s gave %q", got)
	}
}

func TestNewRejects(t *testing.T) {
	for name, opts := range map[string]metrics.Options{
		"no URL":           {OwnerWallet: owner},
		"no wallet":        {PrometheusEndpoint: "http://127.0.0.1:9090"},
		"sub-second":       {PrometheusEndpoint: "http://127.0.0.1:9090", OwnerWallet: owner, Window: time.Millisecond},
		"fractional":       {PrometheusEndpoint: "http://127.0.0.1:9090", OwnerWallet: owner, Window: 1500 * time.Millisecond},
		"negative window":  {PrometheusEndpoint: "http://127.0.0.1:9090", OwnerWallet: owner, Window: -time.Hour},
		"negative timeout": {PrometheusEndpoint: "http://127.0.0.1:9090", OwnerWallet: owner, Timeout: -time.Second},
		"bad URL":          {PrometheusEndpoint: "http://[::1", OwnerWallet: owner},
	} {
		if _, err := metrics.New(opts); err == nil {
			t.Errorf("%s: New accepted %+v", name, opts)
		}
	}
	c, err := metrics.New(metrics.Options{PrometheusEndpoint: "http://127.0.0.1:9090", OwnerWallet: owner})
	if err != nil {
		t.Fatal(err)
	}
	if c.Window() != time.Hour || c.Queries() != metrics.QueriesFor(time.Hour) {
		t.Errorf("defaults: window %s, queries %+v", c.Window(), c.Queries())
	}
}

// TestAssembly checks the reference's record assembly (HashTensor_Subnet
// src/metrics.py, fetch_metrics) on canned answers: filtering, dropped keys,
// truncation, the average difficulty and both hashrate formulas.
func TestAssembly(t *testing.T) {
	f := &fakeProm{results: map[string]string{
		q.ValidShares: vector(
			sample(owner, "w1", "99.7"), // truncated, as int()
			sample(owner, "w2", "0"),
			sample(other, "w1", "5000"),
			sample(owner, "", "12"), // no worker label
			sample("", "w9", "12"),  // no wallet label
		),
		q.InvalidShares: vector(
			sample(owner, "w1", "10.9"),
			sample(owner, "w3", "4"), // not in query 1: dropped
		),
		q.TotalDifficulty: vector(sample(owner, "w1", "8589.934592"), sample(other, "w1", "1e9")),
		q.Uptime: `"resultType":"matrix","result":[` +
			`{"metric":{"wallet":"` + owner + `","worker":"w1","ip":"1.1.1.1"},"values":[[1700000000,"1690000000"],[1700000060,"1690000001"]]},` +
			`{"metric":{"wallet":"` + owner + `","worker":"w2","ip":"1.1.1.2"},"values":[]}]`,
		q.UptimeSeconds: vector(sample(owner, "w1", "1800"), sample(owner, "w2", "3600")),
	}}
	url := serve(t, f)
	snap, err := newClient(t, url).Fetch(context.Background(), time.Unix(1700000000, 500_000_000))
	if err != nil {
		t.Fatal(err)
	}
	// Variables, not constants: Go folds constant expressions exactly, while
	// the client computes in float64.
	total, shares, windowSecs := 8589.934592, 109.0, 3600.0
	w1 := rating.WorkerMetrics{
		Worker: "w1", ValidShares: 99, InvalidShares: 10,
		TotalDifficulty: total, Difficulty: total / shares,
		UptimeSeconds: 1800, Uptime: 1690000001,
		Hashrate: total * 1e9 / windowSecs,
	}
	w2 := rating.WorkerMetrics{Worker: "w2", UptimeSeconds: 3600}
	if len(snap.Workers) != 2 || snap.Workers["w1"] != w1 || snap.Workers["w2"] != w2 {
		t.Errorf("workers:\n got %+v\nwant w1 %+v\n     w2 %+v", snap.Workers, w1, w2)
	}
	if snap.OwnerWallet != owner || snap.Window != window || !snap.At.Equal(time.Unix(1700000000, 500_000_000)) {
		t.Errorf("snapshot header %v %v %v", snap.OwnerWallet, snap.Window, snap.At)
	}

	ref, err := newClient(t, url, func(o *metrics.Options) { o.ReferenceHashrate = true }).Fetch(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	valid := 99.0
	wantRef := valid * (total / shares) * (1 << 32) / windowSecs
	if got := ref.Workers["w1"].Hashrate; got != wantRef {
		t.Errorf("reference hashrate %v, want %v", got, wantRef)
	}
	if got := ref.Workers["w2"].Hashrate; got != 0 {
		t.Errorf("reference hashrate without shares %v, want 0", got)
	}
}

// TestDuplicateKeys: several series per (wallet, worker) resolve the same
// way whatever their order: latest sample first, then the larger value.
func TestDuplicateKeys(t *testing.T) {
	series := []string{
		`{"metric":{"wallet":"` + owner + `","worker":"w1","ip":"a"},"values":[[100,"5"],[160,"1000"]]}`,
		`{"metric":{"wallet":"` + owner + `","worker":"w1","ip":"b"},"values":[[100,"7"],[190,"2000"]]}`,
		`{"metric":{"wallet":"` + owner + `","worker":"w1","ip":"c"},"values":[[190,"1500"]]}`,
		`{"metric":{"wallet":"` + owner + `","worker":"w1","ip":"d"},"values":[[130,"9999"]]}`,
	}
	orders := [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}, {1, 3, 0, 2}}
	for _, order := range orders {
		var parts []string
		for _, i := range order {
			parts = append(parts, series[i])
		}
		f := &fakeProm{results: map[string]string{
			q.ValidShares: vector(sample(owner, "w1", "1")),
			q.Uptime:      `"resultType":"matrix","result":[` + strings.Join(parts, ",") + `]`,
		}}
		snap, err := newClient(t, serve(t, f)).Fetch(context.Background(), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if got := snap.Workers["w1"].Uptime; got != 2000 {
			t.Errorf("order %v: uptime %v, want 2000", order, got)
		}
	}
}

func TestFetchErrors(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    error
		text    string
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}, metrics.ErrQuery, "HTTP 500: boom"},
		{"400 with a Prometheus error", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"status":"error","errorType":"bad_data","error":"parse error"}`)
		}, metrics.ErrQuery, "HTTP 400: parse error"},
		{"503 query timeout", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}`)
		}, metrics.ErrTimeout, "query timed out"},
		{"error status with 200", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"status":"error","errorType":"execution","error":"many-to-many"}`)
		}, metrics.ErrQuery, "many-to-many"},
		{"NaN value", answer(vector(sample(owner, "w1", "NaN"))), metrics.ErrMalformed, "NaN"},
		{"+Inf value", answer(vector(sample(owner, "w1", "+Inf"))), metrics.ErrMalformed, "Inf"},
		{"non-numeric value", answer(vector(sample(owner, "w1", "abc"))), metrics.ErrMalformed, ""},
		{"count beyond int64", answer(vector(sample(owner, "w1", "1e19"))), metrics.ErrMalformed, "out of range"},
		{"scalar result", answer(`"resultType":"scalar","result":[1,"2"]`), metrics.ErrMalformed, "scalar"},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `<html>proxy login</html>`)
		}, metrics.ErrMalformed, ""},
		{"hung server", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-block:
			}
		}, metrics.ErrTimeout, "timeout 200ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, serve(t, tt.handler), func(o *metrics.Options) { o.Timeout = 200 * time.Millisecond })
			start := time.Now()
			_, err := c.Fetch(context.Background(), time.Time{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not say %q", err, tt.text)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}

// answer serves body for query 1 and empty vectors for the others.
func answer(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("query") == q.ValidShares {
			fmt.Fprintf(w, `{"status":"success","data":{%s}}`, body)
			return
		}
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	}
}

func TestFetchUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = newClient(t, "http://"+addr).Fetch(context.Background(), time.Time{})
	if !errors.Is(err, metrics.ErrQuery) {
		t.Errorf("error %v, want ErrQuery", err)
	}
}

func TestFetchCancelled(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-block:
		}
	}))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := newClient(t, url).Fetch(ctx, time.Time{})
	if !errors.Is(err, context.Canceled) || errors.Is(err, metrics.ErrTimeout) {
		t.Errorf("error %v, want context.Canceled and not ErrTimeout", err)
	}
}

// TestPinnedTime: every query carries the same time parameter, in seconds
// with milliseconds; a zero time means the client's clock.
func TestPinnedTime(t *testing.T) {
	var (
		mu    sync.Mutex
		times []string
	)
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, r.URL.Query().Get("time"))
		mu.Unlock()
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	}))
	clk := clock.NewFake(time.Unix(1_800_000_000, 123_456_789))
	c := newClient(t, url, func(o *metrics.Options) { o.Clock = clk })
	snap, err := c.Fetch(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 5 {
		t.Fatalf("%d queries, want 5", len(times))
	}
	for _, got := range times {
		if got != "1800000000.123" {
			t.Errorf("time %q, want 1800000000.123", got)
		}
	}
	if !snap.At.Equal(time.Unix(1_800_000_000, 123_000_000)) {
		t.Errorf("snapshot at %v", snap.At)
	}
}

func TestByHotkey(t *testing.T) {
	snap := metrics.Snapshot{Workers: map[string]rating.WorkerMetrics{
		"b": {Worker: "b", ValidShares: 2},
		"a": {Worker: "a", ValidShares: 1},
		"x": {Worker: "x", ValidShares: 9}, // not bound
	}}
	got := snap.ByHotkey(map[string]string{"b": "h1", "a": "h1", "c": "h2"})
	if len(got) != 2 || len(got["h1"]) != 2 || got["h1"][0].Worker != "a" || got["h1"][1].Worker != "b" ||
		len(got["h2"]) != 1 || got["h2"][0] != (rating.WorkerMetrics{Worker: "c"}) {
		t.Errorf("ByHotkey = %+v", got)
	}
	if got := snap.ByHotkey(nil); len(got) != 0 {
		t.Errorf("ByHotkey(nil) = %+v", got)
	}
}

func TestHotkeyMetrics(t *testing.T) {
	f := &fakeProm{results: map[string]string{q.ValidShares: vector(sample(owner, "w1", "3"))}}
	got, err := newClient(t, serve(t, f)).HotkeyMetrics(context.Background(), time.Time{}, map[string]string{"w1": "h"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got["h"]) != 1 || got["h"][0].ValidShares != 3 {
		t.Errorf("HotkeyMetrics = %+v", got)
	}
}

func TestWorkerExistsCache(t *testing.T) {
	var fail atomic.Bool
	f := &fakeProm{results: map[string]string{q.Uptime: `"resultType":"matrix","result":[` +
		`{"metric":{"wallet":"` + owner + `","worker":"w1"},"values":[[1,"1690000000"]]},` +
		`{"metric":{"wallet":"` + owner + `","worker":"w0"},"values":[[1,"0"]]}]`}}
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("time") {
			t.Errorf("existence query pinned to %s; want the server's now", r.URL.Query().Get("time"))
		}
		if fail.Load() {
			f.hits.Add(1)
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		f.ServeHTTP(w, r)
	}))
	clk := clock.NewFake(time.Unix(1_800_000_000, 0))
	c := newClient(t, url, func(o *metrics.Options) { o.Clock = clk; o.CacheTTL = 15 * time.Second })
	ctx := context.Background()
	check := func(wallet, worker string, want bool, hits int64) {
		t.Helper()
		got, err := c.WorkerExists(ctx, wallet, worker)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || f.hits.Load() != hits {
			t.Errorf("WorkerExists(%s) = %v after %d requests; want %v after %d", worker, got, f.hits.Load(), want, hits)
		}
	}
	check(owner, "w1", true, 1)
	check(owner, "w0", false, 1) // uptime 0 does not count
	check(other, "w1", false, 1)
	clk.Advance(14 * time.Second)
	check(owner, "w1", true, 1)
	clk.Advance(time.Second)
	check(owner, "w1", true, 2)

	clk.Advance(time.Minute)
	fail.Store(true)
	if _, err := c.WorkerExists(ctx, owner, "w1"); !errors.Is(err, metrics.ErrQuery) {
		t.Errorf("error %v, want ErrQuery", err)
	}
	fail.Store(false)
	// The failure is remembered for FailureTTL (10 s): asked again at once,
	// the answer comes from memory, without a request.
	if _, err := c.WorkerExists(ctx, owner, "w1"); !errors.Is(err, metrics.ErrQuery) || f.hits.Load() != 3 {
		t.Errorf("right after a failure: %v after %d requests; want ErrQuery after 3", err, f.hits.Load())
	}
	clk.Advance(metrics.DefaultFailureTTL)
	check(owner, "w1", true, 4)

	// A cancelled caller does not wait for the refresh slot forever.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	clk.Advance(time.Minute)
	if _, err := c.WorkerExists(cctx, owner, "w1"); err == nil {
		t.Error("no error with a cancelled context")
	}
}

func TestWorkerExistsNoCache(t *testing.T) {
	f := &fakeProm{}
	c := newClient(t, serve(t, f), func(o *metrics.Options) { o.CacheTTL = -1 })
	for range 3 {
		if ok, err := c.WorkerExists(context.Background(), owner, "w1"); ok || err != nil {
			t.Fatalf("WorkerExists = %v, %v", ok, err)
		}
	}
	if f.hits.Load() != 3 {
		t.Errorf("%d requests with the cache off, want 3", f.hits.Load())
	}
}

// TestWorkerExistsHungPrometheus: a Prometheus that accepts connections but
// never answers (stopped with SIGSTOP, say) costs one short timeout for a
// whole burst of registrations, and nothing more until FailureTTL passes.
func TestWorkerExistsHungPrometheus(t *testing.T) {
	var hits atomic.Int64
	release := make(chan struct{})
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer close(release)
	const checkTimeout = 300 * time.Millisecond
	c := newClient(t, url, func(o *metrics.Options) { o.CheckTimeout = checkTimeout; o.FailureTTL = time.Hour })
	before := runtime.NumGoroutine()
	const n = 64
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.WorkerExists(context.Background(), owner, "w1")
			errs <- err
		}()
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	for err := range errs {
		if !errors.Is(err, metrics.ErrTimeout) {
			t.Fatalf("error %v, want ErrTimeout", err)
		}
	}
	if took > 10*checkTimeout {
		t.Errorf("%d concurrent checks took %s against a hung server; one timeout is %s", n, took, checkTimeout)
	}
	if h := hits.Load(); h != 1 {
		t.Errorf("%d requests reached the hung server for %d concurrent checks, want 1", h, n)
	}
	// Within FailureTTL: answered at once, nothing sent.
	start = time.Now()
	for range 100 {
		if _, err := c.WorkerExists(context.Background(), owner, "w1"); !errors.Is(err, metrics.ErrTimeout) {
			t.Fatalf("remembered failure: %v", err)
		}
	}
	if d := time.Since(start); d > checkTimeout || hits.Load() != 1 {
		t.Errorf("100 checks after the failure took %s and sent %d more requests", d, hits.Load()-1)
	}
	// Nothing is left waiting.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before+2 {
		t.Errorf("%d goroutines after the burst, %d before", g, before)
	}
}
