package timelock

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"

	"github.com/vigil-validator/vigil/bittensor/oracletest"
)

// The quicknet pulse for round 1000, as drand publishes it.
const (
	pulseRound      = 1000
	pulseSignature  = "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39"
	pulseRandomness = "fe290beca10872ef2fb164d2aa4442de4566183ec51c56ff3cd603d930e54fdd"
)

// unhex decodes hex with or without 0x, failing the test on bad input.
var unhex = oracletest.Unhex

// seeded is a deterministic rng for reproducible ciphertexts.
func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return rand.NewChaCha8(s)
}

// weightsPayload has the size of a WeightsTlockPayload with n uids.
func weightsPayload(n int) []byte {
	p := make([]byte, 45+4*n)
	for i := range p {
		p[i] = byte(i*7 + 3)
	}
	return p
}

// otherG1 returns a valid G1 point that is not the round-1000 signature.
func otherG1(t testing.TB) []byte {
	t.Helper()
	q, err := identity(pulseRound)
	if err != nil {
		t.Fatal(err)
	}
	b := q.Bytes()
	return b[:]
}

func TestQuicknetPulse(t *testing.T) {
	sig := unhex(t, pulseSignature)
	if got := sha256.Sum256(sig); hex.EncodeToString(got[:]) != pulseRandomness {
		t.Fatalf("sha256(signature) = %x, want %s", got, pulseRandomness)
	}
	if err := VerifySignature(Quicknet, pulseRound, sig); err != nil {
		t.Fatalf("round 1000 signature rejected: %v", err)
	}
	for _, round := range []uint64{999, 1001, 0} {
		if err := VerifySignature(Quicknet, round, sig); !errors.Is(err, ErrSignature) {
			t.Errorf("round %d: VerifySignature = %v, want ErrSignature", round, err)
		}
	}
	if err := VerifySignature(Quicknet, pulseRound, otherG1(t)); !errors.Is(err, ErrSignature) {
		t.Errorf("other point: VerifySignature = %v, want ErrSignature", err)
	}
}

func TestEncryptDecrypt(t *testing.T) {
	sig := unhex(t, pulseSignature)
	for _, n := range []int{0, 1, 45, 45 + 4*256, MaxPayloadSize} {
		msg := weightsPayload(n)[:n]
		ct, err := Encrypt(Quicknet, pulseRound, msg, nil)
		if err != nil {
			t.Fatalf("Encrypt(%d bytes): %v", n, err)
		}
		if len(ct) != n+244 || len(ct) != CiphertextSize(n) {
			t.Errorf("%d-byte payload: ciphertext %d bytes, want %d", n, len(ct), n+244)
		}
		got, err := Decrypt(Quicknet, ct, pulseRound, sig)
		if err != nil {
			t.Fatalf("Decrypt(%d bytes): %v", n, err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("Decrypt(%d bytes) returned a different payload", n)
		}
	}
	if MaxPayloadSize != 4756 || CiphertextSize(MaxPayloadSize) != MaxCommitSize {
		t.Errorf("MaxPayloadSize = %d, want 4756", MaxPayloadSize)
	}
}

func TestDecryptFailures(t *testing.T) {
	sig := unhex(t, pulseSignature)
	msg := weightsPayload(64)
	ct, err := Encrypt(Quicknet, pulseRound, msg, seeded(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decrypt(Quicknet, ct, 999, sig); !errors.Is(err, ErrSignature) {
		t.Errorf("round 999: %v, want ErrSignature", err)
	}
	if _, err := Decrypt(Quicknet, ct, pulseRound, otherG1(t)); !errors.Is(err, ErrSignature) {
		t.Errorf("other G1 point: %v, want ErrSignature", err)
	}
	badSig := bytes.Clone(sig)
	badSig[20] ^= 1
	if _, err := Decrypt(Quicknet, ct, pulseRound, badSig); !errors.Is(err, ErrSignature) {
		t.Errorf("corrupted signature: %v, want ErrSignature", err)
	}
	if _, err := Decrypt(Quicknet, ct, pulseRound, sig[:47]); !errors.Is(err, ErrSignature) {
		t.Errorf("short signature: %v, want ErrSignature", err)
	}
	inf := make([]byte, 48)
	inf[0] = 0xc0
	if _, err := Decrypt(Quicknet, ct, pulseRound, inf); !errors.Is(err, ErrSignature) {
		t.Errorf("infinity signature: %v, want ErrSignature", err)
	}

	// Encrypted to another round, opened with a valid pulse for 1000.
	ct999, err := Encrypt(Quicknet, 999, msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decrypt(Quicknet, ct999, pulseRound, sig); !errors.Is(err, ErrDecrypt) {
		t.Errorf("ciphertext for round 999: %v, want ErrDecrypt", err)
	}

	// Every single-byte change must be refused, whichever field it hits.
	for i := range ct {
		bad := bytes.Clone(ct)
		bad[i] ^= 0x01
		got, err := Decrypt(Quicknet, bad, pulseRound, sig)
		if err == nil {
			t.Fatalf("byte %d flipped: decrypted to %x", i, got)
		}
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrDecrypt) {
			t.Fatalf("byte %d flipped: %v, want ErrMalformed or ErrDecrypt", i, err)
		}
	}
}

func TestDeterministic(t *testing.T) {
	msg := weightsPayload(10)
	a, err := Encrypt(Quicknet, pulseRound, msg, seeded(7))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encrypt(Quicknet, pulseRound, msg, seeded(7))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Encrypt(Quicknet, pulseRound, msg, seeded(8))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Fatal("ciphertexts do not follow the rng")
	}
	if _, err := Encrypt(Quicknet, pulseRound, msg, bytes.NewReader(make([]byte, 10))); err == nil {
		t.Fatal("Encrypt succeeded with a short rng")
	}
	if _, err := Encrypt(Quicknet, 0, msg, nil); err == nil {
		t.Fatal("Encrypt accepted round 0")
	}
}

func TestLayout(t *testing.T) {
	msg := []byte("payload")
	ct, err := Encrypt(Quicknet, pulseRound, msg, seeded(3))
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian.Uint64
	off := 96
	var u bls.G2Affine
	if _, err := u.SetBytes(ct[:96]); err != nil || u.IsInfinity() {
		t.Fatalf("U is not a G2 point: %v", err)
	}
	for _, want := range []uint64{32, 32} {
		if got := le(ct[off:]); got != want {
			t.Fatalf("vector at %d has length %d, want %d", off, got, want)
		}
		off += 8 + int(want)
	}
	bodyLen := le(ct[off:])
	if bodyLen != uint64(8+len(msg)+16+8+12) {
		t.Fatalf("body length %d", bodyLen)
	}
	off += 8
	if got := le(ct[off:]); got != uint64(len(msg)+16) {
		t.Fatalf("AES ciphertext length %d", got)
	}
	off += 8 + len(msg) + 16
	if got := le(ct[off:]); got != 12 {
		t.Fatalf("nonce length %d", got)
	}
	off += 8 + 12
	if got := le(ct[off:]); got != 8 || string(ct[off+8:]) != "AES_GCM_" {
		t.Fatalf("cipher suite %q", ct[off:])
	}
}

func TestGTBytes(t *testing.T) {
	// The arkworks layout starts with c0.c0.c0 little-endian: for the GT
	// identity element that is 1 followed by zeros.
	var one bls.GT
	one.SetOne()
	b := one.Bytes()
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	if b[0] != 1 || !bytes.Equal(b[1:], make([]byte, len(b)-1)) {
		t.Fatalf("reversed GT one = %x…", b[:8])
	}
	if gtHash(&one) != sha256.Sum256(b[:]) {
		t.Fatal("gtHash does not hash the reversed bytes")
	}
}

func TestRounds(t *testing.T) {
	g := time.Unix(Quicknet.GenesisTime, 0)
	cases := []struct {
		at   time.Time
		want uint64
	}{
		{g.Add(-time.Hour), 1},
		{g, 1},
		{g.Add(2999 * time.Millisecond), 1},
		{g.Add(3 * time.Second), 2},
		{g.Add(2997 * time.Second), 1000},
		{g.Add(2999 * time.Second), 1000},
		{g.Add(3000 * time.Second), 1001},
	}
	for _, c := range cases {
		if got := Quicknet.RoundAt(c.at); got != c.want {
			t.Errorf("RoundAt(genesis%+v) = %d, want %d", c.at.Sub(g), got, c.want)
		}
	}
	if got := Quicknet.TimeOf(1000); !got.Equal(g.Add(2997 * time.Second)) {
		t.Errorf("TimeOf(1000) = %v", got)
	}
	if got := Quicknet.TimeOf(0); !got.Equal(g) {
		t.Errorf("TimeOf(0) = %v, want genesis", got)
	}
	for _, r := range []uint64{1, 2, 1000, 12345678, 50_000_000} {
		if got := Quicknet.RoundAt(Quicknet.TimeOf(r)); got != r {
			t.Errorf("RoundAt(TimeOf(%d)) = %d", r, got)
		}
	}
	if got := (Beacon{GenesisTime: 1}).RoundAt(time.Now()); got != 1 {
		t.Errorf("zero period: RoundAt = %d, want 1", got)
	}
}

func TestBadPublicKey(t *testing.T) {
	b := Quicknet
	b.PublicKey = bytes.Clone(Quicknet.PublicKey)
	b.PublicKey[50] ^= 1
	if _, err := Encrypt(b, pulseRound, []byte("x"), nil); !errors.Is(err, ErrPublicKey) {
		t.Errorf("corrupted key: %v, want ErrPublicKey", err)
	}
	b.PublicKey = b.PublicKey[:95]
	if err := VerifySignature(b, pulseRound, unhex(t, pulseSignature)); !errors.Is(err, ErrPublicKey) {
		t.Errorf("short key: %v, want ErrPublicKey", err)
	}
}
