package kaspasim

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/vigil-validator/vigil/internal/command"
	"github.com/vigil-validator/vigil/internal/lifecycle"
)

const kaspaSimHelp = `
Serves what HashTensor's Kaspa stratum bridge exports to Prometheus, for
simulated workers, so the Kaspa subnet's validator runs without a Kaspa
network: point a Prometheus at /metrics, register the workers, and rate them.

The metrics are the bridge's, with its names, types and labels (worker,
miner, wallet, ip): ks_valid_share_counter, ks_valid_share_diff_counter (in
hashValue units, difficulty x 4.294967296), ks_invalid_share_counter{type},
ks_hashrate_violation_counter{violation_type}, ks_blocks_mined,
ks_mined_blocks_gauge, ks_worker_disconnect_counter, ks_worker_job_counter,
ks_balance_by_wallet_gauge, the network gauges, ks_miner_uptime_seconds (the
unix time of connect, deleted on disconnect) and ks_miner_work_seconds_total
(+10 every 10 s while the last share is at most 60 s old). Difficulty follows
the bridge's vardiff (20 shares/min, rounded down to a power of two).

Profiles (--profiles name:count,...; workers beyond the list are honest;
without --profiles, --workers N takes the first N of the default mix):
  honest        always connected, 22-30 shares/min at a vardiff difficulty
                under the rating's cap; work-seconds without gaps
  idle          connected, never submits: no shares, no work-seconds
  intermittent  mines 4-12 min, goes away 2-6 min, reconnects: the uptime
                series disappears and comes back with a new connect time
  inflated      an honest share rate at a fixed difficulty far above the
                rating's cap (its difficulty penalty)
  flooding      240-360 shares/min at a fixed low difficulty (its share-rate
                penalty)
  invalid       mines like honest, but a quarter of its submissions are
                stale, duplicate, weak or invalid

Worker names are "<hotkey>-rig<n>", so each can be registered to the hotkey it
embeds. --foreign adds honest workers that mine to other wallets, which a
validator must not count. Without --hotkeys each worker gets its own dev
hotkey: //Bob, //Charlie, //Dave, //Eve, //Ferdie, then //Miner6, //Miner7...
/workers lists the workers, their hotkeys and profiles as JSON; --json prints
the same on one line at start.

With --speed X the simulation runs X times faster than the clock (counters
grow X times faster); the uptime gauge still holds clock time. The same
--seed and flags give the same workers and the same run.`

// maxSimWorkers bounds --workers and --foreign: the simulator is for tests
// and demos, and each worker costs a step every simulated second.
const maxSimWorkers = 1000

func runKaspaSim(env command.Env, args []string) int {
	fs := command.NewFlagSet(env, "kaspa-sim", "kaspa-sim [--listen ADDR] [--workers N] [--profiles SPEC] [--wallet ADDR] [--hotkeys LIST] [--seed N] [--speed X]", kaspaSimHelp)
	listen := fs.String("listen", "", "address of the metrics server (default 127.0.0.1:2114, or :2115 with --deployment highdiff)")
	deployment := fs.String("deployment", string(Main), "bridge simulated: main (:2114, GPUs and small ASICs) or highdiff (:2115, large ASICs)")
	workers := fs.Int("workers", 8, "workers mining to the pool-owner wallet")
	profiles := fs.String("profiles", DefaultMix().String(), "profile of each worker, in order: name:count,... (honest, idle, intermittent, inflated, flooding, invalid)")
	foreign := fs.Int("foreign", 1, "additional honest workers, each mining to its own other wallet")
	wallet := fs.String("wallet", DefaultWallet, "pool-owner wallet (a kaspa: address)")
	hotkeys := fs.String("hotkeys", "", "comma-separated hotkeys (SS58, 0x public key or //Name dev URI), assigned to workers in turn (default: one dev hotkey per worker)")
	seed := fs.Uint64("seed", 1, "seed of the simulation")
	speed := fs.Float64("speed", 1, fmt.Sprintf("simulated seconds per second, more than 0 and at most %d", MaxSpeed))
	asJSON := fs.Bool("json", false, "print the workers as one line of JSON at start instead of a table")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if code, ok := command.Parse(env, fs, args); !ok {
		return code
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	cfg, err := kaspaSimConfig(fs, set, kaspaSimFlags{
		deployment: *deployment, workers: *workers, profiles: *profiles, foreign: *foreign,
		wallet: *wallet, hotkeys: *hotkeys, seed: *seed, speed: *speed,
	})
	if err == nil {
		cfg.Logger, err = command.FlagLogger(env.Stderr, *logLevel)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "vigil kaspa-sim: %v\n", err)
		return command.ExitUsage
	}
	if *listen == "" {
		*listen = fmt.Sprintf("127.0.0.1:%d", cfg.Deployment.Port())
	}
	if err := kaspaSimMain(env, cfg, *listen, *asJSON); err != nil {
		fmt.Fprintf(env.Stderr, "vigil kaspa-sim: %v\n", err)
		return command.ExitFailure
	}
	return command.ExitOK
}

type kaspaSimFlags struct {
	deployment, profiles, wallet, hotkeys string
	workers, foreign                      int
	seed                                  uint64
	speed                                 float64
}

// kaspaSimConfig turns the flags into a simulation config; every error is a
// usage error naming its flag.
func kaspaSimConfig(fs *flag.FlagSet, set map[string]bool, f kaspaSimFlags) (Config, error) {
	var cfg Config
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	d, err := ParseDeployment(f.deployment)
	if err != nil {
		return cfg, fmt.Errorf("--deployment: %w", err)
	}
	if f.workers < 0 || f.workers > maxSimWorkers {
		return cfg, fmt.Errorf("--workers: %d: want 0 to %d", f.workers, maxSimWorkers)
	}
	if f.foreign < 0 || f.foreign > maxSimWorkers {
		return cfg, fmt.Errorf("--foreign: %d: want 0 to %d", f.foreign, maxSimWorkers)
	}
	mix, err := ParseMix(f.profiles)
	if err != nil {
		return cfg, fmt.Errorf("--profiles: %w", err)
	}
	var ps []Profile
	switch {
	case !set["profiles"]:
		// The default mix is cut to --workers, so "--workers 3" alone works.
		all, _ := mix.Expand(max(f.workers, mix.Total()))
		ps = all[:f.workers]
	case !set["workers"]:
		ps, _ = mix.Expand(0)
	default:
		if ps, err = mix.Expand(f.workers); err != nil {
			return cfg, fmt.Errorf("--profiles %s: %w", mix, err)
		}
	}
	if len(ps)+f.foreign == 0 {
		return cfg, fmt.Errorf("--workers and --foreign: no workers to simulate")
	}
	w, err := NormalizeWallet(f.wallet)
	if err != nil {
		return cfg, fmt.Errorf("--wallet: %w", err)
	}
	var hks []Hotkey
	if strings.TrimSpace(f.hotkeys) == "" {
		if set["hotkeys"] {
			return cfg, fmt.Errorf("--hotkeys: empty")
		}
		if hks, err = DevHotkeys(len(ps) + f.foreign); err != nil {
			return cfg, err
		}
	} else {
		for item := range strings.SplitSeq(f.hotkeys, ",") {
			hk, err := ParseHotkey(strings.TrimSpace(item))
			if err != nil {
				return cfg, fmt.Errorf("--hotkeys: %w", err)
			}
			hks = append(hks, hk)
		}
	}
	if !(f.speed > 0 && f.speed <= MaxSpeed) {
		return cfg, fmt.Errorf("--speed: %v: want more than 0 and at most %d", f.speed, MaxSpeed)
	}
	return Config{
		Wallet: w, Hotkeys: hks, Profiles: ps, Foreign: f.foreign,
		Deployment: d, Seed: f.seed, Speed: f.speed,
	}, nil
}

func kaspaSimMain(env command.Env, cfg Config, listen string, asJSON bool) error {
	sim, err := New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	if err := printSimWorkers(env, sim, ln.Addr().String(), asJSON); err != nil {
		ln.Close()
		return err
	}
	g := lifecycle.Group{DrainTimeout: 5 * time.Second, Logger: cfg.Logger}
	g.Add("signals", lifecycle.Signals(os.Interrupt, syscall.SIGTERM))
	g.Add("simulation", lifecycle.Context(context.Background(), sim.Run))
	g.Add("metrics", lifecycle.HTTPServer(srv, ln, 2*time.Second))
	if err := g.Run(); err != nil && !lifecycle.IsSignal(err) {
		return err
	}
	return nil
}

func printSimWorkers(env command.Env, sim *Sim, addr string, asJSON bool) error {
	snap := sim.Snapshot()
	if asJSON {
		b, err := json.Marshal(struct {
			Metrics string `json:"metrics"`
			Snapshot
		}{"http://" + addr + "/metrics", snap})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(env.Stdout, "%s\n", b)
		return err
	}
	fmt.Fprintf(env.Stdout, "kaspa-sim: http://%s/metrics (%s bridge), %d workers, seed %d, speed %v\nowner wallet: %s\n\n",
		addr, snap.Deployment, len(snap.Workers), snap.Seed, snap.Speed, snap.Wallet)
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKER\tPROFILE\tWALLET\tHOTKEY\tMINER\tIP")
	for _, w := range snap.Workers {
		wallet := "owner"
		if !w.OwnerWallet {
			wallet = w.Wallet
		}
		hk := w.HotkeyURI
		if hk == "" {
			hk = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", w.Name, w.Profile, wallet, hk, w.Miner, w.IP)
	}
	return tw.Flush()
}

// Tool is `vigil kaspa-sim`.
var Tool = command.Tool{Name: "kaspa-sim", Summary: "simulate a Kaspa stratum bridge's metrics", Run: runKaspaSim}
