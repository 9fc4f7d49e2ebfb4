// Package demo runs two subnets on one machine, on loopback, with one
// validator node serving both. The Kaspa subnet: a simulated stratum
// bridge, a real Prometheus scraping it, the Kaspa mechanism, and miners
// registering their workers over the validator's public API. The compute
// subnet: a simulated MeshHub publishing leases, the compute mechanism on
// the validator's axon, and vigil miners with their vigil workers. It
// prints, and refreshes, a table per subnet of what the validator made of
// each miner, the weight it put on chain, and the incentive the chain's
// epoch paid.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/config"
	"github.com/vigil-validator/vigil/internal/kaspasim"
	"github.com/vigil-validator/vigil/internal/lifecycle"
	"github.com/vigil-validator/vigil/internal/localnet"
	"github.com/vigil-validator/vigil/internal/mechanism/compute/meshhub"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/registry"
	"github.com/vigil-validator/vigil/internal/node"
	"github.com/vigil-validator/vigil/internal/promserver"
	"github.com/vigil-validator/vigil/internal/store"
)

// Netuid is the demo's Kaspa subnet.
const Netuid = 1

// The subnets Config.Mechanism picks from.
const (
	MechanismKaspa   = "kaspa"
	MechanismCompute = "compute"
	MechanismBoth    = "both"
)

// ValidatorURI is the demo validator's hotkey (and the subnet owner).
const ValidatorURI = "//Alice"

// Miner is one demo miner: a dev hotkey and the profile of each of its
// workers.
type Miner struct {
	URI      string
	Profiles []kaspasim.Profile
}

// Miners are the demo's miners: two honest ones (the first with two rigs)
// and one of each misbehaviour the rating must punish.
var Miners = []Miner{
	{"//Bob", []kaspasim.Profile{kaspasim.Honest, kaspasim.Honest}},
	{"//Charlie", []kaspasim.Profile{kaspasim.Honest}},
	{"//Dave", []kaspasim.Profile{kaspasim.Idle}},
	{"//Eve", []kaspasim.Profile{kaspasim.Inflated}},
	{"//Ferdie", []kaspasim.Profile{kaspasim.Flooding}},
}

// Config tunes a demo run; the zero value is the default demo.
type Config struct {
	// Mechanism picks the subnets run: kaspa, compute or both (default).
	Mechanism string
	// Dir holds the database, Prometheus's data and the log. Empty means a
	// temporary directory removed at the end; a given one must be empty or
	// absent, since a fresh chain cannot follow an old journal.
	Dir string
	// BlockTime is the chain's block interval (default 250 ms).
	BlockTime time.Duration
	// Tempo is the subnet's tempo in blocks (default 10).
	Tempo uint16
	// Window is the rating window (default 2 min, so that a penalised
	// profile shows within a minute; production uses an hour).
	Window time.Duration
	// Refresh is how often the table is printed (default 2 s).
	Refresh time.Duration
	// APIListen is the validator's public API address (default
	// 127.0.0.1:0, a free port).
	APIListen string
	// PrometheusBin is the prometheus binary; empty means
	// promserver.Binary().
	PrometheusBin string
	// Seed makes the simulated pool reproducible (default 1).
	Seed uint64
	// ChallengeInterval is the compute subnet's challenge round (default
	// 5 s; whole seconds).
	ChallengeInterval time.Duration
	// MatrixSize is the compute subnet's CPU challenge size (default 200).
	MatrixSize int
	// Throttle is what the throttled worker adds to each challenge
	// (default 400 ms).
	Throttle time.Duration
	// FlakyPeriod is how long the flaky worker stays online, then offline
	// (default 20 s).
	FlakyPeriod time.Duration
	// JSON prints each refresh as one JSON object on a line.
	JSON bool
	// Out receives the banner and the tables (default os.Stdout).
	Out io.Writer
	// Redraw clears the screen before each table, for a terminal.
	Redraw bool
	// Log receives the components' logs; nil writes them to demo.log in
	// Dir.
	Log *slog.Logger
	// OnStart is called once every part is up.
	OnStart func(Endpoints)
	// OnTable is called with every table printed.
	OnTable func(Table)
}

// Endpoints are where the demo's parts listen.
type Endpoints struct {
	Chain      string // ws://
	Prometheus string // http://
	API        string // the validator's public API, http://
	Axon       string // the validator's compute axon, host:port
	MeshHub    string // ws://
	// Console is the validator's web console on its ops listener
	// (http://…/ui/), which also serves /health and /metrics.
	Console string
	Dir     string
}

// DefaultConfig is the default demo: what the zero fields of a Config
// given to Run stand for, and the defaults of the vigil demo flags.
func DefaultConfig() Config {
	return Config{
		BlockTime: 250 * time.Millisecond,
		Tempo:     10,
		Window:    2 * time.Minute,
		Refresh:   2 * time.Second,
		APIListen: "127.0.0.1:0",
		Seed:      1,
		Mechanism: MechanismBoth,

		ChallengeInterval: 5 * time.Second,
		MatrixSize:        200,
		Throttle:          400 * time.Millisecond,
		FlakyPeriod:       20 * time.Second,
	}
}

func (c Config) kaspa() bool { return c.Mechanism == MechanismKaspa || c.Mechanism == MechanismBoth }
func (c Config) compute() bool {
	return c.Mechanism == MechanismCompute || c.Mechanism == MechanismBoth
}

func (c *Config) defaults() {
	d := DefaultConfig()
	if c.BlockTime <= 0 {
		c.BlockTime = d.BlockTime
	}
	if c.Tempo == 0 {
		c.Tempo = d.Tempo
	}
	if c.Window <= 0 {
		c.Window = d.Window
	}
	if c.Refresh <= 0 {
		c.Refresh = d.Refresh
	}
	if c.APIListen == "" {
		c.APIListen = d.APIListen
	}
	if c.Seed == 0 {
		c.Seed = d.Seed
	}
	if c.Mechanism == "" {
		c.Mechanism = d.Mechanism
	}
	if c.ChallengeInterval < time.Second {
		c.ChallengeInterval = d.ChallengeInterval
	}
	if c.MatrixSize == 0 {
		c.MatrixSize = d.MatrixSize
	}
	if c.Throttle <= 0 {
		c.Throttle = d.Throttle
	}
	if c.FlakyPeriod <= 0 {
		c.FlakyPeriod = d.FlakyPeriod
	}
	if c.Out == nil {
		c.Out = os.Stdout
	}
}

// ErrNoPrometheus is returned when no prometheus binary is found.
var ErrNoPrometheus = errors.New("the demo needs Prometheus: run 'make demo' (it installs Debian's prometheus package when run as root), " +
	"apt-get install prometheus, or set " + promserver.BinEnv)

// Run runs the demo until ctx ends or a part fails, then stops every part
// and returns; a clean stop returns nil. Every part is an actor of one
// lifecycle.Group: the first to end (ctx, or a part failing) stops the rest.
func Run(ctx context.Context, cfg Config) (err error) {
	cfg.defaults()
	if !cfg.kaspa() && !cfg.compute() {
		return fmt.Errorf("mechanism %q: want kaspa, compute or both", cfg.Mechanism)
	}
	bin := cfg.PrometheusBin
	if !cfg.kaspa() {
		bin = "" // only the Kaspa subnet needs Prometheus
	} else if bin == "" {
		if bin, err = promserver.Binary(); errors.Is(err, promserver.ErrNoBinary) {
			return ErrNoPrometheus
		} else if err != nil {
			return err
		}
	}
	dir, cleanup, err := workDir(cfg.Dir)
	if err != nil {
		return err
	}
	d := &demo{cfg: cfg, dir: dir, ready: make(chan struct{}), registered: map[string]string{}, started: time.Now()}
	// The parts' resources are released after every actor stopped, and the
	// directory goes last.
	defer func() {
		d.stopAll()
		cleanup()
	}()
	d.log = cfg.Log
	if d.log == nil {
		f, err := os.OpenFile(filepath.Join(dir, "demo.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		d.onStop(func() { f.Close() })
		d.log = slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	g := &lifecycle.Group{DrainTimeout: 10 * time.Second, Logger: d.log}
	if err := d.build(g, bin); err != nil {
		return err
	}
	g.Add("interrupt", lifecycle.Context(ctx, func(ctx context.Context) error { <-ctx.Done(); return nil }))
	if err = g.Run(); err == nil {
		fmt.Fprintln(cfg.Out, "stopping the demo")
	}
	return err
}

// workDir makes the demo's directory.
func workDir(dir string) (string, func(), error) {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "vigil-demo-")
		if err != nil {
			return "", nil, err
		}
		return tmp, func() { os.RemoveAll(tmp) }, nil
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", nil, err
		}
	case err != nil:
		return "", nil, err
	case len(entries) > 0:
		return "", nil, fmt.Errorf("demo directory %s is not empty: the demo's chain starts from genesis and cannot reuse an old database", dir)
	}
	return dir, func() {}, nil
}

type demo struct {
	cfg Config
	dir string
	log *slog.Logger
	// ready is closed once the validator node is up: apiURL, client and
	// store are set.
	ready chan struct{}

	stopMu sync.Mutex
	stops  []func()

	// The dev keys, derived once: the validator's and each miner's.
	alice         *keys.KeyPair
	miners        []*keys.KeyPair
	computeMiners []*keys.KeyPair
	started       time.Time

	client     *subtensor.Client
	store      *store.Store
	sim        *kaspasim.Sim
	apiURL     string
	consoleURL string
	chainWS    string
	promURL    string

	hub      *meshhub.Sim
	hubURL   string
	axonAddr string

	mu         sync.Mutex
	registered map[string]string // worker → status line
}

// onStop registers a cleanup; they run last-first.
func (d *demo) onStop(f func()) {
	d.stopMu.Lock()
	d.stops = append(d.stops, f)
	d.stopMu.Unlock()
}

func (d *demo) stopAll() {
	d.stopMu.Lock()
	stops := d.stops
	d.stops = nil
	d.stopMu.Unlock()
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
}

// part is an actor running fn until the group stops it.
func part(fn func(ctx context.Context) error) lifecycle.Actor {
	return lifecycle.Context(context.Background(), fn)
}

// server is an actor serving h on ln.
func server(ln net.Listener, h http.Handler) lifecycle.Actor {
	return lifecycle.HTTPServer(&http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, ln, 2*time.Second)
}

func listen(addr string) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	return ln, ln.Addr().String(), nil
}

// build makes the parts and adds them to g: the chain and its RPC server;
// for the Kaspa subnet the pool (simulator, its metrics server,
// Prometheus) and its miners; for the compute subnet MeshHub, the miners
// and their workers; the validator node and the table. What needs another
// part running (the node dials the chain; miners and the table need the
// node) does so inside its actor.
func (d *demo) build(g *lifecycle.Group, promBin string) error {
	var err error
	if d.alice, err = keys.FromURI(ValidatorURI); err != nil {
		return err
	}
	for _, m := range Miners {
		kp, err := keys.FromURI(m.URI)
		if err != nil {
			return err
		}
		d.miners = append(d.miners, kp)
	}
	if err := d.buildChain(g); err != nil {
		return fmt.Errorf("chain: %w", err)
	}
	if d.cfg.kaspa() {
		if err := d.buildPool(g, promBin); err != nil {
			return err
		}
		for i, m := range Miners {
			g.Add("miner "+m.URI, part(func(ctx context.Context) error {
				return d.afterReady(ctx, func() error { return d.runMiner(ctx, m, d.miners[i]) })
			}))
		}
	}
	if d.cfg.compute() {
		if err := d.buildCompute(g); err != nil {
			return fmt.Errorf("compute subnet: %w", err)
		}
	}
	g.Add("validator", part(func(ctx context.Context) error {
		if err := d.runValidator(ctx, promBin); err != nil {
			return fmt.Errorf("validator: %w", err)
		}
		return nil
	}))
	g.Add("table", part(func(ctx context.Context) error { return d.afterReady(ctx, func() error { return d.runTable(ctx) }) }))
	return nil
}

// afterReady runs fn once the validator node is up, then waits for the
// demo to stop: a part that is done early must not end the group.
func (d *demo) afterReady(ctx context.Context, fn func() error) error {
	select {
	case <-ctx.Done():
		return nil
	case <-d.ready:
	}
	if err := fn(); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// Genesis is the demo chain: //Alice validates subnets 1 (Kaspa) and 2
// (compute), and the demo's miners are registered on each.
func Genesis(tempo uint16) localnet.Genesis {
	g := localnet.DefaultGenesis()
	hyper := map[string]any{"tempo": tempo, "weights_rate_limit": max(1, tempo/2)}
	g.Subnets[0].Miners = nil
	for _, m := range Miners {
		g.Subnets[0].Miners = append(g.Subnets[0].Miners, localnet.GenesisNeuron{Hotkey: m.URI})
	}
	g.Subnets[0].Hyperparameters = hyper
	c := localnet.GenesisSubnet{Netuid: ComputeNetuid, Owner: "//Alice", Hyperparameters: hyper,
		Validators: []localnet.GenesisNeuron{{Hotkey: ValidatorURI, Stake: 1000 * 1e9}}}
	for _, m := range ComputeMiners {
		c.Miners = append(c.Miners, localnet.GenesisNeuron{Hotkey: m.URI})
	}
	g.Subnets = append(g.Subnets, c)
	return g
}

func (d *demo) buildChain(g *lifecycle.Group) error {
	st, err := Genesis(d.cfg.Tempo).State()
	if err != nil {
		return err
	}
	chain, err := localnet.New(localnet.Config{BlockTime: d.cfg.BlockTime, Log: d.log}, st)
	if err != nil {
		return err
	}
	g.Add("chain", part(chain.Run))
	ln, addr, err := listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	d.chainWS = "ws://" + addr
	g.Add("chain RPC", server(ln, localnet.NewServer(chain)))
	return nil
}

// simConfig lays the miners' workers out for the simulator: one hotkey per
// worker, in the miners' order.
func simConfig(seed uint64) (kaspasim.Config, error) {
	cfg := kaspasim.Config{Wallet: kaspasim.DefaultWallet, Seed: seed, Speed: 1}
	for _, m := range Miners {
		hk, err := kaspasim.ParseHotkey(m.URI)
		if err != nil {
			return cfg, err
		}
		for _, p := range m.Profiles {
			cfg.Hotkeys = append(cfg.Hotkeys, hk)
			cfg.Profiles = append(cfg.Profiles, p)
		}
	}
	return cfg, nil
}

func (d *demo) buildPool(g *lifecycle.Group, promBin string) error {
	scfg, err := simConfig(d.cfg.Seed)
	if err != nil {
		return err
	}
	scfg.Logger = d.log
	if d.sim, err = kaspasim.New(scfg); err != nil {
		return fmt.Errorf("kaspa-sim: %w", err)
	}
	g.Add("kaspa-sim", part(d.sim.Run))
	ln, simAddr, err := listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	g.Add("kaspa-sim metrics", server(ln, d.sim.Handler()))

	promDir := filepath.Join(d.dir, "prometheus")
	if err := os.MkdirAll(promDir, 0o700); err != nil {
		return err
	}
	prom, err := promserver.Start(promserver.Options{Bin: promBin, Dir: promDir, Targets: []string{"http://" + simAddr + "/metrics"},
		Retention: 2 * time.Hour})
	if err != nil {
		return fmt.Errorf("prometheus: %w", err)
	}
	d.onStop(prom.Stop)
	d.promURL = prom.URL()
	g.Add("prometheus", part(func(ctx context.Context) error {
		select {
		case <-ctx.Done():
			return nil
		case <-prom.Done():
			return fmt.Errorf("prometheus exited (%v):\n%s", prom.Err(), prom.LogTail(20))
		}
	}))
	return nil
}

// runValidator builds //Alice's validator node, as 'vigil validator'
// does, from a configuration for the demo's chain, pool and directory, and
// runs it until ctx ends.
func (d *demo) runValidator(ctx context.Context, promBin string) error {
	n, err := node.New(ctx, d.validatorConfig(), func() (*keys.KeyPair, error) { return d.alice, nil }, d.log)
	if err != nil {
		return err
	}
	defer n.Close()
	d.store, d.client = n.Store, n.Client
	d.consoleURL = "http://" + n.OpsAddr() + "/ui/"
	if d.cfg.kaspa() {
		d.apiURL = "http://" + n.APIAddr()
	}
	d.banner(promBin)
	close(d.ready)
	g := &lifecycle.Group{DrainTimeout: 5 * time.Second, Logger: d.log}
	g.Add("demo", part(func(context.Context) error { <-ctx.Done(); return nil }))
	n.AddTo(context.Background(), g)
	return g.Run()
}

// validatorConfig is the node's configuration: the Kaspa subnet on
// chain.netuid with the compute subnet in subnets:, or either alone.
func (d *demo) validatorConfig() config.Validator {
	cfg := config.DefaultValidator()
	cfg.Chain.Network = d.chainWS
	cfg.Database.URL = "sqlite:" + filepath.Join(d.dir, "vigil.db")
	cfg.Ops.Listen = "127.0.0.1:0"
	cfg.Weights.BlockTime = d.cfg.BlockTime
	cfg.Shutdown.DrainTimeout = 5 * time.Second
	k := &cfg.Kaspa
	k.PrometheusEndpoint, k.PoolWallet, k.Window, k.Listen = d.promURL, kaspasim.DefaultWallet, d.cfg.Window, d.cfg.APIListen
	// The table asks for ratings every refresh; a pass answers half of it.
	k.RatingsTTL = max(d.cfg.Refresh/2, time.Second)
	kaspaNetuid, computeNetuid := uint16(Netuid), uint16(ComputeNetuid)
	switch {
	case d.cfg.kaspa() && d.cfg.compute():
		cfg.Chain.Netuid, cfg.Mechanism = &kaspaNetuid, "kaspa"
		var sn config.Subnet
		sn.SetDefaults()
		sn.Netuid, sn.Mechanism, sn.Compute = &computeNetuid, "compute", d.computeSettings()
		cfg.Subnets = append(cfg.Subnets, sn)
	case d.cfg.kaspa():
		cfg.Chain.Netuid, cfg.Mechanism = &kaspaNetuid, "kaspa"
	default:
		cfg.Chain.Netuid, cfg.Mechanism, cfg.Compute = &computeNetuid, "compute", d.computeSettings()
	}
	return cfg
}

func (d *demo) banner(promBin string) {
	w := d.cfg.Out
	alice := d.alice
	if d.cfg.JSON {
		w = io.Discard // the output is the tables' JSON only
	}
	fmt.Fprintf(w, "vigil demo: every part on loopback; Ctrl-C stops them all\n")
	fmt.Fprintf(w, "  chain       %s  (localnet, a block every %s, tempo %d)\n", d.chainWS, d.cfg.BlockTime, d.cfg.Tempo)
	fmt.Fprintf(w, "  validator   %s %s\n", ValidatorURI, alice.SS58())
	fmt.Fprintf(w, "  console     %s  (open it in a browser: health, weights, miners)\n", d.consoleURL)
	if d.cfg.kaspa() {
		fmt.Fprintf(w, "  kaspa       subnet %d: pool %s (kaspa-sim, %d workers), public API %s (/ratings, /mappings)\n", Netuid,
			d.sim.Workers()[0].Wallet[:16]+"…", len(d.sim.Workers()), d.apiURL)
		fmt.Fprintf(w, "  prometheus  %s  (%s, scraping the simulator every second)\n", d.promURL, promBin)
	}
	if d.cfg.compute() {
		fmt.Fprintf(w, "  compute     subnet %d: axon %s, meshhub-sim %s, %d miners with vigil workers, %dx%d CPU challenges every %s\n",
			ComputeNetuid, d.axonAddr, d.hubURL, len(ComputeMiners), d.cfg.MatrixSize, d.cfg.MatrixSize, d.cfg.ChallengeInterval)
	}
	fmt.Fprintf(w, "  files       %s (demo.log, vigil.db)\n", d.dir)
	if d.cfg.kaspa() {
		fmt.Fprintf(w, "Kaspa miners register their workers once Prometheus has seen them (about 10 s); ratings cover a %s window.\n", d.cfg.Window)
	}
	if d.cfg.compute() {
		fmt.Fprintf(w, "Compute miners are challenged once their workers heartbeat; weight passes cover a 3-minute window.\n")
	}
	fmt.Fprintln(w)
	if d.cfg.OnStart != nil {
		d.cfg.OnStart(Endpoints{Chain: d.chainWS, Prometheus: d.promURL, API: d.apiURL, Axon: d.axonAddr, MeshHub: d.hubURL,
			Console: d.consoleURL, Dir: d.dir})
	}
}

// runMiner registers each of the miner's workers, retrying while the pool
// has not reported the worker yet (Prometheus applies its targets a few
// seconds after it starts) or the validator has not read the metagraph.
func (d *demo) runMiner(ctx context.Context, m Miner, kp *keys.KeyPair) error {
	c := &registry.Client{BaseURL: d.apiURL}
	for _, w := range d.sim.Workers() {
		if w.HotkeyURI != m.URI || !w.OwnerWallet {
			continue
		}
		for attempt := 1; ; attempt++ {
			err := c.Register(ctx, kp, w.Name)
			if err == nil || registry.IsAlreadyRegistered(err) {
				d.setStatus(w.Name, "registered")
				d.log.Info("demo miner registered a worker", "miner", m.URI, "worker", w.Name, "attempts", attempt)
				break
			}
			d.setStatus(w.Name, fmt.Sprintf("%s rig %s: not registered yet: %s", m.URI, strings.TrimPrefix(w.Name, w.Hotkey+"-rig"), firstLine(err.Error())))
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(2 * time.Second):
			}
		}
	}
	return nil
}

// firstLine is s up to its first line break, at most 100 bytes.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return s
}

func (d *demo) setStatus(worker, status string) {
	d.mu.Lock()
	d.registered[worker] = status
	d.mu.Unlock()
}

// Row is one Kaspa miner in the table.
type Row struct {
	UID      uint16             `json:"uid"`
	URI      string             `json:"uri"`
	Hotkey   string             `json:"hotkey"`
	Profiles []kaspasim.Profile `json:"profiles"`
	// Workers is how many of its workers the validator has registered.
	Workers int `json:"workers"`
	// Rating is the validator's rating; Rated is false before the first.
	Rating float64 `json:"rating"`
	Rated  bool    `json:"rated"`
	// Weight is the validator's on-chain weight on the uid, as a share of
	// its row.
	Weight float64 `json:"weight"`
	// Incentive is what the last epoch paid the uid.
	Incentive float64 `json:"incentive"`
}

// KaspaTable is the Kaspa subnet's part of a refresh.
type KaspaTable struct {
	Netuid uint16 `json:"netuid"`
	// WeightsAt is the block of the validator's last weights, 0 for none.
	WeightsAt uint64 `json:"weights_at"`
	// Submissions counts the validator's journaled weight submissions.
	Submissions int   `json:"submissions"`
	Rows        []Row `json:"rows"`
	// Waiting lists workers not registered yet, with the reason.
	Waiting []string `json:"waiting,omitempty"`
}

// Table is one refresh: a part per subnet run.
type Table struct {
	Block   uint64        `json:"block"`
	Kaspa   *KaspaTable   `json:"kaspa,omitempty"`
	Compute *ComputeTable `json:"compute,omitempty"`
}

// Honest reports whether every profile of the row is honest.
func (r Row) Honest() bool {
	for _, p := range r.Profiles {
		if p != kaspasim.Honest {
			return false
		}
	}
	return len(r.Profiles) > 0
}

func (d *demo) runTable(ctx context.Context) error {
	t := time.NewTicker(d.cfg.Refresh)
	defer t.Stop()
	enc := json.NewEncoder(d.cfg.Out)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		tab, err := d.table(ctx)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("demo table", "err", err)
			}
			continue
		}
		switch {
		case d.cfg.JSON:
			if err := enc.Encode(tab); err != nil {
				return err
			}
		case d.cfg.Redraw:
			fmt.Fprint(d.cfg.Out, "\x1b[H\x1b[2J"+tab.String())
		default:
			fmt.Fprint(d.cfg.Out, tab.String())
		}
		if d.cfg.OnTable != nil {
			d.cfg.OnTable(tab)
		}
	}
}

func (d *demo) table(ctx context.Context) (Table, error) {
	var tab Table
	var err error
	if d.cfg.kaspa() {
		if tab.Kaspa, err = d.kaspaTable(ctx); err != nil {
			return tab, err
		}
	}
	if d.cfg.compute() {
		if tab.Compute, err = d.computeTable(ctx); err != nil {
			return tab, err
		}
	}
	head, err := d.client.Head(ctx, "")
	tab.Block = head.Number
	return tab, err
}

// validatorWeights returns the validator's weights on the subnet and the
// block they were set at (0 for none).
func (d *demo) validatorWeights(ctx context.Context, mg *subtensor.Metagraph, netuid uint16) ([]subtensor.WeightEntry, uint64, error) {
	for _, n := range mg.Neurons {
		if n.Hotkey == subtensor.AccountID(d.alice.PublicKey()) {
			ws, err := d.client.Weights(ctx, netuid, n.UID, mg.BlockHash)
			return ws, n.LastUpdate, err
		}
	}
	return nil, 0, nil
}

// onChain returns the miner's uid, the validator's weight on it as a share
// of the row, and its incentive.
func (d *demo) onChain(mg *subtensor.Metagraph, kp *keys.KeyPair, weights []subtensor.WeightEntry) (uid uint16, weight, incentive float64) {
	var sum float64
	for _, w := range weights {
		sum += float64(w.Value)
	}
	for _, n := range mg.Neurons {
		if n.Hotkey != subtensor.AccountID(kp.PublicKey()) {
			continue
		}
		uid, incentive = n.UID, n.Incentive.Float()
		for _, w := range weights {
			if w.UID == n.UID && sum > 0 {
				weight = float64(w.Value) / sum
			}
		}
	}
	return uid, weight, incentive
}

func (d *demo) kaspaTable(ctx context.Context) (*KaspaTable, error) {
	tab := &KaspaTable{Netuid: Netuid}
	mg, err := d.client.Metagraph(ctx, Netuid, "")
	if err != nil {
		return nil, err
	}
	weights, at, err := d.validatorWeights(ctx, mg, Netuid)
	if err != nil {
		return nil, err
	}
	tab.WeightsAt = at
	ratings, err := d.ratings(ctx)
	if err != nil {
		d.log.Debug("demo table: no ratings yet", "err", err)
	}
	mappings, err := d.store.ActiveKaspaMappings(ctx)
	if err != nil {
		return nil, err
	}
	perHotkey := map[string]int{}
	for _, hk := range mappings {
		perHotkey[hk]++
	}
	if subs, err := d.store.WeightSubmissions(ctx, Netuid, 1000); err == nil {
		tab.Submissions = len(subs)
	}
	for i, m := range Miners {
		kp := d.miners[i]
		r := Row{URI: m.URI, Hotkey: kp.SS58(), Profiles: m.Profiles, Workers: perHotkey[kp.SS58()]}
		r.Rating, r.Rated = ratings[r.Hotkey]
		r.UID, r.Weight, r.Incentive = d.onChain(mg, kp, weights)
		tab.Rows = append(tab.Rows, r)
	}
	d.mu.Lock()
	for _, s := range d.registered {
		if s != "registered" {
			tab.Waiting = append(tab.Waiting, s)
		}
	}
	d.mu.Unlock()
	sort.Strings(tab.Waiting)
	return tab, nil
}

// ratings reads /ratings from the validator's public API, as a peer or a
// dashboard would.
func (d *demo) ratings(ctx context.Context) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return (&registry.Client{BaseURL: d.apiURL}).Ratings(ctx)
}

// String renders the table.
func (t Table) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "block %d\n", t.Block)
	if t.Kaspa != nil {
		b.WriteString(t.Kaspa.String())
	}
	if t.Compute != nil {
		if t.Kaspa != nil {
			b.WriteString("\n")
		}
		b.WriteString(t.Compute.String())
	}
	b.WriteString("\n")
	return b.String()
}

func (t *KaspaTable) String() string {
	var b strings.Builder
	at := "none yet"
	if t.WeightsAt > 0 {
		at = fmt.Sprintf("block %d", t.WeightsAt)
	}
	fmt.Fprintf(&b, "kaspa subnet %d · validator's last weights: %s · submissions: %d\n", t.Netuid, at, t.Submissions)
	fmt.Fprintf(&b, "%-4s %-9s %-14s %-15s %10s %8s %8s %9s\n", "UID", "MINER", "HOTKEY", "RIGS", "REGISTERED", "RATING", "WEIGHT", "INCENTIVE")
	for _, r := range t.Rows {
		rating := "-"
		if r.Rated {
			rating = fmt.Sprintf("%.4f", r.Rating)
		}
		names := make([]string, len(r.Profiles))
		for i, p := range r.Profiles {
			names[i] = string(p)
		}
		fmt.Fprintf(&b, "%-4d %-9s %-14s %-15s %10d %8s %8.4f %9.4f\n", r.UID, r.URI, short(r.Hotkey),
			strings.Join(names, "+"), r.Workers, rating, r.Weight, r.Incentive)
	}
	for _, w := range t.Waiting {
		fmt.Fprintf(&b, "  %s\n", w)
	}
	if len(t.Waiting) > 0 {
		b.WriteString("  (the validator accepts a worker once Prometheus has scraped it from the pool)\n")
	}
	return b.String()
}
