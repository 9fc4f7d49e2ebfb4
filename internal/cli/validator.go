package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/bittensor/timelock"
	"github.com/vigil-validator/vigil/bittensor/wallet"
	"github.com/vigil-validator/vigil/internal/api"
	"github.com/vigil-validator/vigil/internal/buildinfo"
	"github.com/vigil-validator/vigil/internal/config"
	"github.com/vigil-validator/vigil/internal/lifecycle"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/validator"
)

const validatorHelp = `
Runs a subnet validator until SIGINT or SIGTERM: opens and migrates the
database, checks that the hotkey is registered on the subnet, keeps a fresh
metagraph, scores miners with the subnet's mechanism and puts weights on chain
at the subnet's cadence (set_weights, or a drand-timelocked commit when
commit-reveal is on), journaling every attempt. It serves /health and /metrics
on the operations listener and the mechanism's public API on its own (kaspa:
/register, /unbind, /mappings, /hotkey_workers, /metrics, /ratings). On a
signal, in-flight work drains for at most shutdown.drain_timeout and the
process exits 0.

Configuration comes from the defaults, then --config FILE (see
config/validator.yaml), then VIGIL_* environment variables (the SN16
validator's WALLET_NAME, PROMETHEUS_ENDPOINT, KASPA_POOL_OWNER_WALLET,
SUBTENSOR_NETWORK, … are read too), then the flags below. VIGIL_CONFIG names
the file when --config is not given.`

// configFlag registers --config, defaulting to $VIGIL_CONFIG.
func configFlag(env Env, fs *flag.FlagSet) *string {
	def, _ := env.LookupEnv("VIGIL_CONFIG")
	return fs.String("config", def, "YAML configuration file [env VIGIL_CONFIG]")
}

func runValidator(env Env, args []string) int {
	defaults := config.DefaultValidator()
	fs := newFlagSet(env, "validator", "validator [--config FILE] [flags]", validatorHelp)
	file := configFlag(env, fs)
	flags := config.BindFlags(fs, config.Keys(&defaults))
	if code, ok := parse(env, fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "vigil validator: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	lookup, envName := config.SN16EnvNamed(env.LookupEnv)
	cfg, err := config.LoadRole(defaults, config.Source{File: *file, LookupEnv: lookup, EnvName: envName, Flags: flags})
	if err != nil {
		fmt.Fprintf(env.Stderr, "vigil validator: %v\n", err)
		return exitUsage
	}
	logger := newLogger(env.Stderr, cfg.Log)
	if err := validatorMain(env, cfg, logger); err != nil {
		logger.Error("validator stopped with an error", "err", err)
		return exitFailure
	}
	return exitOK
}

func validatorMain(env Env, cfg config.Validator, logger *slog.Logger) error {
	ctx := context.Background()
	netuid := *cfg.Chain.Netuid
	logger.Info("starting", "build", buildinfo.String(), "network", cfg.Chain.Network, "netuid", netuid, "mechanism", cfg.Mechanism)

	reg := api.NewRegistry(buildinfo.Version, buildinfo.Commit)
	health := api.NewHealth(5 * time.Second)

	st, err := store.Open(ctx, store.Options{
		URL:          cfg.Database.URL,
		MaxOpenConns: cfg.Database.MaxOpenConns,
		BusyTimeout:  cfg.Database.BusyTimeout,
		Registerer:   reg,
	})
	if err != nil {
		return err
	}
	defer st.Close()
	applied, err := st.Migrate(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", st, err)
	}
	for _, m := range applied {
		logger.Info("applied migration", "version", m.Version, "name", m.Name)
	}
	status, err := st.Check(ctx)
	if err != nil {
		return err
	}
	logger.Info("database ready", "database", st.String(), "schema_version", status.Version)
	health.Register("database", st.Health)

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
	client, _ := subtensor.New(rpc)
	beacon, err := validatorBeacon(ctx, rpc, cfg.Weights.Beacon, logger)
	if err != nil {
		return err
	}
	mechanisms, _ := cfg.Weights.MechanismIDs() // validated with the configuration
	// The mechanism reads the validator's metagraph; the validator is
	// built right after it.
	var v *validator.Validator
	metagraph := func() *subtensor.Metagraph { return v.Metagraph() }
	k := cfg.Kaspa
	mech, err := kaspa.New(kaspaConfig(k), kaspa.Deps{Store: st, Metagraph: metagraph, Self: subtensor.AccountID(hotkey.PublicKey()), Log: logger, Registerer: reg})
	if err != nil {
		return err
	}
	v, err = validator.New(validator.Config{
		Netuid: netuid, Hotkey: hotkey, Client: client, Store: st, Mechanism: mech, Tick: cfg.Weights.BlockTime,
		EveryBlocks: cfg.Weights.EveryBlocks, Weights: subtensor.WeightOptions{Beacon: &beacon, BlockTime: cfg.Weights.BlockTime},
		Mechanisms: mechanisms,
		Log:        logger, Registerer: reg,
	})
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	err = v.Check(cctx)
	cancel()
	if err != nil {
		return err
	}
	for name, check := range v.HealthChecks() {
		health.Register(name, check)
	}

	ops, err := api.New(api.Opts{Listen: cfg.Ops.Listen, Registry: reg, Health: health, Logger: logger})
	if err != nil {
		return fmt.Errorf("ops.listen: %w", err)
	}
	publicLn, err := net.Listen("tcp", k.Listen)
	if err != nil {
		return fmt.Errorf("kaspa.listen: %w", err)
	}
	public := &http.Server{Handler: http.MaxBytesHandler(mech.Handler(), 1<<20), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second}
	logger.Info("serving", "ops", ops.Addr().String(), "api", publicLn.Addr().String(), "hotkey", hotkey.SS58())

	recordEvent(ctx, st, logger, "validator.started", map[string]any{"version": buildinfo.Version, "netuid": netuid})
	g := lifecycle.Group{DrainTimeout: cfg.Shutdown.DrainTimeout, Logger: logger}
	g.Add("signals", lifecycle.Signals(os.Interrupt, syscall.SIGTERM))
	g.Add("weight loop", lifecycle.Context(ctx, v.Run))
	g.Add("registry sync", lifecycle.Context(ctx, mech.Run))
	g.Add("ops listener", lifecycle.HTTPServer(ops.HTTPServer(), ops.Listener(), cfg.Shutdown.DrainTimeout))
	g.Add("public api", lifecycle.HTTPServer(public, publicLn, cfg.Shutdown.DrainTimeout))
	err = g.Run()
	if err != nil && !lifecycle.IsSignal(err) {
		return err
	}
	recordEvent(ctx, st, logger, "validator.stopped", map[string]any{"reason": fmt.Sprint(err)})
	logger.Info("stopped cleanly")
	return nil
}

// kaspaConfig hands the validated kaspa section to the mechanism as it is:
// the configuration holds every default, and an explicit 0 (rating_alpha,
// min_peer_stake) is a setting there, not a request for the default.
func kaspaConfig(k config.Kaspa) kaspa.Config {
	return kaspa.Config{
		PrometheusURL: k.PrometheusEndpoint, PoolWallet: k.PoolWallet, Window: k.Window, RatingAlpha: &k.RatingAlpha,
		MaxDifficulty: k.MaxDifficulty, MaxWorkersPerHotkey: k.MaxWorkersPerHotkey, TimeTolerance: k.RegistrationSkew,
		MinPeerStake: &k.MinPeerStake, SyncInterval: k.SyncInterval, RatingsTTL: k.RatingsTTL,
	}
}

// validatorBeacon resolves weights.beacon: auto asks the chain for a
// localnet beacon and falls back to drand quicknet.
func validatorBeacon(ctx context.Context, rpc *substrate.Client, spec string, logger *slog.Logger) (timelock.Beacon, error) {
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
		logger.Info("timelocked commits use the localnet's beacon")
		return b, nil
	}
	return timelock.ParseBeacon("quicknet")
}

// recordEvent writes to the audit trail; a failure is logged, not fatal,
// because the trail must never stop the validator.
func recordEvent(ctx context.Context, st *store.Store, logger *slog.Logger, kind string, detail any) {
	b, _ := json.Marshal(detail)
	if _, err := st.AppendEvent(ctx, store.Event{Kind: kind, Detail: b}); err != nil {
		logger.Warn("could not record event", "kind", kind, "err", err)
	}
}
