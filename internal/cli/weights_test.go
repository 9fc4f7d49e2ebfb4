package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/localnet"
	"github.com/vigil-validator/vigil/internal/localnet/localnettest"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

// TestWeightsPreview: 'vigil weights preview' over a compute validator's
// store and a localnet: as of a time inside the ranking window the miner
// with the faster verified challenges leads, both get a u16 and the vector
// is the direct conversion in hotkey order; as of four hours later, past
// the window and the 30-minute heartbeat sweep, nothing would be
// submitted. Nothing is stored.
func TestWeightsPreview(t *testing.T) {
	_, url := localnettest.Start(t, localnet.DefaultGenesis(), 100*time.Millisecond)
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "vigil.db")
	st := storetest.OpenSQLiteAt(t, filepath.Join(dir, "vigil.db"), time.Second, clk)
	ctx := context.Background()
	ss58 := func(uri string) string {
		kp, err := keys.FromURI(uri)
		if err != nil {
			t.Fatal(err)
		}
		return kp.SS58()
	}
	bob, charlie := ss58("//Bob"), ss58("//Charlie")
	for _, hk := range []string{bob, charlie} {
		if err := st.RecordComputeHeartbeat(ctx, 1, hk, "", []store.ComputeWorkerBeat{{WorkerID: "w1", Status: "online"}}); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateComputeChallenges(ctx, []store.ComputeChallenge{{Netuid: 1, ID: hk + "-c", Hotkey: hk, WorkerID: "w1", Kind: "cpu_matrix", Data: json.RawMessage(`{}`)}}); err != nil {
			t.Fatal(err)
		}
		ms := map[string]float64{bob: 1000, charlie: 3000}[hk]
		if err := st.CommitComputeChallenge(ctx, 1, hk+"-c", map[string]string{"-1": "ab"}, json.RawMessage(`{}`), &ms); err != nil {
			t.Fatal(err)
		}
		if err := st.QueueComputeProof(ctx, 1, hk+"-c", json.RawMessage(`{}`), nil); err != nil {
			t.Fatal(err)
		}
		if err := st.FinishComputeVerification(ctx, 1, hk+"-c", true, 1, "", time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "validator.yaml")
	yaml := "chain:\n  network: " + url + "\n  netuid: 1\ndatabase:\n  url: " + dbURL + "\nwallet:\n  uri: //Alice\nmechanism: compute\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var p previewJSON
	r := run(t, nil, "weights", "preview", "--config", file, "--at", t0.Add(10*time.Minute).Format(time.RFC3339), "--json")
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &p) != nil {
		t.Fatalf("preview: %+v", r)
	}
	if len(p.Miners) != 2 || !p.Direct || p.Mechanism != "compute" {
		t.Fatalf("preview %+v", p)
	}
	got := map[string]previewMinerJS{}
	for _, m := range p.Miners {
		got[m.Hotkey] = m
	}
	if b, c := got[bob], got[charlie]; !(b.Score > c.Score && c.Score > 0) || b.U16 != 65535 || c.U16 == 0 || b.Factors["challenge_norm"] != 1 {
		t.Errorf("as of the window: %+v %+v", b, c)
	}
	var uids []uint16
	var ws []float64
	for _, m := range p.Miners { // hotkey order
		uids, ws = append(uids, m.UID), append(ws, m.Score)
	}
	wu, wv, _ := subtensor.ConvertWeights(uids, ws)
	if jsonOf(wu) != jsonOf(p.UIDs) || jsonOf(wv) != jsonOf(p.Weights) {
		t.Errorf("vector %v %v, want the direct conversion %v %v", p.UIDs, p.Weights, wu, wv)
	}
	r = run(t, nil, "weights", "preview", "--config", file, "--at", t0.Add(4*time.Hour).Format(time.RFC3339))
	if r.code != exitOK || !strings.Contains(r.stdout, "no weights would be submitted") {
		t.Errorf("four hours later: %+v", r)
	}
	var passes, subs int
	_ = st.DB().QueryRow("SELECT COUNT(*) FROM compute_weight_passes").Scan(&passes)
	_ = st.DB().QueryRow("SELECT COUNT(*) FROM weight_submissions").Scan(&subs)
	if passes != 0 || subs != 0 {
		t.Errorf("the preview stored %d passes and %d submissions", passes, subs)
	}
	if r := run(t, nil, "weights", "preview", "--config", file, "--at", "yesterday"); r.code != exitUsage || !strings.Contains(r.stderr, "--at") {
		t.Errorf("a bad --at: %+v", r)
	}
	if r := run(t, nil, "weights", "preview", "--config", file, "--subnet", "9"); r.code != exitUsage || !strings.Contains(r.stderr, "no such subnet") {
		t.Errorf("an unknown subnet: %+v", r)
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
