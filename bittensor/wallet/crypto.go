package wallet

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/nacl/secretbox"
)

// Keyfile encryption prefixes. Only $NACL is implemented; the two legacy
// formats are recognised so that they give a clear error.
const (
	naclPrefix    = "$NACL"
	ansiblePrefix = "$ANSIBLE_VAULT"
	fernetPrefix  = "gAAAAA"
)

const (
	naclNonceSize = 24
	// naclOverhead is what Encrypt adds to the plaintext.
	naclOverhead = len(naclPrefix) + naclNonceSize + secretbox.Overhead
)

// naclSalt is the fixed Argon2i salt of the Bittensor SDKs
// (b"\x13q\x83\xdf\xf1Z\t\xbc\x9c\x90\xb5Q\x879\xe9\xb1").
var naclSalt = []byte{0x13, 0x71, 0x83, 0xdf, 0xf1, 0x5a, 0x09, 0xbc, 0x9c, 0x90, 0xb5, 0x51, 0x87, 0x39, 0xe9, 0xb1}

// kdfParams are Argon2i parameters (memory in KiB).
type kdfParams struct {
	time, memory uint32
	threads      uint8
}

// naclKDF is libsodium crypto_pwhash_argon2i with OPSLIMIT_SENSITIVE (8) and
// MEMLIMIT_SENSITIVE (512 MiB), as PyNaCl and btwallet use it: each unlock
// takes a few seconds and 512 MiB of memory.
var naclKDF = kdfParams{time: 8, memory: 512 * 1024, threads: 1}

// Errors of Encrypt and Decrypt.
var (
	// ErrWrongPassword is returned when a $NACL keyfile does not
	// authenticate: the password is wrong or the file is corrupted.
	ErrWrongPassword = errors.New("wallet: wrong password (or corrupted keyfile)")
	// ErrNotEncrypted is returned by Decrypt for data without a known
	// encryption prefix.
	ErrNotEncrypted = errors.New("wallet: keyfile is not encrypted")
	// ErrLegacyFormat matches (errors.Is) the error for keyfiles encrypted
	// with the Ansible Vault or Fernet schemes of old SDK versions.
	ErrLegacyFormat = errors.New("wallet: legacy keyfile format not supported")
	// ErrTruncated is returned for a $NACL keyfile too short to hold a
	// nonce and an authentication tag.
	ErrTruncated = errors.New("wallet: encrypted keyfile is truncated")
)

type legacyFormatError struct{ kind string }

func (e legacyFormatError) Error() string {
	return "wallet: legacy keyfile format (" + e.kind + ") is not supported; " +
		"re-encrypt the key with a current Bittensor SDK (btcli) to the $NACL format"
}

func (e legacyFormatError) Is(target error) bool { return target == ErrLegacyFormat }

// legacyFormat returns the error for a legacy-encrypted keyfile, or nil.
func legacyFormat(data []byte) error {
	switch {
	case bytes.HasPrefix(data, []byte(ansiblePrefix)):
		return legacyFormatError{"Ansible Vault"}
	case bytes.HasPrefix(data, []byte(fernetPrefix)):
		return legacyFormatError{"Fernet"}
	}
	return nil
}

// IsEncrypted reports whether keyfile data is encrypted, in the current
// $NACL format or one of the legacy ones ($ANSIBLE_VAULT, Fernet "gAAAAA").
func IsEncrypted(data []byte) bool {
	return bytes.HasPrefix(data, []byte(naclPrefix)) || legacyFormat(data) != nil
}

func deriveKey(password string, p kdfParams) *[32]byte {
	k := argon2.Key([]byte(password), naclSalt, p.time, p.memory, p.threads, 32)
	var key [32]byte
	copy(key[:], k)
	clear(k)
	return &key
}

// Encrypt encrypts keyfile data in the $NACL format of the Bittensor SDKs:
// "$NACL" ‖ 24-byte random nonce ‖ XSalsa20-Poly1305 secretbox, keyed with
// Argon2i (v1.3, 8 passes, 512 MiB, one lane) over the password and the SDK's
// fixed salt. It takes a few seconds.
func Encrypt(data []byte, password string) ([]byte, error) {
	return encrypt(data, password, naclKDF, rand.Reader)
}

func encrypt(data []byte, password string, p kdfParams, rng io.Reader) ([]byte, error) {
	if len(data) > MaxKeyfileSize-naclOverhead {
		return nil, fmt.Errorf("wallet: keyfile data is %d bytes, more than %d", len(data), MaxKeyfileSize-naclOverhead)
	}
	var nonce [naclNonceSize]byte
	if _, err := io.ReadFull(rng, nonce[:]); err != nil {
		return nil, fmt.Errorf("wallet: random nonce: %w", err)
	}
	key := deriveKey(password, p)
	defer clear(key[:])
	out := make([]byte, 0, naclOverhead+len(data))
	out = append(out, naclPrefix...)
	out = append(out, nonce[:]...)
	return secretbox.Seal(out, data, &nonce, key), nil
}

// Decrypt decrypts a $NACL keyfile (see Encrypt). A wrong password gives
// ErrWrongPassword; legacy formats give an error matching ErrLegacyFormat;
// data that is not encrypted gives ErrNotEncrypted. It takes a few seconds
// and 512 MiB of memory.
func Decrypt(data []byte, password string) ([]byte, error) {
	return decrypt(data, password, naclKDF)
}

func decrypt(data []byte, password string, p kdfParams) ([]byte, error) {
	if err := legacyFormat(data); err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(data, []byte(naclPrefix)) {
		return nil, ErrNotEncrypted
	}
	if len(data) > MaxKeyfileSize {
		return nil, fmt.Errorf("wallet: encrypted keyfile is %d bytes, more than %d", len(data), MaxKeyfileSize)
	}
	rest := data[len(naclPrefix):]
	if len(rest) < naclNonceSize+secretbox.Overhead {
		return nil, ErrTruncated
	}
	var nonce [naclNonceSize]byte
	copy(nonce[:], rest[:naclNonceSize])
	key := deriveKey(password, p)
	defer clear(key[:])
	plain, ok := secretbox.Open(nil, rest[naclNonceSize:], &nonce, key)
	if !ok {
		return nil, ErrWrongPassword
	}
	return plain, nil
}
