package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/vigil-validator/vigil/internal/challenge"
	"github.com/vigil-validator/vigil/internal/demo"
)

const demoHelp = `
Runs two subnets end to end on this machine, every part on loopback, with one
validator node (//Alice) serving both on a development chain (a block every
250ms).

The Kaspa subnet (1): the stratum-bridge simulator with five miners' workers
(//Bob with two honest rigs, //Charlie honest, //Dave idle, //Eve at an
inflated difficulty, //Ferdie flooding shares), a real Prometheus scraping it,
the Kaspa mechanism, and the miners registering their workers through the
validator's /register.

The compute subnet (2): vigil miners with vigil workers (//Bob two fast
workers, //Charlie a throttled one, //Dave one whose results are wrong, //Eve
one that goes offline half the time, //Ferdie one leased through MeshHub),
the compute mechanism on the validator's axon issuing CPU challenges and
verifying them, and a simulated MeshHub publishing the lease.

Every few seconds it prints, per subnet and miner, what the validator made of
it, the weight it set on chain and the incentive the last epoch paid: within
two or three minutes the honest miners take the incentive, the wrong one gets
none and the leased one is paid by its lease. --mechanism runs one subnet
alone; --json prints each refresh as one JSON object per line.

Prometheus (for the Kaspa subnet) is run from $VIGIL_PROMETHEUS_BIN, PATH or /usr/bin/prometheus;
'make demo' installs Debian's package first when it is missing. Ctrl-C (or
--for) stops every part and removes the demo's files unless --dir was given.`

func runDemo(env Env, args []string) int {
	fs := newFlagSet(env, "demo", "demo [--for D] [--dir DIR] [flags]", demoHelp)
	cfg := demo.DefaultConfig()
	runFor := fs.Duration("for", 0, "stop after this long (0: run until Ctrl-C)")
	fs.StringVar(&cfg.Dir, "dir", "", "keep the database, Prometheus data and demo.log here (an empty or new directory; default: a temporary one, removed at the end)")
	fs.DurationVar(&cfg.BlockTime, "block-time", cfg.BlockTime, "the chain's block interval")
	fs.DurationVar(&cfg.Window, "window", cfg.Window, "the rating window")
	fs.DurationVar(&cfg.Refresh, "refresh", cfg.Refresh, "how often the table is printed")
	fs.StringVar(&cfg.APIListen, "api-listen", cfg.APIListen, "address of the validator's public API")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the simulated pool")
	fs.StringVar(&cfg.Mechanism, "mechanism", cfg.Mechanism, "the subnets to run: kaspa, compute or both")
	fs.BoolVar(&cfg.JSON, "json", false, "print each refresh as one JSON object per line instead of a table")
	fs.DurationVar(&cfg.ChallengeInterval, "challenge-interval", cfg.ChallengeInterval, "the compute subnet's challenge round (whole seconds)")
	fs.IntVar(&cfg.MatrixSize, "matrix-size", cfg.MatrixSize, "the compute subnet's CPU challenge size")
	if code, ok := parse(env, fs, args); !ok {
		return code
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(env.Stderr, "vigil demo: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	case *runFor < 0:
		fmt.Fprintln(env.Stderr, "vigil demo: --for: must not be negative")
		return exitUsage
	case cfg.BlockTime < 50*time.Millisecond || cfg.BlockTime > time.Minute:
		fmt.Fprintln(env.Stderr, "vigil demo: --block-time: want 50ms to 1m")
		return exitUsage
	case cfg.Window < time.Minute:
		fmt.Fprintln(env.Stderr, "vigil demo: --window: at least 1m")
		return exitUsage
	case cfg.Refresh < 100*time.Millisecond:
		fmt.Fprintln(env.Stderr, "vigil demo: --refresh: at least 100ms")
		return exitUsage
	case cfg.Mechanism != demo.MechanismKaspa && cfg.Mechanism != demo.MechanismCompute && cfg.Mechanism != demo.MechanismBoth:
		fmt.Fprintf(env.Stderr, "vigil demo: --mechanism %q: want kaspa, compute or both\n", cfg.Mechanism)
		return exitUsage
	case cfg.ChallengeInterval < time.Second || cfg.ChallengeInterval%time.Second != 0:
		fmt.Fprintln(env.Stderr, "vigil demo: --challenge-interval: whole seconds, at least 1s")
		return exitUsage
	case cfg.MatrixSize < challenge.MinSize || cfg.MatrixSize > 1000:
		fmt.Fprintf(env.Stderr, "vigil demo: --matrix-size: %d to 1000\n", challenge.MinSize)
		return exitUsage
	}
	cfg.Out = env.Stdout
	if f, ok := env.Stdout.(*os.File); ok && !cfg.JSON {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			cfg.Redraw = true
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *runFor > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *runFor)
		defer cancel()
	}
	if err := demo.Run(ctx, cfg); err != nil {
		fmt.Fprintf(env.Stderr, "vigil demo: %v\n", err)
		if errors.Is(err, demo.ErrNoPrometheus) {
			return exitUsage
		}
		return exitFailure
	}
	return exitOK
}
