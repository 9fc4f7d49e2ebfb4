package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"
)

// Check reports why a part of the process is unhealthy, or nil.
type Check func(ctx context.Context) error

// Health runs named checks and reports every failing one with its reason,
// so an operator sees why a node is unhealthy, not only that it is.
type Health struct {
	timeout time.Duration
	mu      sync.RWMutex
	names   []string
	checks  map[string]Check
}

// NewHealth returns a Health whose checks each get at most timeout.
func NewHealth(timeout time.Duration) *Health {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	return &Health{timeout: timeout, checks: map[string]Check{}}
}

// Register adds or replaces a named check.
func (h *Health) Register(name string, c Check) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.checks[name]; !ok {
		h.names = append(h.names, name)
	}
	h.checks[name] = c
}

// CheckResult is the outcome of one check.
type CheckResult struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Reason string `json:"reason,omitempty"`
}

// Report is the body of /health.
type Report struct {
	Status string        `json:"status"` // "ok" or "fail"
	Checks []CheckResult `json:"checks"`
}

// OK reports whether every check passed.
func (r Report) OK() bool { return r.Status == "ok" }

// Run runs every check concurrently, each under the timeout.
func (h *Health) Run(ctx context.Context) Report {
	h.mu.RLock()
	names := append([]string(nil), h.names...)
	checks := make([]Check, len(names))
	for i, n := range names {
		checks[i] = h.checks[n]
	}
	h.mu.RUnlock()

	results := make([]CheckResult, len(names))
	var wg sync.WaitGroup
	for i := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = CheckResult{Name: names[i], OK: true}
			if err := runCheck(ctx, checks[i], h.timeout); err != nil {
				results[i] = CheckResult{Name: names[i], Reason: err.Error()}
			}
		}()
	}
	wg.Wait()
	r := Report{Status: "ok", Checks: results}
	for _, c := range results {
		if !c.OK {
			r.Status = "fail"
		}
	}
	return r
}

// runCheck bounds a check by the timeout even if it ignores its context.
func runCheck(ctx context.Context, c Check, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c(ctx) }()
	select {
	case err := <-done:
		if errors.Is(err, context.DeadlineExceeded) {
			return errors.New("check timed out after " + timeout.String())
		}
		return err
	case <-ctx.Done():
		return errors.New("check timed out after " + timeout.String())
	}
}

// ServeHTTP answers 200 when every check passes and 503 otherwise, with the
// report as JSON either way.
func (h *Health) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rep := h.Run(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !rep.OK() {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(rep)
}
