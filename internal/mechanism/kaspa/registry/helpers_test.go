package registry

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

const testWallet = "kaspa:qr4ksh6s3rmy5f4qyql2kh7p9z7f4c55da5r5gz2nnsd8ctt4k69whtr4u0wp"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 250_000_000, time.UTC)

// checks fakes the pool (which workers exist) and the metagraph (which
// hotkeys are registered); by default everything exists.
type checks struct {
	mu             sync.Mutex
	missingWorkers map[string]bool
	unregistered   map[string]bool
	workerErr      error
	hotkeyErr      error
	workerCalls    int
}

func (c *checks) WorkerExists(_ context.Context, w string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.workerCalls++
	return !c.missingWorkers[w], c.workerErr
}

func (c *checks) HotkeyRegistered(_ context.Context, h string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.unregistered[h], c.hotkeyErr
}

func (c *checks) set(fn func(c *checks)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn(c)
}

// node is one validator: a database, the registry routes on a loopback
// server, and fake pool and metagraph checks.
type node struct {
	t      *testing.T
	hotkey string
	store  *store.Store
	h      *Handler
	srv    *httptest.Server
	clock  *clock.Fake
	checks *checks
}

func newNode(t *testing.T, engine string, clk *clock.Fake, mutate ...func(*HandlerOpts)) *node {
	t.Helper()
	n := &node{t: t, clock: clk, checks: &checks{missingWorkers: map[string]bool{}, unregistered: map[string]bool{}}}
	n.store = storetest.Open(t, engine, clk)
	opts := HandlerOpts{Store: n.store, Workers: n.checks, Hotkeys: n.checks, PoolWallet: testWallet, Clock: clk}
	for _, m := range mutate {
		m(&opts)
	}
	h, err := NewHandler(opts)
	if err != nil {
		t.Fatal(err)
	}
	n.h = h
	n.srv = httptest.NewServer(h)
	t.Cleanup(n.srv.Close)
	kp := key(t, fmt.Sprintf("//Validator//%p", n))
	n.hotkey = kp.SS58()
	return n
}

func (n *node) peer() Peer { return Peer{Hotkey: n.hotkey, URL: n.srv.URL} }

func (n *node) now() float64 { return float64(n.clock.Now().UnixNano()) / 1e9 }

var keyCache sync.Map

func key(t testing.TB, uri string) *keys.KeyPair {
	t.Helper()
	if kp, ok := keyCache.Load(uri); ok {
		return kp.(*keys.KeyPair)
	}
	kp, err := keys.FromURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	keyCache.Store(uri, kp)
	return kp
}

func sign(t testing.TB, kp *keys.KeyPair, msg []byte) string {
	t.Helper()
	sig, err := kp.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(sig[:])
}

// answer is a decoded response.
type answer struct {
	status int
	body   []byte
}

func (a answer) detail() string {
	var d struct {
		Detail json.RawMessage `json:"detail"`
	}
	_ = json.Unmarshal(a.body, &d)
	var s string
	if json.Unmarshal(d.Detail, &s) == nil {
		return s
	}
	return string(d.Detail)
}

func (a answer) message() string {
	var m struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(a.body, &m)
	return m.Message
}

func do(t testing.TB, method, url string, body []byte, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, b}
}

func (n *node) get(path string) answer {
	n.t.Helper()
	return do(n.t, http.MethodGet, n.srv.URL+path, nil, nil)
}

// registerBody is a /register body with registration_time written as given.
func registerBody(hotkey, worker, timeJSON string) []byte {
	h, _ := json.Marshal(hotkey)
	w, _ := json.Marshal(worker)
	return []byte(fmt.Sprintf(`{"hotkey":%s,"worker":%s,"registration_time":%s}`, h, w, timeJSON))
}

// register signs and posts a registration of worker to kp at time at.
func (n *node) register(kp *keys.KeyPair, worker string, at float64) answer {
	n.t.Helper()
	sig := sign(n.t, kp, RegistrationMessage(kp.SS58(), worker, at))
	return do(n.t, http.MethodPost, n.srv.URL+"/register", registerBody(kp.SS58(), worker, FormatPyFloat(at)),
		map[string]string{"X-Signature": sig})
}

func (n *node) mustRegister(kp *keys.KeyPair, worker string, at float64) {
	n.t.Helper()
	if a := n.register(kp, worker, at); a.status != 200 || a.message() != MsgRegistered {
		n.t.Fatalf("register %s: %d %s", worker, a.status, a.body)
	}
}

func unbindBody(hotkey, worker string) []byte {
	b, _ := json.Marshal(map[string]string{"hotkey": hotkey, "worker": worker})
	return b
}

func (n *node) unbind(kp *keys.KeyPair, worker string) answer {
	n.t.Helper()
	sig := sign(n.t, kp, UnbindMessage(kp.SS58(), worker))
	return do(n.t, http.MethodPost, n.srv.URL+"/unbind", unbindBody(kp.SS58(), worker), map[string]string{"X-Signature": sig})
}

func (n *node) mustUnbind(kp *keys.KeyPair, worker string) {
	n.t.Helper()
	if a := n.unbind(kp, worker); a.status != 200 || a.message() != MsgUnbound {
		n.t.Fatalf("unbind %s: %d %s", worker, a.status, a.body)
	}
}

func (n *node) mappings() map[string]string {
	n.t.Helper()
	a := n.get("/mappings")
	var m map[string]string
	if a.status != 200 || json.Unmarshal(a.body, &m) != nil {
		n.t.Fatalf("/mappings: %d %s", a.status, a.body)
	}
	return m
}

func (n *node) row(worker string) (store.KaspaMapping, bool) {
	n.t.Helper()
	m, err := n.store.KaspaMapping(context.Background(), worker)
	if errors.Is(err, store.ErrNotFound) {
		return m, false
	}
	if err != nil {
		n.t.Fatal(err)
	}
	return m, true
}

func (n *node) count() int {
	n.t.Helper()
	var c int
	if err := n.store.DB().QueryRow("SELECT COUNT(*) FROM kaspa_worker_mappings").Scan(&c); err != nil {
		n.t.Fatal(err)
	}
	return c
}

// peerList is a fixed PeerSource.
type peerList []Peer

func (p peerList) Peers() []Peer { return p }

func newSyncer(t *testing.T, n *node, peers PeerSource, mutate ...func(*SyncerOpts)) *Syncer {
	t.Helper()
	opts := SyncerOpts{Store: n.store, Peers: peers, Self: n.hotkey, Clock: n.clock, CallTimeout: 2 * time.Second}
	for _, m := range mutate {
		m(&opts)
	}
	s, err := NewSyncer(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
