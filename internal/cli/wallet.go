package cli

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
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
  new-coldkey [--wallet-name N] [--words 12] [--overwrite] [--no-password]
      creates a coldkey (coldkey, coldkeypub.txt) from a new random mnemonic,
      encrypted as btcli encrypts it ($NACL: Argon2i and secretbox) with the
      password in VIGIL_COLDKEY_PASSWORD; --no-password writes it in
      plaintext. The mnemonic is printed once.
  regen-coldkey [--wallet-name N] (--mnemonic "WORDS" | --mnemonic-file F | --seed 0xHEX) [--overwrite] [--no-password]
      restores a coldkey from its mnemonic or seed, encrypted the same way
  regen-hotkey [--wallet-name N] [--wallet-hotkey H] (--mnemonic "WORDS" | --mnemonic-file F | --seed 0xHEX) [--overwrite]
      restores a hotkey from its mnemonic or seed
  list [--json]
      the wallets under --wallet-path with their coldkey and hotkey addresses
  show [--wallet-name N] [--wallet-hotkey H] [--json]
      one hotkey's SS58 address and public key, and its coldkey's address

Secrets are never printed except a new mnemonic, and nothing is ever
decrypted: list and show read public files (coldkeypub.txt,
hotkeys/<hotkey>pub.txt) or the plaintext hotkey's public fields. A mnemonic
given with --mnemonic is visible to other users of the machine (the process
list, the shell history): prefer --mnemonic-file.

Flags default to VIGIL_WALLET_PATH, VIGIL_WALLET_NAME and VIGIL_WALLET_HOTKEY,
then to the SDK's BT_WALLET_PATH, BT_WALLET_NAME and BT_WALLET_HOTKEY, then to
~/.bittensor/wallets, "default" and "default".`

type walletFlags struct {
	w            wallet.Wallet
	words        int
	overwrite    bool
	asJSON       bool
	noPassword   bool
	mnemonic     string
	mnemonicFile string
	seed         string
	password     string // from VIGIL_COLDKEY_PASSWORD
}

func runWallet(env Env, args []string) int {
	subs := map[string]func(Env, walletFlags) error{
		"new-hotkey":    walletNewHotkey,
		"new-coldkey":   walletNewColdkey,
		"regen-coldkey": walletRegenColdkey,
		"regen-hotkey":  walletRegenHotkey,
		"list":          walletList,
		"show":          walletShow,
	}
	sub, args, code, ok := subcommand(env, "wallet", walletHelp, args, "new-hotkey", "new-coldkey", "regen-coldkey", "regen-hotkey", "list", "show")
	if !ok {
		return code
	}
	run := subs[sub]
	f := walletFlags{w: walletFromEnv(env)}
	fs := newFlagSet(env, "wallet "+sub, "wallet "+sub+" [flags]", walletHelp)
	fs.StringVar(&f.w.Path, "wallet-path", f.w.Path, "directory holding bittensor wallets [env VIGIL_WALLET_PATH, BT_WALLET_PATH]")
	if sub != "list" {
		fs.StringVar(&f.w.Name, "wallet-name", f.w.Name, "wallet (coldkey) name [env VIGIL_WALLET_NAME, BT_WALLET_NAME]")
	}
	if sub != "list" && !isColdkeySub(sub) {
		fs.StringVar(&f.w.Hotkey, "wallet-hotkey", f.w.Hotkey, "hotkey name inside the wallet [env VIGIL_WALLET_HOTKEY, BT_WALLET_HOTKEY]")
	}
	switch sub {
	case "list", "show":
		fs.BoolVar(&f.asJSON, "json", false, "print JSON instead of text")
	default:
		fs.BoolVar(&f.overwrite, "overwrite", false, "replace an existing key of that name (it is lost unless you kept its mnemonic)")
	}
	if strings.HasPrefix(sub, "new-") {
		fs.IntVar(&f.words, "words", 12, "mnemonic length: 12, 15, 18, 21 or 24 words")
	}
	if strings.HasPrefix(sub, "regen-") {
		fs.StringVar(&f.mnemonic, "mnemonic", "", "the key's mnemonic, its words separated by spaces")
		fs.StringVar(&f.mnemonicFile, "mnemonic-file", "", "read the mnemonic from this file (kept out of the process list)")
		fs.StringVar(&f.seed, "seed", "", "the key's 32-byte seed (mini secret) in hex, instead of a mnemonic")
	}
	if isColdkeySub(sub) {
		fs.BoolVar(&f.noPassword, "no-password", false, "write the coldkey unencrypted (anyone who reads the file controls the key)")
	}
	if code, ok := parse(env, fs, args); !ok {
		return code
	}
	if isColdkeySub(sub) && !f.noPassword {
		pw, ok := env.LookupEnv("VIGIL_COLDKEY_PASSWORD")
		if !ok || pw == "" {
			fmt.Fprintf(env.Stderr, "vigil wallet %s: set VIGIL_COLDKEY_PASSWORD to the password to encrypt the coldkey with, or pass --no-password\n", sub)
			return exitUsage
		}
		f.password = pw
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
	if !isColdkeySub(sub) {
		if err := wallet.ValidateName(f.w.Hotkey); err != nil {
			return fmt.Errorf("--wallet-hotkey: %w", err)
		}
	}
	if strings.HasPrefix(sub, "regen-") {
		given := 0
		for _, v := range []string{f.mnemonic, f.mnemonicFile, f.seed} {
			if v != "" {
				given++
			}
		}
		if given != 1 {
			return errors.New("give exactly one of --mnemonic, --mnemonic-file and --seed")
		}
	}
	if strings.HasPrefix(sub, "new-") {
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
	if err := printKey(env, "created hotkey", f.w.Name+"/"+f.w.Hotkey, f.w.HotkeyPath, "", kp); err != nil {
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

func isColdkeySub(sub string) bool { return sub == "new-coldkey" || sub == "regen-coldkey" }

// maxMnemonicFile bounds what --mnemonic-file reads.
const maxMnemonicFile = 4 << 10

// regenKey is the key (and its mnemonic, "" for a seed) that --mnemonic,
// --mnemonic-file or --seed name.
func (f walletFlags) regenKey() (*keys.KeyPair, string, error) {
	if f.seed != "" {
		b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(f.seed), "0x"))
		if err != nil || len(b) != 32 {
			return nil, "", errors.New("--seed: want 32 bytes of hex")
		}
		kp, err := keys.FromSeed([32]byte(b))
		clear(b)
		return kp, "", err
	}
	phrase := f.mnemonic
	if f.mnemonicFile != "" {
		fi, err := os.Stat(f.mnemonicFile)
		if err != nil {
			return nil, "", err
		}
		if fi.Size() > maxMnemonicFile {
			return nil, "", fmt.Errorf("--mnemonic-file: %d bytes, not a mnemonic", fi.Size())
		}
		b, err := os.ReadFile(f.mnemonicFile)
		if err != nil {
			return nil, "", err
		}
		phrase = string(b)
	}
	phrase = strings.Join(strings.Fields(phrase), " ")
	kp, err := keys.FromMnemonic(phrase, "")
	if err != nil {
		// The error never quotes the phrase: it is a secret.
		return nil, "", errors.New("the mnemonic is not a valid BIP-39 phrase (check the words and their order)")
	}
	return kp, phrase, nil
}

func walletNewColdkey(env Env, f walletFlags) error {
	kp, mnemonic, err := wallet.CreateColdkey(f.w, f.words, f.password, f.overwrite)
	if err != nil {
		return keyWriteError(err)
	}
	if err := printColdkey(env, f, kp, "created"); err != nil {
		return err
	}
	_, err = fmt.Fprintf(env.Stdout, "\nmnemonic (shown only this once; anyone who has it controls this coldkey and its TAO):\n\n    %s\n\n"+
		"Write it down and keep it offline.\n", mnemonic)
	return err
}

func walletRegenColdkey(env Env, f walletFlags) error {
	kp, mnemonic, err := f.regenKey()
	if err != nil {
		return err
	}
	if err := wallet.WriteColdkey(f.w, kp, mnemonic, f.password, f.overwrite); err != nil {
		return keyWriteError(err)
	}
	return printColdkey(env, f, kp, "restored")
}

func walletRegenHotkey(env Env, f walletFlags) error {
	kp, mnemonic, err := f.regenKey()
	if err != nil {
		return err
	}
	if err := wallet.WriteHotkey(f.w, kp, mnemonic, f.overwrite); err != nil {
		return keyWriteError(err)
	}
	return printKey(env, "restored hotkey", f.w.Name+"/"+f.w.Hotkey, f.w.HotkeyPath, "", kp)
}

func keyWriteError(err error) error {
	if errors.Is(err, wallet.ErrExists) {
		return fmt.Errorf("%w; pass --overwrite to replace it", err)
	}
	return err
}

func printColdkey(env Env, f walletFlags, kp *keys.KeyPair, verb string) error {
	how := ", encrypted ($NACL)"
	if f.password == "" {
		how = ", NOT encrypted"
	}
	return printKey(env, verb+" coldkey", f.w.Name, f.w.ColdkeyPath, how, kp)
}

// printKey prints what was written: the key's name, its file and mode, its
// address and public key (never a secret).
func printKey(env Env, what, name string, path func() (string, error), how string, kp *keys.KeyPair) error {
	p, err := path()
	if err != nil {
		return err
	}
	pub := kp.PublicKey()
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\t%s\n", what, name)
	fmt.Fprintf(tw, "keyfile\t%s (mode 0600%s)\n", p, how)
	fmt.Fprintf(tw, "ss58 address\t%s\n", pub.SS58())
	fmt.Fprintf(tw, "public key\t0x%s\n", hex.EncodeToString(pub[:]))
	return tw.Flush()
}
