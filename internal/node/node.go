// Package node is the validator's composition root: from a validated
// configuration and a hotkey it builds the parts of a validator node — the
// store, the chain connection, the subnet's mechanism (looked up in
// internal/mechanisms) and its weight loop, the operations listener with
// /health and /metrics, and the mechanism's public API — and hands them to
// a lifecycle.Group as actors. `vigil validator` and the demo both run a
// node built here.
package node

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-validator/vigil/bittensor/axon"
	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/bittensor/timelock"
	"github.com/vigil-validator/vigil/internal/api"
	"github.com/vigil-validator/vigil/internal/buildinfo"
	"github.com/vigil-validator/vigil/internal/config"
	"github.com/vigil-validator/vigil/internal/console"
	"github.com/vigil-validator/vigil/internal/lifecycle"
	"github.com/vigil-validator/vigil/internal/mechanism"
	"github.com/vigil-validator/vigil/internal/mechanisms"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/validator"
)

// maxRequestBody caps a request to a mechanism's public API.
const maxRequestBody = 1 << 20

// Node is a built validator node, ready to run.
type Node struct {
	cfg     config.Validator
	log     *slog.Logger
	Store   *store.Store
	Client  *subtensor.Client
	Subnets []*Subnet
	ops     *api.Server
	console *console.Console // nil when console.enabled is false
	closers []func()
}

// Subnet is one subnet the node serves: its mechanism, its weight loop
// and the mechanism's public API.
type Subnet struct {
	Netuid    uint16
	Mechanism mechanism.Mechanism
	Validator *validator.Validator
	public    *http.Server
	publicLn  net.Listener
	axon      *http.Server // the mechanism's synapses, if it has some
	axonLn    net.Listener
}

// New builds a node: it opens and migrates the store, loads the hotkey
// (loadHotkey may ask for a password), connects to the chain, builds each
// subnet's mechanism and weight loop, checks that the hotkey may set
// weights on each, and binds the listeners, so that a misconfiguration
// fails here, before anything runs. Close releases what it opened.
func New(ctx context.Context, cfg config.Validator, loadHotkey func() (*keys.KeyPair, error), log *slog.Logger) (n *Node, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n = &Node{cfg: cfg, log: log}
	built := n // n is nil in the results of a failure
	defer func() {
		if err != nil {
			built.Close()
		}
	}()
	reg := api.NewRegistry(buildinfo.Version, buildinfo.Commit)
	health := api.NewHealth(5 * time.Second)

	if n.Store, err = openStore(ctx, cfg.Database, reg, log.With("component", "store")); err != nil {
		return nil, err
	}
	n.closers = append(n.closers, func() { n.Store.Close() })
	health.Register("database", n.Store.Health)
	hotkey, err := loadHotkey()
	if err != nil {
		return nil, err
	}

	endpoint, err := subtensor.Endpoint(cfg.Chain.Network)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	rpc, err := substrate.Dial(dctx, substrate.Options{URL: endpoint, Logger: log})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", endpoint, err)
	}
	n.closers = append(n.closers, func() { rpc.Close() })
	n.Client, _ = subtensor.New(rpc)
	beacon, err := resolveBeacon(ctx, rpc, cfg.Weights.Beacon, log)
	if err != nil {
		return nil, err
	}

	subnets := cfg.SubnetList()
	byMechanism := map[string][]uint16{}
	for _, sc := range subnets {
		byMechanism[sc.Mechanism] = append(byMechanism[sc.Mechanism], *sc.Netuid)
	}
	for name, netuids := range byMechanism {
		if len(netuids) > 1 {
			// A mechanism's tables are the store's, not a subnet's.
			log.Warn("several subnets run one mechanism: they share its state in the store (the kaspa worker registry)", "mechanism", name, "netuids", netuids)
		}
	}
	for _, sc := range subnets {
		// With several subnets, each one's metrics carry its netuid and its
		// health checks name it.
		sreg, prefix := prometheus.Registerer(reg), ""
		if len(subnets) > 1 {
			sreg = prometheus.WrapRegistererWith(prometheus.Labels{"netuid": strconv.Itoa(int(*sc.Netuid))}, reg)
			prefix = fmt.Sprintf("netuid %d ", *sc.Netuid)
		}
		sn, err := n.buildSubnet(ctx, sc, hotkey, beacon, sreg)
		if err != nil {
			return nil, fmt.Errorf("netuid %d: %w", *sc.Netuid, err)
		}
		n.Subnets = append(n.Subnets, sn)
		for name, check := range sn.Validator.HealthChecks() {
			health.Register(prefix+name, check)
		}
		for name, check := range sn.Mechanism.HealthChecks() {
			health.Register(prefix+name, check)
		}
	}

	if n.ops, err = api.New(api.Opts{Listen: cfg.Ops.Listen, Registry: reg, Health: health, Logger: log.With("component", "ops")}); err != nil {
		return nil, fmt.Errorf("ops.listen: %w", err)
	}
	n.closers = append(n.closers, func() { n.ops.Listener().Close() })
	if cfg.Console.Enabled {
		if n.console, err = n.buildConsole(health); err != nil {
			return nil, err
		}
		n.console.Mount(n.ops.Handle)
	}
	for _, sn := range n.Subnets {
		log.Info("serving", "netuid", sn.Netuid, "mechanism", sn.Mechanism.Name(), "hotkey", hotkey.SS58(), "ops", n.OpsAddr(), "api", sn.APIAddr())
	}
	return n, nil
}

// minTokenLen is the shortest console token accepted.
const minTokenLen = 16

// buildConsole builds the web console over the node's subnets, with the
// token of console.token_file.
func (n *Node) buildConsole(health *api.Health) (*console.Console, error) {
	var token string
	if f := n.cfg.Console.TokenFile; f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("console.token_file: %w", err)
		}
		if token = strings.TrimSpace(string(b)); len(token) < minTokenLen {
			return nil, fmt.Errorf("console.token_file %s: the token has %d characters, want %d or more", f, len(token), minTokenLen)
		}
		if fi, err := os.Stat(f); err == nil && fi.Mode().Perm()&0o077 != 0 {
			n.log.Warn("console.token_file is readable by others than its owner", "file", f, "mode", fi.Mode().Perm().String())
		}
	}
	opts := console.Options{Listen: n.cfg.Ops.Listen, Token: token, Network: n.cfg.Chain.Network, Version: buildinfo.Version,
		Store: n.Store, Health: health, SampleEvery: max(n.cfg.Weights.BlockTime, time.Second), Log: n.log.With("component", "console")}
	for _, sn := range n.Subnets {
		opts.Subnets = append(opts.Subnets, console.Subnet{Netuid: sn.Netuid, Mechanism: sn.Mechanism, Status: sn.Validator.Status,
			Metagraph: sn.Validator.Metagraph})
	}
	return console.New(opts)
}

// buildSubnet builds one subnet's mechanism and weight loop, checks the
// hotkey's registration on it and binds its public API.
func (n *Node) buildSubnet(ctx context.Context, sc config.Subnet, hotkey *keys.KeyPair, beacon timelock.Beacon, reg prometheus.Registerer) (*Subnet, error) {
	factory, _ := mechanisms.Lookup(sc.Mechanism) // checked by Validate
	netuid := *sc.Netuid
	holder := &mechanism.Metagraph{}
	mech, err := factory.New(sc.MechanismSettings(), mechanism.Deps{Netuid: netuid, Store: n.Store, Metagraph: holder,
		Self: subtensor.AccountID(hotkey.PublicKey()), Log: n.log.With("netuid", netuid), Registerer: reg})
	if err != nil {
		return nil, err
	}
	sn := &Subnet{Netuid: netuid, Mechanism: mech}
	ids, _ := sc.MechanismIDs() // checked by Validate
	blockTime := n.cfg.Weights.BlockTime
	sn.Validator, err = validator.New(validator.Config{
		Netuid: netuid, Hotkey: hotkey, Client: n.Client, Store: n.Store, Mechanism: mech, Metagraph: holder,
		Tick: blockTime, EveryBlocks: sc.Weights.EveryBlocks, Mechanisms: ids,
		Weights: subtensor.WeightOptions{Beacon: &beacon, BlockTime: blockTime},
		Log:     n.log.With("component", "weights", "netuid", netuid), Registerer: reg,
	})
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	err = sn.Validator.Check(cctx)
	cancel()
	if err != nil {
		return nil, err
	}
	if sn.axon, sn.axonLn, err = serveAxon(mech, hotkey, holder, n.log.With("netuid", netuid)); err != nil {
		return nil, err
	}
	if sn.axonLn != nil {
		n.closers = append(n.closers, func() { sn.axonLn.Close() })
	}
	if listen, h := mech.Handler(); h != nil {
		if sn.publicLn, err = net.Listen("tcp", listen); err != nil {
			return nil, fmt.Errorf("%s.listen: %w", factory.Name, err)
		}
		n.closers = append(n.closers, func() { sn.publicLn.Close() })
		sn.public = &http.Server{Handler: http.MaxBytesHandler(h, maxRequestBody), ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second}
	}
	return sn, nil
}

func openStore(ctx context.Context, db config.Database, reg prometheus.Registerer, log *slog.Logger) (*store.Store, error) {
	st, err := store.Open(ctx, store.Options{URL: db.URL, MaxOpenConns: db.MaxOpenConns, BusyTimeout: db.BusyTimeout, Registerer: reg})
	if err != nil {
		return nil, err
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate %s: %w", st, err)
	}
	for _, m := range applied {
		log.Info("applied migration", "version", m.Version, "name", m.Name)
	}
	status, err := st.Check(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	log.Info("database ready", "database", st.String(), "schema_version", status.Version)
	return st, nil
}

// resolveBeacon resolves weights.beacon: auto asks the chain for a
// localnet beacon and falls back to drand quicknet.
func resolveBeacon(ctx context.Context, rpc *substrate.Client, spec string, log *slog.Logger) (timelock.Beacon, error) {
	if spec != "auto" {
		return timelock.ParseBeacon(spec)
	}
	var s string
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := rpc.Call(cctx, "localnet_beacon", nil, &s); err == nil {
		b, err := timelock.ParseBeacon(s)
		if err != nil {
			return b, fmt.Errorf("the localnet's beacon: %w", err)
		}
		log.Info("timelocked commits use the localnet's beacon")
		return b, nil
	}
	return timelock.ParseBeacon("quicknet")
}

// serveAxon builds the axon of a mechanism that has synapses
// (mechanism.AxonHandlers): signed for hotkey, refusing callers that are
// not in the subnet's latest metagraph, bound to the mechanism's address.
// It returns nils for a mechanism without one.
func serveAxon(mech mechanism.Mechanism, hotkey *keys.KeyPair, holder *mechanism.Metagraph, log *slog.Logger) (*http.Server, net.Listener, error) {
	ah, ok := mech.(mechanism.AxonHandlers)
	if !ok {
		return nil, nil, nil
	}
	listen, register := ah.Axon()
	if register == nil {
		return nil, nil, nil
	}
	ax, err := axon.New(axon.Config{Hotkey: hotkey, Blacklist: axon.NotInMetagraph(holder.Load), Log: log})
	if err != nil {
		return nil, nil, err
	}
	if err := register(ax); err != nil {
		return nil, nil, fmt.Errorf("%s axon: %w", mech.Name(), err)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, nil, fmt.Errorf("%s axon: %w", mech.Name(), err)
	}
	return ax.Server(), ln, nil
}

// OpsAddr is the operations listener's address.
func (n *Node) OpsAddr() string {
	if n.ops == nil {
		return ""
	}
	return n.ops.Addr().String()
}

// APIAddr is the public API address of the first subnet's mechanism.
func (n *Node) APIAddr() string {
	if len(n.Subnets) == 0 {
		return ""
	}
	return n.Subnets[0].APIAddr()
}

// APIAddr is the subnet's public API address, "" when it has none.
func (s *Subnet) APIAddr() string {
	if s.publicLn == nil {
		return ""
	}
	return s.publicLn.Addr().String()
}

// AddTo adds the node's actors to g: each subnet's weight loop, mechanism
// loops and public API, and the operations listener. ctx bounds the loops.
func (n *Node) AddTo(ctx context.Context, g *lifecycle.Group) {
	drain := n.cfg.Shutdown.DrainTimeout
	for _, sn := range n.Subnets {
		tag := fmt.Sprintf("netuid %d ", sn.Netuid)
		if len(n.Subnets) == 1 {
			tag = ""
		}
		name := sn.Mechanism.Name()
		g.Add(tag+"weight loop", lifecycle.Context(ctx, sn.Validator.Run))
		g.Add(tag+name+" loops", lifecycle.Context(ctx, sn.Mechanism.Run))
		if sn.public != nil {
			g.Add(tag+name+" public api", lifecycle.HTTPServer(sn.public, sn.publicLn, drain))
		}
		if sn.axon != nil {
			g.Add(tag+name+" axon", lifecycle.HTTPServer(sn.axon, sn.axonLn, drain))
		}
	}
	if n.console != nil {
		g.Add("console sampler", lifecycle.Context(ctx, n.console.Run))
	}
	g.Add("ops listener", lifecycle.HTTPServer(n.ops.HTTPServer(), n.ops.Listener(), drain))
}

// Event writes to the store's audit trail; a failure is logged, never
// fatal, because the trail must not stop the validator.
func (n *Node) Event(ctx context.Context, kind string, detail any) {
	b, _ := json.Marshal(detail)
	if _, err := n.Store.AppendEvent(ctx, store.Event{Kind: kind, Detail: b}); err != nil {
		n.log.Warn("could not record event", "kind", kind, "err", err)
	}
}

// Close releases what New opened, last first. Run's actors must have
// stopped.
func (n *Node) Close() {
	for i := len(n.closers) - 1; i >= 0; i-- {
		n.closers[i]()
	}
	n.closers = nil
}
