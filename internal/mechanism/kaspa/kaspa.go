// Package kaspa is the Kaspa-mining mechanism (SN16-compatible): miners'
// workers mine to the pool owner's wallet through a stratum bridge, the
// bridge's share metrics are read from Prometheus, and each hotkey is rated
// on the work and uptime of the workers it registered. It serves the
// reference validator's public API, so miners' scripts and peer validators
// talk to it unchanged.
package kaspa

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/command"
	"github.com/vigil-validator/vigil/internal/flight"
	"github.com/vigil-validator/vigil/internal/kaspasim"
	"github.com/vigil-validator/vigil/internal/logthrottle"
	"github.com/vigil-validator/vigil/internal/mechanism"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/metrics"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/rating"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/registry"
)

// Mechanism rates Kaspa miners and serves the registry API.
type Mechanism struct {
	cfg     Settings
	deps    mechanism.Deps
	metrics *metrics.Client
	calc    *rating.Calculator
	reg     *registry.Handler
	syncer  *registry.Syncer

	passes flight.Group[*scoreSet] // one scoring pass at a time
	warns  *logthrottle.Logger

	mu      sync.Mutex
	cached  *scoreSet
	lastErr error // of the latest scoring pass
}

// scoreSet is one scoring pass, kept for the API.
type scoreSet struct {
	at      time.Time
	ratings map[string]float64
	byHK    map[string][]rating.WorkerMetrics
}

// Factory builds the mechanism from its Settings.
var Factory = mechanism.Factory{
	Name: "kaspa",
	New: func(settings any, deps mechanism.Deps) (mechanism.Mechanism, error) {
		s, ok := settings.(Settings)
		if !ok {
			return nil, fmt.Errorf("kaspa: settings of type %T", settings)
		}
		return New(s, deps)
	},
	Tools: []command.Tool{Tool, kaspasim.Tool},
}

// New builds the mechanism from cfg, which the configuration has checked
// (Settings.Validate) and filled with every default.
func New(cfg Settings, deps mechanism.Deps) (*Mechanism, error) {
	if deps.Store == nil || deps.Metagraph == nil {
		return nil, errors.New("kaspa: no store or metagraph holder specified")
	}
	// NaN would compare false with every stake and let all peers in.
	if !(cfg.MinPeerStake >= 0) {
		return nil, fmt.Errorf("kaspa: min peer stake %v is not a non-negative number", cfg.MinPeerStake)
	}
	if deps.Clock == nil {
		deps.Clock = clock.Real()
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	mc, err := metrics.New(metrics.Options{PrometheusEndpoint: cfg.PrometheusEndpoint, OwnerWallet: cfg.PoolWallet, Window: cfg.Window, Clock: deps.Clock,
		Registerer: deps.Registerer})
	if err != nil {
		return nil, fmt.Errorf("kaspa metrics: %w", err)
	}
	p := rating.DefaultParams()
	p.UptimeAlpha, p.Window, p.MaxDifficulty = cfg.RatingAlpha, cfg.Window, cfg.MaxDifficulty
	calc, err := rating.New(p)
	if err != nil {
		return nil, fmt.Errorf("kaspa rating: %w", err)
	}
	// The registry's parts tag their own logs; the mechanism's carry
	// component=kaspa.
	m := &Mechanism{cfg: cfg, deps: deps, metrics: mc, calc: calc, warns: logthrottle.New(deps.Log.With("component", "kaspa"), deps.Clock, 0, 0)}
	m.reg, err = registry.NewHandler(registry.HandlerOpts{
		Store: deps.Store, Workers: m, Hotkeys: m, PoolWallet: cfg.PoolWallet,
		MaxWorkersPerHotkey: cfg.MaxWorkersPerHotkey, RegistrationTimeTolerance: cfg.RegistrationTimeTolerance,
		Clock: deps.Clock, Logger: deps.Log, Registerer: deps.Registerer,
	})
	if err != nil {
		return nil, err
	}
	self, err := keys.SS58Encode(deps.Self[:], keys.SS58PrefixBittensor)
	if err != nil {
		return nil, err
	}
	m.syncer, err = registry.NewSyncer(registry.SyncerOpts{
		Store: deps.Store, Peers: m, Self: self, Interval: cfg.SyncInterval,
		MaxWorkersPerHotkey: cfg.MaxWorkersPerHotkey, Clock: deps.Clock, Logger: deps.Log, Registerer: deps.Registerer,
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Name is the mechanism's name.
func (m *Mechanism) Name() string { return "kaspa" }

// Scores rates every hotkey with registered workers from the window's
// share metrics, evaluated at one instant.
func (m *Mechanism) Scores(ctx context.Context, _ *subtensor.Metagraph) (map[subtensor.AccountID]float64, error) {
	set, err := m.score(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[subtensor.AccountID]float64, len(set.ratings))
	for hk, r := range set.ratings {
		// score kept only canonical hotkeys, so each key has one entry.
		pub, err := registry.CanonicalHotkey(hk)
		if err != nil {
			continue
		}
		out[subtensor.AccountID(pub)] = r
	}
	return out, nil
}

// score runs a scoring pass, or joins the one in flight: however many API
// requests and weight rounds ask at once, Prometheus sees one pass.
func (m *Mechanism) score(ctx context.Context) (*scoreSet, error) {
	set, _, err := m.passes.Do(ctx, m.scorePass)
	if ctx.Err() == nil {
		m.mu.Lock()
		m.lastErr = err
		m.mu.Unlock()
	}
	return set, err
}

func (m *Mechanism) scorePass(ctx context.Context) (*scoreSet, error) {
	mapping, err := m.deps.Store.ActiveKaspaMappings(ctx)
	if err != nil {
		return nil, fmt.Errorf("worker mapping: %w", err)
	}
	// A binding stored under another spelling of a key (before bindings
	// were held to the subnet's SS58 form) would rate one key twice; it is
	// left out, and said so.
	skipped := 0
	for w, hk := range mapping {
		if _, err := registry.CanonicalHotkey(hk); err != nil {
			delete(mapping, w)
			skipped++
		}
	}
	if skipped > 0 {
		m.warns.Warn("noncanonical", "bindings under a hotkey that is not the subnet's SS58 form are not rated", "bindings", skipped)
	}
	byHK, err := m.metrics.HotkeyMetrics(ctx, time.Time{}, mapping)
	if err != nil {
		return nil, err
	}
	set := &scoreSet{at: m.deps.Clock.Now(), ratings: m.calc.RateAll(byHK), byHK: byHK}
	m.mu.Lock()
	m.cached = set
	m.mu.Unlock()
	return set, nil
}

// recent is the latest scoring pass if younger than RatingsTTL, else a
// new one. When a new pass fails (Prometheus down, a malformed answer),
// the last good one is kept and served, marked stale.
func (m *Mechanism) recent(ctx context.Context) (set *scoreSet, stale bool, err error) {
	m.mu.Lock()
	set = m.cached
	m.mu.Unlock()
	if set != nil && m.deps.Clock.Since(set.at) < m.cfg.RatingsTTL {
		return set, false, nil
	}
	fresh, err := m.score(ctx)
	if err == nil {
		return fresh, false, nil
	}
	if set == nil {
		return nil, false, err
	}
	m.warns.Warn("scoring", "scoring failed; serving the last good ratings", "from", set.at, "err", err)
	return set, true, nil
}

// Headers of /ratings and /metrics: when the answer's scoring pass ran.
// The bodies keep the reference's shapes (a hotkey → rating object, a list),
// so the time goes in headers: X-Computed-At (RFC 3339, UTC) and Age
// (whole seconds since, as RFC 9111 has it).
const HeaderComputedAt = "X-Computed-At"

// serveScores answers with what the latest scoring pass gives, saying when
// it was computed, and marking stale answers with a Warning header.
func (m *Mechanism) serveScores(w http.ResponseWriter, r *http.Request, body func(*scoreSet) any) {
	set, stale, err := m.recent(r.Context())
	if err != nil {
		registry.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"detail": err.Error()})
		return
	}
	w.Header().Set(HeaderComputedAt, set.at.UTC().Format(time.RFC3339Nano))
	w.Header().Set("Age", strconv.FormatInt(int64(max(m.deps.Clock.Since(set.at), 0)/time.Second), 10))
	if stale {
		w.Header().Set("Warning", fmt.Sprintf(`110 - "stale: scoring failed; ratings from %s"`, set.at.UTC().Format(time.RFC3339)))
	}
	registry.WriteJSON(w, http.StatusOK, body(set))
}

// WorkerExists implements registry.WorkerChecker: the worker authorized
// on the pool's bridge with the owner's wallet within the window.
func (m *Mechanism) WorkerExists(ctx context.Context, worker string) (bool, error) {
	return m.metrics.WorkerExists(ctx, m.cfg.PoolWallet, worker)
}

// HotkeyRegistered implements registry.HotkeyChecker from the metagraph.
func (m *Mechanism) HotkeyRegistered(_ context.Context, hotkey string) (bool, error) {
	mg := m.deps.Metagraph.Load()
	if mg == nil {
		return false, errors.New("metagraph not read yet")
	}
	// The metagraph's keys are compared as the subnet spells them: another
	// prefix of a member's key is not a member.
	pub, err := registry.CanonicalHotkey(hotkey)
	if err != nil {
		return false, nil
	}
	for _, n := range mg.Neurons {
		if n.Hotkey == subtensor.AccountID(pub) {
			return true, nil
		}
	}
	return false, nil
}

// Peers implements registry.PeerSource: validators serving an IPv4 axon
// with at least MinPeerStake of alpha + 0.18·TAO, as the reference
// discovers them (fixing its filter that lets unserved axons through).
func (m *Mechanism) Peers() []registry.Peer {
	mg := m.deps.Metagraph.Load()
	if mg == nil {
		return nil
	}
	var out []registry.Peer
	for _, n := range mg.Neurons {
		ap, ok := n.Axon.Addr()
		if !ok || !ap.Addr().Is4() || ap.Port() == 0 {
			continue
		}
		stake := (float64(n.AlphaStake) + 0.18*float64(n.TaoStake)) / 1e9
		if stake < m.cfg.MinPeerStake {
			continue
		}
		hk, err := keys.SS58Encode(n.Hotkey[:], keys.SS58PrefixBittensor)
		if err != nil {
			continue
		}
		out = append(out, registry.Peer{Hotkey: hk, URL: "http://" + ap.String()})
	}
	return out
}

// Run syncs the registry from peer validators until ctx ends.
func (m *Mechanism) Run(ctx context.Context) error { return m.syncer.Run(ctx) }

// Handler is the public API (API) and the address it is served on.
func (m *Mechanism) Handler() (string, http.Handler) { return m.cfg.Listen, m.API() }

// HealthChecks: the latest scoring pass (Prometheus answering with the
// pool's series) must have succeeded.
func (m *Mechanism) HealthChecks() map[string]func(context.Context) error {
	return map[string]func(context.Context) error{
		"kaspa scoring": func(context.Context) error {
			m.mu.Lock()
			defer m.mu.Unlock()
			if m.lastErr != nil {
				return fmt.Errorf("the last scoring pass failed: %w", m.lastErr)
			}
			return nil
		},
	}
}

var _ mechanism.Mechanism = (*Mechanism)(nil)

// API serves the public API at the root: the registry's routes,
// GET /health, GET /metrics (the reference's JSON) and GET /ratings.
func (m *Mechanism) API() http.Handler {
	mux := http.NewServeMux()
	for _, r := range m.reg.Routes() {
		mux.Handle(r.Pattern, r.Handler)
	}
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		// The reference answers {"status": "OK"} whatever its state; a
		// registry that cannot store a registration is not healthy.
		if err := m.deps.Store.Health(r.Context()); err != nil {
			registry.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "detail": err.Error()})
			return
		}
		registry.WriteJSON(w, http.StatusOK, map[string]string{"status": "OK"})
	})
	mux.HandleFunc("GET /ratings", func(w http.ResponseWriter, r *http.Request) {
		m.serveScores(w, r, func(s *scoreSet) any { return s.ratings })
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		m.serveScores(w, r, func(s *scoreSet) any { return metricsResponse(s.byHK) })
	})
	return mux
}

// hotkeyMetrics is the reference's MetricsResponse.
type hotkeyMetrics struct {
	Hotkey        string                 `json:"hotkey"`
	ActiveWorkers int                    `json:"active_workers"`
	TotalWorkers  int                    `json:"total_workers"`
	Metrics       []rating.WorkerMetrics `json:"metrics"`
	IsActive      bool                   `json:"is_active"`
}

func metricsResponse(byHK map[string][]rating.WorkerMetrics) []hotkeyMetrics {
	out := make([]hotkeyMetrics, 0, len(byHK))
	for hk, ms := range byHK {
		active := 0
		for _, m := range ms {
			if m.Uptime > 0 {
				active++
			}
		}
		if ms == nil {
			ms = []rating.WorkerMetrics{}
		}
		out = append(out, hotkeyMetrics{Hotkey: hk, ActiveWorkers: active, TotalWorkers: len(ms), Metrics: ms, IsActive: active > 0})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Hotkey < out[j].Hotkey })
	return out
}

// SyncOnce syncs the registry from every peer once, now.
func (m *Mechanism) SyncOnce(ctx context.Context) []registry.PeerReport {
	return m.syncer.SyncOnce(ctx)
}
