package subtensor

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/substrate/substratetest"
)

func weightCommitsKey(t *testing.T, netuid uint16, hotkey AccountID) []byte {
	return skey(t, Pallet, "WeightCommits",
		substrate.MapKey{Hasher: substrate.Twox64Concat, Key: u16le(netuid)},
		substrate.MapKey{Hasher: substrate.Twox64Concat, Key: hotkey[:]})
}

// weightCommitsValue encodes WeightCommits entries in the current layout
// (hash, commit_epoch, commit_block, 0).
func weightCommitsValue(c ...OnChainCommit) []byte {
	e := scale.NewEncoder(0)
	e.VecLen(len(c))
	for _, x := range c {
		e.Fixed(x.Hash[:])
		e.U64(x.CommitEpoch)
		e.U64(x.CommitBlock)
		e.U64(0)
	}
	return e.Bytes()
}

func TestHashCommitThenReveal(t *testing.T) {
	f := newWeightsFixture(t)
	f.chain.Set(skey(t, Pallet, "LastUpdate", byNetuid(1)), u64vec())
	hotkey := AccountID(f.alice.PublicKey())
	store := FileCommitStore{Dir: filepath.Join(t.TempDir(), "commits")}
	opts := WeightOptions{Commits: store}
	ctx := ctxT(t)

	s, err := f.client.WeightState(ctx, 1, hotkey)
	if err != nil {
		t.Fatal(err)
	}
	plan, _ := s.Plan([]uint16{1, 2}, []float64{1, 3})
	plan.Mode = ModeHashCommit
	res, err := f.client.SubmitWeights(ctx, f.alice, s, plan, opts)
	if err != nil || !res.Succeeded() {
		t.Fatalf("commit: %+v %v", res, err)
	}
	name, args := f.submittedCall(t, 0, f.alice)
	if want := CommitWeights(1, res.CommitHash); name != "commit_weights" || !bytes.Equal(args, want.Args) {
		t.Fatalf("%s(%x), want commit_weights(%x)", name, args, want.Args)
	}
	// The salt is on disk, private, and hashes to the commit.
	pending, err := store.List(ctx, hotkey, 1)
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending %v %v", pending, err)
	}
	pc := pending[0]
	if pc.Hash != res.CommitHash || pc.CommitBlock != 1000 || len(pc.Salt) != saltLen || pc.Check() != nil {
		t.Fatalf("pending %+v", pc)
	}
	files, _ := filepath.Glob(filepath.Join(store.Dir, "*.json"))
	for _, p := range append(files, store.Dir) {
		st, err := os.Stat(p)
		if err != nil || (p == store.Dir && st.Mode().Perm() != 0o700) || (p != store.Dir && st.Mode().Perm() != 0o600) {
			t.Fatalf("%s: mode %v %v", p, st.Mode(), err)
		}
	}

	// The chain holds the commit from epoch 10 (block 1000, tempo 99).
	f.chain.Set(weightCommitsKey(t, 1, hotkey), weightCommitsValue(OnChainCommit{pc.Hash, 10, 1000}))
	// Still epoch 10: wait for block 1098, where epoch 11 starts.
	out, err := f.client.RevealCommits(ctx, f.alice, 1, opts)
	if err != nil || len(out) != 1 || out[0].Status != Waiting || out[0].Blocks != 98 {
		t.Fatalf("before the reveal epoch: %+v %v", out, err)
	}
	if n := len(f.chain.Submitted()); n != 1 {
		t.Fatalf("%d extrinsics after a too-early reveal check", n)
	}

	// Epoch 11: revealed with the stored vectors and salt, then forgotten.
	f.chain.SetNumber(1100)
	out, err = f.client.RevealCommits(ctx, f.alice, 1, opts)
	if err != nil || len(out) != 1 || out[0].Status != Revealed || out[0].Err != nil {
		t.Fatalf("in the reveal epoch: %+v %v", out, err)
	}
	name, args = f.submittedCall(t, 1, f.alice)
	if name != "reveal_weights" {
		t.Fatalf("call %s", name)
	}
	var netuid uint16
	var uids, values, salt []uint16
	var vk uint64
	err = scale.Decode(args, func(r *scale.Reader) (err error) {
		u16s := func() ([]uint16, error) {
			return scale.DecodeVec(r, 2, func(r *scale.Reader) (uint16, error) { return r.U16() })
		}
		if netuid, err = r.U16(); err != nil {
			return
		}
		if uids, err = u16s(); err != nil {
			return
		}
		if values, err = u16s(); err != nil {
			return
		}
		if salt, err = u16s(); err != nil {
			return
		}
		vk, err = r.U64()
		return
	})
	if err != nil || netuid != 1 || !slices.Equal(uids, plan.UIDs) || !slices.Equal(values, plan.Values) || vk != 7 {
		t.Fatalf("reveal args %d %v %v %d: %v", netuid, uids, values, vk, err)
	}
	// What the chain checks: the revealed vectors hash to the commit.
	if CommitHash(hotkey, 1, uids, values, salt, vk) != pc.Hash {
		t.Fatal("revealed vectors do not hash to the commit")
	}
	if left, _ := store.List(ctx, hotkey, 1); len(left) != 0 {
		t.Fatalf("%d commits left after the reveal", len(left))
	}
}

func TestRevealCommitsSortsOutStaleEntries(t *testing.T) {
	f := newWeightsFixture(t)
	hotkey := AccountID(f.alice.PublicKey())
	store := FileCommitStore{Dir: t.TempDir()}
	ctx := ctxT(t)
	mk := func(seed uint16, commitBlock, submittedAt uint64) PendingCommit {
		pc := PendingCommit{Hotkey: hotkey, Netuid: 1, UIDs: []uint16{seed}, Values: []uint16{65535}, Salt: []uint16{seed, 9}, VersionKey: 7,
			CommitBlock: commitBlock, SubmittedAt: submittedAt}
		pc.Hash = CommitHash(hotkey, 1, pc.UIDs, pc.Values, pc.Salt, 7)
		if err := store.Put(ctx, pc); err != nil {
			t.Fatal(err)
		}
		return pc
	}
	f.chain.SetNumber(10_000)    // epoch 100
	expired := mk(1, 9800, 9799) // epoch 98, due 99
	gone := mk(2, 9990, 9989)    // landed, no longer on chain
	unseen := mk(3, 0, 9995)     // sent five blocks ago, not seen yet
	lost := mk(4, 0, 5000)       // sent long ago, never seen
	f.chain.Set(weightCommitsKey(t, 1, hotkey), weightCommitsValue(OnChainCommit{expired.Hash, 98, 9800}, OnChainCommit{[32]byte{9}, 100, 10_000}))
	out, err := f.client.RevealCommits(ctx, f.alice, 1, WeightOptions{Commits: store})
	if err != nil {
		t.Fatal(err)
	}
	got := map[[32]byte]RevealStatus{}
	for _, o := range out {
		got[o.Commit.Hash] = o.Status
	}
	want := map[[32]byte]RevealStatus{expired.Hash: Expired, gone.Hash: Gone, unseen.Hash: Unseen, lost.Hash: Gone}
	if len(got) != len(want) {
		t.Fatalf("outcomes %v", out)
	}
	for h, st := range want {
		if got[h] != st {
			t.Errorf("commit %x: %s, want %s", h[:4], got[h], st)
		}
	}
	left, _ := store.List(ctx, hotkey, 1)
	if len(left) != 1 || left[0].Hash != unseen.Hash {
		t.Fatalf("kept %v", left)
	}
	if n := len(f.chain.Submitted()); n != 0 {
		t.Fatalf("%d extrinsics submitted", n)
	}
}

func TestHashCommitRejectedForgetsTheSalt(t *testing.T) {
	f := newWeightsFixture(t)
	f.chain.Set(skey(t, Pallet, "LastUpdate", byNetuid(1)), u64vec())
	f.chain.OnSubmit = func([]byte) *substratetest.Failure {
		return &substratetest.Failure{Code: 1010, Message: "Invalid Transaction", Data: "Custom error: 6"}
	}
	store := FileCommitStore{Dir: t.TempDir()}
	s, _ := f.client.WeightState(ctxT(t), 1, AccountID(f.alice.PublicKey()))
	plan, _ := s.Plan([]uint16{1}, []float64{1})
	plan.Mode = ModeHashCommit
	_, err := f.client.SubmitWeights(ctxT(t), f.alice, s, plan, WeightOptions{Commits: store})
	var pe *PoolError
	if !errors.As(err, &pe) || pe.Name != "RateLimitExceeded" {
		t.Fatalf("rejection: %v", err)
	}
	if left, _ := store.List(context.Background(), s.Hotkey, 1); len(left) != 0 {
		t.Fatalf("a rejected commit was kept: %v", left)
	}
	if _, err := f.client.SubmitWeights(ctxT(t), f.alice, s, plan, WeightOptions{}); err == nil || !strings.Contains(err.Error(), "commit store") {
		t.Fatalf("hash commit without a store: %v", err)
	}
}

func TestFileCommitStoreRefusesTamperedFiles(t *testing.T) {
	store := FileCommitStore{Dir: t.TempDir()}
	ctx := context.Background()
	hk := AccountID{1}
	pc := PendingCommit{Hotkey: hk, Netuid: 3, UIDs: []uint16{1}, Values: []uint16{65535}, Salt: []uint16{5}, VersionKey: 1}
	pc.Hash = CommitHash(hk, 3, pc.UIDs, pc.Values, pc.Salt, 1)
	if err := store.Put(ctx, pc); err != nil {
		t.Fatal(err)
	}
	if got, err := store.List(ctx, hk, 3); err != nil || len(got) != 1 || !slices.Equal(got[0].Salt, pc.Salt) {
		t.Fatalf("list %v %v", got, err)
	}
	if got, _ := store.List(ctx, hk, 4); len(got) != 0 {
		t.Fatalf("another netuid lists %v", got)
	}
	path := store.name(hk, 3, pc.Hash)
	b, _ := os.ReadFile(path)
	for name, edit := range map[string]string{
		"salt changed": strings.Replace(string(b), `"salt": [
    5
  ]`, `"salt": [
    6
  ]`, 1),
		"not JSON":      "{",
		"unknown field": strings.Replace(string(b), `"netuid"`, `"extra": 1, "netuid"`, 1),
	} {
		if edit == string(b) {
			t.Fatal("edit did not apply")
		}
		if err := os.WriteFile(path, []byte(edit), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := store.List(ctx, hk, 3); err == nil {
			t.Errorf("%s: listed without error", name)
		}
	}
	if err := store.Delete(ctx, hk, 3, pc.Hash); err != nil {
		t.Fatal(err)
	}
	if err := store.Delete(ctx, hk, 3, pc.Hash); err != nil {
		t.Fatalf("second delete: %v", err)
	}
}
