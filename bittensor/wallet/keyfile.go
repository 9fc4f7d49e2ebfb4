package wallet

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-validator/vigil/bittensor/keys"
)

// MaxKeyfileSize caps keyfile reads (real keyfiles are well under 1 KiB).
const MaxKeyfileSize = 64 << 10

// Keyfile JSON field names (btwallet keyfile.rs).
const (
	fieldAccountID    = "accountId"
	fieldPublicKey    = "publicKey"
	fieldPrivateKey   = "privateKey"
	fieldSecretPhrase = "secretPhrase"
	fieldSecretSeed   = "secretSeed"
	fieldSS58Address  = "ss58Address"
)

// Errors of ParseKeyfile and the loaders.
var (
	// ErrNoSecret is returned where a secret key is needed and the keyfile
	// holds only public data.
	ErrNoSecret = errors.New("wallet: keyfile holds no secret key")
	// ErrEncrypted is returned by ParseKeyfile and LoadHotkey for encrypted
	// data; decrypt it first (Decrypt, DecryptHotkey, DecryptColdkey).
	ErrEncrypted = errors.New("wallet: keyfile is encrypted")
	// ErrNoKey is returned for a keyfile with none of the key fields.
	ErrNoKey = errors.New("wallet: keyfile holds no key")
	// ErrNoSeed is returned by EncodeKeyfile for a key pair whose mini
	// secret is unknown (it cannot be written in the SDK format).
	ErrNoSeed = errors.New("wallet: key pair's seed is unknown")
)

// Key is what a keyfile holds: a key pair, or only a public key. Printing a
// Key never shows secret material (keys.KeyPair prints its address).
type Key struct {
	Public keys.PublicKey
	Pair   *keys.KeyPair // nil when the keyfile holds only public data
}

// keyfileFields are the string fields of a keyfile; JSON null, a missing
// field and "" all read as absent.
type keyfileFields map[string]string

// decodeFields reads a keyfile JSON object. Its errors never quote the data.
func decodeFields(data []byte) (keyfileFields, error) {
	if len(data) > MaxKeyfileSize {
		return nil, fmt.Errorf("wallet: keyfile is %d bytes, more than %d", len(data), MaxKeyfileSize)
	}
	if err := legacyFormat(data); err != nil {
		return nil, err
	}
	if bytes.HasPrefix(data, []byte(naclPrefix)) {
		return nil, ErrEncrypted
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		// json's messages can quote a character or a number from the
		// input; keep only the offset.
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("wallet: keyfile is not valid JSON (at byte %d)", se.Offset)
		}
		return nil, errors.New("wallet: keyfile is not a JSON object")
	}
	if raw == nil {
		return nil, errors.New("wallet: keyfile is not a JSON object")
	}
	f := keyfileFields{}
	for _, name := range []string{fieldAccountID, fieldPublicKey, fieldPrivateKey, fieldSecretPhrase, fieldSecretSeed, fieldSS58Address} {
		v, ok := raw[name]
		if !ok {
			continue
		}
		var s *string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("wallet: keyfile field %s is not a string or null", name)
		}
		if s != nil && *s != "" {
			f[name] = *s
		}
	}
	return f, nil
}

// parseHex decodes hex with an optional 0x prefix into exactly n bytes.
func parseHex(s string, n int) ([]byte, bool) {
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
	}
	if len(s) != 2*n {
		return nil, false
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, false
	}
	return b, true
}

// publicFields parses the public fields that are present and checks they
// agree; ok reports whether any was present.
func (f keyfileFields) publicFields() (pub keys.PublicKey, ok bool, err error) {
	set := func(name string, p keys.PublicKey) error {
		if ok && p != pub {
			return fmt.Errorf("wallet: keyfile fields disagree on the public key (%s): %w", name, keys.ErrKeyMismatch)
		}
		pub, ok = p, true
		return nil
	}
	for _, name := range []string{fieldPublicKey, fieldAccountID} {
		s, present := f[name]
		if !present {
			continue
		}
		b, good := parseHex(s, 32)
		if !good {
			return pub, false, fmt.Errorf("wallet: keyfile field %s is not 0x followed by 64 hex digits", name)
		}
		if err := set(name, keys.PublicKey(b)); err != nil {
			return pub, false, err
		}
	}
	if s, present := f[fieldSS58Address]; present {
		p, _, err := keys.SS58Decode(strings.TrimSpace(s))
		if err != nil {
			return pub, false, fmt.Errorf("wallet: keyfile field %s: %w", fieldSS58Address, err)
		}
		if err := set(fieldSS58Address, p); err != nil {
			return pub, false, err
		}
	}
	return pub, ok, nil
}

// ParseKeyfile decodes a plaintext keyfile: a JSON object with the optional
// string fields accountId, publicKey (both "0x" + 32-byte hex), privateKey
// ("0x" + 64-byte schnorrkel secret key), secretPhrase (BIP39 mnemonic),
// secretSeed ("0x" + 32-byte mini secret) and ss58Address, in any order,
// each possibly null. Other fields are ignored; names are case-sensitive.
//
// The key is taken from the first present of secretPhrase, secretSeed,
// privateKey (both the canonical and the ed25519-expanded form are tried),
// and the public fields (public only: Key.Pair is nil). Every public field
// present (publicKey, accountId, ss58Address) must match the key, or the
// error matches keys.ErrKeyMismatch. Encrypted data gives ErrEncrypted (or
// a legacy-format error); data larger than MaxKeyfileSize is refused.
func ParseKeyfile(data []byte) (Key, error) {
	f, err := decodeFields(data)
	if err != nil {
		return Key{}, err
	}
	want, haveWant, err := f.publicFields()
	if err != nil {
		return Key{}, err
	}
	var kp *keys.KeyPair
	switch {
	case f[fieldSecretPhrase] != "":
		kp, err = keys.FromMnemonic(f[fieldSecretPhrase], "")
		if err != nil {
			return Key{}, fmt.Errorf("wallet: keyfile field %s: %w", fieldSecretPhrase, err)
		}
		// A secretSeed beside the phrase must be the phrase's mini secret.
		if s, present := f[fieldSecretSeed]; present {
			b, ok := parseHex(s, 32)
			if !ok {
				return Key{}, fmt.Errorf("wallet: keyfile field %s is not 0x followed by 64 hex digits", fieldSecretSeed)
			}
			seed, _ := kp.Seed()
			same := [32]byte(b) == seed
			clear(b)
			clear(seed[:])
			if !same {
				return Key{}, fmt.Errorf("wallet: keyfile fields %s and %s disagree: %w", fieldSecretPhrase, fieldSecretSeed, keys.ErrKeyMismatch)
			}
		}
	case f[fieldSecretSeed] != "":
		b, ok := parseHex(f[fieldSecretSeed], 32)
		if !ok {
			return Key{}, fmt.Errorf("wallet: keyfile field %s is not 0x followed by 64 hex digits", fieldSecretSeed)
		}
		kp, err = keys.FromSeed([32]byte(b))
		clear(b)
		if err != nil {
			return Key{}, fmt.Errorf("wallet: keyfile field %s: %w", fieldSecretSeed, err)
		}
	case f[fieldPrivateKey] != "":
		b, ok := parseHex(f[fieldPrivateKey], keys.SecretKeySize)
		if !ok {
			return Key{}, fmt.Errorf("wallet: keyfile field %s is not 0x followed by 128 hex digits", fieldPrivateKey)
		}
		if haveWant {
			kp, err = keys.FromSecretKeyMatching(b, want)
		} else {
			kp, err = keys.FromSecretKey(b)
		}
		clear(b)
		if err != nil {
			return Key{}, fmt.Errorf("wallet: keyfile field %s: %w", fieldPrivateKey, err)
		}
	case haveWant:
		return Key{Public: want}, nil
	default:
		return Key{}, ErrNoKey
	}
	if haveWant && kp.PublicKey() != want {
		return Key{}, fmt.Errorf("wallet: keyfile public key %s does not match its secret key (%s): %w",
			want.SS58(), kp.SS58(), keys.ErrKeyMismatch)
	}
	return Key{Public: kp.PublicKey(), Pair: kp}, nil
}

// keyfileJSON is the layout EncodeKeyfile writes (all six fields, null where
// unknown, as btwallet does).
type keyfileJSON struct {
	AccountID    string  `json:"accountId"`
	PublicKey    string  `json:"publicKey"`
	PrivateKey   string  `json:"privateKey"`
	SecretPhrase *string `json:"secretPhrase"`
	SecretSeed   string  `json:"secretSeed"`
	SS58Address  string  `json:"ss58Address"`
}

type pubKeyfileJSON struct {
	AccountID   string `json:"accountId"`
	PublicKey   string `json:"publicKey"`
	SS58Address string `json:"ss58Address"`
}

// EncodeKeyfile returns the plaintext keyfile of a key pair: accountId,
// publicKey, privateKey (schnorrkel SecretKey::to_bytes, as btwallet writes
// it), secretPhrase (null when mnemonic is empty), secretSeed and
// ss58Address. The key pair's seed must be known (keys from a seed, a
// mnemonic or hard derivation), else ErrNoSeed. A non-empty mnemonic must
// produce the key pair (without a BIP39 password), else the error matches
// keys.ErrKeyMismatch. The result holds secrets: write it with mode 0600 or
// encrypt it.
func EncodeKeyfile(kp *keys.KeyPair, mnemonic string) ([]byte, error) {
	if !kp.CanSign() {
		return nil, ErrNoSecret
	}
	seed, ok := kp.Seed()
	if !ok {
		return nil, ErrNoSeed
	}
	defer clear(seed[:])
	var phrase *string
	if mnemonic != "" {
		m, err := keys.FromMnemonic(mnemonic, "")
		if err != nil {
			return nil, fmt.Errorf("wallet: mnemonic: %w", err)
		}
		if m.PublicKey() != kp.PublicKey() {
			return nil, fmt.Errorf("wallet: the mnemonic does not produce the key pair: %w", keys.ErrKeyMismatch)
		}
		p := strings.Join(strings.Fields(mnemonic), " ")
		phrase = &p
	}
	priv := keys.ExpandSeed(seed)
	defer clear(priv[:])
	pub := kp.PublicKey().Hex()
	return json.Marshal(keyfileJSON{
		AccountID:    pub,
		PublicKey:    pub,
		PrivateKey:   "0x" + hex.EncodeToString(priv[:]),
		SecretPhrase: phrase,
		SecretSeed:   "0x" + hex.EncodeToString(seed[:]),
		SS58Address:  kp.SS58(),
	})
}

// EncodePublicKeyfile returns the public keyfile (coldkeypub.txt,
// <hotkey>pub.txt) of a public key: accountId, publicKey, ss58Address.
func EncodePublicKeyfile(pub keys.PublicKey) []byte {
	b, _ := json.Marshal(pubKeyfileJSON{AccountID: pub.Hex(), PublicKey: pub.Hex(), SS58Address: pub.SS58()})
	return b
}
