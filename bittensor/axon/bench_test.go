package axon_test

import (
	"context"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/axon"
	"github.com/vigil-validator/vigil/bittensor/dendrite"
)

// BenchmarkAxonVerified measures signed calls through the whole pipeline
// over loopback HTTP: the dendrite signs, the axon verifies the signature
// and the nonce, checks the body hash and answers.
func BenchmarkAxonVerified(b *testing.B) {
	_, target := benchServer(b)
	bob := key(b, "//Bob")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		// One dendrite (one uuid) per client: calls of one uuid must reach
		// the axon in nonce order, so concurrent ones would race.
		d, err := dendrite.New(bob)
		if err != nil {
			b.Error(err)
			return
		}
		for pb.Next() {
			p := &Ping{Text: "benchmark payload", N: 7}
			if err := d.Call(context.Background(), target, p); err != nil || !dendrite.Success(p) {
				b.Errorf("call failed: %v", err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func benchServer(b *testing.B) (*axon.Axon, dendrite.Target) {
	return serverTB(b, func(c *axon.Config) { c.RateLimit = -1 })
}
