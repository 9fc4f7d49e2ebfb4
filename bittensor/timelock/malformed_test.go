package timelock

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// fields are the parts of a ciphertext, to build malformed variants from.
type fields struct {
	u, v, w, aes, nonce, suite []byte
	bodyLen, aesLen            *uint64 // override the length prefixes
	trailing, bodyTrailing     []byte
}

func splitFields(t testing.TB, ct []byte) fields {
	t.Helper()
	c, err := parse(ct)
	if err != nil {
		t.Fatal(err)
	}
	return fields{u: bytes.Clone(ct[:96]), v: bytes.Clone(c.v), w: bytes.Clone(c.w),
		aes: bytes.Clone(c.body), nonce: bytes.Clone(c.nonce), suite: []byte(cipherSuite)}
}

func (f fields) bytes() []byte {
	body := appendVec(nil, f.aes)
	if f.aesLen != nil {
		binary.LittleEndian.PutUint64(body, *f.aesLen)
	}
	body = appendVec(body, f.nonce)
	body = append(body, f.bodyTrailing...)
	out := append(bytes.Clone(f.u), appendVec(nil, f.v)...)
	out = appendVec(out, f.w)
	bodyLen := uint64(len(body))
	if f.bodyLen != nil {
		bodyLen = *f.bodyLen
	}
	out = binary.LittleEndian.AppendUint64(out, bodyLen)
	out = append(out, body...)
	out = appendVec(out, f.suite)
	return append(out, f.trailing...)
}

func u64(v uint64) *uint64 { return &v }

// TestDecryptMalformed feeds Decrypt truncated, garbage and inconsistent
// ciphertexts: each must give an error (ErrMalformed where the framing is
// wrong), never a panic or a huge allocation.
func TestDecryptMalformed(t *testing.T) {
	sig := unhex(t, pulseSignature)
	ct, err := Encrypt(Quicknet, pulseRound, weightsPayload(8), seeded(11))
	if err != nil {
		t.Fatal(err)
	}
	if f := splitFields(t, ct); !bytes.Equal(f.bytes(), ct) {
		t.Fatal("fields do not reassemble the ciphertext")
	}
	setLen := func(off int, n uint64) []byte {
		b := bytes.Clone(ct)
		binary.LittleEndian.PutUint64(b[off:], n)
		return b
	}
	// Offsets of the length prefixes in ct.
	const (
		vPrefix    = 96
		wPrefix    = 96 + 40
		bodyPrefix = 96 + 80
		aesPrefix  = bodyPrefix + 8
	)
	noncePrefix := len(ct) - 16 - 12 - 8
	suitePrefix := len(ct) - 16

	mod := func(change func(*fields)) []byte {
		f := splitFields(t, ct)
		change(&f)
		return f.bytes()
	}
	cases := []struct {
		name string
		ct   []byte
		want error
	}{
		{"nil", nil, ErrMalformed},
		{"empty", []byte{}, ErrMalformed},
		{"one byte", []byte{0xc0}, ErrMalformed},
		{"U only", ct[:96], ErrMalformed},
		{"U short", ct[:95], ErrMalformed},
		{"cut in V prefix", ct[:100], ErrMalformed},
		{"cut in W", ct[:150], ErrMalformed},
		{"no suite", ct[:suitePrefix], ErrMalformed},
		{"one byte short", ct[:len(ct)-1], ErrMalformed},
		{"trailing byte", append(bytes.Clone(ct), 0), ErrMalformed},
		{"garbage", bytes.Repeat([]byte{0x5a}, len(ct)), ErrMalformed},
		{"zeros", make([]byte, len(ct)), ErrMalformed},
		{"all ones", bytes.Repeat([]byte{0xff}, len(ct)), ErrMalformed},
		{"V length max", setLen(vPrefix, math.MaxUint64), ErrMalformed},
		{"V length 2^63", setLen(vPrefix, 1<<63), ErrMalformed},
		{"V length 2^32+32", setLen(vPrefix, 1<<32+32), ErrMalformed},
		{"V length 31", setLen(vPrefix, 31), ErrMalformed},
		{"V length 33", setLen(vPrefix, 33), ErrMalformed},
		{"W length max", setLen(wPrefix, math.MaxUint64), ErrMalformed},
		{"body length max", setLen(bodyPrefix, math.MaxUint64), ErrMalformed},
		{"body length rest+1", setLen(bodyPrefix, uint64(len(ct)-bodyPrefix-8+1)), ErrMalformed},
		{"body length 0", setLen(bodyPrefix, 0), ErrMalformed},
		{"AES length max", setLen(aesPrefix, math.MaxUint64), ErrMalformed},
		{"AES length 2^63", setLen(aesPrefix, 1<<63), ErrMalformed},
		{"nonce length max", setLen(noncePrefix, math.MaxUint64), ErrMalformed},
		{"suite length max", setLen(suitePrefix, math.MaxUint64), ErrMalformed},
		{"suite length 0", setLen(suitePrefix, 0), ErrMalformed},
		{"V 33 bytes", mod(func(f *fields) { f.v = append(f.v, 0) }), ErrMalformed},
		{"W 31 bytes", mod(func(f *fields) { f.w = f.w[:31] }), ErrMalformed},
		{"empty V and W", mod(func(f *fields) { f.v, f.w = nil, nil }), ErrMalformed},
		{"nonce 11 bytes", mod(func(f *fields) { f.nonce = f.nonce[:11] }), ErrMalformed},
		{"nonce 24 bytes", mod(func(f *fields) { f.nonce = append(f.nonce, f.nonce...) }), ErrMalformed},
		{"AES output shorter than tag", mod(func(f *fields) { f.aes = f.aes[:15] }), ErrMalformed},
		{"AES output empty", mod(func(f *fields) { f.aes = nil }), ErrMalformed},
		{"AES length past body", mod(func(f *fields) { f.aesLen = u64(math.MaxUint64) }), ErrMalformed},
		{"bytes after nonce", mod(func(f *fields) { f.bodyTrailing = []byte{1, 2} }), ErrMalformed},
		{"other suite", mod(func(f *fields) { f.suite = []byte("AES_GCM!") }), ErrMalformed},
		{"long suite", mod(func(f *fields) { f.suite = []byte("AES_GCM_AES_GCM_") }), ErrMalformed},
		{"U uncompressed flag", mod(func(f *fields) { f.u[0] &^= 0x80 }), ErrMalformed},
		{"U not on curve", mod(func(f *fields) { f.u[95] ^= 1; f.u[94] ^= 1 }), ErrMalformed},
		{"U x too large", mod(func(f *fields) { f.u = append([]byte{0x9f}, bytes.Repeat([]byte{0xff}, 95)...) }), ErrMalformed},
		{"U bad infinity", mod(func(f *fields) { f.u = append([]byte{0xc0}, make([]byte, 95)...); f.u[50] = 1 }), ErrMalformed},
		{"U infinity", mod(func(f *fields) { f.u = append([]byte{0xc0}, make([]byte, 95)...) }), ErrDecrypt},
		{"V altered", mod(func(f *fields) { f.v[0] ^= 1 }), ErrDecrypt},
		{"W altered", mod(func(f *fields) { f.w[31] ^= 1 }), ErrDecrypt},
		{"tag altered", mod(func(f *fields) { f.aes[len(f.aes)-1] ^= 1 }), ErrDecrypt},
		{"AES output cut", mod(func(f *fields) { f.aes = f.aes[:len(f.aes)-1] }), ErrDecrypt},
		{"nonce altered", mod(func(f *fields) { f.nonce[0] ^= 1 }), ErrDecrypt},
	}
	for _, c := range cases {
		got, err := Decrypt(Quicknet, c.ct, pulseRound, sig)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: Decrypt = %x, %v; want %v", c.name, got, err, c.want)
		}
	}
	// Every prefix of a valid ciphertext is malformed.
	for n := range len(ct) {
		if _, err := Decrypt(Quicknet, ct[:n], pulseRound, sig); !errors.Is(err, ErrMalformed) {
			t.Fatalf("first %d bytes: %v, want ErrMalformed", n, err)
		}
	}
}

// FuzzDecrypt checks that no input makes Decrypt panic, and that whatever
// it accepts is a ciphertext for round 1000 that re-parses to itself.
func FuzzDecrypt(f *testing.F) {
	sig := unhex(f, pulseSignature)
	for i, n := range []int{0, 5, 45 + 4*3} {
		ct, err := Encrypt(Quicknet, pulseRound, weightsPayload(n)[:n], seeded(uint64(100+i)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(ct)
	}
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 300))
	f.Fuzz(func(t *testing.T, ct []byte) {
		pt, err := Decrypt(Quicknet, ct, pulseRound, sig)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrDecrypt) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if len(ct) != CiphertextSize(len(pt)) {
			t.Fatalf("accepted a %d-byte ciphertext holding %d bytes", len(ct), len(pt))
		}
	})
}
