package localnet

import (
	"testing"
	"time"
)

// BenchmarkProduce is one block of the dev genesis chain: pulses, block
// step, rendering and sealing.
func BenchmarkProduce(b *testing.B) {
	st, err := DefaultGenesis().State()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Unix(1_763_800_000, 0)
	ch, err := New(Config{Now: func() time.Time { return now }}, st)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(12 * time.Second)
		if _, err := ch.Produce(); err != nil {
			b.Fatal(err)
		}
	}
}
