package rating_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/rating"
)

// w builds a worker as the reference tests write it:
// (uptime_seconds, valid_shares, difficulty).
func w(uptimeSeconds float64, valid int64, difficulty float64) rating.WorkerMetrics {
	return rating.WorkerMetrics{UptimeSeconds: uptimeSeconds, ValidShares: valid, Difficulty: difficulty}
}

func ws(ms ...rating.WorkerMetrics) []rating.WorkerMetrics { return ms }

func calculator(t testing.TB, alpha float64) *rating.Calculator {
	t.Helper()
	p := rating.DefaultParams()
	p.UptimeAlpha = alpha
	c, err := rating.New(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func checkScores(t *testing.T, got, want map[string]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d scores %v, want %d %v", len(got), got, len(want), want)
	}
	for h, v := range want {
		g, ok := got[h]
		if !ok {
			t.Errorf("%s: no score", h)
			continue
		}
		// Exact: the reference's vectors reproduce exactly after 8-digit rounding.
		if g != v {
			t.Errorf("%s = %v, want %v", h, g, v)
		}
	}
}

// TestReferenceVectors is the table of the reference's own tests
// (HashTensor_Subnet tests/test_rating.py), with α = 2 as those tests use.
func TestReferenceVectors(t *testing.T) {
	tests := []struct {
		name string
		in   map[string][]rating.WorkerMetrics
		want map[string]float64
	}{
		{"1 single worker perfect uptime",
			map[string][]rating.WorkerMetrics{"h1": ws(w(3600, 100, 2.0))},
			map[string]float64{"h1": 1.0}},
		{"2 one more productive",
			map[string][]rating.WorkerMetrics{"h1": ws(w(3600, 100, 2)), "h2": ws(w(3600, 50, 2))},
			map[string]float64{"h1": 1.0, "h2": 0.5}},
		{"3 uptime penalty",
			map[string][]rating.WorkerMetrics{"h1": ws(w(1800, 100, 2)), "h2": ws(w(3600, 100, 2))},
			map[string]float64{"h1": 0.25, "h2": 1.0}},
		{"4 multiple workers per hotkey",
			map[string][]rating.WorkerMetrics{"h1": ws(w(3600, 50, 2), w(1800, 50, 2)), "h2": ws(w(3600, 100, 2))},
			map[string]float64{"h1": 0.5625, "h2": 1.0}},
		{"5 zero work",
			map[string][]rating.WorkerMetrics{"h1": ws(w(3600, 0, 2)), "h2": ws(w(3600, 100, 2))},
			map[string]float64{"h1": 0.0, "h2": 1.0}},
		{"6 realistic 1",
			map[string][]rating.WorkerMetrics{"h1": ws(w(0, 1274, 15647.46811773941), w(3600, 1000, 10000.0))},
			map[string]float64{"h1": 0.25}},
		{"7 realistic 2",
			map[string][]rating.WorkerMetrics{"h1": ws(w(0, 1001, 15664.64798692341)), "h2": ws(w(3600, 33, 116.82311045120004))},
			map[string]float64{"h1": 0.0, "h2": 0.00024586}},
		{"8 midrange",
			map[string][]rating.WorkerMetrics{"A": ws(w(2160, 100, 100)), "B": ws(w(360, 200, 100))},
			map[string]float64{"A": 0.18, "B": 0.01}},
		{"real data",
			map[string][]rating.WorkerMetrics{"h1": ws(w(3600, 119, 33260.226740223945)), "h2": ws(w(3599, 5, 85.89934592))},
			map[string]float64{"h1": 1.0, "h2": 0.00061673}},
		{"stub data",
			map[string][]rating.WorkerMetrics{"s1": ws(w(3600, 119, 33260.226740223945), w(3600, 0, 0)), "s2": ws(w(3600, 5, 85.89934592))},
			map[string]float64{"s1": 1.0, "s2": 0.00061707}},
		{"clamp 1 below max",
			map[string][]rating.WorkerMetrics{"h1": ws(w(3600, 10, 10000))},
			map[string]float64{"h1": 1.0}},
		{"clamp 2 above max",
			map[string][]rating.WorkerMetrics{"h1": ws(w(3600, 10, 20000))},
			map[string]float64{"h1": 1.0}},
		{"clamp 3 above and below",
			map[string][]rating.WorkerMetrics{"h1": ws(w(3600, 10, 20000)), "h2": ws(w(3600, 10, 10000))},
			map[string]float64{"h1": 1.0, "h2": 0.76107983}},
		{"clamp 4 exactly max",
			map[string][]rating.WorkerMetrics{"h1": ws(w(3600, 10, 16384))},
			map[string]float64{"h1": 1.0}},
	}
	c := calculator(t, 2)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkScores(t, c.RateAll(tt.in), tt.want)
		})
	}
}

// TestStubOrdering keeps the reference's only assertions on the stub data.
func TestStubOrdering(t *testing.T) {
	got := calculator(t, 2).RateAll(map[string][]rating.WorkerMetrics{
		"s1": ws(w(3600, 119, 33260.226740223945), w(3600, 0, 0)),
		"s2": ws(w(3600, 5, 85.89934592)),
	})
	if !(got["s1"] > got["s2"] && got["s1"] > 0 && got["s2"] >= 0) {
		t.Errorf("scores %v: want s1 > s2, s1 > 0, s2 >= 0", got)
	}
}

// TestAlpha contrasts production α = 1 with the reference tests' α = 2.
func TestAlpha(t *testing.T) {
	in := map[string][]rating.WorkerMetrics{"h1": ws(w(1800, 100, 2)), "h2": ws(w(3600, 100, 2))}
	for _, tt := range []struct {
		alpha float64
		want  map[string]float64
	}{
		{1, map[string]float64{"h1": 0.5, "h2": 1.0}},
		{2, map[string]float64{"h1": 0.25, "h2": 1.0}},
		{0, map[string]float64{"h1": 1.0, "h2": 1.0}}, // uptime ignored
		{0.5, map[string]float64{"h1": 0.70710678, "h2": 1.0}},
	} {
		t.Run(fmt.Sprint("alpha=", tt.alpha), func(t *testing.T) {
			checkScores(t, calculator(t, tt.alpha).RateAll(in), tt.want)
		})
	}
	if got := rating.DefaultParams().UptimeAlpha; got != 1 {
		t.Errorf("default alpha = %v, want the production 1.0", got)
	}
}

func TestEdgeCases(t *testing.T) {
	c := calculator(t, 1)
	good := w(3600, 100, 2)
	tests := []struct {
		name string
		in   map[string][]rating.WorkerMetrics
		want map[string]float64
	}{
		{"nil map", nil, map[string]float64{}},
		{"empty map", map[string][]rating.WorkerMetrics{}, map[string]float64{}},
		{"hotkey without workers", map[string][]rating.WorkerMetrics{"h1": nil, "h2": ws(good)},
			map[string]float64{"h1": 0, "h2": 1}},
		{"all zero", map[string][]rating.WorkerMetrics{"h1": ws(w(0, 0, 0)), "h2": ws(w(3600, 0, 0))},
			map[string]float64{"h1": 0, "h2": 0}},
		{"work but no uptime", map[string][]rating.WorkerMetrics{"h1": ws(w(0, 100, 2))},
			map[string]float64{"h1": 0}},
		{"offline registered worker halves uptime", map[string][]rating.WorkerMetrics{"h1": ws(good, rating.WorkerMetrics{Worker: "off"})},
			map[string]float64{"h1": 0.5}},
		{"NaN difficulty earns nothing", map[string][]rating.WorkerMetrics{"h1": ws(w(3600, 100, math.NaN())), "h2": ws(good)},
			map[string]float64{"h1": 0, "h2": 1}},
		{"+Inf difficulty earns nothing", map[string][]rating.WorkerMetrics{"h1": ws(w(3600, 100, math.Inf(1))), "h2": ws(good)},
			map[string]float64{"h1": 0, "h2": 1}},
		{"negative difficulty earns nothing", map[string][]rating.WorkerMetrics{"h1": ws(w(3600, 100, -5)), "h2": ws(good)},
			map[string]float64{"h1": 0, "h2": 1}},
		{"negative shares earn nothing", map[string][]rating.WorkerMetrics{"h1": ws(w(3600, -100, 2)), "h2": ws(good)},
			map[string]float64{"h1": 0, "h2": 1}},
		{"NaN uptime counts as 0", map[string][]rating.WorkerMetrics{"h1": ws(w(math.NaN(), 100, 2), good)},
			map[string]float64{"h1": 0.5}},
		{"negative uptime counts as 0", map[string][]rating.WorkerMetrics{"h1": ws(w(-3600, 100, 2), good)},
			map[string]float64{"h1": 0.5}},
		{"+Inf uptime counts as the window", map[string][]rating.WorkerMetrics{"h1": ws(w(math.Inf(1), 100, 2))},
			map[string]float64{"h1": 1}},
		{"uptime above the window is clamped", map[string][]rating.WorkerMetrics{"h1": ws(w(7200, 100, 2)), "h2": ws(good)},
			map[string]float64{"h1": 1, "h2": 1}},
		{"huge share count underflows to no work", map[string][]rating.WorkerMetrics{"h1": ws(w(3600, math.MaxInt64, 2)), "h2": ws(good)},
			map[string]float64{"h1": 0, "h2": 1}},
		{"only bad inputs", map[string][]rating.WorkerMetrics{"h1": ws(w(math.NaN(), -1, math.NaN()))},
			map[string]float64{"h1": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.RateAll(tt.in)
			if got == nil {
				t.Fatal("nil map")
			}
			checkScores(t, got, tt.want)
			for h, v := range got {
				if math.IsNaN(v) || v < 0 || v > 1 {
					t.Errorf("%s = %v, outside [0, 1]", h, v)
				}
			}
		})
	}
}

func TestPenalties(t *testing.T) {
	c := calculator(t, 1)
	if a := c.AllowedShares(); a != 1200 {
		t.Fatalf("allowed shares = %v, want 1200", a)
	}
	tests := []struct {
		name string
		m    rating.WorkerMetrics
		want float64
	}{
		{"at the share cap", w(0, 1200, 2), 2400},
		{"twice the share cap", w(0, 2400, 2), 2400 * 2 * math.Exp(-1)},
		{"at the difficulty cap", w(0, 10, 16384), 163840},
		{"twice the difficulty cap", w(0, 10, 32768), 163840 * math.Exp(-1)},
		{"both caps", w(0, 2400, 32768), 2400 * 16384 * math.Exp(-1) * math.Exp(-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.WorkerWork(tt.m); math.Abs(got-tt.want) > 1e-9*tt.want {
				t.Errorf("work = %v, want %v", got, tt.want)
			}
		})
	}
	// The share-rate penalty is per worker (v1.4.2), not per hotkey: two
	// workers at the cap out-earn one worker submitting the same shares.
	split := c.Work(ws(w(0, 1200, 2), w(0, 1200, 2)))
	joined := c.Work(ws(w(0, 2400, 2)))
	if split != 4800 || joined >= split {
		t.Errorf("split work %v, joined %v: want 4800 and less", split, joined)
	}
	// Effective work per worker peaks at A·M.
	peak := c.WorkerWork(w(0, 1200, 16384))
	for _, m := range []rating.WorkerMetrics{w(0, 1199, 16384), w(0, 1201, 16384), w(0, 1200, 16383), w(0, 1200, 16385)} {
		if c.WorkerWork(m) >= peak {
			t.Errorf("work of %+v = %v, not below the peak %v", m, c.WorkerWork(m), peak)
		}
	}
	if peak != 1200*16384 {
		t.Errorf("peak = %v, want %v", peak, 1200*16384)
	}
}

func TestWindow(t *testing.T) {
	p := rating.DefaultParams()
	p.Window = 10 * time.Minute
	c, err := rating.New(p)
	if err != nil {
		t.Fatal(err)
	}
	if a := c.AllowedShares(); a != 200 {
		t.Errorf("allowed shares for 10 min = %v, want 200", a)
	}
	if f := c.UptimeFraction(300); f != 0.5 {
		t.Errorf("uptime fraction of 300 s in 10 min = %v, want 0.5", f)
	}
}

func TestNewRejects(t *testing.T) {
	mod := func(f func(*rating.Params)) rating.Params {
		p := rating.DefaultParams()
		f(&p)
		return p
	}
	for name, p := range map[string]rating.Params{
		"zero window":        mod(func(p *rating.Params) { p.Window = 0 }),
		"negative window":    mod(func(p *rating.Params) { p.Window = -time.Second }),
		"negative alpha":     mod(func(p *rating.Params) { p.UptimeAlpha = -1 }),
		"NaN alpha":          mod(func(p *rating.Params) { p.UptimeAlpha = math.NaN() }),
		"Inf alpha":          mod(func(p *rating.Params) { p.UptimeAlpha = math.Inf(1) }),
		"zero max diff":      mod(func(p *rating.Params) { p.MaxDifficulty = 0 }),
		"NaN max diff":       mod(func(p *rating.Params) { p.MaxDifficulty = math.NaN() }),
		"zero share rate":    mod(func(p *rating.Params) { p.SharesPerMinute = 0 }),
		"Inf share rate":     mod(func(p *rating.Params) { p.SharesPerMinute = math.Inf(1) }),
		"zero value (empty)": {},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := rating.New(p); !errors.Is(err, rating.ErrInvalidParams) {
				t.Errorf("New(%+v) error = %v, want ErrInvalidParams", p, err)
			}
		})
	}
}

func TestRound(t *testing.T) {
	// Expectations are CPython's round(x, n).
	for _, tt := range []struct {
		x    float64
		n    int
		want float64
	}{
		{0.125, 2, 0.12}, // exact tie: to even
		{0.375, 2, 0.38}, // exact tie: to even
		{2.675, 2, 2.67}, // binary value below the tie
		{5e-9, 8, 1e-8},
		{1.5e-8, 8, 1e-8},
		{2.5e-8, 8, 2e-8},
		{0.010000000000000002, 8, 0.01},
		{0.123456785, 8, 0.12345678},
		{0.123456775, 8, 0.12345678},
		{1, 8, 1},
		{0, 8, 0},
		{0.5, 0, 0},
		{1.5, 0, 2},
	} {
		if got := rating.Round(tt.x, tt.n); got != tt.want {
			t.Errorf("Round(%v, %d) = %v, want %v", tt.x, tt.n, got, tt.want)
		}
	}
	if got := rating.Round(math.NaN(), 8); !math.IsNaN(got) {
		t.Errorf("Round(NaN) = %v", got)
	}
}

// TestGolden compares with random scenarios scored by the same formula in
// Python (testdata/golden.py), bit for bit.
func TestGolden(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Alpha           float64 `json:"alpha"`
		WindowSeconds   int64   `json:"window_seconds"`
		MaxDifficulty   float64 `json:"max_difficulty"`
		SharesPerMinute float64 `json:"shares_per_minute"`
		Metrics         map[string][]rating.WorkerMetrics
		Want            map[string]float64 `json:"want"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no golden cases")
	}
	for i, gc := range cases {
		c, err := rating.New(rating.Params{
			UptimeAlpha:     gc.Alpha,
			Window:          time.Duration(gc.WindowSeconds) * time.Second,
			MaxDifficulty:   gc.MaxDifficulty,
			SharesPerMinute: gc.SharesPerMinute,
		})
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		t.Run(fmt.Sprint("case", i), func(t *testing.T) { checkScores(t, c.RateAll(gc.Metrics), gc.Want) })
	}
}

// benchInput is hotkeys × workers of varied uptime, shares and
// difficulty.
func benchInput(hotkeys, workers int) map[string][]rating.WorkerMetrics {
	in := make(map[string][]rating.WorkerMetrics, hotkeys)
	for h := range hotkeys {
		ms := make([]rating.WorkerMetrics, workers)
		for i := range ms {
			ms[i] = w(float64((h*7+i*13)%3601), int64(500+(h*31+i)%2000), float64(1000+(h*97+i*89)%30000))
		}
		in[fmt.Sprintf("5Hotkey%04d", h)] = ms
	}
	return in
}

func BenchmarkRateAll(b *testing.B) {
	c := calculator(b, 1)
	in := benchInput(1000, 3)
	b.ReportAllocs()
	for b.Loop() {
		_ = c.RateAll(in)
	}
}

// BenchmarkRatePass256x30 is a rating pass at the size the validator
// budgets for: 256 hotkeys with 30 workers each.
func BenchmarkRatePass256x30(b *testing.B) {
	c := calculator(b, 1)
	in := benchInput(256, 30)
	b.ReportAllocs()
	for b.Loop() {
		_ = c.RateAll(in)
	}
}
