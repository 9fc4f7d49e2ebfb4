package localnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/oracletest"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/localnet/meta"
)

// testNet is a chain on loopback whose blocks the test produces, with a
// connected client.
type testNet struct {
	chain  *Chain
	url    string
	client *subtensor.Client
	rpc    *substrate.Client
	now    time.Time
	mu     sync.Mutex
}

func startNet(t *testing.T, g Genesis) *testNet {
	t.Helper()
	st, err := g.State()
	if err != nil {
		t.Fatal(err)
	}
	n := &testNet{now: time.Unix(1_763_800_000, 0)}
	ch, err := New(Config{Now: n.clock}, st)
	if err != nil {
		t.Fatal(err)
	}
	n.chain = ch
	srv := httptest.NewServer(NewServer(ch))
	t.Cleanup(srv.Close)
	n.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rpc, err := substrate.Dial(ctx, substrate.Options{URL: n.url, CallTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rpc.Close() })
	n.rpc = rpc
	n.client, _ = subtensor.New(rpc)
	n.blocks(t, 3)
	return n
}

func (n *testNet) clock() time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.now
}

// blocks produces k blocks, 12 s apart on the chain's clock.
func (n *testNet) blocks(t *testing.T, k int) {
	t.Helper()
	for range k {
		n.mu.Lock()
		n.now = n.now.Add(12 * time.Second)
		n.mu.Unlock()
		if _, err := n.chain.Produce(); err != nil {
			t.Fatal(err)
		}
	}
}

// submit sends a call and produces blocks until it is in one, returning
// the result.
func (n *testNet) submit(t *testing.T, signer *keys.KeyPair, call subtensor.Call) (*substrate.SubmitResult, error) {
	t.Helper()
	type out struct {
		res *substrate.SubmitResult
		err error
	}
	done := make(chan out, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		res, err := n.client.Submit(ctx, signer, call, subtensor.SubmitOptions{})
		done <- out{res, err}
	}()
	for {
		select {
		case o := <-done:
			return o.res, o.err
		case <-time.After(20 * time.Millisecond):
			n.blocks(t, 1)
		}
	}
}

func dev(t *testing.T, uri string) *keys.KeyPair {
	kp, err := keys.FromURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func TestLocalnetServesTheClient(t *testing.T) {
	n := startNet(t, DefaultGenesis())
	ctx := context.Background()
	alice := dev(t, "//Alice")
	st, err := n.client.WeightState(ctx, 1, AccountID(alice.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	if !st.Registered || st.UID != 0 || st.N != 4 || st.Params.Tempo != 10 || st.Block != 3 || st.LastStoredRound == 0 {
		t.Fatalf("state %+v", st)
	}
	m, err := n.client.Metagraph(ctx, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Neurons) != 4 || m.Neurons[0].Hotkey != AccountID(alice.PublicKey()) || !m.Neurons[0].ValidatorPermit || m.Neurons[0].Stake != 1000e9 {
		t.Fatalf("metagraph %+v", m.Neurons[0])
	}
	hp, err := n.client.Hyperparameters(ctx, 1, "")
	if err != nil || hp.Tempo != 10 || hp.MinAllowedWeights != 1 {
		t.Fatalf("hyperparameters %+v %v", hp, err)
	}
}

func TestLocalnetSetWeightsAndErrors(t *testing.T) {
	n := startNet(t, DefaultGenesis())
	alice, bob := dev(t, "//Alice"), dev(t, "//Bob")
	call, _ := subtensor.SetWeights(1, []uint16{1, 2}, []uint16{65535, 32768}, 0)
	res, err := n.submit(t, alice, call)
	if err != nil || !res.Succeeded() {
		t.Fatalf("set_weights: %+v %v", res, err)
	}
	var sawWeightsSet bool
	for _, e := range res.Events {
		sawWeightsSet = sawWeightsSet || (e.Pallet == subtensor.Pallet && e.Name == "WeightsSet")
	}
	if !sawWeightsSet {
		t.Fatalf("events %+v", res.Events)
	}
	// Read back through the client, as stored: upscaled so the largest is
	// 65535 (the layout @polkadot/api reads in TestPolkadotClientSetsWeights).
	got, err := n.client.Weights(context.Background(), 1, 0, res.BlockHash)
	if want := []subtensor.WeightEntry{{UID: 1, Value: 65535}, {UID: 2, Value: 32768}}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("Weights = %v, %v; want %v", got, err, want)
	}
	if got, err := n.client.Weights(context.Background(), 1, 1, ""); err != nil || len(got) != 0 {
		t.Fatalf("a miner's weights = %v, %v; want none", got, err)
	}
	// Again at once: the pool refuses it under the rate limit.
	_, err = n.submit(t, alice, call)
	var pe *subtensor.PoolError
	if !errors.As(err, &pe) || pe.Name != "RateLimitExceeded" {
		t.Fatalf("second set_weights: %v", err)
	}
	// A miner has no validator permit: a dispatch error by name.
	_, err = n.submit(t, bob, call)
	var de *substrate.DispatchError
	if !errors.As(err, &de) || de.Name != "NeuronNoValidatorPermit" {
		t.Fatalf("miner set_weights: %v", err)
	}
}

func crGenesis() Genesis {
	g := DefaultGenesis()
	g.Subnets[0].Hyperparameters = map[string]any{"commit_reveal_weights_enabled": true, "weights_rate_limit": 0}
	return g
}

func TestLocalnetRevealsTimelockedCommits(t *testing.T) {
	n := startNet(t, crGenesis())
	ctx := context.Background()
	alice := dev(t, "//Alice")
	st, err := n.client.WeightState(ctx, 1, AccountID(alice.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := st.Plan([]uint16{1, 2, 3}, []float64{1, 2, 3})
	if err != nil || plan.Mode != subtensor.ModeTimelock {
		t.Fatalf("plan %+v %v", plan, err)
	}
	beacon := n.chain.Beacon()
	done := make(chan error, 1)
	var res *subtensor.WeightResult
	go func() {
		var err error
		res, err = n.client.SubmitWeights(ctx, alice, st, plan, subtensor.WeightOptions{Beacon: &beacon})
		done <- err
	}()
	for waiting := true; waiting; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			waiting = false
		case <-time.After(20 * time.Millisecond):
			n.blocks(t, 1)
		}
	}
	s := n.chain.Head().State.Subnets[1]
	if len(s.Neurons[0].Weights) != 0 {
		t.Fatal("weights applied before the reveal")
	}
	// Produce blocks through the reveal epoch.
	var revealedAt uint64
	for range 40 {
		n.blocks(t, 1)
		if w := n.chain.Head().State.Subnets[1].Neurons[0].Weights; len(w) == 3 {
			revealedAt = n.chain.Head().Number
			break
		}
	}
	if revealedAt == 0 {
		t.Fatalf("not revealed by block %d (round %d, last stored %d)", n.chain.Head().Number, res.RevealRound, n.chain.Head().State.LastStoredRound)
	}
	w := n.chain.Head().State.Subnets[1].Neurons[0].Weights
	if w[0] != (WeightEntry{1, 21845}) || w[2] != (WeightEntry{3, 65535}) {
		t.Fatalf("revealed weights %v", w)
	}
	// It was revealed in the reveal epoch (commit epoch + 1).
	commitEpoch := subtensor.EpochOf(st.Block+1, 1, 10)
	if got := subtensor.EpochOf(revealedAt, 1, 10); got != commitEpoch+1 {
		t.Fatalf("revealed in epoch %d, committed in %d", got, commitEpoch)
	}
}

// signed builds an extrinsic of call signed by kp with the chain's values,
// with edits applied to the parameters before signing.
func (n *testNet) signed(t *testing.T, kp *keys.KeyPair, call subtensor.Call, nonce uint32, edit func(p *substrate.TxParams)) []byte {
	t.Helper()
	md, err := substrate.DecodeMetadata(n.chain.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	x, _ := md.TxExtensions()
	cb, err := md.EncodeCall(subtensor.Pallet, call.Name, call.Args)
	if err != nil {
		t.Fatal(err)
	}
	fin := n.chain.Finalized()
	p := substrate.TxParams{SpecVersion: SpecVersion, TransactionVersion: TransactionVersion, GenesisHash: n.chain.Genesis(),
		Era: substrate.MortalEra(fin.Number, 64), BirthHash: fin.Hash, Nonce: nonce}
	if edit != nil {
		edit(&p)
	}
	ext, err := x.Sign(cb, p, kp)
	if err != nil {
		t.Fatal(err)
	}
	return ext
}

func TestLocalnetPoolRefusals(t *testing.T) {
	n := startNet(t, DefaultGenesis())
	alice := dev(t, "//Alice")
	call, _ := subtensor.SetWeights(1, []uint16{1}, []uint16{65535}, 0)
	submit := func(raw []byte) error { _, _, err := n.chain.Submit(raw, false); return err }
	want := func(name string, err error, code int, data string) {
		t.Helper()
		var re *substrate.RPCError
		if !errors.As(err, &re) || re.Code != code || !strings.Contains(string(re.Data), data) {
			t.Errorf("%s: %v, want %d %q", name, err, code, data)
		}
	}
	want("wrong genesis", submit(n.signed(t, alice, call, 0, func(p *substrate.TxParams) { p.GenesisHash[0] ^= 1 })), 1010, "bad signature")
	want("wrong spec", submit(n.signed(t, alice, call, 0, func(p *substrate.TxParams) { p.SpecVersion++ })), 1010, "bad signature")
	want("wrong birth hash", submit(n.signed(t, alice, call, 0, func(p *substrate.TxParams) { p.BirthHash[0] ^= 1 })), 1010, "bad signature")
	want("future nonce", submit(n.signed(t, alice, call, 3, nil)), 1010, "future")
	tampered := n.signed(t, alice, call, 0, nil)
	tampered[len(tampered)-1] ^= 1
	want("tampered call", submit(tampered), 1010, "bad signature")
	want("garbage", submit([]byte{1, 2, 3}), 1002, "")

	ok := n.signed(t, alice, call, 0, nil)
	if err := submit(ok); err != nil {
		t.Fatal(err)
	}
	want("again", submit(ok), 1013, "")
	// Same nonce, other content: priority too low.
	other, _ := subtensor.SetWeights(1, []uint16{2}, []uint16{65535}, 0)
	want("same nonce", submit(n.signed(t, alice, other, 0, nil)), 1014, "")
	n.blocks(t, 1)
	want("outdated", submit(n.signed(t, alice, other, 0, nil)), 1010, "outdated")
	if got := n.chain.NextIndex(AccountID(alice.PublicKey())); got != 1 {
		t.Fatalf("next index %d", got)
	}
	// An era that has run out: signed at the finalized head, submitted
	// after its period.
	stale := n.signed(t, alice, other, 1, func(p *substrate.TxParams) { p.Era = substrate.MortalEra(n.chain.Finalized().Number, 4) })
	n.blocks(t, 8)
	want("expired era", submit(stale), 1010, "")
}

// restartable serves chains one after another on one loopback address,
// closing every connection when a chain goes, as a stopped process would.
type restartable struct {
	t     *testing.T
	addr  string
	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
	srv   *http.Server
}

func (r *restartable) serve(ch *Chain) {
	r.t.Helper()
	addr := r.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for range 50 { // the old socket may take a moment to go
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	r.ln = ln
	r.srv = &http.Server{Handler: NewServer(ch), ConnState: func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			r.mu.Lock()
			r.conns = append(r.conns, c)
			r.mu.Unlock()
		}
	}}
	go r.srv.Serve(ln) //nolint:errcheck // ends with stop
}

func (r *restartable) stop() {
	r.srv.Close()
	r.mu.Lock()
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
	r.mu.Unlock()
}

// TestLocalnetResumeKeepsGenesisAndClients: a chain saved and resumed has
// the same genesis hash and block hashes, and a client connected through
// the restart goes on submitting; a chain replaced by a new one (another
// genesis) on the same address is signed for after the client reconnects,
// not refused for a bad signature.
func TestLocalnetResumeKeepsGenesisAndClients(t *testing.T) {
	now := time.Unix(1_763_800_000, 0)
	var mu sync.Mutex
	clk := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	tick := func() { mu.Lock(); now = now.Add(12 * time.Second); mu.Unlock() }
	st, err := DefaultGenesis().State()
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{Now: clk}, st)
	if err != nil {
		t.Fatal(err)
	}
	srv := &restartable{t: t}
	srv.serve(a)
	defer srv.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rpc, err := substrate.Dial(ctx, substrate.Options{URL: "ws://" + srv.addr, CallTimeout: 5 * time.Second,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer rpc.Close()
	client, _ := subtensor.New(rpc)
	chain := a
	submit := func(uids []uint16) {
		t.Helper()
		call, _ := subtensor.SetWeights(1, uids, []uint16{65535, 1}, 0)
		done := make(chan error, 1)
		go func() {
			_, err := client.Submit(ctx, dev(t, "//Alice"), call, subtensor.SubmitOptions{})
			done <- err
		}()
		for {
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("submit on the chain at %d: %v", chain.Head().Number, err)
				}
				return
			case <-time.After(20 * time.Millisecond):
				tick()
				if _, err := chain.Produce(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for range 5 {
		tick()
		a.Produce() //nolint:errcheck
	}
	submit([]uint16{1, 2})
	head := a.Head()
	path := t.TempDir() + "/state.json"
	if err := a.SaveState(path); err != nil {
		t.Fatal(err)
	}
	srv.stop()

	saved, err := LoadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if saved.State.Number != head.Number || len(saved.State.Subnets[1].Neurons[0].Weights) != 2 ||
		saved.State.Accounts[AccountID(dev(t, "//Alice").PublicKey())].Nonce != 1 {
		t.Fatalf("loaded state at %d: %+v", saved.State.Number, saved.State.Subnets[1].Neurons[0])
	}
	b, err := Resume(Config{Now: clk}, saved)
	if err != nil {
		t.Fatal(err)
	}
	if b.Genesis() != a.Genesis() || b.Head().Number != head.Number {
		t.Fatalf("resumed: genesis %x at %d; saved %x at %d", b.Genesis(), b.Head().Number, a.Genesis(), head.Number)
	}
	for n := uint64(0); n < head.Number; n++ {
		ha, _ := a.BlockHash(n)
		if hb, ok := b.BlockHash(n); !ok || hb != ha {
			t.Fatalf("block %d: hash %x after resuming, %x before", n, hb, ha)
		}
	}
	chain = b
	srv.serve(b)
	var g0 string
	if err := rpc.CallIdempotent(ctx, "chain_getBlockHash", []any{0}, &g0); err != nil || g0 != fmt.Sprintf("0x%x", a.Genesis()) {
		t.Fatalf("chain_getBlockHash(0) after resuming: %q %v", g0, err)
	}
	for range int(saved.State.Subnets[1].Params.WeightsRateLimit) + 1 {
		tick()
		b.Produce() //nolint:errcheck
	}
	submit([]uint16{2, 3}) // the same client, through the restart
	if w := b.Head().State.Subnets[1].Neurons[0].Weights; len(w) != 2 || w[0].UID != 2 {
		t.Fatalf("weights after resuming: %v", w)
	}
	srv.stop()

	// Another chain on the same address: a new genesis.
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	st, _ = DefaultGenesis().State()
	c, err := New(Config{Now: clk}, st)
	if err != nil || c.Genesis() == a.Genesis() {
		t.Fatalf("a new chain: %v (genesis %x)", err, c.Genesis())
	}
	chain = c
	srv.serve(c)
	submit([]uint16{1, 3})

	if err := os.WriteFile(path, []byte(`{"subnets":{"1":null}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadState(path); err == nil {
		t.Fatal("a null subnet loaded")
	}
	if err := os.WriteFile(path, []byte(`{"format":2,"genesis":"0x00","hashes":[],"state":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadState(path); err == nil {
		t.Fatal("a malformed genesis loaded")
	}
}

// TestPolkadotClientSetsWeights runs @polkadot/api against the chain: it
// reads the metadata, signs set_weights itself (set_mechanism_weights on a
// subnet's second mechanism, as the current Python SDK does), with today's
// full extension list, and reads the weights back.
func TestPolkadotClientSetsWeights(t *testing.T) {
	script := oracletest.Script(t, "localnet-client.mjs", "@polkadot/api")
	g := DefaultGenesis()
	g.Subnets[0].Hyperparameters = map[string]any{"mechanism_count": 2}
	st, err := g.State()
	if err != nil {
		t.Fatal(err)
	}
	ch, err := New(Config{BlockTime: 100 * time.Millisecond}, st)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ch.Run(ctx)
	srv := httptest.NewServer(NewServer(ch))
	defer srv.Close()
	type answer struct {
		Error           string   `json:"error"`
		Chain           string   `json:"chain"`
		SpecName        string   `json:"specName"`
		SpecVersion     int      `json:"specVersion"`
		SetWeightsIndex string   `json:"setWeightsIndex"`
		MechanismCount  int      `json:"mechanismCount"`
		Extensions      []string `json:"extensions"`
		Status          string   `json:"status"`
		Events          []string `json:"events"`
		UID             int      `json:"uid"`
		Stored          [][2]int `json:"stored"`
	}
	extensions := meta.DecodedFor(true).SignedExtensions
	for _, c := range []struct {
		name      string
		mecid     any
		weights   []int
		callIndex string
		want      [][2]int // upscaled so that the largest is 65535
	}{
		{"set_weights", nil, []int{10, 20, 40}, "0x0700", [][2]int{{1, 16384}, {2, 32768}, {3, 65535}}},
		{"set_mechanism_weights", 1, []int{40, 20, 10}, "0x0777", [][2]int{{1, 65535}, {2, 32768}, {3, 16384}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out answer
			oracletest.Run(t, script, map[string]any{"url": "ws" + strings.TrimPrefix(srv.URL, "http"), "uri": "//Alice", "netuid": 1,
				"uids": []int{1, 2, 3}, "weights": c.weights, "versionKey": 0, "mecid": c.mecid}, &out)
			if out.Error != "" {
				t.Fatalf("polkadot client: %s", out.Error)
			}
			if out.SpecName != SpecName || out.SpecVersion != SpecVersion || out.SetWeightsIndex != c.callIndex || out.Status != "InBlock" ||
				out.UID != 0 || out.MechanismCount != 2 {
				t.Fatalf("polkadot client saw %+v", out)
			}
			if len(out.Extensions) != len(extensions) || !slices.Contains(out.Extensions, "SudoTransactionExtension") || !slices.Contains(out.Extensions, "CheckShieldedTxValidity") {
				t.Fatalf("polkadot client signed with extensions %v", out.Extensions)
			}
			if !slices.Contains(out.Events, "subtensorModule.WeightsSet") || !slices.Contains(out.Events, "system.ExtrinsicSuccess") {
				t.Fatalf("events %v", out.Events)
			}
			if !slices.Equal(out.Stored, c.want) {
				t.Fatalf("stored weights %v, want %v", out.Stored, c.want)
			}
		})
	}
	nr := ch.Head().State.Subnets[1].Neurons[0]
	if len(nr.Weights) != 3 || len(nr.Mechanisms) != 1 || len(nr.Mechanisms[0].Weights) != 3 || nr.Mechanisms[0].Weights[0].Value != 65535 {
		t.Fatalf("chain state weights %v / %+v", nr.Weights, nr.Mechanisms)
	}
}

func TestLocalnetEpochPaysIncentiveAndDividends(t *testing.T) {
	n := startNet(t, DefaultGenesis())
	call, _ := subtensor.SetWeights(1, []uint16{1, 2, 3}, []uint16{10, 20, 40}, 0)
	if _, err := n.submit(t, dev(t, "//Alice"), call); err != nil {
		t.Fatal(err)
	}
	n.blocks(t, 12) // past the next epoch of a tempo-10 subnet
	m, err := n.client.Metagraph(context.Background(), 1, "")
	if err != nil {
		t.Fatal(err)
	}
	v := m.Neurons[0]
	if v.Dividends.Float() < 0.99 || v.ValidatorTrust.Float() < 0.99 || !v.ValidatorPermit || v.Emission == 0 {
		t.Fatalf("validator after the epoch: %+v", v)
	}
	for i, want := range []float64{10.0 / 70, 20.0 / 70, 40.0 / 70} {
		got := m.Neurons[i+1].Incentive.Float()
		if got < want-0.001 || got > want+0.001 {
			t.Errorf("uid %d incentive %.4f, want %.4f", i+1, got, want)
		}
	}
	if m.Neurons[3].Emission <= m.Neurons[1].Emission || m.Neurons[3].Stake == 0 {
		t.Fatalf("miner emissions %d %d, stake %d", m.Neurons[1].Emission, m.Neurons[3].Emission, m.Neurons[3].Stake)
	}
}
