package keys

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	schnorrkel "github.com/ChainSafe/go-schnorrkel"
	"golang.org/x/crypto/blake2b"
)

// Substrate's SecretUri grammar (sp_core::crypto::SECRET_PHRASE_REGEX and
// JUNCTION_REGEX): an optional phrase or 0x-hex seed, then junctions ("/soft"
// or "//hard"), then an optional "///password".
var (
	secretURIRegexp = regexp.MustCompile(`^([\d\w ]+)?((?://?[^/]+)*)(///(.*))?$`)
	junctionRegexp  = regexp.MustCompile(`/(/?[^/]+)`)
)

// Junction is one step of a derivation path.
type Junction struct {
	ChainCode [32]byte
	Hard      bool
}

// ParseJunction turns a path component as written after the slash(es) into a
// junction, as substrate's DeriveJunction::from(&str): a u64 (decimal,
// optional leading '+') is SCALE-encoded as 8 little-endian bytes, anything
// else as a SCALE string (Compact(len) ‖ UTF-8 bytes); the encoding is padded
// with zeros to 32 bytes, or replaced by its blake2b-256 hash when longer.
func ParseJunction(code string, hard bool) Junction {
	var enc []byte
	if n, ok := parseRustU64(code); ok {
		enc = binary.LittleEndian.AppendUint64(nil, n)
	} else {
		enc = appendCompact(nil, uint64(len(code)))
		enc = append(enc, code...)
	}
	j := Junction{Hard: hard}
	if len(enc) > 32 {
		j.ChainCode = blake2b.Sum256(enc)
	} else {
		copy(j.ChainCode[:], enc)
	}
	return j
}

// parseRustU64 accepts what Rust's u64::from_str accepts: ASCII digits with
// an optional leading '+', no other signs, no spaces or underscores.
func parseRustU64(s string) (uint64, bool) {
	s = strings.TrimPrefix(s, "+")
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// appendCompact appends the SCALE compact encoding of n.
func appendCompact(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n<<2))
	case n < 1<<14:
		return binary.LittleEndian.AppendUint16(b, uint16(n<<2|1))
	case n < 1<<30:
		return binary.LittleEndian.AppendUint32(b, uint32(n<<2|2))
	default:
		var tmp [8]byte
		binary.LittleEndian.PutUint64(tmp[:], n)
		l := 8
		for l > 4 && tmp[l-1] == 0 {
			l--
		}
		b = append(b, byte((l-4)<<2|3))
		return append(b, tmp[:l]...)
	}
}

// Derive applies junctions to the key pair as substrate's sr25519
// Pair::derive does: a hard junction derives a new mini secret from the
// secret scalar (schnorrkel hard_derive_mini_secret_key with the junction as
// chain code and empty "sign-bytes"), expanded in Ed25519 mode; a soft
// junction adds a scalar derived from the public key (derived_key_simple).
// After a soft junction the mini secret (Seed) is not known; after a hard
// junction it is the derived mini secret.
func (kp *KeyPair) Derive(path []Junction) (*KeyPair, error) {
	if !kp.CanSign() {
		return nil, errors.New("keys: key pair has no secret key")
	}
	cur := kp
	for _, j := range path {
		sk := cur.sec.schnorrkel()
		if j.Hard {
			msk, _, err := sk.HardDeriveMiniSecretKey([]byte{}, j.ChainCode)
			if err != nil {
				return nil, fmt.Errorf("keys: hard derivation: %w", err)
			}
			seed := msk.Encode()
			// The derived key is exactly the expansion of the derived mini
			// secret, so its Seed is known even when the parent's was not
			// (substrate reports it only while every step so far was hard).
			next, err := FromSeed(seed)
			if err != nil {
				return nil, err
			}
			cur = next
			continue
		}
		ek, err := schnorrkel.DeriveKeySimple(sk, []byte{}, j.ChainCode)
		if err != nil {
			return nil, fmt.Errorf("keys: soft derivation: %w", err)
		}
		dsk, err := ek.Secret()
		if err != nil {
			return nil, fmt.Errorf("keys: soft derivation: %w", err)
		}
		// go-schnorrkel keeps the nonce unexported; the derived nonce is
		// random in schnorrkel too (derived_key_simple uses thread_rng) and
		// go-schnorrkel signs with fresh randomness, so a new random nonce
		// changes nothing observable.
		sec := &secret{scalar: dsk.Encode()}
		if _, err := rand.Read(sec.nonce[:]); err != nil {
			return nil, fmt.Errorf("keys: soft derivation: %w", err)
		}
		next, err := newKeyPair(sec)
		if err != nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

// FromURI builds a key pair from a Substrate secret URI:
//
//	<phrase>[//hard|/soft]...[///password]
//	0x<64 hex digits>[//hard|/soft]...
//	//Alice            (no phrase: the dev phrase, as substrate)
//
// Hard junctions are numbers (u64) or strings; soft junctions are supported
// too (the resulting key has no Seed). As in substrate, a password is ignored
// when the root is a hex seed. Unlike substrate, an empty URI is refused
// rather than meaning the bare dev phrase. Error messages never repeat the
// URI.
func FromURI(uri string) (*KeyPair, error) {
	if uri == "" {
		return nil, errors.New("keys: empty secret URI")
	}
	m := secretURIRegexp.FindStringSubmatch(uri)
	if m == nil {
		return nil, errors.New("keys: malformed secret URI")
	}
	phrase, path, hasPassword, password := m[1], m[2], m[3] != "", m[4]
	if phrase == "" {
		phrase = DevPhrase
	}
	var root *KeyPair
	if rest, ok := strings.CutPrefix(phrase, "0x"); ok {
		b, err := hex.DecodeString(rest)
		if err != nil || len(b) != 32 {
			zero(b)
			return nil, errors.New("keys: secret URI seed must be 0x followed by 64 hex digits")
		}
		var seed [32]byte
		copy(seed[:], b)
		zero(b)
		root, err = FromSeed(seed)
		if err != nil {
			return nil, err
		}
	} else {
		pw := ""
		if hasPassword {
			pw = password
		}
		var err error
		root, err = FromMnemonic(phrase, pw)
		if err != nil {
			return nil, err
		}
	}
	var junctions []Junction
	for _, jm := range junctionRegexp.FindAllStringSubmatch(path, -1) {
		code, hard := strings.CutPrefix(jm[1], "/")
		junctions = append(junctions, ParseJunction(code, hard))
	}
	if len(junctions) == 0 {
		return root, nil
	}
	return root.Derive(junctions)
}
