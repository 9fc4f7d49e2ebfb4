package e2e

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
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
	"github.com/vigil-validator/vigil/internal/securesession"
)

// encrypted is a compute synapse carrying a session record.
type encrypted interface {
	synapse.Synapse
	Payload() (request, response **string)
}

// serveEncrypted answers one encrypted synapse type: open the record under
// the dendrite's verified hotkey, answer the plaintext, seal the answer;
// session errors go back as the plaintext error JSON.
func serveEncrypted[S encrypted](a *axon.Axon, srv *securesession.Server, protocol string, answer func([]byte) (any, error)) {
	axon.Handle(a, func(_ context.Context, s S) error {
		req, resp := s.Payload()
		reply := func(v string) { *resp = &v }
		if *req == nil {
			reply(securesession.ErrorResponse(computeproto.CodeSessionRequired, "session required"))
			return nil
		}
		pt, sess, err := srv.Open(*synapse.BaseOf(s).Dendrite.Hotkey, protocol, **req)
		var se *securesession.Error
		if errors.As(err, &se) {
			reply(se.Response())
			return nil
		} else if err != nil {
			return err
		}
		out, err := answer(pt)
		if err != nil {
			reply(securesession.ErrorResponse(computeproto.CodeValidationFailed, err.Error()))
			return nil
		}
		b, err := computeproto.Marshal(out)
		if err != nil {
			return err
		}
		sealed, err := srv.Seal(sess, protocol, b)
		if err != nil {
			return err
		}
		reply(sealed)
		return nil
	}, nil)
}

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

// TestComputeSessionExchange runs the compute subnet's miner↔validator
// conversation over loopback HTTP: a signed handshake, then a heartbeat, a
// task pull, a commitment and a proof, each an encrypted record; then the
// refusals: a replayed record, a record under another hotkey, an expired
// session and a flood of handshakes.
func TestComputeSessionExchange(t *testing.T) {
	ctx := context.Background()
	alice, bob, charlie := devKey(t, "//Alice"), devKey(t, "//Bob"), devKey(t, "//Charlie")
	clk := &clockAt{}
	srv := securesession.NewServer(alice.SS58(), securesession.WithClock(clk.now))
	a, err := axon.New(axon.Config{Hotkey: alice})
	if err != nil {
		t.Fatal(err)
	}
	axon.Handle(a, func(_ context.Context, s *computeproto.SessionInitSynapse) error {
		resp, _ := srv.Handshake(*s.Dendrite.Hotkey, deref(s.Request))
		s.Response = &resp
		return nil
	}, nil)
	serveEncrypted[*computeproto.HeartbeatSynapse](a, srv, computeproto.ProtocolHeartbeat, func(b []byte) (any, error) {
		hb, err := computeproto.DecodeHeartbeatData(b)
		if err != nil {
			return nil, err
		}
		return computeproto.NewHeartbeatResponse(0, "ok", int64(len(hb.Workers)), clk.now()), nil
	})
	serveEncrypted[*computeproto.TaskSynapse](a, srv, computeproto.ProtocolTask, func(b []byte) (any, error) {
		if _, err := computeproto.DecodeTaskRequest(b); err != nil {
			return nil, err
		}
		return computeproto.DecodeTaskResponse(testdata(t, "task_response.json"))
	})
	serveEncrypted[*computeproto.ChallengeSynapse](a, srv, computeproto.ProtocolChallenge, func(b []byte) (any, error) {
		if _, err := computeproto.DecodeCommitmentData(b); err != nil {
			return nil, err
		}
		return computeproto.DecodeCommitmentResponse(testdata(t, "commitment_response.json"))
	})
	serveEncrypted[*computeproto.ChallengeProofSynapse](a, srv, computeproto.ProtocolChallengeProof, func(b []byte) (any, error) {
		p, err := computeproto.DecodeProofData(b)
		if err != nil {
			return nil, err
		}
		return computeproto.ProofDataResponse{ChallengeStatus: "queued", Message: "proof queued", ChallengeID: p.ChallengeID}, nil
	})
	hs := httptest.NewServer(a)
	defer hs.Close()
	host, port, _ := net.SplitHostPort(hs.Listener.Addr().String())
	pn, _ := strconv.Atoi(port)
	target := dendrite.Target{IP: host, Port: pn, Hotkey: alice.SS58()}

	// The miner: its dendrite carries the session layer's strings.
	miner := newMiner(t, bob, target, clk)
	hbReq := testdata(t, "heartbeat.json")
	var hb computeproto.HeartbeatData
	if hb, err = computeproto.DecodeHeartbeatData(hbReq); err != nil {
		t.Fatal(err)
	}
	out := miner.exchange(t, computeproto.ProtocolHeartbeat, hbReq, func() encrypted { return &computeproto.HeartbeatSynapse{} })
	hr, err := computeproto.DecodeHeartbeatResponse(out)
	if err != nil || hr.WorkersProcessed != int64(len(hb.Workers)) || hr.ErrorCode != 0 {
		t.Fatalf("heartbeat answer %+v %v", hr, err)
	}
	out = miner.exchange(t, computeproto.ProtocolTask, testdata(t, "task_request.json"), func() encrypted { return &computeproto.TaskSynapse{} })
	if tr, err := computeproto.DecodeTaskResponse(out); err != nil || tr.TaskData == nil || len(tr.TaskData.Challenges) == 0 {
		t.Fatalf("task answer %+v %v", tr, err)
	}
	out = miner.exchange(t, computeproto.ProtocolChallenge, testdata(t, "commitment_gpu.json"), func() encrypted { return &computeproto.ChallengeSynapse{} })
	if cr, err := computeproto.DecodeCommitmentResponse(out); err != nil || len(cr.ProofRequests) == 0 {
		t.Fatalf("commitment answer %+v %v", cr, err)
	}
	out = miner.exchange(t, computeproto.ProtocolChallengeProof, testdata(t, "proof_data.json"), func() encrypted { return &computeproto.ChallengeProofSynapse{} })
	if pr, err := computeproto.DecodeProofDataResponse(out); err != nil || pr.ChallengeStatus != "queued" || pr.ChallengeID == "" {
		t.Fatalf("proof answer %+v %v", pr, err)
	}

	// A replayed record: the last heartbeat request, sent again as is.
	last := miner.lastRequest(computeproto.ProtocolChallengeProof)
	if code := rawSend(t, miner.d, target, &computeproto.ChallengeProofSynapse{}, last); code != computeproto.CodeSequenceError {
		t.Errorf("replayed record: error code %d, want %d", code, computeproto.CodeSequenceError)
	}
	// The same session's record under another dendrite hotkey.
	other, _ := dendrite.New(charlie)
	if code := rawSend(t, other, target, &computeproto.ChallengeProofSynapse{}, last); code != computeproto.CodeSessionUnknown {
		t.Errorf("record under a foreign hotkey: error code %d, want %d", code, computeproto.CodeSessionUnknown)
	}
	// An unused record presented after the session expired.
	held := miner.holdOne(t, computeproto.ProtocolHeartbeat, hbReq, func() encrypted { return &computeproto.HeartbeatSynapse{} })
	clk.advance(securesession.SessionTTL + time.Second)
	if code := rawSend(t, miner.d, target, &computeproto.HeartbeatSynapse{}, held); code != computeproto.CodeSessionExpired {
		t.Errorf("expired session: error code %d, want %d", code, computeproto.CodeSessionExpired)
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

func devKey(t *testing.T, uri string) *keys.KeyPair {
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

// testMiner is a miner's session client over a dendrite, remembering the
// last record it sent per protocol.
type testMiner struct {
	d      *dendrite.Dendrite
	target dendrite.Target
	client *securesession.Client
	mu     sync.Mutex
	sent   map[string]string
}

func newMiner(t *testing.T, kp *keys.KeyPair, target dendrite.Target, clk *clockAt) *testMiner {
	d, err := dendrite.New(kp)
	if err != nil {
		t.Fatal(err)
	}
	m := &testMiner{d: d, target: target, sent: map[string]string{}}
	m.client = securesession.NewClient(kp.SS58(), func(ctx context.Context, _ string, request string) (string, error) {
		s := &computeproto.SessionInitSynapse{Request: &request}
		timeout := 30.0
		s.Timeout = &timeout
		if err := d.Call(ctx, target, s); err != nil {
			return "", err
		}
		if !dendrite.Success(s) {
			return "", fmt.Errorf("handshake: %d %s", *s.Dendrite.StatusCode, *s.Dendrite.StatusMessage)
		}
		return deref(s.Response), nil
	}, securesession.WithClock(clk.now))
	return m
}

func (m *testMiner) send(protocol string, fresh func() encrypted, hold bool) securesession.SendFunc {
	return func(ctx context.Context, request string) (string, error) {
		m.mu.Lock()
		m.sent[protocol] = request
		m.mu.Unlock()
		if hold {
			return "", errors.New("held back by the test")
		}
		s := fresh()
		req, resp := s.Payload()
		*req = &request
		if err := m.d.Call(ctx, m.target, s); err != nil {
			return "", err
		}
		if !dendrite.Success(s) {
			return "", fmt.Errorf("%s: HTTP %d", protocol, *synapse.BaseOf(s).Dendrite.StatusCode)
		}
		return deref(*resp), nil
	}
}

func (m *testMiner) exchange(t *testing.T, protocol string, plaintext []byte, fresh func() encrypted) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(plaintext, &v); err != nil {
		t.Fatal(err)
	}
	out, err := m.client.Exchange(context.Background(), m.target.Hotkey, protocol, plaintext, m.send(protocol, fresh, false))
	if err != nil {
		t.Fatalf("%s exchange: %v", protocol, err)
	}
	return out
}

// holdOne seals a record and keeps it instead of sending it.
func (m *testMiner) holdOne(t *testing.T, protocol string, plaintext []byte, fresh func() encrypted) string {
	t.Helper()
	_, _ = m.client.Exchange(context.Background(), m.target.Hotkey, protocol, plaintext, m.send(protocol, fresh, true))
	return m.lastRequest(protocol)
}

func (m *testMiner) lastRequest(protocol string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sent[protocol]
}

// rawSend delivers a record package as is and returns the plaintext error
// code of the answer (0 for none).
func rawSend(t *testing.T, d *dendrite.Dendrite, target dendrite.Target, s encrypted, pkg string) int {
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
