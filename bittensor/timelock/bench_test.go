package timelock

import "testing"

// benchPayload is the size of a weights payload for 256 uids.
var benchPayload = weightsPayload(256)

func BenchmarkEncrypt(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	for b.Loop() {
		if _, err := Encrypt(Quicknet, pulseRound, benchPayload, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	sig := unhex(b, pulseSignature)
	ct, err := Encrypt(Quicknet, pulseRound, benchPayload, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	for b.Loop() {
		if _, err := Decrypt(Quicknet, ct, pulseRound, sig); err != nil {
			b.Fatal(err)
		}
	}
}
