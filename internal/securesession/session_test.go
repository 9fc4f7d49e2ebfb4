package securesession

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2025, 10, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// pair is a miner client wired in-process to a validator server.
type pair struct {
	clock      *fakeClock
	server     *Server
	client     *Client
	handshakes int
}

func newPair(t *testing.T) *pair {
	t.Helper()
	p := &pair{clock: newFakeClock()}
	p.server = NewServer(validatorHotkey, WithClock(p.clock.Now))
	p.client = NewClient(minerHotkey, func(_ context.Context, v, req string) (string, error) {
		if v != validatorHotkey {
			t.Errorf("handshake sent to %s", v)
		}
		p.handshakes++
		resp, _ := p.server.Handshake(minerHotkey, req)
		return resp, nil
	}, WithClock(p.clock.Now))
	return p
}

// echo is a validator endpoint that answers "echo:" + the request.
func (p *pair) echo(typ string) SendFunc {
	return func(_ context.Context, req string) (string, error) {
		pt, sess, err := p.server.Open(minerHotkey, typ, req)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				return "", err
			}
			return e.Response(), nil
		}
		return p.server.Seal(sess, typ, append([]byte("echo:"), pt...))
	}
}

func codeOf(t *testing.T, err error) int {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not a *Error", err)
	}
	return e.Code
}

func TestHandshakeAndRoundTrips(t *testing.T) {
	p := newPair(t)
	ctx := context.Background()
	for i := range 5 {
		msg := []byte(`{"n": ` + string(rune('0'+i)) + `}`)
		out, err := p.client.Exchange(ctx, validatorHotkey, computeproto.ProtocolHeartbeat, msg, p.echo(computeproto.ProtocolHeartbeat))
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != "echo:"+string(msg) {
			t.Fatalf("got %q", out)
		}
	}
	if p.handshakes != 1 || p.server.Len() != 1 {
		t.Fatalf("handshakes %d, sessions %d; want one session reused", p.handshakes, p.server.Len())
	}
}

// capture runs one exchange and returns the client's request package.
func capture(t *testing.T, p *pair, typ string, msg string) (req string) {
	t.Helper()
	_, err := p.client.Exchange(context.Background(), validatorHotkey, typ, []byte(msg), func(ctx context.Context, r string) (string, error) {
		req = r
		return p.echo(typ)(ctx, r)
	})
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestReplayedRecordRefused(t *testing.T) {
	p := newPair(t)
	req := capture(t, p, computeproto.ProtocolTask, `{"a": 1}`)
	_, _, err := p.server.Open(minerHotkey, computeproto.ProtocolTask, req)
	if codeOf(t, err) != computeproto.CodeSequenceError {
		t.Fatalf("replay: %v", err)
	}
	if got := err.(*Error).Response(); !strings.Contains(got, SequenceErrorMessage) || !strings.Contains(got, `"error_code": 4020`) {
		t.Fatalf("response %s", got)
	}
}

func TestForeignHotkeyRefused(t *testing.T) {
	p := newPair(t)
	capture(t, p, computeproto.ProtocolTask, `{}`)
	sid := p.client.SessionID(validatorHotkey)
	// An intruder presents the miner's session under its own dendrite hotkey
	// (the sender field must name the dendrite hotkey to pass the envelope).
	key := p.server.sessions[sid].keys.ClientToServer
	pkg, err := SealRecord(key[:], sid, 2, "intruder", validatorHotkey, computeproto.ProtocolTask, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.server.Open("intruder", computeproto.ProtocolTask, pkg); codeOf(t, err) != computeproto.CodeSessionUnknown {
		t.Fatalf("foreign hotkey: %v", err)
	}
	// The window did not move: seq 2 still opens for the owner.
	own, _ := SealRecord(key[:], sid, 2, minerHotkey, validatorHotkey, computeproto.ProtocolTask, []byte(`{}`))
	if _, _, err := p.server.Open(minerHotkey, computeproto.ProtocolTask, own); err != nil {
		t.Fatalf("owner after intruder: %v", err)
	}
}

func TestExpiredSession(t *testing.T) {
	p := newPair(t)
	capture(t, p, computeproto.ProtocolTask, `{}`)
	sid := p.client.SessionID(validatorHotkey)
	key := p.server.sessions[sid].keys.ClientToServer
	pkg, _ := SealRecord(key[:], sid, 2, minerHotkey, validatorHotkey, computeproto.ProtocolTask, []byte(`{}`))
	p.clock.Advance(SessionTTL + time.Second)
	if _, _, err := p.server.Open(minerHotkey, computeproto.ProtocolTask, pkg); codeOf(t, err) != computeproto.CodeSessionExpired {
		t.Fatalf("expired: %v", err)
	}
	if p.server.Len() != 0 {
		t.Fatal("expired session kept after lookup")
	}
	// The client re-handshakes on its own once the session nears expiry.
	if _, err := p.client.Exchange(context.Background(), validatorHotkey, computeproto.ProtocolTask, []byte(`{}`), p.echo(computeproto.ProtocolTask)); err != nil {
		t.Fatal(err)
	}
	if p.handshakes != 2 {
		t.Fatalf("handshakes %d", p.handshakes)
	}
}

func TestSweep(t *testing.T) {
	p := newPair(t)
	capture(t, p, computeproto.ProtocolTask, `{}`)
	if n := p.server.Sweep(); n != 0 || p.server.Len() != 1 {
		t.Fatalf("sweep removed a live session (%d)", n)
	}
	p.clock.Advance(SessionTTL + time.Second)
	if n := p.server.Sweep(); n != 1 || p.server.Len() != 0 || len(p.server.peers) != 0 {
		t.Fatalf("sweep: removed %d, %d sessions and %d peers left", n, p.server.Len(), len(p.server.peers))
	}
}

// TestHandshakesSweep: with nobody calling Sweep, a handshake after
// CleanupInterval clears expired sessions and idle peers.
func TestHandshakesSweep(t *testing.T) {
	p := newPair(t)
	capture(t, p, computeproto.ProtocolTask, `{}`)
	p.clock.Advance(SessionTTL + time.Second)
	req := newInitRequestTB(t)
	if _, err := p.server.Handshake("5OtherPeer", req); err != nil {
		t.Fatal(err)
	}
	if p.server.Len() != 1 || len(p.server.peers) != 1 || len(p.server.PeerSessions(minerHotkey)) != 0 {
		t.Fatalf("after a handshake: %d sessions, %d peers, miner sessions %v", p.server.Len(), len(p.server.peers), p.server.PeerSessions(minerHotkey))
	}
}

func TestClientReusesUntilNearExpiry(t *testing.T) {
	p := newPair(t)
	ctx := context.Background()
	send := p.echo(computeproto.ProtocolTask)
	if _, err := p.client.Exchange(ctx, validatorHotkey, computeproto.ProtocolTask, []byte(`{}`), send); err != nil {
		t.Fatal(err)
	}
	p.clock.Advance(SessionTTL - NearExpiryThreshold - time.Second)
	if _, err := p.client.Exchange(ctx, validatorHotkey, computeproto.ProtocolTask, []byte(`{}`), send); err != nil || p.handshakes != 1 {
		t.Fatalf("early re-handshake (%d) or %v", p.handshakes, err)
	}
	p.clock.Advance(2 * time.Second)
	if _, err := p.client.Exchange(ctx, validatorHotkey, computeproto.ProtocolTask, []byte(`{}`), send); err != nil || p.handshakes != 2 {
		t.Fatalf("no re-handshake near expiry (%d) or %v", p.handshakes, err)
	}
}

func newInitRequest(t *testing.T) string { return newInitRequestTB(t) }

func newInitRequestTB(t testing.TB) string {
	t.Helper()
	b, _ := json.Marshal(SessionInitRequest{
		MinerEphPub32: base64.StdEncoding.EncodeToString(seeded(99, 32)),
		ClientNonce16: base64.StdEncoding.EncodeToString(seeded(98, 16)),
		CreatedAt:     1,
	})
	return string(b)
}

func TestHandshakeRateLimit(t *testing.T) {
	clock := newFakeClock()
	s := NewServer(validatorHotkey, WithClock(clock.Now))
	req := newInitRequest(t)
	for i := range HandshakeRateLimit {
		if _, err := s.Handshake(minerHotkey, req); err != nil {
			t.Fatalf("handshake %d: %v", i+1, err)
		}
		clock.Advance(10 * time.Second)
	}
	resp, err := s.Handshake(minerHotkey, req)
	if codeOf(t, err) != computeproto.CodeHandshakeFailed {
		t.Fatalf("6th handshake: %v", err)
	}
	code, msg, ok := ParseErrorResponse(resp)
	if !ok || code != 4018 || msg != "Handshake rate limit exceeded: 5/5 in 60s" {
		t.Fatalf("answer %s", resp)
	}
	// Another hotkey is not affected; the first one recovers when the window slides.
	if _, err := s.Handshake("other", req); err != nil {
		t.Fatal(err)
	}
	clock.Advance(11 * time.Second) // the first attempt is now > 60 s old
	if _, err := s.Handshake(minerHotkey, req); err != nil {
		t.Fatalf("after the window slid: %v", err)
	}
}

func TestLRUEviction(t *testing.T) {
	clock := newFakeClock()
	s := NewServer(validatorHotkey, WithClock(clock.Now))
	req := newInitRequest(t)
	var ids []string
	for range 3 {
		resp, err := s.Handshake(minerHotkey, req)
		if err != nil {
			t.Fatal(err)
		}
		var r SessionInitResponse
		if err := json.Unmarshal([]byte(resp), &r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.SessionID)
	}
	// Use the oldest session so the second becomes least recently used.
	s.mu.Lock()
	s.touchLocked(s.sessions[ids[0]])
	s.mu.Unlock()
	if _, err := s.Handshake(minerHotkey, req); err != nil {
		t.Fatal(err)
	}
	got := s.PeerSessions(minerHotkey)
	if len(got) != 3 || got[0] != ids[2] || got[1] != ids[0] {
		t.Fatalf("sessions after eviction %v (created %v)", got, ids)
	}
	if _, ok := s.sessions[ids[1]]; ok {
		t.Fatal("least recently used session not evicted")
	}
}

// TestOpenTouchesLRU checks that a successful Open, not only creation,
// orders the LRU list.
func TestOpenTouchesLRU(t *testing.T) {
	p := newPair(t)
	capture(t, p, computeproto.ProtocolTask, `{}`)
	first := p.client.SessionID(validatorHotkey)
	req := newInitRequest(t)
	for range 2 {
		if _, err := p.server.Handshake(minerHotkey, req); err != nil {
			t.Fatal(err)
		}
	}
	capture(t, p, computeproto.ProtocolTask, `{}`) // uses first again
	if _, err := p.server.Handshake(minerHotkey, req); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.server.sessions[first]; !ok {
		t.Fatal("recently used session was evicted")
	}
}

func TestHandshakeValidation(t *testing.T) {
	s := NewServer(validatorHotkey)
	pub := base64.StdEncoding.EncodeToString(seeded(1, 32))
	nonce := base64.StdEncoding.EncodeToString(seeded(2, 16))
	bad := []string{
		`not json`,
		`{"client_nonce16": "` + nonce + `"}`,
		`{"miner_eph_pub32": "` + base64.StdEncoding.EncodeToString(seeded(1, 31)) + `", "client_nonce16": "` + nonce + `"}`,
		`{"miner_eph_pub32": "` + pub + `", "client_nonce16": "` + base64.StdEncoding.EncodeToString(seeded(2, 17)) + `"}`,
		`{"miner_eph_pub32": "` + strings.TrimRight(pub, "=") + `", "client_nonce16": "` + nonce + `"}`,
		`{"miner_eph_pub32": "` + pub + `", "client_nonce16": "` + nonce + `", "created_at": "soon"}`,
		`{"miner_eph_pub32": 5, "client_nonce16": "` + nonce + `"}`,
		// A low-order point gives an all-zero secret and is refused.
		`{"miner_eph_pub32": "` + base64.StdEncoding.EncodeToString(make([]byte, 32)) + `", "client_nonce16": "` + nonce + `"}`,
	}
	for i, req := range bad {
		resp, err := s.Handshake("peer"+string(rune('a'+i)), req)
		if codeOf(t, err) != computeproto.CodeHandshakeFailed {
			t.Errorf("case %d: %v", i, err)
		}
		if code, _, ok := ParseErrorResponse(resp); !ok || code != computeproto.CodeHandshakeFailed {
			t.Errorf("case %d: answer %s", i, resp)
		}
	}
	if s.Len() != 0 {
		t.Fatal("a session was created from a bad request")
	}
	if _, err := s.Handshake("bad|hotkey", `{"miner_eph_pub32": "`+pub+`", "client_nonce16": "`+nonce+`"}`); codeOf(t, err) != computeproto.CodeHandshakeFailed {
		t.Fatal("hotkey with '|' accepted")
	}
}

func TestOpenFailures(t *testing.T) {
	p := newPair(t)
	capture(t, p, computeproto.ProtocolTask, `{}`)
	sid := p.client.SessionID(validatorHotkey)
	key := p.server.sessions[sid].keys.ClientToServer
	seq := uint64(10)
	seal := func(mut func(*Package)) string {
		seq++
		pkg, err := SealRecord(key[:], sid, seq, minerHotkey, validatorHotkey, computeproto.ProtocolTask, []byte(`{"x": 1}`))
		if err != nil {
			t.Fatal(err)
		}
		if mut == nil {
			return pkg
		}
		var pk Package
		if err := json.Unmarshal([]byte(pkg), &pk); err != nil {
			t.Fatal(err)
		}
		mut(&pk)
		b, _ := json.Marshal(pk)
		return string(b)
	}
	flip := func(pk *Package) {
		ct, _ := base64.StdEncoding.DecodeString(pk.Ciphertext)
		ct[0] ^= 1
		pk.Ciphertext = base64.StdEncoding.EncodeToString(ct)
	}
	cases := []struct {
		name string
		pkg  string
		typ  string
		code int
	}{
		{"tampered ciphertext", seal(flip), computeproto.ProtocolTask, computeproto.CodeSessionUnknown},
		{"tampered seq", seal(func(pk *Package) { pk.Seq++ }), computeproto.ProtocolTask, computeproto.CodeSessionUnknown},
		{"wrong synapse type", seal(nil), computeproto.ProtocolHeartbeat, computeproto.CodeSessionUnknown},
		{"retyped package", seal(func(pk *Package) { pk.SynapseType = computeproto.ProtocolHeartbeat }), computeproto.ProtocolHeartbeat, computeproto.CodeSessionUnknown},
		{"wrong sender", seal(func(pk *Package) { pk.Sender = "x" }), computeproto.ProtocolTask, computeproto.CodeSessionUnknown},
		{"wrong recipient", seal(func(pk *Package) { pk.Recipient = "x" }), computeproto.ProtocolTask, computeproto.CodeSessionUnknown},
		{"wrong version", seal(func(pk *Package) { pk.Ver = "v2" }), computeproto.ProtocolTask, computeproto.CodeSessionUnknown},
		{"bad base64", seal(func(pk *Package) { pk.Ciphertext = "***" }), computeproto.ProtocolTask, computeproto.CodeSessionUnknown},
		{"unpadded base64", seal(func(pk *Package) { pk.Ciphertext = strings.TrimRight(pk.Ciphertext, "=") + "A" }), computeproto.ProtocolTask, computeproto.CodeSessionUnknown},
		{"short ciphertext", seal(func(pk *Package) { pk.Ciphertext = base64.StdEncoding.EncodeToString(make([]byte, 15)) }), computeproto.ProtocolTask, computeproto.CodeSessionUnknown},
		{"unknown session", seal(func(pk *Package) { pk.SessionID = "nope" }), computeproto.ProtocolTask, computeproto.CodeSessionUnknown},
		{"not json", "{", computeproto.ProtocolTask, computeproto.CodeSessionUnknown},
		{"seq as float", strings.Replace(seal(nil), `"seq":`, `"seq":1.5,"x":`, 1), computeproto.ProtocolTask, computeproto.CodeSessionUnknown},
		{"negative seq", strings.Replace(seal(nil), `"seq":`, `"seq":-1,"x":`, 1), computeproto.ProtocolTask, computeproto.CodeSessionUnknown},
		{"missing field", `{"ver":"v1","session_id":"` + sid + `","seq":1}`, computeproto.ProtocolTask, computeproto.CodeSessionUnknown},
		{"seq zero", seal(func(pk *Package) { pk.Seq = 0 }), computeproto.ProtocolTask, computeproto.CodeSessionUnknown},
	}
	for _, c := range cases {
		if _, _, err := p.server.Open(minerHotkey, c.typ, c.pkg); codeOf(t, err) != c.code {
			t.Errorf("%s: %v, want code %d", c.name, err, c.code)
		}
	}
	// None of the failures moved the window: the next honest seq opens.
	if _, _, err := p.server.Open(minerHotkey, computeproto.ProtocolTask, seal(nil)); err != nil {
		t.Fatalf("honest record after failures: %v", err)
	}
	// A properly sealed seq 0 authenticates but is never accepted.
	zero, _ := SealRecord(key[:], sid, 0, minerHotkey, validatorHotkey, computeproto.ProtocolTask, []byte(`{}`))
	if _, _, err := p.server.Open(minerHotkey, computeproto.ProtocolTask, zero); codeOf(t, err) != computeproto.CodeSequenceError {
		t.Fatalf("seq 0: %v", err)
	}
	if _, err := SealRecord(key[:5], sid, 1, "a", "b", "c", nil); err == nil {
		t.Fatal("short key accepted")
	}
}

// TestClientRetryOnce answers every first attempt of a session with a
// plaintext session error and checks the client retries exactly once.
func TestClientRetryOnce(t *testing.T) {
	for _, code := range []int{computeproto.CodeSequenceError, computeproto.CodeSessionExpired, computeproto.CodeSessionUnknown, computeproto.CodeRehandshakeRequired} {
		p := newPair(t)
		calls := 0
		failTimes := 1
		send := func(ctx context.Context, req string) (string, error) {
			calls++
			if calls <= failTimes {
				return ErrorResponse(code, "session trouble"), nil
			}
			return p.echo(computeproto.ProtocolTask)(ctx, req)
		}
		out, err := p.client.Exchange(context.Background(), validatorHotkey, computeproto.ProtocolTask, []byte(`{}`), send)
		if err != nil || string(out) != "echo:{}" || calls != 2 || p.handshakes != 2 {
			t.Fatalf("code %d: out %q err %v calls %d handshakes %d", code, out, err, calls, p.handshakes)
		}
		calls, failTimes = 0, 2
		_, err = p.client.Exchange(context.Background(), validatorHotkey, computeproto.ProtocolTask, []byte(`{}`), send)
		if codeOf(t, err) != code || calls != 2 || p.handshakes != 3 {
			t.Fatalf("code %d twice: err %v calls %d handshakes %d", code, err, calls, p.handshakes)
		}
	}
}

func TestClientNoRetryOnOtherErrors(t *testing.T) {
	p := newPair(t)
	calls := 0
	_, err := p.client.Exchange(context.Background(), validatorHotkey, computeproto.ProtocolTask, []byte(`{}`), func(context.Context, string) (string, error) {
		calls++
		return ErrorResponse(computeproto.CodeNetworkError, "rate_limited"), nil
	})
	if codeOf(t, err) != computeproto.CodeNetworkError || calls != 1 {
		t.Fatalf("err %v calls %d", err, calls)
	}
	if p.client.SessionID(validatorHotkey) == "" {
		t.Fatal("a non-session error dropped the session")
	}
	boom := errors.New("boom")
	_, err = p.client.Exchange(context.Background(), validatorHotkey, computeproto.ProtocolTask, []byte(`{}`), func(context.Context, string) (string, error) {
		return "", boom
	})
	if !errors.Is(err, boom) || p.client.SessionID(validatorHotkey) != "" {
		t.Fatalf("transport error: %v, session kept: %v", err, p.client.SessionID(validatorHotkey) != "")
	}
}

// TestClientRefusesReplayedResponse feeds the client an old response: the
// replay window refuses it, the client re-handshakes and retries once.
func TestClientRefusesReplayedResponse(t *testing.T) {
	p := newPair(t)
	var last string
	send := func(ctx context.Context, req string) (string, error) {
		r, err := p.echo(computeproto.ProtocolTask)(ctx, req)
		last = r
		return r, err
	}
	if _, err := p.client.Exchange(context.Background(), validatorHotkey, computeproto.ProtocolTask, []byte(`{}`), send); err != nil {
		t.Fatal(err)
	}
	old := last
	calls := 0
	_, err := p.client.Exchange(context.Background(), validatorHotkey, computeproto.ProtocolTask, []byte(`{}`), func(ctx context.Context, req string) (string, error) {
		calls++
		return old, nil
	})
	// First: replay in the old session -> retry; second: the old package
	// names the old session -> refused, not retried.
	if codeOf(t, err) != computeproto.CodeBadAAD || calls != 2 || p.handshakes != 2 {
		t.Fatalf("err %v calls %d handshakes %d", err, calls, p.handshakes)
	}
}

func TestClientHandshakeErrors(t *testing.T) {
	answers := []string{
		ErrorResponse(computeproto.CodeHandshakeFailed, "Handshake rate limit exceeded: 5/5 in 60s"),
		`{"validator_eph_pub32": "AAAA", "session_id": "x", "server_nonce16": "AAAAAAAAAAAAAAAAAAAAAA==", "expires_at": 1}`,
		`{"validator_eph_pub32": "` + base64.StdEncoding.EncodeToString(seeded(5, 32)) + `", "session_id": "", "server_nonce16": "AAAAAAAAAAAAAAAAAAAAAA==", "expires_at": 1}`,
		`{"error": "nope"}`,
		`garbage`,
	}
	for i, a := range answers {
		c := NewClient(minerHotkey, func(context.Context, string, string) (string, error) { return a, nil })
		_, err := c.Exchange(context.Background(), validatorHotkey, computeproto.ProtocolTask, []byte(`{}`), func(context.Context, string) (string, error) {
			t.Fatal("record sent without a session")
			return "", nil
		})
		if codeOf(t, err) != computeproto.CodeHandshakeFailed {
			t.Errorf("answer %d: %v", i, err)
		}
	}
}

// TestClientSingleFlight starts concurrent exchanges: one handshake only.
func TestClientSingleFlight(t *testing.T) {
	p := newPair(t)
	var mu sync.Mutex
	p.client.handshake = func(ctx context.Context, v, req string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		p.handshakes++
		time.Sleep(10 * time.Millisecond)
		resp, _ := p.server.Handshake(minerHotkey, req)
		return resp, nil
	}
	var smu sync.Mutex // the echo endpoint is not what is under test here
	send := func(ctx context.Context, req string) (string, error) {
		smu.Lock()
		defer smu.Unlock()
		return p.echo(computeproto.ProtocolTask)(ctx, req)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := p.client.Exchange(context.Background(), validatorHotkey, computeproto.ProtocolTask, []byte(`{}`), send)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if p.handshakes != 1 {
		t.Fatalf("%d handshakes", p.handshakes)
	}
}
