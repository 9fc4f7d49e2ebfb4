// Package command is what vigil's subcommands are made of: the process
// environment they may touch, their exit codes, flag sets that print help
// the same way everywhere, and the hotkey and wallet lookups signing
// commands share. internal/cli builds vigil's commands with it; a
// mechanism adds its own operator tools (see mechanism.Factory.Tools).
package command

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/wallet"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1 // the command ran and failed
	ExitUsage   = 2 // bad flags or configuration, or a command that is not built
)

// Env is what a command may touch of its process, so tests can run
// commands in-process.
type Env struct {
	Stdin          io.Reader // nil reads as empty
	Stdout, Stderr io.Writer
	LookupEnv      func(string) (string, bool)
}

// OSEnv is the process's own environment.
func OSEnv() Env {
	return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, LookupEnv: os.LookupEnv}
}

// Tool is a command a mechanism adds to vigil: its miners' side, a
// simulator.
type Tool struct {
	Name, Summary string
	Run           func(env Env, args []string) int
}

// NewFlagSet returns a flag set that prints a command's help to stdout on
// --help and errors to stderr.
func NewFlagSet(env Env, name, synopsis, description string) *flag.FlagSet {
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

// Parse parses args, printing help to stdout for --help. It returns the
// exit code to use and whether the command should go on.
func Parse(env Env, fs *flag.FlagSet, args []string) (int, bool) {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(env.Stdout)
		fs.Usage()
		return ExitOK, false
	}
	fs.SetOutput(env.Stderr)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\nRun '%s --help' for usage.\n", fs.Name(), err, fs.Name())
		return ExitUsage, false
	}
	return ExitOK, true
}

// Subcommand takes "<sub> [flags]" off args for a command whose
// subcommands are subs. Without one it prints the help (for --help) or a
// usage error, and ok is false; so it is for an unknown one.
func Subcommand(env Env, name, help string, args []string, subs ...string) (sub string, rest []string, code int, ok bool) {
	quoted := make([]string, len(subs))
	for i, s := range subs {
		quoted[i] = "'" + s + "'"
	}
	choice := quoted[len(quoted)-1]
	if len(quoted) > 1 {
		choice = strings.Join(quoted[:len(quoted)-1], ", ") + " or " + choice
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := NewFlagSet(env, name, name+" "+strings.Join(subs, "|")+" [flags]", help)
		if code, ok := Parse(env, fs, args); !ok {
			return "", nil, code, false
		}
		fmt.Fprintf(env.Stderr, "vigil %s: want %s; run 'vigil %s --help'\n", name, choice, name)
		return "", nil, ExitUsage, false
	}
	if !slices.Contains(subs, args[0]) {
		fmt.Fprintf(env.Stderr, "vigil %s: unknown command %q; run 'vigil %s --help'\n", name, args[0], name)
		return "", nil, ExitUsage, false
	}
	return args[0], args[1:], ExitOK, true
}

// LoadHotkey loads the signing hotkey of a command or the validator: the
// dev key uri names when set, else the wallet's hotkey, decrypted with
// VIGIL_HOTKEY_PASSWORD when it is encrypted.
func LoadHotkey(env Env, uri string, w wallet.Wallet) (*keys.KeyPair, error) {
	if uri != "" {
		return keys.FromURI(uri)
	}
	kp, err := wallet.LoadHotkey(w)
	if errors.Is(err, wallet.ErrEncrypted) {
		pw, ok := env.LookupEnv("VIGIL_HOTKEY_PASSWORD")
		if !ok {
			return nil, fmt.Errorf("%w: set VIGIL_HOTKEY_PASSWORD", err)
		}
		return wallet.DecryptHotkey(w, pw)
	}
	return kp, err
}

// WalletFromEnv applies VIGIL_WALLET_* and then BT_WALLET_* over the SDK
// defaults.
func WalletFromEnv(env Env) wallet.Wallet {
	w := wallet.Default()
	pick := func(dst *string, names ...string) {
		for _, n := range names {
			if v, ok := env.LookupEnv(n); ok && v != "" {
				*dst = v
				return
			}
		}
	}
	pick(&w.Path, "VIGIL_WALLET_PATH", wallet.EnvPath)
	pick(&w.Name, "VIGIL_WALLET_NAME", wallet.EnvName)
	pick(&w.Hotkey, "VIGIL_WALLET_HOTKEY", wallet.EnvHotkey)
	return w
}

// CheckLogLevel accepts the levels log.level takes; commands with a
// --log-level flag of their own check it here, so both accept the same.
func CheckLogLevel(level string) error {
	switch level {
	case "debug", "info", "warn", "error":
		return nil
	}
	return fmt.Errorf("unsupported level %q (want debug, info, warn or error)", level)
}

// FlagLogger builds the text logger of a command's --log-level flag.
func FlagLogger(w io.Writer, level string) (*slog.Logger, error) {
	if err := CheckLogLevel(level); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // checked above
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
