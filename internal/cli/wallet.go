package cli

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"text/tabwriter"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/wallet"
)

const walletHelp = `
Manages bittensor wallets in the layout the Python SDK and btcli use
(<path>/<name>/{coldkey,coldkeypub.txt,hotkeys/<hotkey>}).

  new-hotkey [--wallet-name N] [--wallet-hotkey H] [--words 12] [--overwrite]
      creates a hotkey from a new random mnemonic; the files are written 0600
      in directories 0700. The mnemonic is printed once, here, and nowhere
      else: write it down.
  list [--json]
      the wallets under --wallet-path with their coldkey and hotkey addresses
  show [--wallet-name N] [--wallet-hotkey H] [--json]
      one hotkey's SS58 address and public key, and its coldkey's address

Secrets are never printed except the new mnemonic, and nothing is ever
decrypted: list and show read public files (coldkeypub.txt,
hotkeys/<hotkey>pub.txt) or the plaintext hotkey's public fields.

Flags default to VIGIL_WALLET_PATH, VIGIL_WALLET_NAME and VIGIL_WALLET_HOTKEY,
then to the SDK's BT_WALLET_PATH, BT_WALLET_NAME and BT_WALLET_HOTKEY, then to
~/.bittensor/wallets, "default" and "default".`

type walletFlags struct {
	w         wallet.Wallet
	words     int
	overwrite bool
	asJSON    bool
}

func runWallet(env Env, args []string) int {
	subs := map[string]func(Env, walletFlags) error{
		"new-hotkey": walletNewHotkey,
		"list":       walletList,
		"show":       walletShow,
	}
	sub, args, code, ok := subcommand(env, "wallet", walletHelp, args, "new-hotkey", "list", "show")
	if !ok {
		return code
	}
	run := subs[sub]
	f := walletFlags{w: walletFromEnv(env)}
	fs := newFlagSet(env, "wallet "+sub, "wallet "+sub+" [flags]", walletHelp)
	fs.StringVar(&f.w.Path, "wallet-path", f.w.Path, "directory holding bittensor wallets [env VIGIL_WALLET_PATH, BT_WALLET_PATH]")
	if sub != "list" {
		fs.StringVar(&f.w.Name, "wallet-name", f.w.Name, "wallet (coldkey) name [env VIGIL_WALLET_NAME, BT_WALLET_NAME]")
		fs.StringVar(&f.w.Hotkey, "wallet-hotkey", f.w.Hotkey, "hotkey name inside the wallet [env VIGIL_WALLET_HOTKEY, BT_WALLET_HOTKEY]")
	}
	if sub == "new-hotkey" {
		fs.IntVar(&f.words, "words", 12, "mnemonic length: 12, 15, 18, 21 or 24 words")
		fs.BoolVar(&f.overwrite, "overwrite", false, "replace an existing hotkey of that name (its key is lost unless you kept its mnemonic)")
	} else {
		fs.BoolVar(&f.asJSON, "json", false, "print JSON instead of text")
	}
	if code, ok := parse(env, fs, args); !ok {
		return code
	}
	if err := f.validate(fs, sub); err != nil {
		fmt.Fprintf(env.Stderr, "vigil wallet %s: %v\n", sub, err)
		return exitUsage
	}
	if err := run(env, f); err != nil {
		fmt.Fprintf(env.Stderr, "vigil wallet %s: %v\n", sub, err)
		return exitFailure
	}
	return exitOK
}

// walletFromEnv applies VIGIL_WALLET_* and then BT_WALLET_* over the SDK
// defaults.
func walletFromEnv(env Env) wallet.Wallet {
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

func (f walletFlags) validate(fs *flag.FlagSet, sub string) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if f.w.Path == "" {
		return errors.New("--wallet-path: empty")
	}
	if sub == "list" {
		return nil
	}
	if err := wallet.ValidateName(f.w.Name); err != nil {
		return fmt.Errorf("--wallet-name: %w", err)
	}
	if err := wallet.ValidateName(f.w.Hotkey); err != nil {
		return fmt.Errorf("--wallet-hotkey: %w", err)
	}
	if sub == "new-hotkey" {
		switch f.words {
		case 12, 15, 18, 21, 24:
		default:
			return fmt.Errorf("--words: %d: want 12, 15, 18, 21 or 24", f.words)
		}
	}
	return nil
}

func walletNewHotkey(env Env, f walletFlags) error {
	kp, mnemonic, err := wallet.CreateHotkey(f.w, f.words, f.overwrite)
	if errors.Is(err, wallet.ErrExists) {
		return fmt.Errorf("%w; pass --overwrite to replace it", err)
	}
	if err != nil {
		return err
	}
	path, err := f.w.HotkeyPath()
	if err != nil {
		return err
	}
	pub := kp.PublicKey()
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "created hotkey\t%s/%s\n", f.w.Name, f.w.Hotkey)
	fmt.Fprintf(tw, "keyfile\t%s (mode 0600)\n", path)
	fmt.Fprintf(tw, "ss58 address\t%s\n", pub.SS58())
	fmt.Fprintf(tw, "public key\t0x%s\n", hex.EncodeToString(pub[:]))
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(env.Stdout, "\nmnemonic (shown only this once; anyone who has it controls this hotkey):\n\n    %s\n\n"+
		"Write it down and keep it offline. It is stored in the keyfile above, which must stay private.\n", mnemonic)
	return err
}

type hotkeyJSON struct {
	Name      string `json:"name"`
	SS58      string `json:"ss58,omitempty"`
	Encrypted bool   `json:"encrypted"`
}

type walletJSON struct {
	Name       string       `json:"name"`
	Path       string       `json:"path"`
	Coldkey    string       `json:"coldkey,omitempty"`
	HasColdkey bool         `json:"has_coldkey"`
	Hotkeys    []hotkeyJSON `json:"hotkeys"`
}

func walletList(env Env, f walletFlags) error {
	dir, err := wallet.ExpandPath(f.w.Path)
	if err != nil {
		return err
	}
	infos, err := wallet.List(dir)
	if err != nil {
		return err
	}
	out := make([]walletJSON, 0, len(infos))
	for _, in := range infos {
		wj := walletJSON{Name: in.Name, Path: in.Dir, Coldkey: in.ColdkeyPub, HasColdkey: in.HasColdkey, Hotkeys: []hotkeyJSON{}}
		for _, h := range in.Hotkeys {
			wj.Hotkeys = append(wj.Hotkeys, hotkeyJSON{Name: h.Name, SS58: h.SS58, Encrypted: h.Encrypted})
		}
		out = append(out, wj)
	}
	if f.asJSON {
		return writeJSON(env.Stdout, map[string]any{"path": dir, "wallets": out})
	}
	if len(out) == 0 {
		_, err := fmt.Fprintf(env.Stdout, "no wallets under %s\n", dir)
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WALLET\tKEY\tSS58")
	for _, w := range out {
		cold := w.Coldkey
		if cold == "" {
			cold = "-"
		}
		fmt.Fprintf(tw, "%s\tcoldkey\t%s\n", w.Name, cold)
		for _, h := range w.Hotkeys {
			addr := h.SS58
			switch {
			case addr == "" && h.Encrypted:
				addr = "(encrypted, no pub file)"
			case addr == "":
				addr = "(unreadable)"
			}
			fmt.Fprintf(tw, "\thotkey %s\t%s\n", h.Name, addr)
		}
	}
	return tw.Flush()
}

func walletShow(env Env, f walletFlags) error {
	pub, err := wallet.LoadHotkeyPub(f.w)
	if errors.Is(err, fs.ErrNotExist) {
		dir, _ := wallet.ExpandPath(f.w.Path)
		return fmt.Errorf("no hotkey %q in wallet %q under %s; create one with 'vigil wallet new-hotkey'", f.w.Hotkey, f.w.Name, dir)
	}
	if err != nil {
		return err
	}
	path, err := f.w.HotkeyPath()
	if err != nil {
		return err
	}
	cold := ""
	if c, err := wallet.LoadColdkeyPub(f.w); err == nil {
		cold = c.SS58()
	}
	if f.asJSON {
		return writeJSON(env.Stdout, struct {
			Wallet     string `json:"wallet"`
			Hotkey     string `json:"hotkey"`
			Path       string `json:"path"`
			SS58       string `json:"ss58"`
			PublicKey  string `json:"public_key"`
			Coldkey    string `json:"coldkey,omitempty"`
			SS58Format uint16 `json:"ss58_format"`
		}{f.w.Name, f.w.Hotkey, path, pub.SS58(), "0x" + hex.EncodeToString(pub[:]), cold, keys.SS58PrefixBittensor})
	}
	if cold == "" {
		cold = "- (no coldkeypub.txt)"
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "wallet\t%s\n", f.w.Name)
	fmt.Fprintf(tw, "hotkey\t%s\n", f.w.Hotkey)
	fmt.Fprintf(tw, "keyfile\t%s\n", path)
	fmt.Fprintf(tw, "ss58 address\t%s\n", pub.SS58())
	fmt.Fprintf(tw, "public key\t0x%s\n", hex.EncodeToString(pub[:]))
	fmt.Fprintf(tw, "coldkey\t%s\n", cold)
	return tw.Flush()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
