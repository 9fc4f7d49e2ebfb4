// Package cli wires vigil's subcommands: flags, configuration, logging and
// the lifecycle of each role. Business logic lives in the packages it calls.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/vigil-validator/vigil/internal/buildinfo"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed
	exitUsage   = 2 // bad flags or configuration, or a command that is not built
)

// Env is what a command may touch of its process, so tests can run commands
// in-process.
type Env struct {
	Stdout, Stderr io.Writer
	LookupEnv      func(string) (string, bool)
}

// OSEnv is the process's own environment.
func OSEnv() Env { return Env{Stdout: os.Stdout, Stderr: os.Stderr, LookupEnv: os.LookupEnv} }

type command struct {
	name    string
	summary string
	run     func(env Env, args []string) int
}

func commands() []command {
	return []command{
		{"validator", "run a subnet validator", runValidator},
		{"miner", "run a compute-subnet miner", notBuilt("miner", "the compute miner (validator sessions, heartbeats, task relay, worker hub)")},
		{"worker", "run a compute-subnet worker", notBuilt("worker", "the compute worker (matrix challenges and proofs)")},
		{"localnet", "run a subtensor-compatible development chain", runLocalnet},
		{"demo", "run the whole Kaspa subnet locally: chain, pool, Prometheus, validator, miners", runDemo},
		{"kaspa", "register or unbind a Kaspa miner's worker with a validator", runKaspa},
		{"kaspa-sim", "simulate a Kaspa stratum bridge's metrics", runKaspaSim},
		{"wallet", "manage bittensor wallets and hotkeys", runWallet},
		{"chain", "read the chain (metagraph, hyperparameters); set weights, serve an axon, register", runChain},
		{"db", "migrate and check the database", runDB},
		{"version", "print the version", runVersion},
	}
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
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'vigil <command> --help' for a command's flags. Every configuration key\ncan also come from a YAML file (--config) or a VIGIL_* environment variable.\n")
}

// newFlagSet returns a flag set that prints a command's help to stdout on
// --help and errors to stderr.
func newFlagSet(env Env, name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet("vigil "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: vigil %s\n\n%s\n", synopsis, strings.TrimSpace(description))
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintf(w, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses args, printing help to stdout for --help. It returns the exit
// code to use and whether the command should go on.
func parse(env Env, fs *flag.FlagSet, args []string) (int, bool) {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(env.Stdout)
		fs.Usage()
		return exitOK, false
	}
	fs.SetOutput(env.Stderr)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\nRun '%s --help' for usage.\n", fs.Name(), err, fs.Name())
		return exitUsage, false
	}
	return exitOK, true
}

// subcommand takes "<sub> [flags]" off args for a command whose
// subcommands are subs. Without one it prints the help (for --help) or a
// usage error, and ok is false; so it is for an unknown one.
func subcommand(env Env, name, help string, args []string, subs ...string) (sub string, rest []string, code int, ok bool) {
	quoted := make([]string, len(subs))
	for i, s := range subs {
		quoted[i] = "'" + s + "'"
	}
	choice := quoted[len(quoted)-1]
	if len(quoted) > 1 {
		choice = strings.Join(quoted[:len(quoted)-1], ", ") + " or " + choice
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := newFlagSet(env, name, name+" "+strings.Join(subs, "|")+" [flags]", help)
		if code, ok := parse(env, fs, args); !ok {
			return "", nil, code, false
		}
		fmt.Fprintf(env.Stderr, "vigil %s: want %s; run 'vigil %s --help'\n", name, choice, name)
		return "", nil, exitUsage, false
	}
	if !slices.Contains(subs, args[0]) {
		fmt.Fprintf(env.Stderr, "vigil %s: unknown command %q; run 'vigil %s --help'\n", name, args[0], name)
		return "", nil, exitUsage, false
	}
	return args[0], args[1:], exitOK, true
}

func notBuilt(name, what string) func(Env, []string) int {
	return func(env Env, args []string) int {
		fs := newFlagSet(env, name, name, fmt.Sprintf("Not built yet: %s does not exist in this version of vigil.", what))
		if code, ok := parse(env, fs, args); !ok {
			return code
		}
		fmt.Fprintf(env.Stderr, "vigil %s: not built yet: %s does not exist in this version of vigil; nothing was started.\n", name, what)
		return exitUsage
	}
}

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
