package axon_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/axon"
	"github.com/vigil-validator/vigil/bittensor/dendrite"
	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/synapse"
)

// Ping is a test synapse: two hashed fields, one required field.
type Ping struct {
	synapse.Base
	Text  string  `json:"text"`
	N     int     `json:"n"`
	Score float64 `json:"score"`
	Echo  *string `json:"echo"`
}

func (*Ping) RequiredHashFields() []string { return []string{"text", "n"} }
func (*Ping) RequiredFields() []string     { return []string{"text"} }

func key(t testing.TB, uri string) *keys.KeyPair {
	t.Helper()
	kp, err := keys.FromURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// server runs an axon for //Alice answering Ping with "pong:<text>".
func server(t *testing.T, mutate func(*axon.Config)) (*axon.Axon, dendrite.Target) {
	return serverTB(t, mutate)
}

func serverTB(t testing.TB, mutate func(*axon.Config)) (*axon.Axon, dendrite.Target) {
	t.Helper()
	cfg := axon.Config{Hotkey: key(t, "//Alice")}
	if mutate != nil {
		mutate(&cfg)
	}
	a, err := axon.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	axon.Handle(a, func(_ context.Context, p *Ping) error {
		if p.Text == "fail" {
			return errors.New("handler failure")
		}
		e := "pong:" + p.Text
		p.Echo = &e
		return nil
	}, nil)
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return a, dendrite.Target{IP: host, Port: p, Hotkey: a.Hotkey()}
}

func TestRoundTrip(t *testing.T) {
	_, target := server(t, nil)
	d, err := dendrite.New(key(t, "//Bob"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		p := &Ping{Text: "hi " + strconv.Itoa(i), N: i, Score: 0.5}
		if err := d.Call(context.Background(), target, p); err != nil {
			t.Fatal(err)
		}
		b := synapse.BaseOf(p)
		if !dendrite.Success(p) || p.Echo == nil || *p.Echo != "pong:hi "+strconv.Itoa(i) {
			t.Fatalf("call %d: %+v %+v", i, b.Dendrite, p)
		}
		if *b.Axon.StatusCode != 200 || *b.Axon.StatusMessage != "Success" || b.Axon.ProcessTime == nil || *b.Axon.Hotkey != target.Hotkey {
			t.Errorf("axon info %+v", b.Axon)
		}
		if *b.Dendrite.Hotkey != d.Hotkey() || *b.Dendrite.UUID != d.UUID() {
			t.Errorf("dendrite info %+v", b.Dendrite)
		}
	}
	// A handler error is a 500 with an error id, as the SDK answers.
	p := &Ping{Text: "fail"}
	_ = d.Call(context.Background(), target, p)
	if b := synapse.BaseOf(p); *b.Dendrite.StatusCode != 500 || !strings.HasPrefix(*b.Dendrite.StatusMessage, "Internal Server Error #") {
		t.Errorf("failing handler: %+v", b.Dendrite)
	}
}

// signed builds a request as a dendrite would, letting the test change it
// before it is sent.
type signed struct {
	header http.Header
	body   []byte
}

func sign(t *testing.T, kp *keys.KeyPair, axonHotkey, uuid string, nonce int64, p *Ping) signed {
	t.Helper()
	b := synapse.BaseOf(p)
	hash, err := synapse.BodyHash(p)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := kp.Sign(synapse.SignatureMessage(nonce, kp.SS58(), axonHotkey, uuid, hash))
	sigHex, hk, version := "0x"+hex.EncodeToString(sig[:]), kp.SS58(), synapse.Version
	b.ComputedBodyHash = &hash
	b.Dendrite = synapse.TerminalInfo{Nonce: &nonce, UUID: &uuid, Hotkey: &hk, Signature: &sigHex, Version: &version}
	b.Axon = synapse.TerminalInfo{Hotkey: &axonHotkey}
	h, err := synapse.ToHeaders(p)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(p)
	return signed{h, body}
}

func (s signed) send(t *testing.T, target dendrite.Target, method string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+net.JoinHostPort(target.IP, strconv.Itoa(target.Port))+"/Ping", bytes.NewReader(s.body))
	for k, v := range s.header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct {
		Message string `json:"message"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&m)
	if got := resp.Header.Get("bt_header_axon_status_code"); got != strconv.Itoa(resp.StatusCode) {
		t.Errorf("bt_header_axon_status_code %q for HTTP %d", got, resp.StatusCode)
	}
	return resp.StatusCode, m.Message
}

func TestVerification(t *testing.T) {
	_, target := server(t, nil)
	bob, mallory := key(t, "//Bob"), key(t, "//Mallory")
	now := time.Now().UnixNano()
	expect := func(name string, s signed, method string, status int, msg string) {
		t.Helper()
		got, m := s.send(t, target, method)
		if got != status || !strings.Contains(m, msg) {
			t.Errorf("%s: %d %q, want %d containing %q", name, got, m, status, msg)
		}
	}
	ok := sign(t, bob, target.Hotkey, "u1", now, &Ping{Text: "a"})
	expect("ok", ok, http.MethodPost, 200, "")
	expect("replay", ok, http.MethodPost, 401, "Nonce is too old")
	expect("GET", sign(t, bob, target.Hotkey, "u1", now+1, &Ping{Text: "a"}), http.MethodGet, 200, "")
	expect("lower nonce", sign(t, bob, target.Hotkey, "u1", now-1, &Ping{Text: "a"}), http.MethodPost, 401, "Nonce is too old")
	expect("stale first nonce", sign(t, bob, target.Hotkey, "u2", now-int64(time.Minute), &Ping{Text: "a"}), http.MethodPost, 401, "Allowed delta")
	expect("future nonce", sign(t, bob, target.Hotkey, "u3", now+int64(10*time.Minute), &Ping{Text: "a"}), http.MethodPost, 401, "future")
	expect("signed for another axon", sign(t, bob, mallory.SS58(), "u4", now, &Ping{Text: "a"}), http.MethodPost, 401, "Signature mismatch")

	forged := sign(t, mallory, target.Hotkey, "u5", now, &Ping{Text: "a"})
	forged.header["bt_header_dendrite_hotkey"] = []string{bob.SS58()}
	expect("forged", forged, http.MethodPost, 401, "Signature mismatch")
	// The forged request did not consume the nonce: the real one passes.
	expect("after forgery", sign(t, bob, target.Hotkey, "u5", now, &Ping{Text: "a"}), http.MethodPost, 200, "")

	unsigned := sign(t, bob, target.Hotkey, "u6", now, &Ping{Text: "a"})
	delete(unsigned.header, "bt_header_dendrite_signature")
	expect("unsigned", unsigned, http.MethodPost, 401, "not signed")

	tampered := sign(t, bob, target.Hotkey, "u7", now, &Ping{Text: "a", N: 1})
	tampered.body = bytes.Replace(tampered.body, []byte(`"n":1`), []byte(`"n":2`), 1)
	expect("tampered hashed field", tampered, http.MethodPost, 500, "Internal Server Error #")
	// An unhashed field is not covered by the signature, as in the SDK.
	loose := sign(t, bob, target.Hotkey, "u8", now, &Ping{Text: "a", Score: 1})
	loose.body = bytes.Replace(loose.body, []byte(`"score":1`), []byte(`"score":2`), 1)
	expect("unhashed field", loose, http.MethodPost, 200, "")

	noInput := sign(t, bob, target.Hotkey, "u9", now, &Ping{Text: "a"})
	delete(noInput.header, "bt_header_input_obj_text")
	expect("missing input_obj", noInput, http.MethodPost, 400, "bt_header_input_obj_text")
	badTimeout := sign(t, bob, target.Hotkey, "u10", now, &Ping{Text: "a"})
	badTimeout.header["timeout"] = []string{"soon"}
	expect("bad timeout", badTimeout, http.MethodPost, 400, "timeout")
	badJSON := sign(t, bob, target.Hotkey, "u11", now, &Ping{Text: "a"})
	badJSON.body = []byte(`{"text": `)
	expect("bad json", badJSON, http.MethodPost, 400, "body")

	// Header names in any case.
	mixed := sign(t, bob, target.Hotkey, "u12", now, &Ping{Text: "a"})
	upper := http.Header{}
	for k, v := range mixed.header {
		upper[strings.ToUpper(k)] = v
	}
	mixed.header = upper
	expect("upper-case headers", mixed, http.MethodPost, 200, "")

	resp, err := http.Post("http://"+net.JoinHostPort(target.IP, strconv.Itoa(target.Port))+"/Pong", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown synapse: %d", resp.StatusCode)
	}
}

func TestHooksAndLimits(t *testing.T) {
	bob, charlie := key(t, "//Bob"), key(t, "//Charlie")
	_, target := server(t, func(c *axon.Config) {
		c.Blacklist = func(_ context.Context, r axon.Request) (bool, string) {
			return r.Hotkey == charlie.SS58(), "not in the metagraph"
		}
		c.RateLimit = 3
		c.MaxBody = 2048
	})
	now := time.Now().UnixNano()
	if code, msg := sign(t, charlie, target.Hotkey, "c", now, &Ping{Text: "a"}).send(t, target, http.MethodPost); code != 403 || !strings.Contains(msg, "blacklisted: not in the metagraph") {
		t.Errorf("blacklisted: %d %q", code, msg)
	}
	for i := range 4 {
		code, msg := sign(t, bob, target.Hotkey, "b", now+int64(i), &Ping{Text: "a"}).send(t, target, http.MethodPost)
		if want := map[bool]int{true: 200, false: 429}[i < 3]; code != want {
			t.Errorf("request %d: %d %q, want %d", i, code, msg, want)
		}
	}
	big := sign(t, key(t, "//Dave"), target.Hotkey, "d", now, &Ping{Text: strings.Repeat("x", 4096)})
	if code, _ := big.send(t, target, http.MethodPost); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", code)
	}
}

func TestDendriteFailures(t *testing.T) {
	d, _ := dendrite.New(key(t, "//Bob"))
	// Nothing listens: 503.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	p := &Ping{Text: "a"}
	_ = d.Call(context.Background(), dendrite.Target{IP: "127.0.0.1", Port: addr.Port, Hotkey: key(t, "//Alice").SS58()}, p)
	if c := synapse.BaseOf(p).Dendrite.StatusCode; c == nil || *c != 503 || dendrite.Success(p) {
		t.Errorf("no server: %+v", synapse.BaseOf(p).Dendrite)
	}
	// A server that never answers: 408 after the synapse's timeout.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The body is read so the server notices the client leaving.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	host, port, _ := net.SplitHostPort(slow.Listener.Addr().String())
	pn, _ := strconv.Atoi(port)
	timeout := 0.2
	p = &Ping{Text: "a"}
	p.Timeout = &timeout
	_ = d.Call(context.Background(), dendrite.Target{IP: host, Port: pn, Hotkey: key(t, "//Alice").SS58()}, p)
	if b := synapse.BaseOf(p); b.Dendrite.StatusCode == nil || *b.Dendrite.StatusCode != 408 || !strings.Contains(*b.Dendrite.StatusMessage, "0.2 seconds") {
		t.Errorf("slow server: %+v", b.Dendrite)
	}
}

func TestCallMany(t *testing.T) {
	var targets []dendrite.Target
	for range 4 {
		_, tg := server(t, nil)
		targets = append(targets, tg)
	}
	d, _ := dendrite.New(key(t, "//Bob"))
	out, err := dendrite.CallMany(context.Background(), d, targets, func(tg dendrite.Target) *Ping { return &Ping{Text: strconv.Itoa(tg.Port)} })
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range out {
		if !dendrite.Success(p) || *p.Echo != "pong:"+strconv.Itoa(targets[i].Port) {
			t.Errorf("target %d: %+v", i, synapse.BaseOf(p).Dendrite)
		}
	}
}

// TestServeTimeouts: a client that never finishes its headers is cut off
// after the read timeout, and Serve stops with its context.
func TestServeTimeouts(t *testing.T) {
	a, err := axon.New(axon.Config{Hotkey: key(t, "//Alice"), ReadTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, ln) }()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("POST /Ping HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.ReadAll(conn)
	if waited := time.Since(start); err != nil || waited > 3*time.Second {
		t.Errorf("slow client held for %v (%v)", waited, err)
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not stop with its context")
	}
}

// TestDendriteOverlappingCalls: calls from one dendrite to one axon that
// overlap are all accepted (each holds its own nonce lane), and calls
// that do not overlap all go under the dendrite's uuid.
func TestDendriteOverlappingCalls(t *testing.T) {
	_, target := server(t, func(c *axon.Config) { c.RateLimit = -1 })
	d, err := dendrite.New(key(t, "//Bob"))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		p := &Ping{Text: "one at a time"}
		if err := d.Call(context.Background(), target, p); err != nil || !dendrite.Success(p) || *p.Dendrite.UUID != d.UUID() {
			t.Fatalf("sequential call: %v %+v, uuid %s", err, p.Dendrite, d.UUID())
		}
	}
	var wg sync.WaitGroup
	var refused atomic.Int64
	for range 16 {
		wg.Go(func() {
			for range 8 {
				p := &Ping{Text: "overlapping"}
				if err := d.Call(context.Background(), target, p); err != nil || !dendrite.Success(p) {
					refused.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := refused.Load(); n > 0 {
		t.Fatalf("%d of 128 overlapping calls refused", n)
	}
}
