package metrics_test

import (
	"context"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"

	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/metrics"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/rating"
	"github.com/vigil-validator/vigil/internal/prometheustest"
)

const (
	owner = "kaspa:qr4ksh6s3rmy5f4qyql2kh7p9z7f4c55da5r5gz2nnsd8ctt4k69whtr4u0wp"
	other = "kaspa:qq7yl7tjhkyr56x380j7hpa2r4jz97dyqn74a69wumpe5rv97wyxk4cxa7e7t"
	// hashValue of stratum difficulty 20 and 8192 (difficulty × 2^32/1e9).
	hv20   = 85.89934592
	hv8192 = 35184.372088832
)

// bridge exports the Kaspa stratum bridge's per-worker metrics with its
// names and labels (HashTensor_Pool src/kaspastratum/prom.go).
type bridge struct {
	reg     *prometheus.Registry
	valid   *prometheus.CounterVec
	invalid *prometheus.CounterVec
	diff    *prometheus.CounterVec
	uptime  *prometheus.GaugeVec
	work    *prometheus.CounterVec
}

var workerLabels = []string{"worker", "miner", "wallet", "ip"}

func newBridge() *bridge {
	b := &bridge{
		reg: prometheus.NewRegistry(),
		valid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ks_valid_share_counter", Help: "valid shares"}, workerLabels),
		invalid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ks_invalid_share_counter", Help: "invalid shares"}, append(slices.Clone(workerLabels), "type")),
		diff: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ks_valid_share_diff_counter", Help: "share difficulty"}, workerLabels),
		uptime: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ks_miner_uptime_seconds", Help: "connect time"}, workerLabels),
		work: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ks_miner_work_seconds_total", Help: "work seconds"}, workerLabels),
	}
	b.reg.MustRegister(b.valid, b.invalid, b.diff, b.uptime, b.work)
	return b
}

// miner is one connection's labels.
type miner struct{ worker, wallet, ip string }

func (m miner) labels() prometheus.Labels {
	return prometheus.Labels{"worker": m.worker, "miner": "lolMiner 1.76", "wallet": m.wallet, "ip": m.ip}
}

// connect initialises the counters at 0, as the bridge's InitWorkerCounters
// does when it creates a worker's stats, and sets the connect-time gauge.
// The bridge does not initialise the work-seconds counter; the simulator
// does, so that increase() of it is exact too.
func (b *bridge) connect(m miner, connectedAt float64) {
	l := m.labels()
	b.valid.With(l).Add(0)
	b.diff.With(l).Add(0)
	for _, kind := range []string{"stale", "duplicate", "invalid", "weak"} {
		b.invalidShares(m, kind, 0)
	}
	b.work.With(l).Add(0)
	if connectedAt > 0 {
		b.uptime.With(l).Set(connectedAt)
	}
}

// shares records n valid shares of hashValue hv and returns their total,
// summed in the same order as the counter sums them.
func (b *bridge) shares(m miner, n int, hv float64) float64 {
	total := 0.0
	for range n {
		b.valid.With(m.labels()).Inc()
		b.diff.With(m.labels()).Add(hv)
		total += hv
	}
	return total
}

func (b *bridge) invalidShares(m miner, kind string, n int) {
	l := m.labels()
	l["type"] = kind
	b.invalid.With(l).Add(float64(n))
}

// recorder is a proxy in front of Prometheus that records each query's
// parameters, to check what the client asks.
type recorder struct {
	mu   sync.Mutex
	reqs []url.Values
}

func (r *recorder) handler(target string) http.Handler {
	u, _ := url.Parse(target)
	proxy := httputil.NewSingleHostReverseProxy(u)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/api/v1/query" {
			r.mu.Lock()
			r.reqs = append(r.reqs, req.URL.Query())
			r.mu.Unlock()
		}
		proxy.ServeHTTP(w, req)
	})
}

func (r *recorder) requests() []url.Values {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

// TestAgainstPrometheus runs the five queries against a real Prometheus
// scraping a simulated bridge, and checks the assembled records exactly.
//
// Exact equality holds despite increase()'s extrapolation because (a) every
// counter is exported at 0 before the first scrape, so extrapolation towards
// the window start stops at the zero crossing, i.e. at the first sample, and
// (b) the evaluation time is pinned to the last scrape's timestamp, so there
// is nothing to extrapolate at the end. increase() is then last − first.
func TestAgainstPrometheus(t *testing.T) {
	t.Parallel() // most of the time is Prometheus's first target sync
	const window = 60 * time.Second
	b := newBridge()
	exporter := httptest.NewServer(promhttp.HandlerFor(b.reg, promhttp.HandlerOpts{}))
	t.Cleanup(exporter.Close)

	w1 := miner{"5HotkeyA.rig1", owner, "10.0.0.1"}
	w1b := miner{"5HotkeyA.rig1", owner, "10.0.0.2"} // a second connection
	w1gone := miner{"5HotkeyA.rig1", owner, "10.0.0.9"}
	w1other := miner{"5HotkeyA.rig1", other, "10.0.0.3"} // same name, other wallet
	w2 := miner{"5HotkeyA.rig2", owner, "10.0.0.4"}
	w3 := miner{"5HotkeyB.rig3", owner, "10.0.0.5"} // invalid shares only
	w4 := miner{"5HotkeyC.idle", owner, "10.0.0.6"} // connected, no shares
	noWorker := miner{"", owner, "10.0.0.7"}        // the label is absent in Prometheus

	b.connect(w1, 1_700_000_000)
	b.uptime.With(w1b.labels()).Set(1_700_000_100)
	b.uptime.With(w1gone.labels()).Set(1_700_000_500)
	b.connect(w1other, 1_700_000_200)
	b.connect(w2, 1_700_000_300)
	b.invalidShares(w3, "stale", 0) // a worker the valid counter never saw
	b.connect(w4, 0)
	b.connect(noWorker, 1_700_000_400)

	prom := prometheustest.Start(t, exporter.Listener.Addr().String())
	rec := &recorder{}
	proxy := httptest.NewServer(rec.handler(prom.URL()))
	t.Cleanup(proxy.Close)
	// The zeros are in storage before any share arrives.
	prom.WaitForSamples(t, `ks_valid_share_counter{worker="5HotkeyA.rig1"}`)

	// A disconnect deletes the gauge; its larger value must not win over the
	// connection that is still there.
	b.uptime.Delete(w1gone.labels())
	total1 := b.shares(w1, 37, hv20)
	b.invalidShares(w1, "stale", 2)
	b.invalidShares(w1, "weak", 1)
	b.work.With(w1.labels()).Add(40)
	b.shares(w1other, 1000, hv20)
	b.invalidShares(w3, "stale", 4)
	b.shares(noWorker, 3, hv20)
	b.work.With(w2.labels()).Add(10)
	total2 := b.shares(w2, 5, hv8192) // the last update

	// Pin to a scrape that began after one that saw the last update, so it
	// saw every update (a scrape gathers collectors one after another).
	v := prom.WaitForSamples(t, `timestamp(ks_valid_share_counter{worker="5HotkeyA.rig2"} == 5)`)
	lastScrape := scrapeTime(prom.WaitForSamples(t,
		`timestamp(ks_valid_share_counter{worker="5HotkeyA.rig2"}) > `+v.(model.Vector)[0].Value.String()))

	reg := prometheus.NewRegistry()
	c, err := metrics.New(metrics.Options{PrometheusEndpoint: proxy.URL, OwnerWallet: owner, Window: window, Timeout: 10 * time.Second,
		Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := c.Fetch(context.Background(), lastScrape)
	if err != nil {
		t.Fatal(err)
	}
	if n := queryResults(t, reg)["ok"]; n < 5 {
		t.Errorf("%v queries counted ok after a fetch of five", n)
	}

	// All five queries, with the reference's text, at one pinned time.
	reqs := rec.requests()
	var gotQueries []string
	for _, r := range reqs {
		gotQueries = append(gotQueries, r.Get("query"))
		if r.Get("time") != "" && r.Get("time") != reqs[0].Get("time") {
			t.Errorf("query %q evaluated at %s, another at %s", r.Get("query"), r.Get("time"), reqs[0].Get("time"))
		}
	}
	wantQueries := []string{
		"sum(increase(ks_valid_share_counter[60s])) by (wallet, worker)",
		"sum(increase(ks_invalid_share_counter[60s])) by (wallet, worker)",
		"sum(increase(ks_valid_share_diff_counter[60s])) by (wallet, worker)",
		"ks_miner_uptime_seconds[60s]",
		"sum(increase(ks_miner_work_seconds_total[60s])) by (worker, wallet)",
	}
	slices.Sort(gotQueries)
	slices.Sort(wantQueries)
	if !slices.Equal(gotQueries, wantQueries) {
		t.Errorf("queries:\n got %q\nwant %q", gotQueries, wantQueries)
	}
	if len(reqs) != 5 {
		t.Fatalf("%d requests, want 5", len(reqs))
	}
	if got, want := reqs[0].Get("time"), formatMillis(lastScrape); got != want {
		t.Errorf("time parameter %q, want the pinned %s", got, want)
	}
	if !snap.At.Equal(lastScrape) {
		t.Errorf("snapshot at %v, want %v", snap.At, lastScrape)
	}

	want := map[string]rating.WorkerMetrics{
		w1.worker: {
			Worker: w1.worker, ValidShares: 37, InvalidShares: 3,
			TotalDifficulty: total1, Difficulty: total1 / 40,
			UptimeSeconds: 40, Uptime: 1_700_000_100, Hashrate: total1 * 1e9 / 60,
		},
		w2.worker: {
			Worker: w2.worker, ValidShares: 5,
			TotalDifficulty: total2, Difficulty: total2 / 5,
			UptimeSeconds: 10, Uptime: 1_700_000_300, Hashrate: total2 * 1e9 / 60,
		},
		w4.worker: {Worker: w4.worker},
	}
	if len(snap.Workers) != len(want) {
		t.Errorf("got workers %v, want %d", keys(snap.Workers), len(want))
	}
	for name, wm := range want {
		if got := snap.Workers[name]; got != wm {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, wm)
		}
	}

	// Grouping: bound workers in name order; a bound but unseen worker gets
	// a zero record; unbound workers are left out.
	byHotkey := snap.ByHotkey(map[string]string{w2.worker: "hkA", w1.worker: "hkA", "5HotkeyD.offline": "hkD"})
	if got := byHotkey["hkA"]; len(got) != 2 || got[0] != want[w1.worker] || got[1] != want[w2.worker] {
		t.Errorf("hkA: %+v", got)
	}
	if got := byHotkey["hkD"]; len(got) != 1 || got[0] != (rating.WorkerMetrics{Worker: "5HotkeyD.offline"}) {
		t.Errorf("hkD: %+v", got)
	}
	if len(byHotkey) != 2 {
		t.Errorf("hotkeys %v, want hkA and hkD", byHotkey)
	}

	// The records feed the rating as the validator uses them.
	p := rating.DefaultParams()
	p.Window = window
	calc, err := rating.New(p)
	if err != nil {
		t.Fatal(err)
	}
	scores := calc.RateAll(byHotkey)
	wantA := rating.Round((40.0/60+10.0/60)/2, rating.Digits) // hkA has the most work
	if scores["hkA"] != wantA || scores["hkD"] != 0 {
		t.Errorf("scores %v, want hkA %v, hkD 0", scores, wantA)
	}

	// WorkerExists: query 4 at the server's now, per (wallet, worker).
	for _, tt := range []struct {
		wallet, worker string
		want           bool
	}{
		{owner, w1.worker, true},
		{owner, w2.worker, true},
		{other, w1.worker, true},
		{owner, w3.worker, false}, // no connect gauge
		{owner, w4.worker, false}, // no connect gauge
		{other, w2.worker, false},
		{owner, "5HotkeyA.RIG1", false}, // case-sensitive
	} {
		got, err := c.WorkerExists(context.Background(), tt.wallet, tt.worker)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("WorkerExists(%s, %s) = %v, want %v", tt.wallet, tt.worker, got, tt.want)
		}
	}
	last := rec.requests()[len(rec.requests())-1]
	if last.Get("query") != "ks_miner_uptime_seconds[60s]" || last.Has("time") {
		t.Errorf("WorkerExists sent %v, want query 4 without a time", last)
	}
	if n := len(rec.requests()); n != 6 {
		t.Errorf("%d requests after 5 queries and 7 cached existence checks, want 6", n)
	}
}

// TestPinnedTimeIsHonoured shows the pin matters: the same Prometheus gives
// no shares before they happened, exactly the shares at a scrape after
// them, and an extrapolated count at "now".
func TestPinnedTimeIsHonoured(t *testing.T) {
	t.Parallel()
	b := newBridge()
	exporter := httptest.NewServer(promhttp.HandlerFor(b.reg, promhttp.HandlerOpts{}))
	t.Cleanup(exporter.Close)
	m := miner{"5HotkeyA.rig1", owner, "10.0.0.1"}
	b.connect(m, 1_700_000_000)
	prom := prometheustest.Start(t, exporter.Listener.Addr().String())
	before := scrapeTime(prom.WaitForSamples(t, `timestamp(ks_valid_share_counter)`))
	b.shares(m, 10, hv20)
	after := scrapeTime(prom.WaitForSamples(t, `timestamp(ks_valid_share_counter == 10)`))

	c, err := metrics.New(metrics.Options{PrometheusEndpoint: prom.URL(), OwnerWallet: owner, Window: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		at       time.Time
		min, max int64
	}{
		{before, 0, 0},
		// Exactly 10 whenever scrapes are regular; a loaded machine (make
		// test, 2 cores) has been seen to give 11 here once, from irregular
		// scrape intervals in increase()'s extrapolation.
		{after, 10, 11},
		// At now, increase() extrapolates past the last scrape by up to 1.1
		// scrape intervals over a sampled span of at least one, so only
		// bounds hold: 10 × (1 + 1.1) = 21.
		{time.Time{}, 10, 21},
	} {
		snap, err := c.Fetch(context.Background(), tt.at)
		if err != nil {
			t.Fatal(err)
		}
		// Absent (a single sample: nothing to compare) or zero both mean none.
		if got := snap.Workers[m.worker].ValidShares; got < tt.min || got > tt.max {
			t.Errorf("at %v: valid shares %d, want %d..%d", tt.at, got, tt.min, tt.max)
		}
	}
}

// scrapeTime turns the result of a timestamp() query into a time.
func scrapeTime(v model.Value) time.Time {
	return time.UnixMilli(int64(math.Round(float64(v.(model.Vector)[0].Value) * 1000)))
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func formatMillis(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

// queryResults sums vigil_kaspa_prometheus_queries_total by result.
func queryResults(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "vigil_kaspa_prometheus_queries_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" {
					out[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

// TestUnreachablePrometheusIsCounted: queries to a Prometheus that is not
// there are counted as errors, for the operator's alert.
func TestUnreachablePrometheusIsCounted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	reg := prometheus.NewRegistry()
	c, err := metrics.New(metrics.Options{PrometheusEndpoint: "http://" + addr, OwnerWallet: "kaspa:owner", Timeout: 2 * time.Second, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fetch(context.Background(), time.Time{}); err == nil {
		t.Fatal("a fetch from nowhere succeeded")
	}
	got := queryResults(t, reg)
	if got["error"] < 1 || got["ok"] != 0 {
		t.Errorf("results counted %v", got)
	}
}
