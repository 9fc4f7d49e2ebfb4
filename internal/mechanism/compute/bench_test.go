package compute_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/vigil-validator/vigil/internal/computeproto"
	"github.com/vigil-validator/vigil/internal/store"
)

// BenchmarkCommitment: the commitment handler on SQLite: the challenge
// read, the checks, the targets drawn and the commitment stored.
func BenchmarkCommitment(b *testing.B) {
	r := newRig(b, "sqlite", "cpu_matrix", nil, nil)
	ctx := context.Background()
	r.st.RecordComputeHeartbeat(ctx, 3, "5Bob", "", []store.ComputeWorkerBeat{{WorkerID: "w1", Status: "online", Capabilities: []string{"cpu_matrix"}}}) //nolint:errcheck
	const n = 20000
	cs := make([]store.ComputeChallenge, n)
	for i := range cs {
		cs[i] = store.ComputeChallenge{Netuid: 3, ID: fmt.Sprintf("c%05d", i), Hotkey: "5Bob", WorkerID: "w1", Kind: "cpu_matrix",
			Data: []byte(`{"challenge_type":"cpu_matrix","matrix_size":2000,"seed":"00112233445566778899aabbccddeeff","iterations":1}`)}
	}
	if err := r.st.CreateComputeChallenges(ctx, cs); err != nil {
		b.Fatal(err)
	}
	if _, err := r.st.PullComputeChallenges(ctx, 3, "5Bob", 3600e9); err != nil {
		b.Fatal(err)
	}
	h := r.m.Handlers()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if i == n {
			b.Fatal("out of challenges")
		}
		cd := computeproto.NewCommitmentData(cs[i].ID, "w1", []computeproto.Commitment{{UUID: "-1", MerkleRoot: "b40a16fc2af23c2d31576f1cc250f27cf3a314a363b6053a4ba23b1e87b9ac3f"}})
		if body, code := h.Commitment(ctx, "5Bob", cd); code != 0 {
			b.Fatalf("commit: %v", body)
		}
		i++
	}
}
