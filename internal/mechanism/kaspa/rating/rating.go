// Package rating turns per-worker Kaspa share metrics into per-hotkey scores
// in [0, 1], with the formula HashTensor (SN16) validators use in production:
//
//	A          = W/60 × SharesPerMinute        (shares allowed per window)
//	sharePen   = exp(-(n-A)/A) if n > A, else 1
//	diffPen    = exp(-(d-M)/M) if d > M, else 1
//	eff(m)     = n × min(d, M) × diffPen × sharePen
//	work[h]    = Σ eff(m) over the hotkey's workers
//	U[h]       = mean over its workers of clamp(uptimeSeconds, 0, W)/W
//	score[h]   = round8(clamp01(work[h]/max(work) × U[h]^α))
//
// n is a worker's valid shares and d its average share difficulty in
// hashValue units (≈ stratum difficulty × 2^32/1e9), as the metrics package
// assembles them. Floating-point operations run in the reference's order, so
// scores match it bit for bit.
//
// Inputs the reference cannot produce from a healthy Prometheus are
// sanitised, not rejected, so one bad worker never blocks a whole scoring
// pass: negative valid shares and a NaN, infinite or negative difficulty earn
// no work; a NaN or negative uptime counts as 0 and one above the window as
// the whole window (the reference's clamp gives the same for NaN). Invalid
// shares, total difficulty, the connect timestamp and hashrate do not enter
// the score.
package rating

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Digits is the number of decimals scores are rounded to, as the reference
// does before quantising weights.
const Digits = 8

// Production defaults (HashTensor v1.4.2 as deployed).
const (
	// DefaultUptimeAlpha is RATING_WEIGHT's default, which the reference
	// passes as the uptime exponent; its own tests use 2.0.
	DefaultUptimeAlpha = 1.0
	// DefaultWindow is the rating and query window.
	DefaultWindow = time.Hour
	// DefaultMaxDifficulty caps the average share difficulty, in hashValue
	// units (stratum difficulty ≈ 3814.7).
	DefaultMaxDifficulty = 16384.0
	// DefaultSharesPerMinute is the bridge's vardiff target share rate.
	DefaultSharesPerMinute = 20.0
)

// ErrInvalidParams is returned (wrapped) by New for unusable parameters.
var ErrInvalidParams = errors.New("invalid rating parameters")

// WorkerMetrics is one worker's share metrics over the window. The JSON names
// are those of the reference's MinerMetrics, which its /metrics route serves.
type WorkerMetrics struct {
	// Worker is the bridge's worker label.
	Worker string `json:"worker_name"`
	// ValidShares is the number of accepted shares in the window.
	ValidShares int64 `json:"valid_shares"`
	// InvalidShares counts stale, duplicate, invalid and weak shares.
	InvalidShares int64 `json:"invalid_shares"`
	// Difficulty is the average difficulty per share, hashValue units.
	Difficulty float64 `json:"difficulty"`
	// TotalDifficulty is the summed difficulty of valid shares (GH).
	TotalDifficulty float64 `json:"total_difficulty"`
	// UptimeSeconds is the seconds of work in the window, the uptime input.
	UptimeSeconds float64 `json:"uptime_seconds"`
	// Uptime is the unix time of the worker's last authorize (display).
	Uptime float64 `json:"uptime"`
	// Hashrate is the estimated average hashrate (display).
	Hashrate float64 `json:"hashrate"`
}

// Params configures a Calculator. Start from DefaultParams.
type Params struct {
	// UptimeAlpha is the exponent of the mean uptime fraction; 0 ignores
	// uptime.
	UptimeAlpha float64
	// Window is the length of the metrics window.
	Window time.Duration
	// MaxDifficulty is the average share difficulty above which work is
	// capped and penalised.
	MaxDifficulty float64
	// SharesPerMinute is the share rate above which work is penalised.
	SharesPerMinute float64
}

// DefaultParams returns the production parameters.
func DefaultParams() Params {
	return Params{
		UptimeAlpha:     DefaultUptimeAlpha,
		Window:          DefaultWindow,
		MaxDifficulty:   DefaultMaxDifficulty,
		SharesPerMinute: DefaultSharesPerMinute,
	}
}

// Calculator computes scores. It holds no state besides its parameters and is
// safe for concurrent use.
type Calculator struct {
	params        Params
	windowSeconds float64
	allowed       float64 // shares allowed per window, A
}

// New validates p and returns a Calculator.
func New(p Params) (*Calculator, error) {
	switch {
	case p.Window <= 0:
		return nil, fmt.Errorf("%w: window %s is not positive", ErrInvalidParams, p.Window)
	case !finite(p.UptimeAlpha) || p.UptimeAlpha < 0:
		return nil, fmt.Errorf("%w: uptime alpha %v is not a finite non-negative number", ErrInvalidParams, p.UptimeAlpha)
	case !finite(p.MaxDifficulty) || p.MaxDifficulty <= 0:
		return nil, fmt.Errorf("%w: max difficulty %v is not a finite positive number", ErrInvalidParams, p.MaxDifficulty)
	case !finite(p.SharesPerMinute) || p.SharesPerMinute <= 0:
		return nil, fmt.Errorf("%w: shares per minute %v is not a finite positive number", ErrInvalidParams, p.SharesPerMinute)
	}
	w := p.Window.Seconds()
	return &Calculator{params: p, windowSeconds: w, allowed: w / 60.0 * p.SharesPerMinute}, nil
}

// Params returns the calculator's parameters.
func (c *Calculator) Params() Params { return c.params }

// AllowedShares returns A, the valid shares per worker per window above which
// the share-rate penalty applies.
func (c *Calculator) AllowedShares() float64 { return c.allowed }

// WorkerWork returns the effective work of one worker.
func (c *Calculator) WorkerWork(m WorkerMetrics) float64 {
	d := m.Difficulty
	if m.ValidShares <= 0 || !finite(d) || d <= 0 {
		return 0
	}
	n := float64(m.ValidShares)
	sharePen := 1.0
	if n > c.allowed {
		sharePen = math.Exp(-(n - c.allowed) / c.allowed)
	}
	maxD := c.params.MaxDifficulty
	diffPen := 1.0
	if d > maxD {
		diffPen = math.Exp(-(d - maxD) / maxD)
	}
	// The reference multiplies left to right in this order.
	return n * math.Min(d, maxD) * diffPen * sharePen
}

// Work returns the summed effective work of a hotkey's workers.
func (c *Calculator) Work(ms []WorkerMetrics) float64 {
	work := 0.0
	for _, m := range ms {
		work += c.WorkerWork(m)
	}
	return work
}

// UptimeFraction returns clamp(uptimeSeconds, 0, W)/W; NaN counts as 0.
func (c *Calculator) UptimeFraction(uptimeSeconds float64) float64 {
	u := uptimeSeconds
	switch {
	case math.IsNaN(u) || u <= 0:
		return 0
	case u >= c.windowSeconds:
		u = c.windowSeconds
	}
	return u / c.windowSeconds
}

// MeanUptime returns the mean uptime fraction of a hotkey's workers, 0 for
// none. Registered workers without metrics count with uptime 0.
func (c *Calculator) MeanUptime(ms []WorkerMetrics) float64 {
	if len(ms) == 0 {
		return 0
	}
	sum := 0.0
	for _, m := range ms {
		sum += c.UptimeFraction(m.UptimeSeconds)
	}
	return sum / float64(len(ms))
}

// RateAll scores every hotkey in byHotkey. Scores are relative to the hotkey
// with the most work; all are 0 when no hotkey has work.
func (c *Calculator) RateAll(byHotkey map[string][]WorkerMetrics) map[string]float64 {
	work := make(map[string]float64, len(byHotkey))
	maxWork := 0.0
	for h, ms := range byHotkey {
		w := c.Work(ms)
		work[h] = w
		maxWork = math.Max(maxWork, w)
	}
	scores := make(map[string]float64, len(byHotkey))
	for h, ms := range byHotkey {
		norm := 0.0
		if maxWork != 0 {
			norm = work[h] / maxWork
		}
		s := norm * math.Pow(c.MeanUptime(ms), c.params.UptimeAlpha)
		scores[h] = Round(math.Max(0, math.Min(1, s)), Digits)
	}
	return scores
}

// Round rounds x to digits decimals as Python's round(x, digits) does:
// correctly rounded from x's exact binary value, ties to even. NaN and
// infinities are returned unchanged; digits < 0 is treated as 0.
func Round(x float64, digits int) float64 {
	if !finite(x) {
		return x
	}
	// FormatFloat with a precision rounds the exact binary value half-even,
	// and ParseFloat returns the nearest double, which is what CPython does.
	r, err := strconv.ParseFloat(strconv.FormatFloat(x, 'f', max(digits, 0), 64), 64)
	if err != nil { // cannot happen for a finite x
		return x
	}
	return r
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
