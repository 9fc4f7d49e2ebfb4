// Package metrics reads per-worker share metrics of the Kaspa stratum bridge
// from Prometheus, as HashTensor (SN16) validators do: five instant PromQL
// queries over a window (Queries), one record per (wallet, worker) of the
// pool owner's wallet, grouped by hotkey through the worker→hotkey mapping.
//
// It differs from the reference in these ways, all on purpose:
//
//   - All five queries are evaluated at one pinned time (Fetch's at), so the
//     counters agree with each other and validators that pin the same time
//     read the same numbers; the reference leaves time to the server's "now".
//   - Series that collapse onto the same (wallet, worker) — query 4 keeps
//     the ip, miner and instance labels — resolve deterministically: the one
//     with the latest sample wins, then the larger value. The reference keeps
//     whichever comes last in the response.
//   - Hashrate is TotalDifficulty × 1e9 / W in hashes per second: the share
//     difficulty counter is already in units of 1e9 expected hashes, so the
//     reference's valid × avgDifficulty × 2^32 / W is 2^32/1e9 ≈ 4.295 times
//     too high and counts invalid shares against it. It is display only;
//     Options.ReferenceHashrate restores the reference's number.
//   - A NaN or infinite value, or a share count beyond int64, is an error
//     (ErrMalformed) instead of a crash or a NaN score.
//   - Workers are listed per hotkey in worker-name order, so sums over them
//     are reproducible; the reference follows its database's row order.
//
// What feeds the rating is unchanged: valid and invalid shares truncated to
// integers, the average difficulty total/(valid+invalid), work seconds, and
// only workers present in query 1.
//
// Requests are GET /api/v1/query, as the reference sends them, through
// client_golang's api.Client; results decode into prometheus/common/model
// types. (The api/prometheus/v1 layer is not used: before Go 1.27 it needs
// json-iterator, which this module does not otherwise require.)
package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/flight"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/rating"
	"github.com/vigil-validator/vigil/internal/promreg"
)

// Defaults.
const (
	DefaultWindow   = time.Hour
	DefaultTimeout  = 30 * time.Second
	DefaultCacheTTL = 15 * time.Second
	// DefaultCheckTimeout bounds the worker-list refresh behind /register:
	// a miner waits on it, so it is much shorter than a scoring pass's.
	DefaultCheckTimeout = 5 * time.Second
	// DefaultFailureTTL is how long a failed refresh is remembered and
	// answered at once, so a hung Prometheus costs one timeout per TTL,
	// not one per request.
	DefaultFailureTTL = 10 * time.Second
)

const queryEndpoint = "/api/v1/query"

// Sentinel errors, for errors.Is.
var (
	// ErrQuery: Prometheus could not be reached or answered with an error
	// (a non-2xx status or an error body).
	ErrQuery = errors.New("prometheus query failed")
	// ErrMalformed: the answer could not be used (bad JSON, NaN or infinite
	// values, counts out of range, unexpected result types).
	ErrMalformed = errors.New("malformed prometheus result")
	// ErrTimeout: the queries did not finish within Options.Timeout, or
	// Prometheus gave up evaluating them.
	ErrTimeout = errors.New("prometheus query timed out")
)

// Label names the bridge puts on its per-worker metrics.
const (
	LabelWallet = "wallet"
	LabelWorker = "worker"
)

// Key identifies a worker on the bridge: its wallet and worker labels.
type Key struct {
	Wallet string
	Worker string
}

// Queries are the five PromQL queries, in the reference's order and text.
type Queries struct {
	ValidShares     string // 1: valid shares in the window
	InvalidShares   string // 2: invalid shares of every type
	TotalDifficulty string // 3: summed share difficulty, GH
	Uptime          string // 4: connect timestamp gauge, as a range
	UptimeSeconds   string // 5: seconds of work, the uptime input
}

// QueriesFor returns the queries for a window, written as whole seconds
// ("3600s") as the reference does.
func QueriesFor(window time.Duration) Queries {
	r := strconv.FormatInt(int64(window/time.Second), 10) + "s"
	return Queries{
		ValidShares:     "sum(increase(ks_valid_share_counter[" + r + "])) by (wallet, worker)",
		InvalidShares:   "sum(increase(ks_invalid_share_counter[" + r + "])) by (wallet, worker)",
		TotalDifficulty: "sum(increase(ks_valid_share_diff_counter[" + r + "])) by (wallet, worker)",
		Uptime:          "ks_miner_uptime_seconds[" + r + "]",
		UptimeSeconds:   "sum(increase(ks_miner_work_seconds_total[" + r + "])) by (worker, wallet)",
	}
}

// Options configures New.
type Options struct {
	// PrometheusEndpoint is the Prometheus base URL, e.g.
	// http://pool.hashtensor.com:9090 (the kaspa.prometheus_endpoint setting).
	PrometheusEndpoint string
	// OwnerWallet is the pool owner's Kaspa wallet: only series with this
	// exact wallet label are scored.
	OwnerWallet string
	// Window is the query window, a whole number of seconds as PromQL
	// ranges are written. Zero means DefaultWindow.
	Window time.Duration
	// Timeout bounds one Fetch or one cache refresh, all queries together;
	// it is also sent to Prometheus as the evaluation timeout. Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// CacheTTL is how long WorkerExists reuses a query-4 answer. Zero means
	// DefaultCacheTTL; negative disables the cache.
	CacheTTL time.Duration
	// CheckTimeout bounds one WorkerExists refresh (zero: DefaultCheckTimeout).
	CheckTimeout time.Duration
	// FailureTTL is how long a failed WorkerExists refresh is answered from
	// memory (zero: DefaultFailureTTL; negative: not at all).
	FailureTTL time.Duration
	// HTTPClient sends the requests; nil means a client with the Prometheus
	// library's default transport.
	HTTPClient *http.Client
	// Registerer receives vigil_kaspa_prometheus_queries_total (by query
	// and result: ok, timeout, error), which tells an operator's alerting
	// that the pool's Prometheus stopped answering; nil registers nothing.
	Registerer prometheus.Registerer
	// Clock supplies "now" for Fetch without a time and for the cache; nil
	// means the real clock.
	Clock clock.Clock
	// ReferenceHashrate reports the reference's (inflated) hashrate instead
	// of the corrected one, for dashboards that compare validators.
	ReferenceHashrate bool
}

// Client queries Prometheus. It is safe for concurrent use.
type Client struct {
	api      api.Client
	url      string
	owner    string
	window   time.Duration
	timeout  time.Duration
	cacheTTL time.Duration
	clock    clock.Clock
	queries  Queries
	refHash  bool

	checkTimeout time.Duration
	failureTTL   time.Duration
	queryResults *prometheus.CounterVec

	// refresh is the one WorkerExists refresh in flight, shared by every
	// waiter; mu guards the cache fields.
	refresh   flight.Group[map[Key]struct{}]
	mu        sync.Mutex
	workers   map[Key]struct{}
	fetchedAt time.Time
	failed    error
	failedAt  time.Time
}

// New validates opts and returns a Client. It does not contact Prometheus.
func New(opts Options) (*Client, error) {
	if opts.PrometheusEndpoint == "" {
		return nil, errors.New("metrics: no Prometheus URL specified")
	}
	if opts.OwnerWallet == "" {
		return nil, errors.New("metrics: no pool owner wallet specified")
	}
	if opts.Window == 0 {
		opts.Window = DefaultWindow
	}
	if opts.Window < time.Second || opts.Window%time.Second != 0 {
		return nil, fmt.Errorf("metrics: window %s is not a positive whole number of seconds", opts.Window)
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("metrics: timeout %s is negative", opts.Timeout)
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = DefaultCacheTTL
	}
	if opts.CheckTimeout == 0 {
		opts.CheckTimeout = DefaultCheckTimeout
	}
	if opts.CheckTimeout < 0 {
		return nil, fmt.Errorf("metrics: check timeout %s is negative", opts.CheckTimeout)
	}
	if opts.FailureTTL == 0 {
		opts.FailureTTL = DefaultFailureTTL
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	c, err := api.NewClient(api.Config{Address: opts.PrometheusEndpoint, Client: opts.HTTPClient})
	if err != nil {
		return nil, fmt.Errorf("metrics: Prometheus URL %q: %w", opts.PrometheusEndpoint, err)
	}
	results := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vigil_kaspa_prometheus_queries_total",
		Help: "Queries to the pool's Prometheus, by query and result (ok, timeout, error).",
	}, []string{"query", "result"})
	if results, err = promreg.Register(opts.Registerer, results); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return &Client{
		queryResults: results,
		api:          c,
		url:          opts.PrometheusEndpoint,
		owner:        opts.OwnerWallet,
		window:       opts.Window,
		timeout:      opts.Timeout,
		cacheTTL:     opts.CacheTTL,
		clock:        opts.Clock,
		queries:      QueriesFor(opts.Window),
		refHash:      opts.ReferenceHashrate,

		checkTimeout: opts.CheckTimeout,
		failureTTL:   opts.FailureTTL,
	}, nil
}

// Queries returns the queries the client runs.
func (c *Client) Queries() Queries { return c.queries }

// Window returns the query window.
func (c *Client) Window() time.Duration { return c.window }

// Snapshot is the pool owner's workers as Prometheus saw them at one time.
type Snapshot struct {
	// At is the evaluation time of all five queries.
	At time.Time
	// Window is the query window.
	Window time.Duration
	// OwnerWallet is the wallet the workers were filtered by.
	OwnerWallet string
	// Workers holds one record per worker present in query 1, keyed by
	// worker name.
	Workers map[string]rating.WorkerMetrics
}

// Fetch runs the five queries, all evaluated at at (now when at is zero),
// concurrently and within the client's timeout, and assembles one record per
// worker of the owner's wallet.
func (c *Client) Fetch(ctx context.Context, at time.Time) (Snapshot, error) {
	if at.IsZero() {
		at = c.clock.Now()
	}
	// Prometheus resolves milliseconds; report the time actually used.
	at = at.Truncate(time.Millisecond)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	specs := []struct {
		name, query string
		isInt       bool
	}{
		{"valid shares", c.queries.ValidShares, true},
		{"invalid shares", c.queries.InvalidShares, true},
		{"total difficulty", c.queries.TotalDifficulty, false},
		{"uptime", c.queries.Uptime, false},
		{"uptime seconds", c.queries.UptimeSeconds, false},
	}
	results := make([]map[Key]float64, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, s := range specs {
		wg.Go(func() {
			results[i], errs[i] = c.query(ctx, s.name, s.query, at, s.isInt, c.timeout)
			if errs[i] != nil {
				cancel() // the snapshot is lost anyway; stop the others
			}
		})
	}
	wg.Wait()
	if err := firstCause(errs); err != nil {
		return Snapshot{}, err
	}
	valid, invalid, totalDiff, uptime, uptimeSecs := results[0], results[1], results[2], results[3], results[4]

	w := c.window.Seconds()
	workers := make(map[string]rating.WorkerMetrics, len(valid))
	for k, v := range valid {
		if k.Wallet != c.owner {
			continue
		}
		n, inv := int64(v), int64(invalid[k])
		total := totalDiff[k]
		avg := 0.0
		if n+inv > 0 {
			avg = total / float64(n+inv)
		}
		hashrate := 0.0
		switch {
		case c.refHash && n > 0:
			hashrate = float64(n) * avg * (1 << 32) / w
		case !c.refHash:
			hashrate = total * 1e9 / w
		}
		workers[k.Worker] = rating.WorkerMetrics{
			Worker:          k.Worker,
			ValidShares:     n,
			InvalidShares:   inv,
			Difficulty:      avg,
			TotalDifficulty: total,
			UptimeSeconds:   uptimeSecs[k],
			Uptime:          uptime[k],
			Hashrate:        hashrate,
		}
	}
	return Snapshot{At: at, Window: c.window, OwnerWallet: c.owner, Workers: workers}, nil
}

// ByHotkey groups the snapshot's records by hotkey through mapping (worker →
// hotkey, the active bindings). A bound worker without metrics gets an
// all-zero record, so an offline worker lowers its hotkey's mean uptime.
// Each hotkey's workers are in name order; every hotkey in mapping appears.
func (s Snapshot) ByHotkey(mapping map[string]string) map[string][]rating.WorkerMetrics {
	out := make(map[string][]rating.WorkerMetrics)
	for _, w := range slices.Sorted(maps.Keys(mapping)) {
		m, ok := s.Workers[w]
		if !ok {
			m = rating.WorkerMetrics{Worker: w}
		}
		out[mapping[w]] = append(out[mapping[w]], m)
	}
	return out
}

// HotkeyMetrics fetches a snapshot at at and groups it by hotkey.
func (c *Client) HotkeyMetrics(ctx context.Context, at time.Time, mapping map[string]string) (map[string][]rating.WorkerMetrics, error) {
	s, err := c.Fetch(ctx, at)
	if err != nil {
		return nil, err
	}
	return s.ByHotkey(mapping), nil
}

// WorkerExists reports whether (wallet, worker) has a connect timestamp
// above zero in query 4 — some connection authorised as wallet.worker within
// the window and was scraped. Answers are cached for Options.CacheTTL. One
// refresh runs at a time, bounded by Options.CheckTimeout, and every caller
// that arrives meanwhile shares it; a failed refresh is answered from memory
// for Options.FailureTTL, so a Prometheus that hangs costs one timeout per
// FailureTTL however many miners are registering.
func (c *Client) WorkerExists(ctx context.Context, wallet, worker string) (bool, error) {
	now := c.clock.Now()
	c.mu.Lock()
	workers, fresh := c.workers, c.workers != nil && now.Sub(c.fetchedAt) < c.cacheTTL
	failed := c.failed
	if failed != nil && now.Sub(c.failedAt) >= c.failureTTL {
		failed = nil
	}
	c.mu.Unlock()
	if !fresh {
		if failed != nil {
			return false, failed
		}
		var err error
		workers, _, err = c.refresh.Do(ctx, c.refreshWorkers)
		if err != nil {
			return false, err
		}
	}
	_, ok := workers[Key{Wallet: wallet, Worker: worker}]
	return ok, nil
}

// refreshWorkers runs query 4 for WorkerExists and caches its answer, or
// its failure.
func (c *Client) refreshWorkers(ctx context.Context) (map[Key]struct{}, error) {
	qctx, cancel := context.WithTimeout(ctx, c.checkTimeout)
	defer cancel()
	// The server's own "now" (a zero time), as the reference: a miner
	// binds right after connecting, and a validator clock behind the
	// server's would miss that connection.
	uptime, err := c.query(qctx, "uptime", c.queries.Uptime, time.Time{}, false, c.checkTimeout)
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.failed, c.failedAt = fmt.Errorf("%w (answered from memory for %s)", err, c.failureTTL), now
		return nil, err
	}
	workers := make(map[Key]struct{}, len(uptime))
	for k, v := range uptime {
		if v > 0 {
			workers[k] = struct{}{}
		}
	}
	c.workers, c.fetchedAt, c.failed = workers, now, nil
	return workers, nil
}

// query runs one instant query at ts (the server's now when ts is zero) and
// returns its values keyed by (wallet, worker). Series without either label
// are skipped; a matrix series contributes its last sample.
func (c *Client) query(ctx context.Context, name, q string, ts time.Time, isInt bool, timeout time.Duration) (map[Key]float64, error) {
	val, err := c.instantQuery(ctx, name, q, ts, timeout)
	if err != nil {
		return nil, err
	}
	out := map[Key]float64{}
	seen := map[Key]model.Time{}
	add := func(m model.Metric, t model.Time, v model.SampleValue) error {
		wallet, okW := m[LabelWallet]
		worker, okK := m[LabelWorker]
		if !okW || !okK {
			return nil
		}
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%w: %s query: value %v for %s", ErrMalformed, name, f, m)
		}
		// int64(f) is undefined beyond ±2^63; the reference's int() would not
		// fail, but no share counter gets there honestly.
		if isInt && math.Abs(f) >= 1<<63 {
			return fmt.Errorf("%w: %s query: value %v out of range for %s", ErrMalformed, name, f, m)
		}
		k := Key{Wallet: string(wallet), Worker: string(worker)}
		if prev, dup := seen[k]; dup && (t < prev || (t == prev && f <= out[k])) {
			return nil
		}
		seen[k], out[k] = t, f
		return nil
	}
	switch v := val.(type) {
	case model.Vector:
		for _, s := range v {
			if s.Histogram != nil {
				return nil, fmt.Errorf("%w: %s query: histogram sample for %s", ErrMalformed, name, s.Metric)
			}
			if err := add(s.Metric, s.Timestamp, s.Value); err != nil {
				return nil, err
			}
		}
	case model.Matrix:
		for _, s := range v {
			if len(s.Histograms) > 0 {
				return nil, fmt.Errorf("%w: %s query: histogram samples for %s", ErrMalformed, name, s.Metric)
			}
			if len(s.Values) == 0 {
				continue
			}
			last := s.Values[len(s.Values)-1]
			if err := add(s.Metric, last.Timestamp, last.Value); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// apiResponse is the envelope of Prometheus's HTTP API.
type apiResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// instantQuery sends GET /api/v1/query, as the reference does, and decodes
// a vector or matrix result.
func (c *Client) instantQuery(ctx context.Context, name, q string, ts time.Time, timeout time.Duration) (val model.Value, err error) {
	defer func() {
		result := "ok"
		switch {
		case errors.Is(err, ErrTimeout):
			result = "timeout"
		case err != nil && ctx.Err() == context.Canceled:
			return // the caller went away: no news about Prometheus
		case err != nil:
			result = "error"
		}
		c.queryResults.WithLabelValues(name, result).Inc()
	}()
	u := c.api.URL(queryEndpoint, nil)
	args := url.Values{"query": {q}}
	if !ts.IsZero() {
		args.Set("time", formatTime(ts))
	}
	args.Set("timeout", strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64))
	u.RawQuery = args.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("metrics: %s query: %w", name, err)
	}
	resp, body, err := c.api.Do(ctx, req)
	if err != nil {
		return nil, c.transportError(ctx, name, timeout, err)
	}
	var r apiResponse
	jsonErr := json.Unmarshal(body, &r)
	if resp.StatusCode/100 != 2 {
		msg := r.Error
		if jsonErr != nil || msg == "" {
			msg = snippet(body)
		}
		cause := ErrQuery
		if r.ErrorType == "timeout" {
			cause = ErrTimeout
		}
		return nil, fmt.Errorf("%w: %s query to %s: HTTP %d: %s", cause, name, c.url, resp.StatusCode, msg)
	}
	if jsonErr != nil {
		return nil, fmt.Errorf("%w: %s query to %s: %w", ErrMalformed, name, c.url, jsonErr)
	}
	if r.Status != "success" {
		cause := ErrQuery
		if r.ErrorType == "timeout" {
			cause = ErrTimeout
		}
		return nil, fmt.Errorf("%w: %s query to %s: status %q: %s: %s", cause, name, c.url, r.Status, r.ErrorType, r.Error)
	}
	switch r.Data.ResultType {
	case "vector":
		var v model.Vector
		err = json.Unmarshal(r.Data.Result, &v)
		val = v
	case "matrix":
		var m model.Matrix
		err = json.Unmarshal(r.Data.Result, &m)
		val = m
	default:
		// Scalars and strings carry no labels, so the reference finds nothing
		// in them either; they only come from a wrong query or server.
		return nil, fmt.Errorf("%w: %s query to %s: unexpected result type %q", ErrMalformed, name, c.url, r.Data.ResultType)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s query to %s: %w", ErrMalformed, name, c.url, err)
	}
	return val, nil
}

// transportError wraps a failed request with the sentinel for its cause.
func (c *Client) transportError(ctx context.Context, name string, timeout time.Duration, err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded:
		return fmt.Errorf("%w: %s query to %s (timeout %s): %w", ErrTimeout, name, c.url, timeout, err)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("metrics: %s query to %s: %w", name, c.url, err)
	}
	return fmt.Errorf("%w: %s query to %s: %w", ErrQuery, name, c.url, err)
}

// formatTime writes t as Prometheus's API takes it: unix seconds, with the
// milliseconds its timestamps resolve.
func formatTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

// snippet returns the start of a response body for an error message.
func snippet(body []byte) string {
	const limit = 200
	s := strings.TrimSpace(string(body))
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	if s == "" {
		s = "(empty body)"
	}
	return s
}

// firstCause returns the most telling of the queries' errors: the first one
// that is not the cancellation the first failure caused in the others.
func firstCause(errs []error) error {
	var first error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if first == nil {
			first = err
		}
		if !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return first
}
