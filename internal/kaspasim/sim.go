// Package kaspasim simulates the Prometheus exporter of HashTensor's Kaspa
// stratum bridge: the bridge's metric names, types and labels for a set of
// simulated workers, some honest and some misbehaving, so that the Kaspa
// subnet's validation path (PromQL, wallet filtering, hotkey mapping,
// rating) runs without a Kaspa network.
//
// The simulation moves in whole simulated seconds, driven by an injected
// clock and a seed, so the same seed, configuration and clock readings give
// the same series. It advances lazily when scraped (and every second under
// Run), never between two readings of the clock.
package kaspasim

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/internal/clock"
)

// HashValuePerDiff turns a stratum difficulty into the bridge's hashValue,
// the expected hashes per share in units of 1e9: diff·2^256/(2^224−1)/1e9.
// The share-difficulty counter is in these units.
const HashValuePerDiff = 4.294967296

// The bridge's constants (HashTensor_Pool src/kaspastratum/share_handler.go,
// its vardiff loop).
const (
	targetSharesPerMin = 20
	minDiff            = 0.125
	varDiffEvery       = 30          // seconds between vardiff passes
	workEvery          = 10          // seconds between work-seconds ticks
	workRecent         = 60          // a last share at most this old keeps work-seconds ticking
	pruneEvery         = 60          // seconds between stats pruning passes
	maxHashrateGHs     = 2000 * 1000 // the hashrate sanity limit, 2000 TH/s
)

var (
	varDiffWindows    = [...]float64{1, 3, 10, 30, 60, 240, 0} // minutes; 0 is the final stage
	varDiffTolerances = [...]float64{1, 0.5, 0.25, 0.15, 0.1, 0.05, 0.05}
)

// Kaspa's network, roughly, for the network gauges and the chance that a
// share is a block.
const (
	blocksPerSecond        = 10
	DefaultNetworkHashrate = 1e18 // H/s
	blockRewardKAS         = 4
)

// MaxSpeed bounds Config.Speed: every simulated second costs a step, and a
// scrape catches up on all of them.
const MaxSpeed = 3600

// DefaultWallet is HashTensor's pool-owner wallet, the validator's default
// KASPA_POOL_OWNER_WALLET.
const DefaultWallet = "kaspa:qr4ksh6s3rmy5f4qyql2kh7p9z7f4c55da5r5gz2nnsd8ctt4k69whtr4u0wp"

// Deployment is one of the two bridges the pool runs (HashTensor_Pool
// docker-compose-all-src.yml: ks_bridge on :5555, ks_bridge_highdiff on :6666).
type Deployment string

// The deployments.
const (
	// Main is ks_bridge: stratum :5555, metrics :2114, GPUs and small
	// ASICs, start difficulty 8192.
	Main Deployment = "main"
	// HighDiff is ks_bridge_highdiff: stratum :6666, metrics :2115, large
	// ASICs, start difficulty 16384; honest workers there sit above the
	// rating's difficulty cap, as in production.
	HighDiff Deployment = "highdiff"
)

// ParseDeployment returns the deployment called name.
func ParseDeployment(name string) (Deployment, error) {
	switch Deployment(name) {
	case Main, HighDiff:
		return Deployment(name), nil
	}
	return "", fmt.Errorf("unknown deployment %q (want %s or %s)", name, Main, HighDiff)
}

// Port is the deployment's Prometheus port.
func (d Deployment) Port() int {
	if d == HighDiff {
		return 2115
	}
	return 2114
}

// StartDiff is the difficulty a new connection starts at.
func (d Deployment) StartDiff() float64 {
	if d == HighDiff {
		return 16384
	}
	return 8192
}

// diffExps is the log2 range of the difficulties honest workers settle at:
// on Main 256 to 2048 (0.4–4.4 TH/s, hashValue at most 8796, under the
// rating's 16384 cap), on HighDiff 16384 or 32768, above it. The range is
// narrow so that profiles, not hashrates, make the differences in score.
func (d Deployment) diffExps() (lo, hi int) {
	if d == HighDiff {
		return 14, 15
	}
	return 8, 11
}

// Hotkey is the hotkey a worker's name embeds. URI, when set, is the dev
// secret URI it derives from (public, like //Bob), so a caller can sign
// registrations for it.
type Hotkey struct {
	SS58 string `json:"ss58"`
	URI  string `json:"uri,omitempty"`
}

var devNames = []string{"Bob", "Charlie", "Dave", "Eve", "Ferdie"}

// DevHotkeys derives n dev hotkeys: //Bob, //Charlie, //Dave, //Eve,
// //Ferdie, then //Miner6, //Miner7, … (//Alice is the dev validator).
func DevHotkeys(n int) ([]Hotkey, error) {
	out := make([]Hotkey, n)
	for i := range out {
		uri := fmt.Sprintf("//Miner%d", i+1)
		if i < len(devNames) {
			uri = "//" + devNames[i]
		}
		hk, err := ParseHotkey(uri)
		if err != nil {
			return nil, err
		}
		out[i] = hk
	}
	return out, nil
}

// ParseHotkey accepts an SS58 address, a 0x public key, or a dev URI
// ("//Name", derived from the public dev phrase). The SS58 form is always
// the generic-substrate (42) one, which is what the validator looks for in
// a worker name.
func ParseHotkey(s string) (Hotkey, error) {
	if len(s) > 2 && s[:2] == "//" {
		kp, err := keys.FromURI(s)
		if err != nil {
			return Hotkey{}, fmt.Errorf("hotkey %q: %w", s, err)
		}
		return Hotkey{SS58: kp.SS58(), URI: s}, nil
	}
	pub, err := keys.ParsePublicKey(s)
	if err != nil {
		return Hotkey{}, fmt.Errorf("hotkey %q: %w", s, err)
	}
	return Hotkey{SS58: pub.SS58()}, nil
}

// Config configures a Sim.
type Config struct {
	// Wallet is the pool-owner wallet the owner workers mine to.
	Wallet string
	// Hotkeys are embedded in worker names, worker i taking hotkey
	// i mod len(Hotkeys).
	Hotkeys []Hotkey
	// Profiles has one entry per owner-wallet worker.
	Profiles []Profile
	// Foreign adds this many honest workers, each mining to its own
	// generated wallet, after the owner-wallet ones.
	Foreign int
	// Deployment is the bridge simulated; empty means Main.
	Deployment Deployment
	// Seed makes the run reproducible.
	Seed uint64
	// Speed is simulated seconds per second of the clock; 0 means 1.
	Speed float64
	// NetworkHashrate (H/s) sets the network gauges and how often a share
	// is a block; 0 means DefaultNetworkHashrate.
	NetworkHashrate float64
	// Clock drives the simulation; nil means the real clock.
	Clock clock.Clock
	// Logger reports connects, disconnects and blocks; nil means none.
	Logger *slog.Logger
}

// WorkerInfo is what does not change about a simulated worker.
type WorkerInfo struct {
	// Name is the bridge's worker label: the hotkey and a suffix.
	Name      string `json:"worker"`
	Hotkey    string `json:"hotkey"`
	HotkeyURI string `json:"hotkey_uri,omitempty"`
	Wallet    string `json:"wallet"`
	// OwnerWallet says whether Wallet is the pool-owner wallet, the only
	// one a validator counts.
	OwnerWallet bool    `json:"owner_wallet"`
	Profile     Profile `json:"profile"`
	Miner       string  `json:"miner"`
	IP          string  `json:"ip"`
	// HashrateGHs is what the worker's submissions correspond to, in GH/s.
	HashrateGHs float64 `json:"hashrate_ghs"`
}

// WorkerStatus is a worker and its totals so far.
type WorkerStatus struct {
	WorkerInfo
	Connected bool `json:"connected"`
	// ConnectedAt is the uptime gauge's value (a unix time), 0 while away.
	ConnectedAt   int64   `json:"connected_at,omitempty"`
	Difficulty    float64 `json:"difficulty"`
	ValidShares   uint64  `json:"valid_shares"`
	InvalidShares uint64  `json:"invalid_shares"`
	ShareDiff     float64 `json:"share_diff"`
	WorkSeconds   float64 `json:"work_seconds"`
	Blocks        uint64  `json:"blocks"`
}

// Snapshot is the simulation's state, as /workers serves it.
type Snapshot struct {
	Deployment Deployment     `json:"deployment"`
	Wallet     string         `json:"wallet"`
	Seed       uint64         `json:"seed"`
	Speed      float64        `json:"speed"`
	SimSeconds int64          `json:"sim_seconds"`
	Workers    []WorkerStatus `json:"workers"`
}

// stats mirrors the bridge's per-worker WorkStats, which it prunes and
// recreates independently of the connection.
type stats struct {
	start, lastShare int64
	shares           int64
	sharesDiff       float64
}

type worker struct {
	info   WorkerInfo
	b      behaviour
	labels prometheus.Labels
	rng    *rand.Rand

	connected   bool
	connectedAt int64 // unix seconds, the uptime gauge
	toggleAt    int64 // simulated second of the next connect or disconnect
	diff        float64
	lastDiff    float64 // remembered across reconnects, as the bridge does
	st          *stats

	// vardiff state; vdStart < 0 when not running
	vdStart          int64
	vdShares, vdStep int

	valid, invalid, blocks uint64
	shareDiff, work        float64

	// The worker's counters, looked up once: a counter series is never
	// deleted, so its child stays valid.
	c struct {
		valid, diff, jobs, disconnects, blocks, work prometheus.Counter
		invalid                                      [len(invalidTypes)]prometheus.Counter
	}
}

// counter returns the child of vec for the worker, creating the series on
// first use.
func (w *worker) counter(c *prometheus.Counter, vec *prometheus.CounterVec, extra ...string) prometheus.Counter {
	if *c == nil {
		*c = vec.With(addLabels(w.labels, extra...))
	}
	return *c
}

// Sim is a running simulation. It is a prometheus.Gatherer.
type Sim struct {
	cfg    Config
	clk    clock.Clock
	log    *slog.Logger
	origin time.Time
	reg    *prometheus.Registry
	m      *metrics

	mu             sync.Mutex
	t              int64 // simulated seconds since origin
	workers        []*worker
	net            *rand.Rand
	hashesPerBlock float64
	blueScore      uint64
	balances       map[string]float64
}

var (
	gpuMiners  = []string{"lolMiner 1.76", "BzMiner/v21.5.3", "SRBMiner-MULTI/2.7.1", "GMiner/3.44"}
	asicMiners = []string{"IceRiverMiner-v1.1", "GodMiner/1.0.0", "Goldshell-KD-BOX/2.2.6"}
)

// RNG streams: one per worker, so adding workers leaves the others' runs
// unchanged, and separate ones for wallets and the network.
const (
	streamWallet  = 1 << 32
	streamNetwork = 1 << 33
)

// New validates cfg and starts a simulation at the clock's current time,
// with every worker connected.
func New(cfg Config) (*Sim, error) {
	if cfg.Wallet == "" {
		return nil, errors.New("kaspasim: no wallet specified")
	}
	wallet, err := NormalizeWallet(cfg.Wallet)
	if err != nil {
		return nil, fmt.Errorf("kaspasim: wallet: %w", err)
	}
	cfg.Wallet = wallet
	if len(cfg.Hotkeys) == 0 {
		return nil, errors.New("kaspasim: no hotkeys specified")
	}
	cfg.Hotkeys, cfg.Profiles = slices.Clone(cfg.Hotkeys), slices.Clone(cfg.Profiles)
	for i, hk := range cfg.Hotkeys {
		pub, err := keys.ParsePublicKey(hk.SS58)
		if err != nil {
			return nil, fmt.Errorf("kaspasim: hotkey %d: %w", i, err)
		}
		cfg.Hotkeys[i].SS58 = pub.SS58()
	}
	if cfg.Foreign < 0 {
		return nil, fmt.Errorf("kaspasim: foreign workers: %d is negative", cfg.Foreign)
	}
	if len(cfg.Profiles)+cfg.Foreign == 0 {
		return nil, errors.New("kaspasim: no workers specified")
	}
	for _, p := range cfg.Profiles {
		if _, err := ParseProfile(string(p)); err != nil {
			return nil, fmt.Errorf("kaspasim: %w", err)
		}
	}
	if cfg.Deployment == "" {
		cfg.Deployment = Main
	}
	if _, err := ParseDeployment(string(cfg.Deployment)); err != nil {
		return nil, fmt.Errorf("kaspasim: %w", err)
	}
	if cfg.Speed == 0 {
		cfg.Speed = 1
	}
	if !(cfg.Speed > 0 && cfg.Speed <= MaxSpeed) {
		return nil, fmt.Errorf("kaspasim: speed %v: want more than 0 and at most %d", cfg.Speed, MaxSpeed)
	}
	if cfg.NetworkHashrate == 0 {
		cfg.NetworkHashrate = DefaultNetworkHashrate
	}
	if !(cfg.NetworkHashrate > 0) || math.IsInf(cfg.NetworkHashrate, 0) {
		return nil, fmt.Errorf("kaspasim: network hashrate %v: want a positive number", cfg.NetworkHashrate)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sim{
		cfg:            cfg,
		clk:            cfg.Clock,
		log:            log,
		origin:         cfg.Clock.Now(),
		reg:            prometheus.NewRegistry(),
		net:            rand.New(rand.NewPCG(cfg.Seed, streamNetwork)),
		hashesPerBlock: cfg.NetworkHashrate / blocksPerSecond,
		balances:       map[string]float64{},
	}
	s.m = newMetrics(s.reg)
	s.blueScore = 90_000_000 + s.net.Uint64N(10_000_000)
	s.m.netHashrate.Set(cfg.NetworkHashrate)
	s.m.netDifficulty.Set(s.hashesPerBlock / (1 << 32))
	s.m.netBlocks.Set(float64(s.blueScore))

	walletRng := rand.New(rand.NewPCG(cfg.Seed, streamWallet))
	n := len(cfg.Profiles) + cfg.Foreign
	for i := range n {
		w := s.newWorker(i, walletRng)
		s.workers = append(s.workers, w)
		if _, ok := s.balances[w.info.Wallet]; !ok {
			s.balances[w.info.Wallet] = math.Round(walletRng.Float64()*1e6) / 100
			s.m.balance.WithLabelValues(w.info.Wallet).Set(s.balances[w.info.Wallet])
		}
	}
	for _, w := range s.workers {
		s.connect(w, 0)
	}
	return s, nil
}

func (s *Sim) newWorker(i int, walletRng *rand.Rand) *worker {
	cfg := s.cfg
	profile, wallet, owner := Honest, cfg.Wallet, true
	if i < len(cfg.Profiles) {
		profile = cfg.Profiles[i]
	} else {
		var payload [32]byte
		for j := range payload {
			payload[j] = byte(walletRng.Uint32())
		}
		wallet, _ = EncodeAddress(AddrPubKey, payload[:])
		owner = false
	}
	hk := cfg.Hotkeys[i%len(cfg.Hotkeys)]
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
	b := profile.behaviour()
	lo, hi := cfg.Deployment.diffExps()
	exp := lo + rng.IntN(hi-lo+1)
	if !b.vardiff && b.diffAbove > 0 {
		exp = hi + b.diffAbove
	}
	diff := math.Ldexp(1, exp)
	rate := b.rate[0] + rng.Float64()*(b.rate[1]-b.rate[0])
	hashrate := rate / 60 * diff * HashValuePerDiff
	if !b.submits {
		// An idle worker sits at the start difficulty it was given.
		diff, hashrate = cfg.Deployment.StartDiff(), 0
	}
	// Cosmetic: the software a rig of that size would plausibly run.
	miners := gpuMiners
	if hashrate > 1000 {
		miners = asicMiners
	}
	w := &worker{
		info: WorkerInfo{
			Name:        fmt.Sprintf("%s-rig%d", hk.SS58, i+1),
			Hotkey:      hk.SS58,
			HotkeyURI:   hk.URI,
			Wallet:      wallet,
			OwnerWallet: owner,
			Profile:     profile,
			Miner:       miners[rng.IntN(len(miners))],
			IP:          fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), 1+rng.IntN(254)),
			HashrateGHs: hashrate,
		},
		b:       b,
		rng:     rng,
		diff:    diff,
		vdStart: -1,
	}
	w.labels = prometheus.Labels{"worker": w.info.Name, "miner": w.info.Miner, "wallet": w.info.Wallet, "ip": w.info.IP}
	return w
}

// wallUnix is the clock's unix time at simulated second t.
func (s *Sim) wallUnix(t int64) int64 {
	return s.origin.Add(time.Duration(float64(t) / s.cfg.Speed * float64(time.Second))).Unix()
}

func (s *Sim) connect(w *worker, t int64) {
	w.connected = true
	w.connectedAt = s.wallUnix(t)
	if w.st == nil {
		s.newStats(w, t)
	}
	// The bridge restores a worker's last difficulty on reconnect; its
	// vardiff measures afresh from there.
	if w.lastDiff > 0 {
		w.diff = w.lastDiff
	}
	w.vdStart, w.vdShares, w.vdStep = t, 0, 0
	s.m.uptime.With(w.labels).Set(float64(w.connectedAt))
	if w.b.intermittent {
		w.toggleAt = t + 4*60 + w.rng.Int64N(8*60+1)
	}
	s.log.Debug("worker connected", "worker", w.info.Name, "profile", w.info.Profile, "sim_seconds", t)
}

func (s *Sim) disconnect(w *worker, t int64) {
	w.connected = false
	w.connectedAt = 0
	w.lastDiff = w.diff
	w.vdStart = -1
	w.counter(&w.c.disconnects, s.m.disconnects).Inc()
	s.m.uptime.Delete(w.labels)
	w.toggleAt = t + 2*60 + w.rng.Int64N(4*60+1)
	s.log.Debug("worker disconnected", "worker", w.info.Name, "profile", w.info.Profile, "sim_seconds", t)
}

func (s *Sim) newStats(w *worker, t int64) *stats {
	w.st = &stats{start: t, lastShare: t}
	// The bridge's InitWorkerCounters: the series exist, at 0, from here;
	// violations and the mined-block gauge appear only when they happen.
	// Work-seconds starts at 0 here too, unlike the bridge, whose first
	// increment Prometheus's increase() therefore misses: the simulator's
	// totals and what Prometheus computes from them then agree.
	w.counter(&w.c.valid, s.m.valid).Add(0)
	w.counter(&w.c.diff, s.m.diff).Add(0)
	for i, typ := range invalidTypes {
		w.counter(&w.c.invalid[i], s.m.invalid, "type", typ).Add(0)
	}
	w.counter(&w.c.blocks, s.m.blocks).Add(0)
	w.counter(&w.c.disconnects, s.m.disconnects).Add(0)
	w.counter(&w.c.jobs, s.m.jobs).Add(0)
	w.counter(&w.c.work, s.m.workSeconds).Add(0)
	return w.st
}

// Advance runs the simulation up to the clock's current time.
func (s *Sim) Advance() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
}

func (s *Sim) advanceLocked() {
	target := int64(math.Floor(s.clk.Since(s.origin).Seconds() * s.cfg.Speed))
	for s.t < target {
		s.t++
		s.step(s.t)
	}
}

// step is one simulated second, in the order the bridge's loops would
// interleave them.
func (s *Sim) step(t int64) {
	for _, w := range s.workers {
		if w.b.intermittent && t >= w.toggleAt {
			if w.connected {
				s.disconnect(w, t)
			} else {
				s.connect(w, t)
			}
		}
		if !w.connected {
			continue
		}
		w.counter(&w.c.jobs, s.m.jobs).Inc()
		if w.b.submits {
			s.submit(w, t)
		}
	}
	if t%workEvery == 0 {
		for _, w := range s.workers {
			if w.st != nil && w.st.shares > 0 && t-w.st.lastShare <= workRecent {
				w.counter(&w.c.work, s.m.workSeconds).Add(workEvery)
				w.work += workEvery
			}
		}
	}
	if t%varDiffEvery == 0 {
		for _, w := range s.workers {
			s.varDiff(w, t)
		}
	}
	if t%pruneEvery == 0 {
		for _, w := range s.workers {
			if w.st != nil && ((w.st.shares == 0 && t-w.st.lastShare > 180) || t-w.st.lastShare > 600) {
				w.st = nil
			}
		}
	}
	s.blueScore += blocksPerSecond
	s.m.netBlocks.Set(float64(s.blueScore))
}

// submit draws this second's submissions and books each as the bridge's
// share handler would.
func (s *Sim) submit(w *worker, t int64) {
	lambda := w.info.HashrateGHs / (w.diff * HashValuePerDiff)
	for range poisson(w.rng, lambda) {
		if w.rng.Float64() < w.b.invalid {
			s.reject(w, pick(w.rng, w.b.invalidMix))
			continue
		}
		st := w.st
		if st == nil {
			st = s.newStats(w, t)
		}
		// The bridge's sanity check: average hashValue per second since
		// the stats were created, against 2000 TH/s.
		if st.sharesDiff/float64(max(t-st.start, 1)) > maxHashrateGHs {
			s.m.violations.With(addLabels(w.labels, "violation_type", "excessive_hashrate")).Inc()
			s.reject(w, typeInvalid)
			continue
		}
		hv := w.diff * HashValuePerDiff
		if w.rng.Float64() < hv*1e9/s.hashesPerBlock {
			s.block(w)
		}
		st.shares++
		st.sharesDiff += hv
		st.lastShare = t
		w.vdShares++
		w.valid++
		w.shareDiff += hv
		w.counter(&w.c.valid, s.m.valid).Inc()
		w.counter(&w.c.diff, s.m.diff).Add(hv)
	}
}

func (s *Sim) reject(w *worker, typ int) {
	w.invalid++
	w.counter(&w.c.invalid[typ], s.m.invalid, "type", invalidTypes[typ]).Inc()
}

func (s *Sim) block(w *worker) {
	var hash [32]byte
	for i := range hash {
		hash[i] = byte(s.net.Uint32())
	}
	w.blocks++
	w.counter(&w.c.blocks, s.m.blocks).Inc()
	s.m.minedBlocks.With(addLabels(w.labels,
		"nonce", strconv.FormatUint(s.net.Uint64(), 10),
		"bluescore", strconv.FormatUint(s.blueScore, 10),
		"hash", hex.EncodeToString(hash[:]),
	)).Set(1)
	s.balances[w.info.Wallet] += blockRewardKAS
	s.m.balance.WithLabelValues(w.info.Wallet).Set(s.balances[w.info.Wallet])
	s.log.Info("block mined", "worker", w.info.Name, "bluescore", s.blueScore)
}

// varDiff is the bridge's vardiff pass for one worker: it measures the share
// rate since the last change against 20/min, in windows of growing length
// and shrinking tolerance, and moves the difficulty by the ratio, rounded
// down to a power of two (both deployments run -pow2clamp).
func (s *Sim) varDiff(w *worker, t int64) {
	if !w.connected || !w.b.vardiff || w.vdStart < 0 {
		return
	}
	minutes := float64(t-w.vdStart) / 60
	if minutes <= 0 {
		return
	}
	shares := float64(w.vdShares)
	ratio := shares / minutes / targetSharesPerMin
	window, tol := varDiffWindows[w.vdStep], varDiffTolerances[w.vdStep]
	if window == 0 {
		if math.Abs(1-ratio) >= tol {
			s.setDiff(w, t, w.diff*ratio)
		}
		return
	}
	// As in the bridge, the windows already passed are checked from the
	// second one on.
	for i := 1; i < w.vdStep; i++ {
		if math.Abs(1-ratio) >= varDiffTolerances[i] {
			s.setDiff(w, t, w.diff*ratio)
			return
		}
	}
	if shares >= window*targetSharesPerMin*(1+tol) {
		s.setDiff(w, t, w.diff*ratio)
		return
	}
	if minutes >= window {
		if shares <= window*targetSharesPerMin*(1-tol) {
			s.setDiff(w, t, w.diff*math.Max(ratio, 0.1))
			return
		}
		w.vdStep++
	}
}

// setDiff applies a vardiff result; only an actual change restarts the
// measurement.
func (s *Sim) setDiff(w *worker, t int64, d float64) {
	d = math.Max(minDiff, math.Exp2(math.Floor(math.Log2(d))))
	if d != w.diff {
		w.diff = d
		w.vdStart, w.vdShares, w.vdStep = t, 0, 0
	}
}

// Gather advances the simulation to now and gathers its metrics; a scrape
// sees whole simulated seconds only.
func (s *Sim) Gather() ([]*dto.MetricFamily, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	return s.reg.Gather()
}

// Snapshot advances the simulation to now and returns its state.
func (s *Sim) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	out := Snapshot{
		Deployment: s.cfg.Deployment,
		Wallet:     s.cfg.Wallet,
		Seed:       s.cfg.Seed,
		Speed:      s.cfg.Speed,
		SimSeconds: s.t,
		Workers:    make([]WorkerStatus, len(s.workers)),
	}
	for i, w := range s.workers {
		out.Workers[i] = WorkerStatus{
			WorkerInfo:    w.info,
			Connected:     w.connected,
			ConnectedAt:   w.connectedAt,
			Difficulty:    w.diff,
			ValidShares:   w.valid,
			InvalidShares: w.invalid,
			ShareDiff:     w.shareDiff,
			WorkSeconds:   w.work,
			Blocks:        w.blocks,
		}
	}
	return out
}

// Workers returns the simulated workers, owner-wallet ones first.
func (s *Sim) Workers() []WorkerInfo {
	out := make([]WorkerInfo, len(s.workers))
	for i, w := range s.workers {
		out[i] = w.info
	}
	return out
}

// Run advances the simulation every second of the clock until ctx ends, so
// that a scrape after a long pause does not have to catch up alone. It
// returns ctx's error.
func (s *Sim) Run(ctx context.Context) error {
	tk := s.clk.NewTicker(time.Second)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tk.C():
			s.Advance()
		}
	}
}

// poisson draws from a Poisson distribution with mean lambda: by Knuth's
// product of uniforms for the small means the profiles use, by a rounded
// normal above that.
func poisson(r *rand.Rand, lambda float64) int {
	if !(lambda > 0) {
		return 0
	}
	if lambda > 30 {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*r.NormFloat64())))
	}
	limit, p, k := math.Exp(-lambda), 1.0, 0
	for {
		p *= r.Float64()
		if p <= limit {
			return k
		}
		k++
	}
}

// pick returns an index drawn in proportion to weights.
func pick(r *rand.Rand, weights [4]float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := r.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}
