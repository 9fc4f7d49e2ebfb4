package substrate

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/crypto/blake2b"
)

// Hasher is a storage map hasher as named in runtime metadata.
type Hasher uint8

// The hashers of FRAME storage maps, in metadata order.
const (
	Blake2_128 Hasher = iota
	Blake2_256
	Blake2_128Concat
	Twox128
	Twox256
	Twox64Concat
	Identity
)

var hasherNames = [...]string{"Blake2_128", "Blake2_256", "Blake2_128Concat", "Twox128", "Twox256", "Twox64Concat", "Identity"}

func (h Hasher) String() string {
	if int(h) < len(hasherNames) {
		return hasherNames[h]
	}
	return fmt.Sprintf("Hasher(%d)", uint8(h))
}

// Hash applies the hasher to an already SCALE-encoded map key.
func (h Hasher) Hash(key []byte) ([]byte, error) {
	switch h {
	case Blake2_128:
		return blake2b128(key), nil
	case Blake2_256:
		s := blake2b.Sum256(key)
		return s[:], nil
	case Blake2_128Concat:
		return append(blake2b128(key), key...), nil
	case Twox128:
		return TwoX128(key), nil
	case Twox256:
		return twox(key, 4), nil
	case Twox64Concat:
		return append(twox(key, 1), key...), nil
	case Identity:
		return append([]byte(nil), key...), nil
	}
	return nil, fmt.Errorf("unknown storage hasher %d", uint8(h))
}

func blake2b128(b []byte) []byte {
	d, _ := blake2b.New(16, nil) // cannot fail for size 16 without a key
	d.Write(b)
	return d.Sum(nil)
}

// twox concatenates n seeded xxh64 digests (seeds 0…n-1), little endian.
func twox(b []byte, n int) []byte {
	out := make([]byte, 0, 8*n)
	for seed := range n {
		d := xxhash.NewWithSeed(uint64(seed))
		d.Write(b)
		out = binary.LittleEndian.AppendUint64(out, d.Sum64())
	}
	return out
}

// TwoX128 is the 16-byte hash of pallet and item names in storage keys.
func TwoX128(b []byte) []byte { return twox(b, 2) }

// MapKey is one SCALE-encoded key of a storage map with its hasher.
type MapKey struct {
	Hasher Hasher
	Key    []byte
}

// StorageKey builds twox128(pallet) ‖ twox128(item) ‖ hasher(key)….
func StorageKey(pallet, item string, keys ...MapKey) ([]byte, error) {
	out := make([]byte, 0, 32+len(keys)*48)
	out = append(out, TwoX128([]byte(pallet))...)
	out = append(out, TwoX128([]byte(item))...)
	for _, k := range keys {
		h, err := k.Hasher.Hash(k.Key)
		if err != nil {
			return nil, fmt.Errorf("storage key %s.%s: %w", pallet, item, err)
		}
		out = append(out, h...)
	}
	return out, nil
}

// HexKey renders a storage key as the node expects it.
func HexKey(k []byte) string { return "0x" + hex.EncodeToString(k) }

// ParseHash reads a block or extrinsic hash as nodes write it: 32 bytes of
// hex, with or without 0x.
func ParseHash(s string) ([32]byte, error) {
	var h [32]byte
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil || len(b) != 32 {
		return h, fmt.Errorf("%q is not a 32-byte hash", s)
	}
	copy(h[:], b)
	return h, nil
}
