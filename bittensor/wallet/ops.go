package wallet

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vigil-validator/vigil/bittensor/keys"
)

// loadPair reads a keyfile that must hold a secret key, decrypting it with
// password when it is encrypted and decrypt is set.
func loadPair(path, password string, decrypt bool) (*keys.KeyPair, error) {
	data, err := readKeyfile(path)
	if err != nil {
		return nil, err
	}
	if IsEncrypted(data) {
		if !decrypt {
			if lerr := legacyFormat(data); lerr != nil {
				return nil, fmt.Errorf("%s: %w", path, lerr)
			}
			return nil, fmt.Errorf("%s: %w (a password is needed)", path, ErrEncrypted)
		}
		plain, err := Decrypt(data, password)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer clear(plain)
		data = plain
	}
	k, err := ParseKeyfile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if k.Pair == nil {
		return nil, fmt.Errorf("%s: %w", path, ErrNoSecret)
	}
	return k.Pair, nil
}

// loadPublic reads the public key of a plaintext keyfile.
func loadPublic(path string) (keys.PublicKey, error) {
	data, err := readKeyfile(path)
	if err != nil {
		return keys.PublicKey{}, err
	}
	k, err := ParseKeyfile(data)
	if err != nil {
		return keys.PublicKey{}, fmt.Errorf("%s: %w", path, err)
	}
	return k.Public, nil
}

// LoadHotkey loads the wallet's hotkey (hotkeys/<hotkey>, plaintext as the
// SDKs write it). An encrypted hotkey gives an error matching ErrEncrypted;
// use DecryptHotkey for it.
func LoadHotkey(w Wallet) (*keys.KeyPair, error) {
	path, err := w.HotkeyPath()
	if err != nil {
		return nil, err
	}
	return loadPair(path, "", false)
}

// DecryptHotkey loads the wallet's hotkey, decrypting it with password if it
// is encrypted ($NACL; a few seconds and 512 MiB).
func DecryptHotkey(w Wallet, password string) (*keys.KeyPair, error) {
	path, err := w.HotkeyPath()
	if err != nil {
		return nil, err
	}
	return loadPair(path, password, true)
}

// LoadHotkeyPub returns the public key of the wallet's hotkey from
// hotkeys/<hotkey>pub.txt, or, when that file does not exist, from the
// plaintext hotkey file.
func LoadHotkeyPub(w Wallet) (keys.PublicKey, error) {
	pubPath, err := w.HotkeyPubPath()
	if err != nil {
		return keys.PublicKey{}, err
	}
	pub, err := loadPublic(pubPath)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return pub, err
	}
	path, err := w.HotkeyPath()
	if err != nil {
		return keys.PublicKey{}, err
	}
	return loadPublic(path)
}

// LoadColdkeyPub returns the coldkey's public key from coldkeypub.txt.
func LoadColdkeyPub(w Wallet) (keys.PublicKey, error) {
	path, err := w.ColdkeyPubPath()
	if err != nil {
		return keys.PublicKey{}, err
	}
	return loadPublic(path)
}

// DecryptColdkey loads the coldkey, decrypting it with password ($NACL; a
// few seconds and 512 MiB). A wrong password gives an error matching
// ErrWrongPassword. An unencrypted coldkey is read as is.
func DecryptColdkey(w Wallet, password string) (*keys.KeyPair, error) {
	path, err := w.ColdkeyPath()
	if err != nil {
		return nil, err
	}
	return loadPair(path, password, true)
}

// CreateHotkey creates a hotkey from a new random mnemonic of words words (12,
// 15, 18, 21 or 24; 0 means 12) and writes it (see WriteHotkey). It returns
// the key pair and the mnemonic, which the caller should show to the user
// once and otherwise keep out of logs.
func CreateHotkey(w Wallet, words int, overwrite bool) (*keys.KeyPair, string, error) {
	if err := w.Validate(); err != nil {
		return nil, "", err
	}
	mnemonic, err := keys.NewMnemonic(words)
	if err != nil {
		return nil, "", err
	}
	kp, err := keys.FromMnemonic(mnemonic, "")
	if err != nil {
		return nil, "", err
	}
	if err := WriteHotkey(w, kp, mnemonic, overwrite); err != nil {
		return nil, "", err
	}
	return kp, mnemonic, nil
}

// WriteHotkey writes hotkeys/<hotkey> (plaintext keyfile, see EncodeKeyfile;
// mnemonic may be empty) and hotkeys/<hotkey>pub.txt. Files get mode 0600
// and directories this creates 0700, whatever the umask; each file is
// replaced atomically. Unless overwrite is set, an existing hotkey or
// hotkey pub file is left alone and the error wraps ErrExists.
func WriteHotkey(w Wallet, kp *keys.KeyPair, mnemonic string, overwrite bool) error {
	if err := w.Validate(); err != nil {
		return err
	}
	path, err := w.HotkeyPath()
	if err != nil {
		return err
	}
	pubPath, err := w.HotkeyPubPath()
	if err != nil {
		return err
	}
	data, err := EncodeKeyfile(kp, mnemonic)
	if err != nil {
		return err
	}
	defer clear(data)
	return writePair(path, pubPath, data, kp.PublicKey(), overwrite)
}

// WriteColdkey writes coldkey and coldkeypub.txt as btcli does: the keyfile
// (see EncodeKeyfile; mnemonic may be empty) encrypted with password in the
// $NACL format (a few seconds; see Encrypt), or in plaintext when password
// is "", and the public keyfile beside it. Files, directories and overwrite
// as for WriteHotkey.
func WriteColdkey(w Wallet, kp *keys.KeyPair, mnemonic, password string, overwrite bool) error {
	if err := ValidateName(w.Name); err != nil {
		return fmt.Errorf("wallet name: %w", err)
	}
	path, err := w.ColdkeyPath()
	if err != nil {
		return err
	}
	pubPath, err := w.ColdkeyPubPath()
	if err != nil {
		return err
	}
	plain, err := EncodeKeyfile(kp, mnemonic)
	if err != nil {
		return err
	}
	defer clear(plain)
	data := plain
	if password != "" {
		if data, err = Encrypt(plain, password); err != nil {
			return err
		}
	}
	return writePair(path, pubPath, data, kp.PublicKey(), overwrite)
}

// CreateColdkey creates a coldkey from a new random mnemonic of words words
// and writes it (see WriteColdkey). It returns the key pair and the
// mnemonic, to be shown to the user once.
func CreateColdkey(w Wallet, words int, password string, overwrite bool) (*keys.KeyPair, string, error) {
	mnemonic, err := keys.NewMnemonic(words)
	if err != nil {
		return nil, "", err
	}
	kp, err := keys.FromMnemonic(mnemonic, "")
	if err != nil {
		return nil, "", err
	}
	if err := WriteColdkey(w, kp, mnemonic, password, overwrite); err != nil {
		return nil, "", err
	}
	return kp, mnemonic, nil
}

// writePair writes a keyfile and its public keyfile (0600 files, 0700
// directories, each replaced atomically), refusing existing ones unless
// overwrite is set.
func writePair(path, pubPath string, data []byte, pub keys.PublicKey, overwrite bool) error {
	if !overwrite {
		for _, p := range []string{path, pubPath} {
			ok, err := exists(p)
			if err != nil {
				return err
			}
			if ok {
				return fmt.Errorf("%w: %s", ErrExists, p)
			}
		}
	}
	if err := mkdirPrivate(filepath.Dir(path)); err != nil {
		return err
	}
	if err := WriteFileAtomic(path, data, overwrite); err != nil {
		return err
	}
	if err := WriteFileAtomic(pubPath, EncodePublicKeyfile(pub), overwrite); err != nil {
		if !overwrite {
			_ = os.Remove(path) // we created it just now
		}
		return err
	}
	return nil
}

// Info describes one wallet found by List.
type Info struct {
	Name string
	Dir  string
	// ColdkeyPub is the coldkey's SS58 address from coldkeypub.txt, "" when
	// that file is missing or unreadable.
	ColdkeyPub string
	// HasColdkey reports whether a coldkey file exists.
	HasColdkey bool
	Hotkeys    []HotkeyInfo
}

// HotkeyInfo describes one hotkey of a wallet.
type HotkeyInfo struct {
	Name string
	// SS58 is the hotkey's address, from <hotkey>pub.txt or the plaintext
	// hotkey file; "" when neither could be read.
	SS58 string
	// Encrypted reports whether the hotkey file is encrypted.
	Encrypted bool
}

// List returns the wallets under path (sorted by name): its subdirectories
// with a valid name, not starting with ".", that hold a coldkey,
// coldkeypub.txt or hotkeys directory. A missing path gives no wallets and
// no error. Secrets are never decrypted; a plaintext hotkey without a pub
// file is parsed to find its address.
func List(path string) ([]Info, error) {
	root, err := ExpandPath(path)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []Info
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || ValidateName(name) != nil {
			continue
		}
		dir := filepath.Join(root, name)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		info := Info{Name: name, Dir: dir}
		hasPub, _ := exists(filepath.Join(dir, coldkeyPubFile))
		info.HasColdkey, _ = exists(filepath.Join(dir, coldkeyFile))
		hkDir := filepath.Join(dir, hotkeysDir)
		fi, err := os.Stat(hkDir)
		hasHotkeys := err == nil && fi.IsDir()
		if !hasPub && !info.HasColdkey && !hasHotkeys {
			continue
		}
		if hasPub {
			if pub, err := loadPublic(filepath.Join(dir, coldkeyPubFile)); err == nil {
				info.ColdkeyPub = pub.SS58()
			}
		}
		if hasHotkeys {
			info.Hotkeys = listHotkeys(hkDir)
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func listHotkeys(dir string) []HotkeyInfo {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	names := map[string]bool{}
	for _, e := range entries {
		names[e.Name()] = true
	}
	var out []HotkeyInfo
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || ValidateName(name) != nil {
			continue
		}
		// <hotkey>pub.txt beside <hotkey> is that hotkey's pub file.
		if stem, ok := strings.CutSuffix(name, pubSuffix); ok && stem != "" && names[stem] {
			continue
		}
		path := filepath.Join(dir, name)
		if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		h := HotkeyInfo{Name: name}
		if pub, err := loadPublic(path + pubSuffix); err == nil {
			h.SS58 = pub.SS58()
		}
		if data, err := readKeyfile(path); err == nil {
			h.Encrypted = IsEncrypted(data)
			if h.SS58 == "" && !h.Encrypted {
				if k, err := ParseKeyfile(data); err == nil {
					h.SS58 = k.Public.SS58()
				}
			}
			clear(data)
		}
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
