package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/vigil-validator/vigil/internal/api"
	"github.com/vigil-validator/vigil/internal/buildinfo"
	"github.com/vigil-validator/vigil/internal/config"
	"github.com/vigil-validator/vigil/internal/lifecycle"
	"github.com/vigil-validator/vigil/internal/store"
)

const validatorHelp = `
Runs a subnet validator until SIGINT or SIGTERM: loads the configuration,
opens and migrates the database, and serves /health and /metrics on the
operations listener. On a signal, in-flight work drains for at most
shutdown.drain_timeout and the process exits 0.

Configuration comes from the defaults, then --config FILE (see
config/validator.yaml), then VIGIL_* environment variables, then the flags
below. VIGIL_CONFIG names the file when --config is not given.`

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
	cfg, err := config.LoadRole(defaults, config.Source{File: *file, LookupEnv: env.LookupEnv, Flags: flags})
	if err != nil {
		fmt.Fprintf(env.Stderr, "vigil validator: %v\n", err)
		return exitUsage
	}
	logger := newLogger(env.Stderr, cfg.Log)
	if err := validatorMain(cfg, logger); err != nil {
		logger.Error("validator stopped with an error", "err", err)
		return exitFailure
	}
	return exitOK
}

func validatorMain(cfg config.Validator, logger *slog.Logger) error {
	ctx := context.Background()
	logger.Info("starting", "build", buildinfo.String(), "network", cfg.Chain.Network, "netuid", *cfg.Chain.Netuid)

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
	health.Register("database", st.Ping)

	ops, err := api.New(api.Opts{Listen: cfg.Ops.Listen, Registry: reg, Health: health, Logger: logger})
	if err != nil {
		return err
	}
	logger.Info("ops listener serving /health and /metrics", "addr", ops.Addr().String())
	logger.Warn("the chain connection, metagraph and weight loop are not built yet: this validator sets no weights")

	recordEvent(ctx, st, logger, "validator.started", map[string]any{"version": buildinfo.Version, "netuid": *cfg.Chain.Netuid})
	g := lifecycle.Group{DrainTimeout: cfg.Shutdown.DrainTimeout, Logger: logger}
	g.Add("signals", lifecycle.Signals(os.Interrupt, syscall.SIGTERM))
	g.Add("ops listener", lifecycle.HTTPServer(ops.HTTPServer(), ops.Listener(), cfg.Shutdown.DrainTimeout))
	err = g.Run()
	if err != nil && !lifecycle.IsSignal(err) {
		return err
	}
	recordEvent(ctx, st, logger, "validator.stopped", map[string]any{"reason": fmt.Sprint(err)})
	logger.Info("stopped cleanly")
	return nil
}

// recordEvent writes to the audit trail; a failure is logged, not fatal,
// because the trail must never stop the validator.
func recordEvent(ctx context.Context, st *store.Store, logger *slog.Logger, kind string, detail any) {
	b, _ := json.Marshal(detail)
	if _, err := st.AppendEvent(ctx, store.Event{Kind: kind, Detail: b}); err != nil {
		logger.Warn("could not record event", "kind", kind, "err", err)
	}
}
