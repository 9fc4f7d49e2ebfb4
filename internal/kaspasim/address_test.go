package kaspasim

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// The pool-owner wallets named in the HashTensor docs (mainnet and testnet).
const (
	hashTensorOwner = "kaspa:qr4ksh6s3rmy5f4qyql2kh7p9z7f4c55da5r5gz2nnsd8ctt4k69whtr4u0wp"
	hashTensorTest  = "kaspa:qq7yl7tjhkyr56x380j7hpa2r4jz97dyqn74a69wumpe5rv97wyxk4cxa7e7t"
)

func TestDecodeKnownAddresses(t *testing.T) {
	for _, a := range []string{hashTensorOwner, hashTensorTest, DefaultWallet} {
		v, p, err := DecodeAddress(a)
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		if v != AddrPubKey || len(p) != 32 {
			t.Errorf("%s: version %d, %d bytes", a, v, len(p))
		}
		again, err := EncodeAddress(v, p)
		if err != nil || again != a {
			t.Errorf("re-encode %s = %s, %v", a, again, err)
		}
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		v byte
		n int
	}{{AddrPubKey, 32}, {AddrPubKeyECDSA, 33}, {AddrScriptHash, 32}} {
		p := bytes.Repeat([]byte{0xa5}, tc.n)
		a, err := EncodeAddress(tc.v, p)
		if err != nil {
			t.Fatal(err)
		}
		v, q, err := DecodeAddress(a)
		if err != nil || v != tc.v || !bytes.Equal(p, q) {
			t.Errorf("version %d: %s → %d %x %v", tc.v, a, v, q, err)
		}
	}
	if _, err := EncodeAddress(AddrPubKey, make([]byte, 31)); !errors.Is(err, ErrBadAddress) {
		t.Errorf("31-byte payload: %v", err)
	}
}

func TestNormalizeWallet(t *testing.T) {
	if got, err := NormalizeWallet(strings.TrimPrefix(hashTensorOwner, "kaspa:")); err != nil || got != hashTensorOwner {
		t.Errorf("without prefix: %q, %v", got, err)
	}
	flipped := []byte(hashTensorOwner)
	flipped[20] ^= 'q' ^ 'p'
	for _, bad := range []string{
		"",
		"kaspatest:" + strings.TrimPrefix(hashTensorOwner, "kaspa:"),
		hashTensorOwner[:len(hashTensorOwner)-1],
		string(flipped),
		strings.ToUpper(hashTensorOwner),
		"kaspa:qr4ksh6s3rmy5f4qyql2kh7p9z7f4c55da5r5gz2nnsd8ctt4k69whtr4u0wb", // 'b' is not in the charset
	} {
		if _, err := NormalizeWallet(bad); !errors.Is(err, ErrBadAddress) {
			t.Errorf("%q: err = %v, want ErrBadAddress", bad, err)
		}
	}
}

func FuzzDecodeAddress(f *testing.F) {
	f.Add(hashTensorOwner)
	f.Add(hashTensorTest)
	f.Add("kaspa:")
	f.Fuzz(func(t *testing.T, s string) {
		v, p, err := DecodeAddress(s)
		if err != nil {
			return
		}
		again, err := EncodeAddress(v, p)
		if err != nil || again != s {
			t.Fatalf("%q decodes but re-encodes as %q (%v)", s, again, err)
		}
	})
}
