package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/vigil-validator/vigil/internal/lifecycle"
	"github.com/vigil-validator/vigil/internal/localnet"
)

const localnetHelp = `
Runs a development chain that speaks subtensor's JSON-RPC, so that vigil, the
Python SDK or polkadot-js connect to it as to finney: blocks every
--block-time, signed extrinsics checked as subtensor checks them, the
weight-setting calls (set_weights, commit/reveal, drand-timelocked commits),
serve_axon and burned_register, a drand-like beacon, and Yuma epochs.

Without --genesis the dev accounts //Alice … //Ferdie hold a million TAO each
and subnet 1 (tempo 10, owner //Alice) has //Alice as validator and //Bob,
//Charlie and //Dave as miners. With --state the chain is saved there on exit
and resumed from it on start.

Timelocked commits must be encrypted to this chain's beacon, not drand's: it is
printed at start and answered by the localnet_beacon RPC; pass it to
'vigil chain set-weights --beacon'. localnet_setHyperparameter(netuid, name,
value) changes a subnet parameter from the next block on.`

func runLocalnet(env Env, args []string) int {
	fs := newFlagSet(env, "localnet", "localnet [--listen ADDR] [--block-time D] [--genesis FILE] [--state FILE]", localnetHelp)
	listen := fs.String("listen", "127.0.0.1:9944", "address of the JSON-RPC WebSocket")
	blockTime := fs.Duration("block-time", 12*time.Second, "interval between blocks")
	lag := fs.Uint64("finality-lag", 2, "blocks the finalized head trails the best block")
	genesisFile := fs.String("genesis", "", "YAML genesis: accounts and subnets (default: the dev genesis)")
	stateFile := fs.String("state", "", "save the chain here on exit and resume from it on start")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if code, ok := parse(env, fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "vigil localnet: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if *blockTime < 10*time.Millisecond {
		fmt.Fprintln(env.Stderr, "vigil localnet: --block-time: at least 10ms")
		return exitUsage
	}
	logger, err := flagLogger(env.Stderr, *logLevel)
	if err != nil {
		fmt.Fprintf(env.Stderr, "vigil localnet: %v\n", err)
		return exitUsage
	}
	if err := localnetMain(env, logger, *listen, *blockTime, *lag, *genesisFile, *stateFile); err != nil {
		fmt.Fprintf(env.Stderr, "vigil localnet: %v\n", err)
		return exitFailure
	}
	return exitOK
}

func localnetMain(env Env, logger *slog.Logger, listen string, blockTime time.Duration, lag uint64, genesisFile, stateFile string) error {
	var st *localnet.State
	var saved *localnet.Saved
	var err error
	if stateFile != "" {
		saved, err = localnet.LoadState(stateFile)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			saved = nil
		case err != nil:
			return err
		case len(saved.Hashes) == 0 && saved.State.Number > 0:
			logger.Warn("the state file was written by an older vigil and has no genesis hash: the chain resumes under a new genesis, so clients must reconnect",
				"state", stateFile, "block", saved.State.Number)
		default:
			logger.Info("resuming saved chain", "state", stateFile, "block", saved.State.Number, "genesis", fmt.Sprintf("%#x", saved.Genesis))
		}
	}
	if saved == nil {
		g := localnet.DefaultGenesis()
		if genesisFile != "" {
			if g, err = localnet.LoadGenesis(genesisFile); err != nil {
				return err
			}
		}
		if st, err = g.State(); err != nil {
			return fmt.Errorf("genesis: %w", err)
		}
	}
	cfg := localnet.Config{BlockTime: blockTime, FinalityLag: lag, Log: logger}
	var chain *localnet.Chain
	if saved != nil {
		chain, err = localnet.Resume(cfg, saved)
	} else {
		chain, err = localnet.New(cfg, st)
	}
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: localnet.NewServer(chain), ReadHeaderTimeout: 10 * time.Second}
	genesis := chain.Genesis()
	fmt.Fprintf(env.Stdout, "localnet: ws://%s, genesis 0x%x, block time %s\nbeacon: %s\n", ln.Addr(), genesis, blockTime, chain.Beacon())
	g := lifecycle.Group{DrainTimeout: 5 * time.Second, Logger: logger}
	g.Add("signals", lifecycle.Signals(os.Interrupt, syscall.SIGTERM))
	g.Add("chain", lifecycle.Context(context.Background(), chain.Run))
	g.Add("rpc", lifecycle.HTTPServer(srv, ln, 2*time.Second))
	err = g.Run()
	if stateFile != "" {
		if serr := chain.SaveState(stateFile); serr != nil {
			return fmt.Errorf("save state: %w", serr)
		}
		logger.Info("saved chain", "state", stateFile, "block", chain.Head().Number)
	}
	if err != nil && !lifecycle.IsSignal(err) {
		return err
	}
	return nil
}
