package timelock

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
	"time"
)

func TestDevKeySignsPulsesDecryptAccepts(t *testing.T) {
	genesis := time.Unix(1_700_000_000, 0)
	k, err := NewDevKey([]byte("vigil dev beacon"), genesis, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	b := k.Beacon()
	if b.GenesisTime != genesis.Unix() || b.Period != 3*time.Second || len(b.PublicKey) != 96 {
		t.Fatalf("beacon %+v", b)
	}
	if bytes.Equal(b.PublicKey, Quicknet.PublicKey) {
		t.Fatal("dev key equals quicknet's")
	}
	sig, err := k.Sign(1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifySignature(b, 1000, sig); err != nil {
		t.Fatalf("own signature: %v", err)
	}
	if err := VerifySignature(b, 1001, sig); !errors.Is(err, ErrSignature) {
		t.Fatalf("signature for another round: %v", err)
	}
	if err := VerifySignature(Quicknet, 1000, sig); !errors.Is(err, ErrSignature) {
		t.Fatalf("under quicknet's key: %v", err)
	}
	msg := []byte("weights for round 1000")
	ct, err := Encrypt(b, 1000, msg, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := Decrypt(b, ct, 1000, sig)
	if err != nil || !bytes.Equal(pt, msg) {
		t.Fatalf("decrypt: %q %v", pt, err)
	}
	// The same seed gives the same key; another seed another.
	k2, _ := NewDevKey([]byte("vigil dev beacon"), genesis, 3*time.Second)
	k3, _ := NewDevKey([]byte("another"), genesis, 3*time.Second)
	if !bytes.Equal(k2.Beacon().PublicKey, b.PublicKey) || bytes.Equal(k3.Beacon().PublicKey, b.PublicKey) {
		t.Fatal("keys are not a function of the seed")
	}
	if _, err := NewDevKey(nil, genesis, 0); err == nil {
		t.Fatal("zero period accepted")
	}
}

func TestParseBeacon(t *testing.T) {
	q, err := ParseBeacon("quicknet")
	if err != nil || !bytes.Equal(q.PublicKey, Quicknet.PublicKey) || q.GenesisTime != Quicknet.GenesisTime || q.Period != Quicknet.Period {
		t.Fatalf("quicknet: %+v %v", q, err)
	}
	k, _ := NewDevKey([]byte("x"), time.Unix(1_700_000_000, 0), 250*time.Millisecond)
	b, err := ParseBeacon(k.Beacon().String())
	if err != nil || !bytes.Equal(b.PublicKey, k.Beacon().PublicKey) || b.GenesisTime != 1_700_000_000 || b.Period != 250*time.Millisecond {
		t.Fatalf("round trip: %+v %v", b, err)
	}
	pk := k.Beacon().String()[:192]
	for _, bad := range []string{"drand", "ab:1:3s", pk + ":x:3s", pk + ":1:0s", pk + ":-5:3s", pk + ":1:3s:4", "00" + pk[2:] + ":1:3s"} {
		if _, err := ParseBeacon(bad); err == nil {
			t.Errorf("ParseBeacon(%q) accepted", bad)
		}
	}
}
