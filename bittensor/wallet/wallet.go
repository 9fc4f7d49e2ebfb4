// Package wallet reads and writes Bittensor wallets in the layout the
// Python and Rust SDKs (btwallet) use:
//
//	<path>/<name>/coldkey              encrypted ($NACL) keyfile
//	<path>/<name>/coldkeypub.txt       public part of the coldkey
//	<path>/<name>/hotkeys/<hotkey>     plaintext keyfile
//	<path>/<name>/hotkeys/<hotkey>pub.txt
//
// Keyfiles are JSON objects (see ParseKeyfile); coldkeys are normally
// encrypted with the "$NACL" scheme (see Encrypt). A validator only needs its
// hotkey (LoadHotkey); the coldkey is never needed for validating.
//
// No error returned by this package contains secret material (mnemonics,
// seeds, private keys, passwords); paths and public keys may appear.
package wallet

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Defaults, as in the Bittensor SDKs.
const (
	DefaultPath   = "~/.bittensor/wallets"
	DefaultName   = "default"
	DefaultHotkey = "default"
)

// Environment variables the SDKs read (see WithEnv).
const (
	EnvName   = "BT_WALLET_NAME"
	EnvHotkey = "BT_WALLET_HOTKEY"
	EnvPath   = "BT_WALLET_PATH"
)

// File and directory names inside a wallet.
const (
	coldkeyFile    = "coldkey"
	coldkeyPubFile = "coldkeypub.txt"
	hotkeysDir     = "hotkeys"
	pubSuffix      = "pub.txt"
)

// maxNameLen keeps "<name>pub.txt" within common file name limits.
const maxNameLen = 255 - len(pubSuffix)

// ErrInvalidName is returned (wrapped) for a wallet or hotkey name that is
// empty, "." or "..", too long, or contains a path separator or NUL.
var ErrInvalidName = errors.New("wallet: invalid name")

// Wallet names a wallet and one of its hotkeys. Path may start with "~"
// (the user's home directory); an empty Path means DefaultPath.
type Wallet struct {
	Path   string
	Name   string
	Hotkey string
}

// Default returns the default wallet (DefaultPath, DefaultName,
// DefaultHotkey).
func Default() Wallet {
	return Wallet{Path: DefaultPath, Name: DefaultName, Hotkey: DefaultHotkey}
}

// WithEnv returns w with BT_WALLET_NAME, BT_WALLET_HOTKEY and BT_WALLET_PATH
// applied where they are set and not empty.
func (w Wallet) WithEnv() Wallet {
	if v := os.Getenv(EnvName); v != "" {
		w.Name = v
	}
	if v := os.Getenv(EnvHotkey); v != "" {
		w.Hotkey = v
	}
	if v := os.Getenv(EnvPath); v != "" {
		w.Path = v
	}
	return w
}

// String describes the wallet for logs.
func (w Wallet) String() string {
	return fmt.Sprintf("wallet %q hotkey %q at %q", w.Name, w.Hotkey, w.Path)
}

// ValidateName checks a wallet or hotkey name: not empty, not "." or "..",
// no path separators ('/' or '\\') or NUL bytes, at most 248 bytes.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrInvalidName)
	case name == "." || name == "..":
		return fmt.Errorf("%w: %q", ErrInvalidName, name)
	case strings.ContainsAny(name, `/\`+"\x00") || strings.ContainsRune(name, os.PathSeparator):
		return fmt.Errorf("%w: %q contains a path separator or NUL", ErrInvalidName, name)
	case len(name) > maxNameLen:
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidName, maxNameLen)
	}
	return nil
}

// Validate checks the wallet and hotkey names.
func (w Wallet) Validate() error {
	if err := ValidateName(w.Name); err != nil {
		return fmt.Errorf("wallet name: %w", err)
	}
	if err := ValidateName(w.Hotkey); err != nil {
		return fmt.Errorf("hotkey name: %w", err)
	}
	return nil
}

// ExpandPath replaces a leading "~" or "~/" with the user's home directory
// and cleans the result. "~user" forms are not supported.
func ExpandPath(p string) (string, error) {
	if p == "" {
		return "", errors.New("wallet: empty path")
	}
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, "~"+string(os.PathSeparator)) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("wallet: expanding %q: %w", p, err)
		}
		return filepath.Join(home, p[1:]), nil
	}
	if strings.HasPrefix(p, "~") {
		return "", fmt.Errorf("wallet: path %q: only ~ and ~/ are expanded", p)
	}
	return filepath.Clean(p), nil
}

func (w Wallet) root() (string, error) {
	p := w.Path
	if p == "" {
		p = DefaultPath
	}
	return ExpandPath(p)
}

// Dir returns the wallet's directory, <path>/<name>.
func (w Wallet) Dir() (string, error) {
	if err := ValidateName(w.Name); err != nil {
		return "", fmt.Errorf("wallet name: %w", err)
	}
	root, err := w.root()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, w.Name), nil
}

func (w Wallet) walletFile(elem ...string) (string, error) {
	dir, err := w.Dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(append([]string{dir}, elem...)...), nil
}

// ColdkeyPath returns <path>/<name>/coldkey.
func (w Wallet) ColdkeyPath() (string, error) { return w.walletFile(coldkeyFile) }

// ColdkeyPubPath returns <path>/<name>/coldkeypub.txt.
func (w Wallet) ColdkeyPubPath() (string, error) { return w.walletFile(coldkeyPubFile) }

// HotkeysDir returns <path>/<name>/hotkeys.
func (w Wallet) HotkeysDir() (string, error) { return w.walletFile(hotkeysDir) }

// HotkeyPath returns <path>/<name>/hotkeys/<hotkey>.
func (w Wallet) HotkeyPath() (string, error) {
	if err := ValidateName(w.Hotkey); err != nil {
		return "", fmt.Errorf("hotkey name: %w", err)
	}
	return w.walletFile(hotkeysDir, w.Hotkey)
}

// HotkeyPubPath returns <path>/<name>/hotkeys/<hotkey>pub.txt.
func (w Wallet) HotkeyPubPath() (string, error) {
	if err := ValidateName(w.Hotkey); err != nil {
		return "", fmt.Errorf("hotkey name: %w", err)
	}
	return w.walletFile(hotkeysDir, w.Hotkey+pubSuffix)
}
