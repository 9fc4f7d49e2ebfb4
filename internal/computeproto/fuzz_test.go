package computeproto

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func addSeeds(f *testing.F, prefixes ...string) {
	names, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, n := range names {
		base := filepath.Base(n)
		for _, p := range prefixes {
			if strings.HasPrefix(base, p) {
				b, err := os.ReadFile(n)
				if err != nil {
					f.Fatal(err)
				}
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"a":[1e400]}`))
	f.Add([]byte(`[`))
}

// roundTrip checks the decode→encode→decode property: whatever decodes
// re-encodes, decodes again, and reaches a fixed point.
func roundTrip[T any](t *testing.T, dec func([]byte) (T, error), b []byte) {
	v1, err := dec(b)
	if err != nil {
		return
	}
	e1, err := Marshal(v1)
	if err != nil {
		t.Fatalf("accepted value does not encode: %v\ninput %q", err, b)
	}
	v2, err := dec(e1)
	if err != nil {
		t.Fatalf("own encoding refused: %v\n%s", err, e1)
	}
	e2, err := Marshal(v2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e1, e2) {
		t.Fatalf("encoding not stable\n%s\n%s", e1, e2)
	}
	v3, err := dec(e2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v2, v3) {
		t.Fatalf("value not stable\n%+v\n%+v", v2, v3)
	}
}

func FuzzDecodeHeartbeat(f *testing.F) {
	addSeeds(f, "heartbeat")
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, DecodeHeartbeatData, b)
		roundTrip(t, DecodeHeartbeatResponse, b)
	})
}

func FuzzDecodeTask(f *testing.F) {
	addSeeds(f, "task")
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, DecodeTaskRequest, b)
		roundTrip(t, DecodeTaskResponse, b)
	})
}

func FuzzDecodeCommitment(f *testing.F) {
	addSeeds(f, "commitment")
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, DecodeCommitmentData, b)
		roundTrip(t, DecodeCommitmentResponse, b)
	})
}

func FuzzDecodeProof(f *testing.F) {
	addSeeds(f, "proof")
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, DecodeProofData, b)
		roundTrip(t, DecodeProofDataResponse, b)
	})
}

func FuzzDecodeSession(f *testing.F) {
	addSeeds(f, "session", "vmgw", "error")
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, DecodeSessionInitRequest, b)
		roundTrip(t, DecodeSessionInitResponse, b)
		roundTrip(t, DecodeVmgwEnrollTokenRequest, b)
		roundTrip(t, DecodeVmgwEnrollTokenResponse, b)
		roundTrip(t, DecodeErrorResponse, b)
	})
}

// FuzzCanonical checks the encoder alone: its output is valid JSON, a
// fixed point, and means the same as its input.
func FuzzCanonical(f *testing.F) {
	addSeeds(f, "")
	f.Add([]byte(`{"b":"<\u2028>","a":[0.1,1E5,-0]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Canonical(b)
		if err != nil {
			return
		}
		c2, err := Canonical(c)
		if err != nil || !bytes.Equal(c, c2) {
			t.Fatalf("not a fixed point: %v\n%s\n%s", err, c, c2)
		}
	})
}
