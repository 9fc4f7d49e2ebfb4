package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/bittensor/wallet"
	"github.com/vigil-validator/vigil/internal/api"
	"github.com/vigil-validator/vigil/internal/buildinfo"
	"github.com/vigil-validator/vigil/internal/computerpc"
	"github.com/vigil-validator/vigil/internal/config"
	"github.com/vigil-validator/vigil/internal/lifecycle"
	"github.com/vigil-validator/vigil/internal/miner"
)

const minerHelp = `
Runs a compute-subnet miner until SIGINT or SIGTERM. Workers ('vigil worker', or
the reference's Python workers) connect to worker_hub.listen over WebSocket.
The miner refuses to start with a hotkey that is not registered on the subnet;
it then picks validators from the metagraph (a validator permit and
validators.min_stake_tao, or validators.whitelist), opens an encrypted session
with each, sends them its workers' heartbeats, polls them for challenges,
hands each challenge to its worker and runs both phases (commitment, then the
proofs the validator asks for), freeing the worker whatever happens. /health
and /metrics are on the operations listener.

Configuration comes from the defaults, then --config FILE (see
config/miner.yaml), then VIGIL_* environment variables, then the flags below.`

func runMiner(env Env, args []string) int {
	return runRole(env, args, "miner", minerHelp, config.DefaultMiner(), env.LookupEnv, nil,
		func(cfg config.Miner) config.Log { return cfg.Log }, minerMain)
}

func minerMain(env Env, cfg config.Miner, logger *slog.Logger) error {
	ctx := context.Background()
	netuid := *cfg.Chain.Netuid
	logger.Info("starting", "build", buildinfo.String(), "network", cfg.Chain.Network, "netuid", netuid)
	hotkey, err := loadHotkey(env, cfg.Wallet.URI, wallet.Wallet{Path: cfg.Wallet.Path, Name: cfg.Wallet.Name, Hotkey: cfg.Wallet.Hotkey})
	if err != nil {
		return err
	}
	endpoint, err := subtensor.Endpoint(cfg.Chain.Network)
	if err != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	rpc, err := substrate.Dial(dctx, substrate.Options{URL: endpoint, Logger: logger})
	cancel()
	if err != nil {
		return fmt.Errorf("connect to %s: %w", endpoint, err)
	}
	defer rpc.Close()
	chain, err := subtensor.New(rpc)
	if err != nil {
		return err
	}
	if err := checkRegistered(ctx, chain, netuid, hotkey); err != nil {
		return err
	}
	if cfg.Axon.Publish {
		if err := publishAxon(ctx, chain, netuid, hotkey, cfg.Axon); err != nil {
			return err
		}
		logger.Info("axon address published", "ip", cfg.Axon.ExternalIP, "port", cfg.Axon.ExternalPort)
	}
	whitelist, _ := cfg.Validators.ParseWhitelist() // validated with the config
	mc := miner.DefaultConfig()
	mc.Netuid, mc.Hotkey = netuid, hotkey
	mc.Selection = miner.Selection{MinStakeRao: uint64(cfg.Validators.MinStakeTAO * 1e9), Whitelist: whitelist}
	mc.BlacklistThreshold, mc.BlacklistTTL = cfg.Validators.BlacklistThreshold, cfg.Validators.BlacklistTTL
	mc.SyncInterval, mc.HeartbeatInterval, mc.PollInterval = cfg.Loops.SyncInterval, cfg.Loops.HeartbeatInterval, cfg.Loops.TaskPollInterval
	mc.Hub.Token, mc.Hub.HeartbeatTimeout = cfg.WorkerHub.Token, cfg.WorkerHub.HeartbeatTimeout
	mc.MinerVersion = buildinfo.Version
	client, err := computerpc.NewClient(hotkey)
	if err != nil {
		return err
	}
	metrics := miner.NewMetrics()
	reg := api.NewRegistry(buildinfo.Version, buildinfo.Commit)
	for _, c := range metrics.Collectors() {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	m := miner.New(mc, logger, chain, client, metrics)
	health := api.NewHealth(5 * time.Second)
	health.Register("metagraph", func(context.Context) error {
		last := m.LastSync()
		if last.IsZero() || time.Since(last) > 3*mc.SyncInterval+time.Minute {
			return fmt.Errorf("no metagraph read since %s", last.Format(time.RFC3339))
		}
		return nil
	})
	ops, err := api.New(api.Opts{Listen: cfg.Ops.Listen, Registry: reg, Health: health, Logger: logger.With("component", "ops")})
	if err != nil {
		return err
	}
	hubLn, err := net.Listen("tcp", cfg.WorkerHub.Listen)
	if err != nil {
		return fmt.Errorf("worker hub: listen on %s: %w", cfg.WorkerHub.Listen, err)
	}
	hubSrv := &http.Server{Handler: m.Hub(), ReadHeaderTimeout: 10 * time.Second}
	logger.Info("serving workers", "listen", hubLn.Addr().String(), "ops", ops.Addr().String(), "hotkey", hotkey.SS58())
	drain := cfg.Shutdown.DrainTimeout
	g := lifecycle.Group{DrainTimeout: drain, Logger: logger}
	g.Add("signals", lifecycle.Signals(os.Interrupt, syscall.SIGTERM))
	g.Add("miner", lifecycle.Context(ctx, m.Run))
	g.Add("worker hub", lifecycle.HTTPServer(hubSrv, hubLn, drain))
	g.Add("ops listener", lifecycle.HTTPServer(ops.HTTPServer(), ops.Listener(), drain))
	if err := g.Run(); err != nil && !lifecycle.IsSignal(err) {
		return err
	}
	logger.Info("stopped cleanly")
	return nil
}

// checkRegistered refuses a hotkey the subnet does not know, as the
// reference miner does at start.
func checkRegistered(ctx context.Context, chain *subtensor.Client, netuid uint16, hotkey *keys.KeyPair) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	mg, err := chain.Metagraph(ctx, netuid, "")
	if err != nil {
		return fmt.Errorf("read the metagraph of subnet %d: %w", netuid, err)
	}
	pub := hotkey.PublicKey()
	for _, n := range mg.Neurons {
		if n.Hotkey == subtensor.AccountID(pub) {
			return nil
		}
	}
	return fmt.Errorf("hotkey %s is not registered on subnet %d; register it first (vigil chain register --netuid %d)", hotkey.SS58(), netuid, netuid)
}

func publishAxon(ctx context.Context, chain *subtensor.Client, netuid uint16, hotkey *keys.KeyPair, a config.Axon) error {
	addr, err := netip.ParseAddr(a.ExternalIP)
	if err != nil {
		return err
	}
	call, err := subtensor.ServeAxon(netuid, 1, netip.AddrPortFrom(addr, uint16(a.ExternalPort)), 4)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := chain.Submit(ctx, hotkey, call, subtensor.SubmitOptions{}); err != nil {
		return fmt.Errorf("publish the axon address: %w", err)
	}
	return nil
}
