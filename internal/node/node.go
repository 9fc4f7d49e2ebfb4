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
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/bittensor/timelock"
	"github.com/vigil-validator/vigil/internal/api"
	"github.com/vigil-validator/vigil/internal/buildinfo"
	"github.com/vigil-validator/vigil/internal/config"
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
	cfg       config.Validator
	log       *slog.Logger
	Store     *store.Store
	Client    *subtensor.Client
	Validator *validator.Validator
	Mechanism mechanism.Mechanism
	ops       *api.Server
	public    *http.Server
	publicLn  net.Listener
	closers   []func()
}

// New builds a node: it opens and migrates the store, loads the hotkey
// (hotkey may ask for a password), connects to the chain, builds the
// mechanism and the weight loop, checks that the hotkey may set weights on
// the subnet, and binds the listeners, so that a misconfiguration fails
// here, before anything runs. Close releases what it opened.
func New(ctx context.Context, cfg config.Validator, loadHotkey func() (*keys.KeyPair, error), log *slog.Logger) (n *Node, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	factory, _ := mechanisms.Lookup(cfg.Mechanism) // checked by Validate
	n = &Node{cfg: cfg, log: log}
	built := n // n is nil in the results of a failure
	defer func() {
		if err != nil {
			built.Close()
		}
	}()
	netuid := *cfg.Chain.Netuid
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
	rpc, err := substrate.Dial(dctx, substrate.Options{URL: endpoint, Logger: log.With("component", "chain")})
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

	holder := &mechanism.Metagraph{}
	mlog := log.With("component", factory.Name, "netuid", netuid)
	n.Mechanism, err = factory.New(cfg.MechanismSettings(), mechanism.Deps{Netuid: netuid, Store: n.Store, Metagraph: holder,
		Self: subtensor.AccountID(hotkey.PublicKey()), Log: mlog, Registerer: reg})
	if err != nil {
		return nil, err
	}
	ids, _ := cfg.Weights.MechanismIDs() // checked by Validate
	n.Validator, err = validator.New(validator.Config{
		Netuid: netuid, Hotkey: hotkey, Client: n.Client, Store: n.Store, Mechanism: n.Mechanism, Metagraph: holder,
		Tick: cfg.Weights.BlockTime, EveryBlocks: cfg.Weights.EveryBlocks, Mechanisms: ids,
		Weights: subtensor.WeightOptions{Beacon: &beacon, BlockTime: cfg.Weights.BlockTime},
		Log:     log.With("component", "weights", "netuid", netuid), Registerer: reg,
	})
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	err = n.Validator.Check(cctx)
	cancel()
	if err != nil {
		return nil, err
	}
	for name, check := range n.Validator.HealthChecks() {
		health.Register(name, check)
	}
	for name, check := range n.Mechanism.HealthChecks() {
		health.Register(name, check)
	}

	if n.ops, err = api.New(api.Opts{Listen: cfg.Ops.Listen, Registry: reg, Health: health, Logger: log.With("component", "ops")}); err != nil {
		return nil, fmt.Errorf("ops.listen: %w", err)
	}
	n.closers = append(n.closers, func() { n.ops.Listener().Close() })
	if listen, h := n.Mechanism.Handler(); h != nil {
		if n.publicLn, err = net.Listen("tcp", listen); err != nil {
			return nil, fmt.Errorf("%s.listen: %w", factory.Name, err)
		}
		n.closers = append(n.closers, func() { n.publicLn.Close() })
		n.public = &http.Server{Handler: http.MaxBytesHandler(h, maxRequestBody), ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second}
	}
	log.Info("serving", "netuid", netuid, "mechanism", factory.Name, "hotkey", hotkey.SS58(), "ops", n.OpsAddr(), "api", n.APIAddr())
	return n, nil
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

// OpsAddr is the operations listener's address.
func (n *Node) OpsAddr() string {
	if n.ops == nil {
		return ""
	}
	return n.ops.Addr().String()
}

// APIAddr is the mechanism's public API address, "" when it has none.
func (n *Node) APIAddr() string {
	if n.publicLn == nil {
		return ""
	}
	return n.publicLn.Addr().String()
}

// AddTo adds the node's actors to g: the weight loop, the mechanism's
// loops, the operations listener and the public API. ctx bounds the loops.
func (n *Node) AddTo(ctx context.Context, g *lifecycle.Group) {
	drain := n.cfg.Shutdown.DrainTimeout
	name := n.Mechanism.Name()
	g.Add("weight loop", lifecycle.Context(ctx, n.Validator.Run))
	g.Add(name+" loops", lifecycle.Context(ctx, n.Mechanism.Run))
	g.Add("ops listener", lifecycle.HTTPServer(n.ops.HTTPServer(), n.ops.Listener(), drain))
	if n.public != nil {
		g.Add(name+" public api", lifecycle.HTTPServer(n.public, n.publicLn, drain))
	}
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
