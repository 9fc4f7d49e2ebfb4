package keys

import (
	"crypto/pbkdf2"
	"crypto/sha512"
	"errors"
	"fmt"
	"strings"

	schnorrkel "github.com/ChainSafe/go-schnorrkel"
	bip39 "github.com/cosmos/go-bip39"
)

// DevPhrase is Substrate's well-known development mnemonic; the root of the
// //Alice, //Bob, ... accounts. Never use it for real funds.
const DevPhrase = "bottom drive obey lake curtain smoke basket hold race lonely fit walk"

// ErrInvalidMnemonic is returned for a phrase that is not a valid English
// BIP39 mnemonic of 12, 15, 18, 21 or 24 words (the message never repeats
// the phrase).
var ErrInvalidMnemonic = errors.New("keys: invalid BIP39 mnemonic")

// NewMnemonic returns a random English BIP39 mnemonic of the given number of
// words (12, 15, 18, 21 or 24; 0 means 12).
func NewMnemonic(words int) (string, error) {
	if words == 0 {
		words = 12
	}
	switch words {
	case 12, 15, 18, 21, 24:
	default:
		return "", fmt.Errorf("keys: mnemonic length %d words: want 12, 15, 18, 21 or 24", words)
	}
	entropy, err := bip39.NewEntropy(words * 32 / 3)
	if err != nil {
		return "", fmt.Errorf("keys: mnemonic entropy: %w", err)
	}
	defer zero(entropy)
	m, err := bip39.NewMnemonic(entropy)
	if err != nil {
		return "", errors.New("keys: building mnemonic failed")
	}
	return m, nil
}

// normalizePhrase collapses runs of white space, as the Rust bip39 crate's
// split_whitespace does.
func normalizePhrase(phrase string) string {
	return strings.Join(strings.Fields(phrase), " ")
}

// ValidateMnemonic reports whether phrase is a valid English BIP39 mnemonic
// (word list and checksum). The error never contains the phrase.
func ValidateMnemonic(phrase string) error {
	e, err := mnemonicEntropy(phrase)
	zero(e)
	return err
}

func mnemonicEntropy(phrase string) ([]byte, error) {
	p := normalizePhrase(phrase)
	switch strings.Count(p, " ") + 1 {
	case 12, 15, 18, 21, 24:
	default:
		return nil, ErrInvalidMnemonic
	}
	if !bip39.IsMnemonicValid(p) {
		return nil, ErrInvalidMnemonic
	}
	// MnemonicToEntropy verifies the checksum (via bip39.MnemonicToByteArray)
	// and returns the raw entropy (16..32 bytes). Its errors may quote a
	// word, so they are not wrapped.
	e, err := schnorrkel.MnemonicToEntropy(p)
	if err != nil {
		return nil, ErrInvalidMnemonic
	}
	if len(e) < 16 || len(e) > 32 || len(e)%4 != 0 {
		zero(e)
		return nil, ErrInvalidMnemonic
	}
	return e, nil
}

// MiniSecretFromMnemonic derives the 32-byte mini secret the Substrate way
// (substrate-bip39, not BIP32): the first 32 bytes of
// PBKDF2-HMAC-SHA512(password = BIP39 entropy, salt = "mnemonic"+password,
// 2048 iterations).
func MiniSecretFromMnemonic(phrase, password string) ([32]byte, error) {
	entropy, err := mnemonicEntropy(phrase)
	if err != nil {
		return [32]byte{}, err
	}
	defer zero(entropy)
	k, err := pbkdf2.Key(sha512.New, string(entropy), []byte("mnemonic"+password), 2048, 64)
	if err != nil {
		return [32]byte{}, errors.New("keys: pbkdf2 failed")
	}
	defer zero(k)
	var seed [32]byte
	copy(seed[:], k[:32])
	return seed, nil
}

// FromMnemonic derives a key pair from a BIP39 mnemonic and an optional
// password the Substrate way (see MiniSecretFromMnemonic), expanded in
// Ed25519 mode. Seed returns the mini secret.
func FromMnemonic(phrase, password string) (*KeyPair, error) {
	seed, err := MiniSecretFromMnemonic(phrase, password)
	if err != nil {
		return nil, err
	}
	return FromSeed(seed)
}

func zero(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
