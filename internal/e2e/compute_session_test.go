package e2e

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/axon"
	"github.com/vigil-validator/vigil/bittensor/dendrite"
	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/synapse"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"github.com/vigil-validator/vigil/internal/computerpc"
	"github.com/vigil-validator/vigil/internal/securesession"
)

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "computeproto", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// clockAt is a settable clock shared by both sides.
type clockAt struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clockAt) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clockAt) advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// recorder sits under the miner's dendrite: it keeps the last record sent
// on each synapse and, while holding, keeps requests from leaving.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	last map[string]string
	// timeout is the timeout header last sent per synapse.
	timeout map[string]string
	hold    bool
	// badVersion lists the synapses sent without a valid protocol_version.
	badVersion []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	var fields struct {
		Request         *string `json:"request"`
		ProtocolVersion *int    `json:"protocol_version"`
	}
	_ = json.Unmarshal(body, &fields)
	r.mu.Lock()
	hold := r.hold
	name := req.URL.Path[1:]
	if fields.Request != nil {
		r.last[name] = *fields.Request
	}
	// The SDK's header names are lower case, not canonical.
	if v := req.Header[timeoutHeader]; len(v) > 0 {
		r.timeout[name] = v[0]
	}
	// The Python classes refuse a protocol_version under 1.
	if name != computeproto.SynapseSessionInit && (fields.ProtocolVersion == nil || *fields.ProtocolVersion < 1) {
		r.badVersion = append(r.badVersion, name)
	}
	r.mu.Unlock()
	if hold {
		return nil, errors.New("held back by the test")
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	return r.next.RoundTrip(req)
}

// timeoutHeader is the SDK's lower-case header name, kept as sent.
var timeoutHeader = synapse.HeaderTimeout

func (r *recorder) record(synapseName string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last[synapseName]
}

func (r *recorder) holding(on bool) {
	r.mu.Lock()
	r.hold = on
	r.mu.Unlock()
}

// TestComputeSessionExchange runs the compute subnet's miner↔validator
// conversation over loopback HTTP: a signed handshake, then a heartbeat, a
// task pull, a commitment and a proof, each an encrypted record; then the
// refusals: a replayed record, a record under another hotkey, an expired
// session and a flood of handshakes.
func TestComputeSessionExchange(t *testing.T) {
	ctx := context.Background()
	alice, bob, charlie := devKey(t, "//Alice"), devKey(t, "//Bob"), devKey(t, "//Charlie")
	clk := &clockAt{}
	a, err := axon.New(axon.Config{Hotkey: alice})
	if err != nil {
		t.Fatal(err)
	}
	err = computerpc.Serve(a, computerpc.ServerConfig{Sessions: securesession.NewServer(alice.SS58(), securesession.WithClock(clk.now)), Now: clk.now}, computerpc.Handlers{
		Heartbeat: func(_ context.Context, _ string, hb computeproto.HeartbeatData) (any, int) {
			return computeproto.NewHeartbeatResponse(0, "ok", int64(len(hb.Workers)), clk.now()), 0
		},
		Task: func(context.Context, string, computeproto.TaskRequest) (any, int) {
			tr, err := computeproto.DecodeTaskResponse(testdata(t, "task_response.json"))
			if err != nil {
				t.Error(err)
			}
			return tr, 0
		},
		Commitment: func(context.Context, string, computeproto.CommitmentData) (any, int) {
			cr, err := computeproto.DecodeCommitmentResponse(testdata(t, "commitment_response.json"))
			if err != nil {
				t.Error(err)
			}
			return cr, 0
		},
		Proof: func(_ context.Context, _ string, p computeproto.ProofData) (any, int) {
			return computeproto.ProofDataResponse{ChallengeStatus: "queued", Message: "proof queued", ChallengeID: p.ChallengeID}, 0
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(a)
	defer hs.Close()
	host, port, _ := net.SplitHostPort(hs.Listener.Addr().String())
	pn, _ := strconv.Atoi(port)
	target := dendrite.Target{IP: host, Port: pn, Hotkey: alice.SS58()}

	miner, err := computerpc.NewClient(bob, securesession.WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{next: miner.Dendrite().HTTP.Transport, last: map[string]string{}, timeout: map[string]string{}}
	miner.Dendrite().HTTP = &http.Client{Transport: rec}

	hb, err := computeproto.DecodeHeartbeatData(testdata(t, "heartbeat.json"))
	if err != nil {
		t.Fatal(err)
	}
	hr, err := miner.Heartbeat(ctx, target, hb)
	if err != nil || hr.WorkersProcessed != int64(len(hb.Workers)) || hr.ErrorCode != 0 {
		t.Fatalf("heartbeat answer %+v %v", hr, err)
	}
	treq, err := computeproto.DecodeTaskRequest(testdata(t, "task_request.json"))
	if err != nil {
		t.Fatal(err)
	}
	if tr, err := miner.Task(ctx, target, treq); err != nil || tr.TaskData == nil || len(tr.TaskData.Challenges) == 0 {
		t.Fatalf("task answer %+v %v", tr, err)
	}
	cd, err := computeproto.DecodeCommitmentData(testdata(t, "commitment_gpu.json"))
	if err != nil {
		t.Fatal(err)
	}
	if cr, err := miner.Commit(ctx, target, cd); err != nil || len(cr.ProofRequests) == 0 {
		t.Fatalf("commitment answer %+v %v", cr, err)
	}
	pd, err := computeproto.DecodeProofData(testdata(t, "proof_data.json"))
	if err != nil {
		t.Fatal(err)
	}
	if pr, err := miner.Prove(ctx, target, pd); err != nil || pr.ChallengeStatus != "queued" || pr.ChallengeID != pd.ChallengeID {
		t.Fatalf("proof answer %+v %v", pr, err)
	}

	// Each call waits as long as the reference miner's does (its
	// neurons/miner/services/communication.py: heartbeat 30 s, task 10 s,
	// commitment 15 s, proof 40 s).
	for name, want := range map[string]float64{computeproto.SynapseHeartbeat: 30, computeproto.SynapseTask: 10,
		computeproto.SynapseChallenge: 15, computeproto.SynapseChallengeProof: 40} {
		if got, err := strconv.ParseFloat(rec.timeout[name], 64); err != nil || got != want {
			t.Errorf("%s sent with timeout %q, want %v", name, rec.timeout[name], want)
		}
	}
	if len(rec.badVersion) > 0 {
		t.Errorf("sent without protocol_version >= 1: %v", rec.badVersion)
	}

	// A replayed record: the proof, as it went over the wire, sent again.
	last := rec.record(computeproto.SynapseChallengeProof)
	if code := rawSend(t, miner.Dendrite(), target, computeproto.NewChallengeProofSynapse(), last); code != computeproto.CodeSequenceError {
		t.Errorf("replayed record: error code %d, want %d", code, computeproto.CodeSequenceError)
	}
	// The same session's record under another dendrite hotkey.
	other, _ := dendrite.New(charlie)
	if code := rawSend(t, other, target, computeproto.NewChallengeProofSynapse(), last); code != computeproto.CodeSessionUnknown {
		t.Errorf("record under a foreign hotkey: error code %d, want %d", code, computeproto.CodeSessionUnknown)
	}
	// An unused record presented after the session expired.
	rec.holding(true)
	if _, err := miner.Heartbeat(ctx, target, hb); err == nil {
		t.Fatal("a held heartbeat succeeded")
	}
	rec.holding(false)
	held := rec.record(computeproto.SynapseHeartbeat)
	clk.advance(securesession.SessionTTL + time.Second)
	if code := rawSend(t, miner.Dendrite(), target, computeproto.NewHeartbeatSynapse(), held); code != computeproto.CodeSessionExpired {
		t.Errorf("expired session: error code %d, want %d", code, computeproto.CodeSessionExpired)
	}
	// The miner itself recovers with a fresh handshake.
	if _, err := miner.Heartbeat(ctx, target, hb); err != nil {
		t.Errorf("heartbeat after expiry: %v", err)
	}
	// A flood of handshakes from one hotkey: the sixth in a minute is
	// refused.
	dave, _ := dendrite.New(devKey(t, "//Dave"))
	for i := 1; i <= securesession.HandshakeRateLimit+1; i++ {
		s := &computeproto.SessionInitSynapse{Request: ptr(sessionInitRequest(t))}
		if err := dave.Call(ctx, target, s); err != nil || !dendrite.Success(s) {
			t.Fatalf("handshake %d: %v %+v", i, err, s.Dendrite)
		}
		code, _, isErr := securesession.ParseErrorResponse(deref(s.Response))
		if refused := i > securesession.HandshakeRateLimit; refused != (isErr && code == computeproto.CodeHandshakeFailed) {
			t.Errorf("handshake %d: %s", i, deref(s.Response))
		}
	}
}

func devKey(t testing.TB, uri string) *keys.KeyPair {
	t.Helper()
	kp, err := keys.FromURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func ptr(s string) *string { return &s }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// rawSend delivers a record package as is and returns the plaintext error
// code of the answer (0 for none).
func rawSend(t *testing.T, d *dendrite.Dendrite, target dendrite.Target, s computeproto.EncryptedSynapse, pkg string) int {
	t.Helper()
	req, resp := s.Payload()
	*req = &pkg
	if err := d.Call(context.Background(), target, s); err != nil || !dendrite.Success(s) {
		t.Fatalf("raw send: %v %+v", err, synapse.BaseOf(s).Dendrite)
	}
	code, _, _ := securesession.ParseErrorResponse(deref(*resp))
	return code
}

// sessionInitRequest is a well-formed handshake request with fresh keys.
func sessionInitRequest(t *testing.T) string {
	t.Helper()
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	b, _ := json.Marshal(map[string]any{"miner_eph_pub32": base64.StdEncoding.EncodeToString(priv.PublicKey().Bytes()),
		"client_nonce16": base64.StdEncoding.EncodeToString(nonce), "created_at": float64(time.Now().UnixMicro()) / 1e6})
	return string(b)
}
