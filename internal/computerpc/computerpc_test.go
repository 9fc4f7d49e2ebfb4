package computerpc_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/axon"
	"github.com/vigil-validator/vigil/bittensor/dendrite"
	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"github.com/vigil-validator/vigil/internal/computerpc"
	"github.com/vigil-validator/vigil/internal/securesession"
)

func key(tb testing.TB, uri string) *keys.KeyPair {
	tb.Helper()
	kp, err := keys.FromURI(uri)
	if err != nil {
		tb.Fatal(err)
	}
	return kp
}

func heartbeat(tb testing.TB) computeproto.HeartbeatData {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "computeproto", "testdata", "heartbeat.json"))
	if err != nil {
		tb.Fatal(err)
	}
	hb, err := computeproto.DecodeHeartbeatData(b)
	if err != nil {
		tb.Fatal(err)
	}
	return hb
}

// answerHeartbeat acknowledges every worker of a heartbeat.
func answerHeartbeat(_ context.Context, _ string, hb computeproto.HeartbeatData) (any, int) {
	return computeproto.NewHeartbeatResponse(0, "ok", int64(len(hb.Workers)), time.Now()), 0
}

// validator serves the compute synapses of //Alice on loopback.
func validator(tb testing.TB, cfg computerpc.ServerConfig, h computerpc.Handlers, axonCfg func(*axon.Config)) dendrite.Target {
	tb.Helper()
	alice := key(tb, "//Alice")
	ac := axon.Config{Hotkey: alice}
	if axonCfg != nil {
		axonCfg(&ac)
	}
	a, err := axon.New(ac)
	if err != nil {
		tb.Fatal(err)
	}
	if cfg.Sessions == nil {
		cfg.Sessions = securesession.NewServer(alice.SS58())
	}
	if err := computerpc.Serve(a, cfg, h); err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(a)
	tb.Cleanup(srv.Close)
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return dendrite.Target{IP: host, Port: p, Hotkey: alice.SS58()}
}

func TestServeRefusesSessionsOfAnotherHotkey(t *testing.T) {
	a, err := axon.New(axon.Config{Hotkey: key(t, "//Alice")})
	if err != nil {
		t.Fatal(err)
	}
	err = computerpc.Serve(a, computerpc.ServerConfig{Sessions: securesession.NewServer(key(t, "//Bob").SS58())}, computerpc.Handlers{})
	if err == nil {
		t.Fatal("sessions for another hotkey accepted")
	}
	if computerpc.Serve(a, computerpc.ServerConfig{}, computerpc.Handlers{}) == nil {
		t.Fatal("no session server accepted")
	}
}

// TestAnswers covers what a miner gets back besides a plain success.
func TestAnswers(t *testing.T) {
	ctx := context.Background()
	var seenPeer atomic.Value
	target := validator(t, computerpc.ServerConfig{}, computerpc.Handlers{
		Heartbeat: func(_ context.Context, peer string, hb computeproto.HeartbeatData) (any, int) {
			seenPeer.Store(peer)
			switch hb.Hotkey {
			case "code-only":
				return nil, computeproto.CodeHeartbeatProcessingFailed
			case "dict-error":
				return map[string]any{"error": "Challenge already processed"}, computeproto.CodeValidationFailed
			}
			return computeproto.NewHeartbeatResponse(0, "ok", int64(len(hb.Workers)), time.Now()), 0
		},
	}, nil)
	bob := key(t, "//Bob")
	c, err := computerpc.NewClient(bob)
	if err != nil {
		t.Fatal(err)
	}
	hb := heartbeat(t)
	if r, err := c.Heartbeat(ctx, target, hb); err != nil || r.WorkersProcessed != int64(len(hb.Workers)) {
		t.Fatalf("heartbeat: %+v %v", r, err)
	}
	if p, _ := seenPeer.Load().(string); p != bob.SS58() {
		t.Errorf("handler saw peer %q, want the verified dendrite hotkey %s", p, bob.SS58())
	}

	// A code without a body: the reference's fallback body, encrypted.
	hb.Hotkey = "code-only"
	_, err = c.Heartbeat(ctx, target, hb)
	var re *computerpc.RemoteError
	if !errors.As(err, &re) || re.Code != computeproto.CodeHeartbeatProcessingFailed || re.Message != "Processing failed with code 1004" {
		t.Errorf("code-only answer: %v", err)
	}
	// A dict error body comes back as it was given.
	hb.Hotkey = "dict-error"
	if _, err = c.Heartbeat(ctx, target, hb); !errors.As(err, &re) || re.Code != 0 || re.Message != "Challenge already processed" {
		t.Errorf("dict error answer: %v", err)
	}
	// A payload that fails validation: plaintext 3000, the session kept.
	sid := c.Sessions().SessionID(target.Hotkey)
	_, err = c.Exchange(ctx, target, computeproto.ProtocolHeartbeat, []byte(`{"hotkey": 5}`))
	var se *securesession.Error
	if !errors.As(err, &se) || se.Code != computeproto.CodeValidationFailed || !strings.Contains(se.Message, "hotkey") {
		t.Errorf("invalid payload: %v", err)
	}
	if got := c.Sessions().SessionID(target.Hotkey); got != sid || sid == "" {
		t.Errorf("session %q replaced by %q after a validation error", sid, got)
	}
	// A synapse with no handler is not served.
	var st *computerpc.StatusError
	if _, err = c.Task(ctx, target, computeproto.NewTaskRequest(bob.SS58(), time.Now())); !errors.As(err, &st) || st.Status != 404 {
		t.Errorf("unserved synapse: %v", err)
	}
	if _, err = c.Exchange(ctx, target, computeproto.ProtocolSessionInit, []byte(`{}`)); err == nil {
		t.Error("exchange over the handshake protocol accepted")
	}
}

// TestRefusals: the request limit (plaintext 1003, the handshake not
// counted), a missing record (4010) and the blacklist (HTTP 403).
func TestRefusals(t *testing.T) {
	ctx := context.Background()
	charlie := key(t, "//Charlie")
	var mu sync.Mutex
	refused := map[string]int{}
	target := validator(t, computerpc.ServerConfig{RateLimit: 3, Blacklist: func(_ context.Context, r axon.Request) (bool, string) {
		return r.Hotkey == charlie.SS58(), "not on the subnet"
	}, Refused: func(protocol string, code int) {
		mu.Lock()
		refused[fmt.Sprintf("%s %d", protocol, code)]++
		mu.Unlock()
	}}, computerpc.Handlers{
		Heartbeat: func(context.Context, string, computeproto.HeartbeatData) (any, int) {
			return computeproto.NewHeartbeatResponse(0, "ok", 0, time.Now()), 0
		},
	}, nil)
	c, err := computerpc.NewClient(key(t, "//Bob"))
	if err != nil {
		t.Fatal(err)
	}
	hb := heartbeat(t)
	for i := range 4 {
		_, err := c.Heartbeat(ctx, target, hb)
		var se *securesession.Error
		switch {
		case i < 3 && err != nil:
			t.Fatalf("heartbeat %d: %v", i, err)
		case i == 3 && (!errors.As(err, &se) || se.Code != computeproto.CodeNetworkError || se.Message != "rate_limited"):
			t.Errorf("heartbeat over the limit: %v", err)
		}
	}

	d, err := dendrite.New(key(t, "//Dave"))
	if err != nil {
		t.Fatal(err)
	}
	s := computeproto.NewHeartbeatSynapse()
	if err := d.Call(ctx, target, s); err != nil || !dendrite.Success(s) {
		t.Fatalf("call without a record: %v", err)
	}
	if code, _, ok := securesession.ParseErrorResponse(*s.Response); !ok || code != computeproto.CodeSessionRequired {
		t.Errorf("no record: %q", *s.Response)
	}

	cc, err := computerpc.NewClient(charlie)
	if err != nil {
		t.Fatal(err)
	}
	var st *computerpc.StatusError
	if _, err := cc.Heartbeat(ctx, target, hb); !errors.As(err, &st) || st.Status != 403 || st.Synapse != computeproto.SynapseSessionInit {
		t.Errorf("blacklisted miner: %v", err)
	}
	// Each refusal before a handler is reported with its code, eight bad
	// handshakes included.
	for range 8 {
		bad := "{}"
		s := &computeproto.SessionInitSynapse{Request: &bad}
		if err := d.Call(ctx, target, s); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	handshakes := 0
	for k, n := range refused {
		if strings.HasPrefix(k, computerpc.ProtocolHandshake+" ") {
			handshakes += n
		}
	}
	if refused[computeproto.ProtocolHeartbeat+" "+fmt.Sprint(computeproto.CodeNetworkError)] != 1 ||
		refused[computeproto.ProtocolHeartbeat+" "+fmt.Sprint(computeproto.CodeSessionRequired)] != 1 || handshakes != 8 {
		t.Errorf("refusals reported: %v", refused)
	}
}

// TestConcurrentCalls: one miner's calls to one validator overlap freely;
// none is refused for an overtaken nonce.
func TestConcurrentCalls(t *testing.T) {
	ctx := context.Background()
	target := validator(t, computerpc.ServerConfig{}, computerpc.Handlers{
		Heartbeat: answerHeartbeat,
		Task: func(context.Context, string, computeproto.TaskRequest) (any, int) {
			return computeproto.NewTaskResponse(nil, time.Now()), 0
		},
	}, nil)
	bob := key(t, "//Bob")
	c, err := computerpc.NewClient(bob)
	if err != nil {
		t.Fatal(err)
	}
	hb := heartbeat(t)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 8 {
				var err error
				if g%2 == 0 {
					_, err = c.Heartbeat(ctx, target, hb)
				} else {
					_, err = c.Task(ctx, target, computeproto.NewTaskRequest(bob.SS58(), time.Now()))
				}
				if err != nil {
					failed.Add(1)
					t.Errorf("call: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d of 128 overlapping calls failed", failed.Load())
	}
}
