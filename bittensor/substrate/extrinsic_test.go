package substrate

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/scale"
)

func TestMortalEra(t *testing.T) {
	// The worked example of the chain notes: block 6 852 690, period 128.
	e := MortalEra(6852690, 128)
	if e.Period != 128 || e.Phase != 82 || !bytes.Equal(e.Encode(), []byte{0x26, 0x05}) {
		t.Fatalf("era %+v encodes %x, want period 128 phase 82 = 2605", e, e.Encode())
	}
	if b := e.Birth(6852690); b != 6852690 {
		t.Errorf("birth %d", b)
	}
	if b := e.Birth(6852690 + 100); b != 6852690 {
		t.Errorf("birth 100 blocks later: %d", b)
	}
	if d := e.Death(6852690); d != 6852690+128 {
		t.Errorf("death %d", d)
	}
	for _, c := range []struct{ ask, want uint64 }{{0, 4}, {3, 4}, {5, 8}, {64, 64}, {65, 128}, {1 << 20, 1 << 16}} {
		if got := MortalEra(1000, c.ask).Period; got != c.want {
			t.Errorf("period %d → %d, want %d", c.ask, got, c.want)
		}
	}
	// Every encodable era decodes to itself; large periods quantize the phase.
	for p := uint64(4); p <= 1<<16; p <<= 1 {
		for _, cur := range []uint64{0, 1, p - 1, p, 6852690, 1<<32 + 12345} {
			e := MortalEra(cur, p)
			got, err := readEra(scale.NewReader(e.Encode()))
			if err != nil || got != e {
				t.Fatalf("era %+v → %x → %+v, %v", e, e.Encode(), got, err)
			}
			if b := e.Birth(cur); b > cur || cur-b >= p {
				t.Fatalf("era %+v at %d: birth %d", e, cur, b)
			}
		}
	}
	if e := MortalEra(12345, 65536); e.Phase%16 != 0 {
		t.Errorf("phase of a 65536 era not quantized to 16: %d", e.Phase)
	}
	if !bytes.Equal(ImmortalEra.Encode(), []byte{0}) || ImmortalEra.Birth(99) != 0 {
		t.Error("immortal era")
	}
	// Phase ≥ period is invalid: low nibble 1 (period 4), phase 5.
	if _, err := readEra(scale.NewReader([]byte{0x51, 0x00})); !errors.Is(err, scale.ErrInvalid) {
		t.Errorf("invalid era: %v", err)
	}
}

func testExtensions(t *testing.T) *Extensions {
	t.Helper()
	m, _ := mainnetMetadata(t)
	x, err := m.TxExtensions()
	if err != nil {
		t.Fatal(err)
	}
	want := "CheckNonZeroSender,CheckSpecVersion,CheckTxVersion,CheckGenesis,CheckMortality,CheckNonce,CheckWeight,ChargeTransactionPayment,SubtensorTransactionExtension,DrandPriority,CheckMetadataHash"
	if got := strings.Join(x.Names(), ","); got != want {
		t.Fatalf("extensions %s", got)
	}
	return x
}

func TestExtensionBytes(t *testing.T) {
	// Whatever an extension writes into the extrinsic, DecodeExtrinsic
	// must be able to read back.
	for name, c := range knownExtensions {
		if (c.extra != nil) != (c.read != nil) {
			t.Errorf("%s: writes extra bytes %v, reads them %v", name, c.extra != nil, c.read != nil)
		}
	}
	x := testExtensions(t)
	var g, b [32]byte
	g[0], b[0] = 0xaa, 0xbb
	p := TxParams{SpecVersion: 300, TransactionVersion: 1, GenesisHash: g, BirthHash: b, Era: MortalEra(6852690, 128), Nonce: 5}
	// extra = era ‖ Compact(nonce) ‖ Compact(tip) ‖ metadata-hash mode.
	if got := x.Extra(p); !bytes.Equal(got, []byte{0x26, 0x05, 0x14, 0x00, 0x00}) {
		t.Errorf("extra %x", got)
	}
	imp := x.Implicit(p)
	if len(imp) != 4+4+32+32+1 || imp[0] != 0x2c || imp[4] != 1 || imp[8] != 0xaa || imp[40] != 0xbb || imp[72] != 0 {
		t.Errorf("implicit %x", imp)
	}
	p.Era = ImmortalEra
	if imp := x.Implicit(p); imp[40] != 0xaa {
		t.Error("an immortal transaction must commit to the genesis hash")
	}
}

func TestUnknownExtensionIsAnError(t *testing.T) {
	m, _ := mainnetMetadata(t)
	// A u32 primitive from the registry: an extension carrying data.
	var u32 uint32
	for id, ty := range m.Types {
		if ty.Kind == KindPrimitive && ty.Prim == 5 {
			u32 = id
			break
		}
	}
	var unit uint32
	for id, ty := range m.Types {
		if ty.Kind == KindTuple && len(ty.Tuple) == 0 {
			unit = id
			break
		}
	}
	mod := *m
	mod.SignedExtensions = append(append([]SignedExtension{}, m.SignedExtensions...), SignedExtension{Identifier: "ChargeSomethingNew", Type: u32, AdditionalSigned: unit})
	if _, err := mod.TxExtensions(); !errors.Is(err, ErrUnknownExtension) || !strings.Contains(err.Error(), "ChargeSomethingNew") {
		t.Errorf("unknown extension with data: %v", err)
	}
	// An unknown extension without data is fine.
	mod.SignedExtensions[len(mod.SignedExtensions)-1].Type = unit
	if x, err := mod.TxExtensions(); err != nil || len(x.Names()) != len(m.SignedExtensions)+1 {
		t.Errorf("unknown empty extension: %v", err)
	}
	// A known extension whose types changed shape is refused too.
	mod.SignedExtensions = append([]SignedExtension{}, m.SignedExtensions...)
	for i := range mod.SignedExtensions {
		if mod.SignedExtensions[i].Identifier == "CheckNonce" {
			mod.SignedExtensions[i].Type = unit
		}
	}
	if _, err := mod.TxExtensions(); !errors.Is(err, ErrUnknownExtension) || !strings.Contains(err.Error(), "CheckNonce") {
		t.Errorf("changed CheckNonce: %v", err)
	}
}

func TestSignAndDecodeExtrinsic(t *testing.T) {
	x := testExtensions(t)
	kp, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	p := TxParams{SpecVersion: 300, TransactionVersion: 1, Era: MortalEra(1000, 64), Nonce: 1 << 20, Tip: 7}
	for _, n := range []int{2, 100, 1000} { // unhashed and hashed payloads
		call := append([]byte{7, 0}, bytes.Repeat([]byte{9}, n-2)...)
		ext, err := x.Sign(call, p, kp)
		if err != nil {
			t.Fatal(err)
		}
		d, err := x.DecodeExtrinsic(ext)
		if err != nil {
			t.Fatal(err)
		}
		if d.Signer != kp.PublicKey() || !bytes.Equal(d.Call, call) || d.Nonce != p.Nonce || d.Tip != p.Tip || d.Era != p.Era {
			t.Fatalf("decoded %+v", d)
		}
		if !x.Verify(d, p) {
			t.Fatal("own signature does not verify")
		}
		other := p
		other.SpecVersion++
		if x.Verify(d, other) {
			t.Fatal("signature verifies under another spec version")
		}
	}
}

func TestDecodeExtrinsicRejectsBadInput(t *testing.T) {
	x := testExtensions(t)
	kp, _ := keys.FromURI("//Alice")
	good, err := x.Sign([]byte{7, 0, 1, 0, 0, 0, 0}, TxParams{Era: ImmortalEra}, kp)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"empty":          {},
		"length only":    good[:2],
		"truncated":      good[:len(good)-1],
		"trailing":       append(append([]byte{}, good...), 0),
		"unsigned":       append([]byte{good[0], good[1], 0x04}, good[3:]...),
		"ecdsa":          func() []byte { b := append([]byte{}, good...); b[2+1+1+32] = 2; return b }(),
		"huge length":    {0xff, 0xff, 0xff, 0xff, 0xff},
		"bad address":    func() []byte { b := append([]byte{}, good...); b[3] = 5; return b }(),
		"oversized":      make([]byte, MaxExtrinsicSize+1),
		"no call":        nil,
		"bad era in ext": nil,
	}
	// No call: the extrinsic ends after the extensions.
	head := good[2 : len(good)-7]
	e := scale.NewEncoder(0)
	e.Compact(uint64(len(head)))
	e.Fixed(head)
	cases["no call"] = e.Bytes()
	// An era byte pair with phase ≥ period.
	bad := append([]byte{}, good[2:]...)
	era := 1 + 32 + 1 + 64 + 1
	bad = append(append(append([]byte{}, bad[:era]...), 0x51, 0x00), bad[era+1:]...)
	e.Reset()
	e.Compact(uint64(len(bad)))
	e.Fixed(bad)
	cases["bad era in ext"] = e.Bytes()
	for name, b := range cases {
		if _, err := x.DecodeExtrinsic(b); !errors.Is(err, ErrExtrinsic) {
			t.Errorf("%s: %v, want ErrExtrinsic", name, err)
		}
	}
}

func FuzzDecodeExtrinsic(f *testing.F) {
	m, _ := mainnetMetadata(f)
	x, err := m.TxExtensions()
	if err != nil {
		f.Fatal(err)
	}
	kp, _ := keys.FromURI("//Alice")
	p := TxParams{Era: MortalEra(99, 64), Nonce: 3}
	good, _ := x.Sign([]byte{7, 0, 1, 0, 4, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, p, kp)
	mode := metadataHashModeAt(x, good, p)
	if mode < 0 || good[mode] != 0 {
		f.Fatalf("no metadata hash mode 0 at %d of %x", mode, good)
	}
	f.Add(good)
	withMode1 := append([]byte{}, good...)
	withMode1[mode] = 1
	f.Add(withMode1)
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := x.DecodeExtrinsic(b)
		if err != nil {
			return
		}
		if len(d.Call) < 2 {
			t.Fatalf("decoded without a call: %+v", d)
		}
		// What was read writes back to the same bytes, but for a metadata
		// hash mode of 1, which is always written as 0.
		p := TxParams{Era: d.Era, Nonce: d.Nonce, Tip: d.Tip}
		re := x.assemble(d.Signer, d.Signature, d.Call, p)
		if len(re) != len(b) {
			t.Fatalf("re-encoded %x\nfrom %x", re, b)
		}
		mode := metadataHashModeAt(x, re, p)
		for i := range re {
			if re[i] != b[i] && (i != mode || b[i] != 1 || re[i] != 0) {
				t.Fatalf("byte %d differs (metadata hash mode at %d): re-encoded %x\nfrom %x", i, mode, re, b)
			}
		}
	})
}

// metadataHashModeAt is the offset of CheckMetadataHash's mode byte in ext,
// an extrinsic assembled by x under p, or -1 when x has no such extension.
func metadataHashModeAt(x *Extensions, ext []byte, p TxParams) int {
	r := scale.NewReader(ext)
	if _, err := r.CompactInt(); err != nil {
		return -1
	}
	// Version, address kind, signer, signature kind, signature.
	at := r.Offset() + 1 + 1 + 32 + 1 + keys.SignatureSize
	e := scale.NewEncoder(16)
	for _, xt := range x.list {
		if xt.name == "CheckMetadataHash" {
			return at + e.Len()
		}
		if xt.extra != nil {
			xt.extra(e, &p)
		}
	}
	return -1
}
