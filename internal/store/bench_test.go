package store_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

// The write paths the validator takes on every scoring pass and weight
// submission, on both engines.
func BenchmarkAppendEvent(b *testing.B) {
	for _, engine := range storetest.Engines {
		b.Run(engine, func(b *testing.B) {
			s := storetest.Open(b, engine, nil)
			ctx := context.Background()
			e := store.Event{Kind: "weights.submitted", Subject: "netuid:1", Detail: json.RawMessage(`{"block":100}`)}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.AppendEvent(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRecordWeightSubmission(b *testing.B) {
	uids := make([]uint16, 256)
	weights := make([]uint16, 256)
	for i := range uids {
		uids[i], weights[i] = uint16(i), uint16(i*255)
	}
	for _, engine := range storetest.Engines {
		b.Run(engine, func(b *testing.B) {
			s := storetest.Open(b, engine, nil)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				w := store.WeightSubmission{Netuid: 1, Block: 100, Mode: store.ModeSet, UIDs: uids, Weights: weights}
				if err := s.RecordWeightSubmission(ctx, &w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
