// Package cli wires vigil's subcommands: flags, configuration, logging and
// the lifecycle of each role. Business logic lives in the packages it calls.
package cli

import (
	"fmt"
	"io"
	"sort"

	"github.com/vigil-validator/vigil/internal/buildinfo"
	"github.com/vigil-validator/vigil/internal/command"
	"github.com/vigil-validator/vigil/internal/compute"
	"github.com/vigil-validator/vigil/internal/mechanisms"
)

// Exit codes.
const (
	exitOK      = command.ExitOK
	exitFailure = command.ExitFailure
	exitUsage   = command.ExitUsage
)

// Env is what a command may touch of its process, so tests can run
// commands in-process.
type Env = command.Env

// OSEnv is the process's own environment.
func OSEnv() Env { return command.OSEnv() }

type cliCommand struct {
	name    string
	summary string
	run     func(env Env, args []string) int
}

func commands() []cliCommand {
	cmds := []cliCommand{
		{"validator", "run a subnet validator", runValidator},
		{"miner", "run a compute-subnet miner: workers over WebSocket, challenges from validators", runMiner},
		{"worker", "run a compute-subnet worker: matrix challenges and their proofs", runWorker},
		{"localnet", "run a subtensor-compatible development chain", runLocalnet},
		{"demo", "run both subnets locally: chain, validator, Kaspa pool and Prometheus, compute miners and workers", runDemo},
		{"wallet", "manage bittensor wallets and hotkeys", runWallet},
		{"chain", "read the chain (metagraph, hyperparameters); set weights, serve an axon, register", runChain},
		{"db", "migrate and check the database", runDB},
		{"import", "import a reference validator's database (byteleap, hashtensor)", runImport},
		{"weights", "preview the weights the validator would submit, with each miner's factors", runWeights},
		{"challenge", compute.ChallengeTool().Summary, compute.ChallengeTool().Run},
		{"health", "ask a running vigil's /health (for container and supervisor health checks)", runHealth},
		{"version", "print the version", runVersion},
	}
	// The mechanisms' own tools (vigil kaspa, vigil kaspa-sim).
	for _, t := range mechanisms.Tools() {
		cmds = append(cmds, cliCommand{t.Name, t.Summary, t.Run})
	}
	return cmds
}

// Main runs the subcommand named by args[0] and returns the exit code.
func Main(args []string, env Env) int {
	if env.LookupEnv == nil {
		env.LookupEnv = func(string) (string, bool) { return "", false }
	}
	if len(args) == 0 {
		usage(env.Stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return Main([]string{args[1], "--help"}, env)
		}
		usage(env.Stdout)
		return exitOK
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(env, args[1:])
		}
	}
	fmt.Fprintf(env.Stderr, "vigil: unknown command %q\n\n", name)
	usage(env.Stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "vigil is a Bittensor subnet validator, with its miner and worker.\n\nUsage: vigil <command> [flags]\n\nCommands:\n")
	width := 0
	for _, c := range commands() {
		width = max(width, len(c.name))
	}
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-*s %s\n", width, c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'vigil <command> --help' for a command's flags. Every configuration key\ncan also come from a YAML file (--config) or a VIGIL_* environment variable.\n")
}

// The helpers every command is made of (package command).
var (
	newFlagSet    = command.NewFlagSet
	parse         = command.Parse
	subcommand    = command.Subcommand
	loadHotkey    = command.LoadHotkey
	walletFromEnv = command.WalletFromEnv
)

func runVersion(env Env, args []string) int {
	fs := newFlagSet(env, "version", "version", "Prints the version, commit and Go version of this binary.")
	if code, ok := parse(env, fs, args); !ok {
		return code
	}
	fmt.Fprintln(env.Stdout, buildinfo.String())
	return exitOK
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
