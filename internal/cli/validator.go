package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"syscall"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/wallet"
	"github.com/vigil-validator/vigil/internal/buildinfo"
	"github.com/vigil-validator/vigil/internal/config"
	"github.com/vigil-validator/vigil/internal/lifecycle"
	"github.com/vigil-validator/vigil/internal/node"
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
	lookup, envName := config.SN16EnvNamed(env.LookupEnv)
	return runRole(env, args, "validator", validatorHelp, config.DefaultValidator(), lookup, envName,
		func(cfg config.Validator) config.Log { return cfg.Log }, validatorMain)
}

// runRole is a long-running role's command: its configuration from the
// defaults, --config, the environment and the flags, a logger, and main
// until it stops.
func runRole[T interface{ Validate() error }](env Env, args []string, name, help string, defaults T,
	lookup func(string) (string, bool), envName func(string) string,
	logOf func(T) config.Log, main func(Env, T, *slog.Logger) error) int {
	fs := newFlagSet(env, name, name+" [--config FILE] [flags]", help)
	file := configFlag(env, fs)
	flags := config.BindFlags(fs, config.Keys(&defaults))
	if code, ok := parse(env, fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "vigil %s: unexpected argument %q\n", name, fs.Arg(0))
		return exitUsage
	}
	cfg, err := config.LoadRole(defaults, config.Source{File: *file, LookupEnv: lookup, EnvName: envName, Flags: flags})
	if err != nil {
		fmt.Fprintf(env.Stderr, "vigil %s: %v\n", name, err)
		return exitUsage
	}
	logger := newLogger(env.Stderr, logOf(cfg))
	if err := main(env, cfg, logger); err != nil {
		logger.Error(name+" stopped with an error", "err", err)
		return exitFailure
	}
	return exitOK
}

func validatorMain(env Env, cfg config.Validator, logger *slog.Logger) error {
	ctx := context.Background()
	logger.Info("starting", "build", buildinfo.String(), "network", cfg.Chain.Network, "netuid", *cfg.Chain.Netuid, "mechanism", cfg.Mechanism)
	hotkey := func() (*keys.KeyPair, error) {
		return loadHotkey(env, cfg.Wallet.URI, wallet.Wallet{Path: cfg.Wallet.Path, Name: cfg.Wallet.Name, Hotkey: cfg.Wallet.Hotkey})
	}
	n, err := node.New(ctx, cfg, hotkey, logger)
	if err != nil {
		return err
	}
	defer n.Close()
	n.Event(ctx, "validator.started", map[string]any{"version": buildinfo.Version, "netuid": *cfg.Chain.Netuid})
	g := lifecycle.Group{DrainTimeout: cfg.Shutdown.DrainTimeout, Logger: logger}
	g.Add("signals", lifecycle.Signals(os.Interrupt, syscall.SIGTERM))
	n.AddTo(ctx, &g)
	err = g.Run()
	if err != nil && !lifecycle.IsSignal(err) {
		return err
	}
	n.Event(ctx, "validator.stopped", map[string]any{"reason": fmt.Sprint(err)})
	logger.Info("stopped cleanly")
	return nil
}
