package keys

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mr-tron/base58"
)

const aliceHex = "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"

// Addresses from substrate-interface's subkey-checked table and bip_utils.
var ss58Vectors = []struct {
	pub    string
	prefix uint16
	addr   string
}{
	{aliceHex, 42, "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"},
	{"6a5a5957ce778c174c02c151e7c4917ac127b33ad8485f579f830fc15d31bc5a", 42, "5EU9mjvZdLRGyDFiBHjxrxvQuaaBpeTZCguhxM3yMX8cpZ2u"},
	{"51e5a6beae03719e2e9335a3994f8da03be34d6c71fac792c375b81e6faf3330", 2, "ERhckLKG8dSw7uSH3pixNMkE3LvRRh6wB47BxRteGgcbzjb"},
	{"79d1b9f483f005398e8a9ffa6378990a6d302b882848220dfa68a50b6f2090f2", 10, "23dKgUghw8q96xGPCybiSRDkbNJMxNK7riGoEvo4GyxFdSAe"},
	{"c0922153608d966efc4fedb67825a8bb79ed689689dda2592f446e4d997842a7", 59, "6xoQrYS9PWW2vQqBHbVaxaEDf82enqsatyNpa2xspJaCFqYS"},
	{"735ec2e330426e8643745d5bf6b287bfec4e50eaca556c9f2781b02db5e7a236", 64, "cEYBURAnCdz1eMtzsDW3JAz8dEGrahsjYiHXZCBFsxHK7VJX1"},
	{"735ec2e330426e8643745d5bf6b287bfec4e50eaca556c9f2781b02db5e7a236", 127, "jArK6dHqpF4QE6a9H8B54gNRy6hSBzpYBGjCwp4KrqxoADwNq"},
	{"66cd6cf085627d6c85af1aaf2bd10cf843033e929b4e3b1c2ba8e4aa46fe111b", 255, "yGF4JP7q5AK46d1FPCEm9sYQ4KooSjHMpyVAjLnsCSWVafPnf"},
	{"44d5a3ac156335ea99d33a83c57c7146c40c8e2260a8a4adf4e7a86256454651", 4242, "mHm8k9Emsvyfp3piCauSH684iA6NakctF8dySQcX94GDdrJrE"},
	{"88f01441682a17b52d6ae12d1a5670cf675fd254897efabaa5069eb3a701ab73", 14269, "r6Gr4gaMP8TsjhFbqvZhv3YvnasugLiRJpzpRHifsqqG18UXa"},
}

func TestSS58Vectors(t *testing.T) {
	for _, v := range ss58Vectors {
		pub := mustHex32(t, v.pub)
		got, err := SS58Encode(pub[:], v.prefix)
		if err != nil || got != v.addr {
			t.Errorf("SS58Encode(%s, %d) = %q, %v; want %q", v.pub, v.prefix, got, err, v.addr)
		}
		p, prefix, err := SS58Decode(v.addr)
		if err != nil || p != PublicKey(pub) || prefix != v.prefix {
			t.Errorf("SS58Decode(%s) = %x, %d, %v", v.addr, p, prefix, err)
		}
		if s, err := PublicKey(pub).SS58WithPrefix(v.prefix); err != nil || s != v.addr {
			t.Errorf("SS58WithPrefix = %q, %v", s, err)
		}
	}
}

func TestSS58RoundTripAllPrefixes(t *testing.T) {
	pub := mustHex32(t, aliceHex)
	for prefix := 0; prefix <= int(MaxSS58Prefix); prefix += 7 {
		addr, err := SS58Encode(pub[:], uint16(prefix))
		if err != nil {
			t.Fatal(err)
		}
		p, got, err := SS58Decode(addr)
		if err != nil || got != uint16(prefix) || p != PublicKey(pub) {
			t.Fatalf("prefix %d: %q -> %d, %v", prefix, addr, got, err)
		}
	}
	for _, prefix := range []uint16{16384, 0xffff} {
		if _, err := SS58Encode(pub[:], prefix); !errors.Is(err, ErrSS58Prefix) {
			t.Errorf("prefix %d: %v", prefix, err)
		}
	}
	for _, n := range []int{0, 31, 33} {
		if _, err := SS58Encode(make([]byte, n), 42); !errors.Is(err, ErrSS58Length) {
			t.Errorf("%d-byte key: %v", n, err)
		}
	}
}

func TestSS58DecodeErrors(t *testing.T) {
	alice := "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
	raw, _ := base58.Decode(alice)
	enc := func(b []byte) string { return base58.Encode(b) }
	badSum := append([]byte(nil), raw...)
	badSum[len(badSum)-1] ^= 1
	badKey := append([]byte(nil), raw...)
	badKey[5] ^= 1
	twoByteOfOne := append([]byte{0x40, 0x00}, raw[1:33]...) // format 0 in the two-byte form
	sum := ss58Checksum(twoByteOfOne)
	twoByteOfOne = append(twoByteOfOne, sum[:]...)
	pre3 := append([]byte{0x80}, raw[1:]...)
	sum3 := ss58Checksum(pre3[:33])
	copy(pre3[33:], sum3[:])

	cases := []struct {
		addr string
		want error
	}{
		{"", ErrSS58Length},
		{strings.Repeat("5", 65), ErrSS58Length},
		{alice[:len(alice)-1], nil}, // a different number: any error
		{alice + "1", nil},
		{"1", ErrSS58Length},
		{"0OIl", ErrSS58Base58},
		{alice[:10] + "0" + alice[11:], ErrSS58Base58},
		{alice[:10] + " " + alice[11:], ErrSS58Base58},
		{enc(badSum), ErrSS58Checksum},
		{enc(badKey), ErrSS58Checksum},
		{enc(raw[:34]), ErrSS58Length},
		{enc(append(append([]byte(nil), raw...), 0)), ErrSS58Length},
		{enc(twoByteOfOne), ErrSS58Prefix},
		{enc(pre3), ErrSS58Prefix},
		{enc([]byte{0x41}), ErrSS58Length},
	}
	for _, c := range cases {
		_, _, err := SS58Decode(c.addr)
		if err == nil {
			t.Errorf("SS58Decode(%q) succeeded", c.addr)
			continue
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("SS58Decode(%q) = %v, want %v", c.addr, err, c.want)
		}
	}
}

func TestParsePublicKey(t *testing.T) {
	want := PublicKey(mustHex32(t, aliceHex))
	for _, s := range []string{
		"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
		" 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY\n",
		"15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5", // Polkadot (0)
		"0x" + aliceHex,
		"0X" + strings.ToUpper(aliceHex),
	} {
		got, err := ParsePublicKey(s)
		if err != nil || got != want {
			t.Errorf("ParsePublicKey(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "0x", "0x" + aliceHex[:62], "0x" + aliceHex + "00", "0x" + aliceHex[:63] + "g", aliceHex, "5Grwva"} {
		if _, err := ParsePublicKey(s); err == nil {
			t.Errorf("ParsePublicKey(%q) succeeded", s)
		}
	}
	if want.Hex() != "0x"+aliceHex || want.String() != want.SS58() || want.IsZero() || !(PublicKey{}).IsZero() {
		t.Error("PublicKey accessors")
	}
	b := want.Bytes()
	b[0] ^= 1
	if want[0] != 0xd4 {
		t.Error("Bytes aliases the key")
	}
	// Text marshalling round trip.
	js, err := json.Marshal(map[string]PublicKey{"k": want})
	if err != nil || string(js) != `{"k":"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"}` {
		t.Fatalf("json = %s, %v", js, err)
	}
	var back map[string]PublicKey
	if err := json.Unmarshal(js, &back); err != nil || back["k"] != want {
		t.Errorf("json round trip: %v", err)
	}
	var p PublicKey
	if err := p.UnmarshalText([]byte("nope")); err == nil {
		t.Error("UnmarshalText accepted garbage")
	}
}

func TestSS58PrefixEncodingMatchesDecoder(t *testing.T) {
	// Every two-byte pattern the decoder accepts maps back to the same bytes.
	for b0 := 64; b0 < 128; b0++ {
		for b1 := 0; b1 < 256; b1++ {
			lower := byte(b0<<2) | byte(b1>>6)
			upper := byte(b1) & 0x3f
			prefix := uint16(lower) | uint16(upper)<<8
			if prefix < 64 {
				continue
			}
			got, err := ss58PrefixBytes(prefix)
			if err != nil || len(got) != 2 || got[0] != byte(b0) || got[1] != byte(b1) {
				t.Fatalf("prefix %d from %02x%02x encodes as %x (%v)", prefix, b0, b1, got, err)
			}
		}
	}
	if hex.EncodeToString(mustPrefix(t, 42)) != "2a" {
		t.Error("prefix 42")
	}
}

func mustPrefix(t *testing.T, p uint16) []byte {
	t.Helper()
	b, err := ss58PrefixBytes(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzSS58Decode(f *testing.F) {
	for _, v := range ss58Vectors {
		f.Add(v.addr)
	}
	f.Add("")
	f.Add("1")
	f.Add("0x" + aliceHex)
	f.Add(strings.Repeat("z", 64))
	f.Fuzz(func(t *testing.T, addr string) {
		pub, prefix, err := SS58Decode(addr)
		if _, perr := ParsePublicKey(addr); perr != nil && err == nil && strings.TrimSpace(addr) == addr {
			t.Fatalf("SS58Decode accepts %q but ParsePublicKey does not: %v", addr, perr)
		}
		if err != nil {
			return
		}
		again, err := SS58Encode(pub[:], prefix)
		if err != nil {
			t.Fatalf("re-encode of %q: %v", addr, err)
		}
		if again != addr {
			t.Fatalf("round trip %q -> %q", addr, again)
		}
	})
}
