package kaspa

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/vigil-validator/vigil/internal/command"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/registry"
)

const kaspaHelp = `
A Kaspa miner's side of a validator's worker registry (the SN16 bind and
unbind scripts): each worker name must contain the hotkey, and the request is
signed by the hotkey exactly as the reference's script signs it
(json.dumps(..., sort_keys=True, separators=(",", ":"))).

  register --validator URL --worker NAME
      binds the worker to the hotkey; the validator checks that the pool has
      seen the worker under its owner wallet, so connect the rig first
  unbind --validator URL --worker NAME
      releases it (the validator keeps a signed tombstone: the name cannot be
      bound again)

URL is the validator's public API (http://host:8000). The hotkey is the
wallet's (--wallet-path, --wallet-name, --wallet-hotkey; an encrypted hotkey
is decrypted with VIGIL_HOTKEY_PASSWORD) or --uri //Bob on a development
chain. Register with every validator of the subnet: they sync bindings from
each other, but only those with enough stake.`

func runKaspa(env command.Env, args []string) int {
	sub, args, code, ok := command.Subcommand(env, "kaspa", kaspaHelp, args, "register", "unbind")
	if !ok {
		return code
	}
	w := command.WalletFromEnv(env)
	fs := command.NewFlagSet(env, "kaspa "+sub, "kaspa "+sub+" --validator URL --worker NAME [flags]", kaspaHelp)
	validator := fs.String("validator", "", "the validator's public API, http://host:8000 (required)")
	worker := fs.String("worker", "", "the worker name as the rig connects with it; it must contain the hotkey (required)")
	timeout := fs.Duration("timeout", 15*time.Second, "how long to wait for the validator")
	fs.StringVar(&w.Path, "wallet-path", w.Path, "directory holding bittensor wallets [env VIGIL_WALLET_PATH, BT_WALLET_PATH]")
	fs.StringVar(&w.Name, "wallet-name", w.Name, "wallet (coldkey) name [env VIGIL_WALLET_NAME, BT_WALLET_NAME]")
	fs.StringVar(&w.Hotkey, "wallet-hotkey", w.Hotkey, "hotkey name inside the wallet [env VIGIL_WALLET_HOTKEY, BT_WALLET_HOTKEY]")
	uri := fs.String("uri", "", "sign with this key URI instead of the wallet (//Bob on a development chain)")
	if code, ok := command.Parse(env, fs, args); !ok {
		return code
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(env.Stderr, "vigil kaspa %s: %v\n", sub, err)
		return code
	}
	switch u, err := url.Parse(*validator); {
	case fs.NArg() > 0:
		return fail(command.ExitUsage, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	case *validator == "":
		return fail(command.ExitUsage, errors.New("--validator is required"))
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fail(command.ExitUsage, fmt.Errorf("--validator: %q is not an http(s) URL", *validator))
	case *worker == "":
		return fail(command.ExitUsage, errors.New("--worker is required"))
	case *timeout <= 0:
		return fail(command.ExitUsage, errors.New("--timeout must be positive"))
	}
	kp, err := command.LoadHotkey(env, *uri, w)
	if err != nil {
		return fail(command.ExitFailure, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	c := &registry.Client{BaseURL: *validator}
	if sub == "register" {
		err = c.Register(ctx, kp, *worker)
	} else {
		err = c.Unbind(ctx, kp, *worker)
	}
	if err != nil {
		return fail(command.ExitFailure, err)
	}
	verb := "registered"
	if sub == "unbind" {
		verb = "unbound"
	}
	fmt.Fprintf(env.Stdout, "%s worker %s for hotkey %s at %s\n", verb, *worker, kp.SS58(), *validator)
	return command.ExitOK
}

// Tool is `vigil kaspa`.
var Tool = command.Tool{Name: "kaspa", Summary: "register or unbind a Kaspa miner's worker with a validator", Run: runKaspa}
