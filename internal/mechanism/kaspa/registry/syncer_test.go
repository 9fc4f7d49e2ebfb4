package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

func one(t *testing.T, reps []PeerReport) PeerReport {
	t.Helper()
	if len(reps) != 1 {
		t.Fatalf("%d reports, want 1: %+v", len(reps), reps)
	}
	return reps[0]
}

func counts(r PeerReport) string {
	return fmt.Sprintf("added %d tombstoned %d known %d conflicts %d capped %d rejected %d",
		r.Added, r.Tombstoned, r.Known, r.Conflicts, r.Capped, r.Rejected)
}

// TestSyncBetweenVigilNodes: three of our own servers on loopback. B copies
// A's bindings and tombstones through the change feed, page by page, keeps
// its own binding of a contested name, applies a later unbind as a
// tombstone, and C gets everything from B, tombstones included.
func TestSyncBetweenVigilNodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		clk := clock.NewFake(t0)
		a, b, c := newNode(t, engine, clk), newNode(t, engine, clk), newNode(t, engine, clk)
		alice, bob := key(t, "//Alice"), key(t, "//Bob")
		hk := alice.SS58()
		w := func(i int) string { return fmt.Sprintf("w%d_%s", i, hk) }
		for i := range 5 {
			a.mustRegister(alice, w(i), a.now()+float64(i))
		}
		a.mustUnbind(alice, w(1))
		contested := "dual_" + hk + "_" + bob.SS58()
		a.mustRegister(alice, contested, a.now())
		b.mustRegister(bob, contested, b.now())

		bFromA := newSyncer(t, b, peerList{a.peer()}, func(o *SyncerOpts) { o.PageSize = 2 })
		r := one(t, bFromA.SyncOnce(t.Context()))
		if r.Err != nil || r.Mode != "feed" || r.Pages != 4 || r.Added != 4 || r.Tombstoned != 1 || r.Conflicts != 1 {
			t.Fatalf("first sync: %+v (%s)", r, counts(r))
		}
		got := b.mappings()
		for _, i := range []int{0, 2, 3, 4} {
			if got[w(i)] != hk {
				t.Errorf("B lacks %s: %v", w(i), got)
			}
		}
		if got[contested] != bob.SS58() || len(got) != 5 {
			t.Errorf("B's mappings %v; the contested name must stay Bob's", got)
		}
		if m, _ := b.row(w(1)); m.Active() || m.Source != a.hotkey || m.UnbindSource != a.hotkey {
			t.Errorf("tombstone copied as %+v", m)
		}
		orig, _ := a.row(w(0))
		if m, _ := b.row(w(0)); m.Signature != orig.Signature || m.RegistrationTime != orig.RegistrationTime || m.Source != a.hotkey {
			t.Errorf("copied row %+v, original %+v", m, orig)
		}

		// An unbind on A reaches B as a tombstone.
		clk.Advance(time.Minute)
		a.mustUnbind(alice, w(2))
		r = one(t, bFromA.SyncOnce(t.Context()))
		if r.Err != nil || r.Tombstoned != 1 || r.Added != 0 {
			t.Fatalf("second sync: %+v (%s)", r, counts(r))
		}
		if m, _ := b.row(w(2)); m.Active() || m.UnbindSource != a.hotkey || m.Source != a.hotkey {
			t.Errorf("unbind not applied on B: %+v", m)
		}
		if _, ok := b.mappings()[w(2)]; ok {
			t.Error("B still serves the unbound worker")
		}
		if a := b.register(alice, w(2), b.now()); a.status != 400 || a.detail() != MsgAlreadyRegistered {
			t.Errorf("re-registering a tombstoned worker on B: %d %s", a.status, a.body)
		}

		// An unbind made on B, of a binding B copied, flows back to A.
		b.mustUnbind(alice, w(3))
		aFromB := newSyncer(t, a, peerList{b.peer()})
		r = one(t, aFromB.SyncOnce(t.Context()))
		if r.Err != nil || r.Tombstoned != 1 || r.Conflicts != 1 {
			t.Errorf("A from B: %+v (%s)", r, counts(r))
		}
		if m, _ := a.row(w(3)); m.Active() || m.UnbindSource != b.hotkey {
			t.Errorf("A's %s after B's unbind: %+v", w(3), m)
		}

		// C learns everything from B alone, tombstones included.
		cFromB := newSyncer(t, c, peerList{b.peer(), c.peer()})
		r = one(t, cFromB.SyncOnce(t.Context())) // C's own entry is skipped
		if r.Err != nil || r.Added != 3 || r.Tombstoned != 3 {
			t.Errorf("C from B: %+v (%s)", r, counts(r))
		}
		if got := c.mappings(); len(got) != 3 || got[w(0)] != hk || got[w(4)] != hk || got[contested] != bob.SS58() {
			t.Errorf("C's mappings %v", got)
		}
		r = one(t, cFromB.SyncOnce(t.Context()))
		if r.Err != nil || r.Pages != 1 || r.Added+r.Tombstoned+r.Known != 0 {
			t.Errorf("idle sync: %+v (%s)", r, counts(r))
		}

		var offs []SyncOffsetRow
		if resp := b.get("/validator_sync_offsets"); resp.status != 200 || json.Unmarshal(resp.body, &offs) != nil ||
			len(offs) != 1 || offs[0].Hotkey != a.hotkey || offs[0].LastSeq != 8 {
			t.Errorf("B's offsets: %d %s", resp.status, resp.body)
		}

		// A peer whose database was replaced numbers its changes afresh:
		// the cursor starts over instead of skipping them.
		off, _ := b.store.KaspaSyncOffset(t.Context(), a.hotkey)
		off.LastSeq, off.PeerInstance = 1000, "an older database"
		if err := b.store.PutKaspaSyncOffset(t.Context(), off); err != nil {
			t.Fatal(err)
		}
		r = one(t, bFromA.SyncOnce(t.Context()))
		if r.Err != nil || r.Known != 5 || r.Conflicts != 1 {
			t.Errorf("after the peer's reset: %+v (%s)", r, counts(r))
		}
	})
}

// fakePeer serves a fixed OpenAPI document and computed pages.
type fakePeer struct {
	srv  *httptest.Server
	mu   sync.Mutex
	urls []string
}

func newFakePeer(t *testing.T, openapi string, pages func(q url.Values) (int, string)) *fakePeer {
	t.Helper()
	f := &fakePeer{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.urls = append(f.urls, r.URL.String())
		f.mu.Unlock()
		switch r.URL.Path {
		case "/openapi.json":
			_, _ = w.Write([]byte(openapi))
		case "/hotkey_workers":
			status, body := pages(r.URL.Query())
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakePeer) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.urls...)
}

const (
	vigilInfo     = `{"openapi":"3.1.0","info":{"title":"HashTensor Validator","version":"1.4.2","x-vigil-registry-feed":1,"x-vigil-registry-instance":"i1"}}`
	referenceInfo = `{"openapi":"3.1.0","info":{"title":"HashTensor Validator","version":"1.4.2"}}`
)

// signedRow is a /hotkey_workers row signed by kp.
func signedRow(t *testing.T, kp *keys.KeyPair, worker string, at float64) map[string]any {
	return map[string]any{
		"worker": worker, "hotkey": kp.SS58(), "registration_time": PyFloat(at), "registration_time_int": Micros(at),
		"signature": sign(t, kp, RegistrationMessage(kp.SS58(), worker, at)),
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSyncRejectsBadFeed: a vigil peer serving a row whose registration or
// unbind signature does not verify, or whose sequence is off, is refused:
// nothing of its page is stored and its cursor does not move.
func TestSyncRejectsBadFeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		clk := clock.NewFake(t0)
		n := newNode(t, engine, clk)
		alice := key(t, "//Alice")
		hk := alice.SS58()
		at := n.now()
		good := signedRow(t, alice, "good_"+hk, at)
		good["seq"] = 1
		tamper := func(mut func(r map[string]any)) map[string]any {
			r := signedRow(t, alice, "bad_"+hk, at)
			r["seq"] = 2
			mut(r)
			return r
		}
		otherSig := sign(t, alice, RegistrationMessage(hk, "bad_"+hk, at+1))
		cases := map[string][]map[string]any{
			"registration signature": {good, tamper(func(r map[string]any) { r["signature"] = otherSig })},
			"signature by another key": {good, tamper(func(r map[string]any) {
				r["signature"] = sign(t, key(t, "//Bob"), RegistrationMessage(hk, "bad_"+hk, at))
			})},
			"unbind signature": {good, tamper(func(r map[string]any) {
				r["unbind_signature"] = sign(t, alice, UnbindMessage(hk, "other_"+hk))
			})},
			"seq out of order": {good, tamper(func(r map[string]any) { r["seq"] = 1 })},
			"no seq":           {good, tamper(func(r map[string]any) { delete(r, "seq") })},
			"time":             {good, tamper(func(r map[string]any) { r["registration_time"] = 1e300 })},
			"name":             {good, tamper(func(r map[string]any) { r["worker"] = "nohotkey" })},
			// Alice under the generic-substrate prefix, correctly signed:
			// a second spelling of one key would be a second quota.
			"other prefix": {good, tamper(func(r map[string]any) {
				pub := alice.PublicKey()
				hk0, _ := keys.SS58Encode(pub[:], 0)
				r["hotkey"], r["worker"] = hk0, "bad_"+hk0
				r["signature"] = sign(t, alice, RegistrationMessage(hk0, "bad_"+hk0, at))
			})},
		}
		for name, rows := range cases {
			peer := newFakePeer(t, vigilInfo, func(q url.Values) (int, string) { return 200, mustJSON(t, rows) })
			p := Peer{Hotkey: "5PeerFor" + name, URL: peer.srv.URL}
			r := one(t, newSyncer(t, n, peerList{p}).SyncOnce(t.Context()))
			if !errors.Is(r.Err, ErrPeerMisbehaved) || r.Added != 0 {
				t.Errorf("%s: %+v", name, r)
			}
			if off, _ := n.store.KaspaSyncOffset(t.Context(), p.Hotkey); off.LastSeq != 0 {
				t.Errorf("%s: cursor moved to %d", name, off.LastSeq)
			}
		}
		if c := n.count(); c != 0 {
			t.Errorf("%d rows stored from bad pages", c)
		}
	})
}

// TestSyncReferencePeer: a Python peer (no change feed) is paged by
// registration time; rows it never verified are skipped, valid ones stored.
func TestSyncReferencePeer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		clk := clock.NewFake(t0)
		n := newNode(t, engine, clk)
		alice, bob := key(t, "//Alice"), key(t, "//Bob")
		base := n.now() - 3600
		bad := signedRow(t, alice, "bad_"+alice.SS58(), base+1)
		bad["signature"] = strings.Repeat("00", 64)
		future := signedRow(t, bob, "future_"+bob.SS58(), base+1e6) // signed, but dated ahead
		all := []map[string]any{
			signedRow(t, alice, "a_"+alice.SS58(), base),
			bad,
			signedRow(t, bob, "b_"+bob.SS58(), base+2),
			signedRow(t, bob, "noname", base+3), // hotkey not in the name
			future,
		}
		peer := newFakePeer(t, referenceInfo, func(q url.Values) (int, string) {
			size, _ := strconv.Atoi(q.Get("page_size"))
			page, _ := strconv.Atoi(q.Get("page_number"))
			since, _ := strconv.ParseFloat(q.Get("since_timestamp"), 64)
			var sel []map[string]any
			for _, r := range all {
				if float64(r["registration_time"].(PyFloat)) > since {
					sel = append(sel, r)
				}
			}
			lo, hi := min((page-1)*size, len(sel)), min(page*size, len(sel))
			return 200, mustJSON(t, append([]map[string]any{}, sel[lo:hi]...))
		})
		p := Peer{Hotkey: "5PythonPeer", URL: peer.srv.URL + "/"}
		s := newSyncer(t, n, peerList{p}, func(o *SyncerOpts) { o.PageSize = 2 })
		r := one(t, s.SyncOnce(t.Context()))
		if r.Err != nil || r.Mode != "reference" || r.Pages != 3 || r.Added != 3 || r.Rejected != 2 {
			t.Fatalf("reference sync: %+v (%s)", r, counts(r))
		}
		if got := n.mappings(); len(got) != 3 || got["a_"+alice.SS58()] != alice.SS58() || got["future_"+bob.SS58()] != bob.SS58() {
			t.Errorf("mappings %v", got)
		}
		if _, ok := n.row("bad_" + alice.SS58()); ok {
			t.Error("stored a row with a bad signature")
		}
		off, _ := n.store.KaspaSyncOffset(t.Context(), p.Hotkey)
		if off.LastRegistrationTime != float64(t0.Unix()) {
			t.Errorf("cursor %v, want the future row's time capped at now (%d)", off.LastRegistrationTime, t0.Unix())
		}
		reqs := peer.requests()
		if reqs[1] != "/hotkey_workers?since_timestamp=0.0&page_size=2&page_number=1" || reqs[3] != "/hotkey_workers?since_timestamp=0.0&page_size=2&page_number=3" {
			t.Errorf("requests %v", reqs)
		}
		clk.Advance(time.Minute)
		r = one(t, s.SyncOnce(t.Context()))
		reqs = peer.requests()
		want := fmt.Sprintf("/hotkey_workers?since_timestamp=%s&page_size=2&page_number=1", FormatPyFloat(float64(t0.Unix())-300))
		if r.Err != nil || r.Known != 1 || r.Added != 0 || reqs[len(reqs)-1] != want {
			t.Errorf("second run: %+v (%s), last request %s, want %s", r, counts(r), reqs[len(reqs)-1], want)
		}
	})
}

// TestSyncHangingPeer: a peer that never answers, or stops halfway through
// its body, costs one call timeout, does not hold up the others, and is
// then left alone for a doubling backoff.
func TestSyncHangingPeer(t *testing.T) {
	clk := clock.NewFake(t0)
	n := newNode(t, "sqlite", clk)
	good := newNode(t, "sqlite", clk)
	alice := key(t, "//Alice")
	good.mustRegister(alice, "w_"+alice.SS58(), good.now())
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	stall := newFakePeer(t, vigilInfo, func(url.Values) (int, string) { return 200, "" })
	stall.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/openapi.json" {
			_, _ = w.Write([]byte(vigilInfo))
			return
		}
		_, _ = w.Write([]byte("["))
		w.(http.Flusher).Flush()
		<-release
	})
	t.Cleanup(func() { close(release); hang.Close() })
	peers := peerList{{Hotkey: "5Hang", URL: hang.URL}, {Hotkey: "5Stall", URL: stall.srv.URL}, good.peer()}
	s := newSyncer(t, n, peers, func(o *SyncerOpts) { o.CallTimeout = 300 * time.Millisecond; o.BackoffBase = time.Minute })

	start := time.Now()
	reps := s.SyncOnce(t.Context())
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("a run with hanging peers took %v", el)
	}
	if !errors.Is(reps[0].Err, context.DeadlineExceeded) || !errors.Is(reps[1].Err, context.DeadlineExceeded) {
		t.Errorf("hanging peers: %v / %v", reps[0].Err, reps[1].Err)
	}
	if reps[2].Err != nil || reps[2].Added != 1 {
		t.Errorf("the good peer: %+v", reps[2])
	}
	backingOff := func() []bool {
		var out []bool
		for _, r := range s.SyncOnce(t.Context()) {
			out = append(out, r.BackingOff)
		}
		return out
	}
	if got := backingOff(); !got[0] || !got[1] || got[2] {
		t.Errorf("right after: backing off %v", got)
	}
	clk.Advance(time.Minute) // first failure: 1 minute; the retry fails again
	if got := backingOff(); got[0] || got[1] {
		t.Errorf("after a minute: backing off %v", got)
	}
	clk.Advance(time.Minute) // second failure: 2 minutes
	if got := backingOff(); !got[0] || !got[1] {
		t.Errorf("a minute after the second failure: backing off %v", got)
	}
	clk.Advance(time.Minute)
	if got := backingOff(); got[0] || got[1] {
		t.Errorf("two minutes after the second failure: backing off %v", got)
	}
}

// TestSyncGarbagePeers: peers that are not validators, speak another
// version, or serve junk or oversized pages store nothing and are reported.
func TestSyncGarbagePeers(t *testing.T) {
	clk := clock.NewFake(t0)
	n := newNode(t, "sqlite", clk)
	alice := key(t, "//Alice")
	tooMany := make([]map[string]any, 3)
	for i := range tooMany {
		tooMany[i] = signedRow(t, alice, fmt.Sprintf("m%d_%s", i, alice.SS58()), n.now())
		tooMany[i]["seq"] = i + 1
	}
	huge := "[" + strings.Repeat(`{"worker":"x"},`, 1000) + `{}]`
	other := newFakePeer(t, referenceInfo, func(url.Values) (int, string) { return 200, "[]" })
	cases := []struct {
		name    string
		openapi string
		status  int
		body    string
		want    error
	}{
		{"openapi not JSON", "<html>", 200, "[]", ErrIncompatiblePeer},
		{"another service", `{"info":{"title":"Grafana","version":"1.4.2"}}`, 200, "[]", ErrIncompatiblePeer},
		{"another version", `{"info":{"title":"HashTensor Validator","version":"1.5.0"}}`, 200, "[]", ErrIncompatiblePeer},
		{"page not JSON", vigilInfo, 200, "<html>", ErrPeerMisbehaved},
		{"page an object", vigilInfo, 200, `{"rows":[]}`, ErrPeerMisbehaved},
		{"page oversized", vigilInfo, 200, huge, ErrPeerMisbehaved},
		{"too many rows", vigilInfo, 200, mustJSON(t, tooMany), ErrPeerMisbehaved},
		{"reference junk rows", referenceInfo, 200, `[{"worker": 5}, null]`, nil},
		{"server error", vigilInfo, 500, `{"detail":"Internal Server Error"}`, nil},
	}
	for _, c := range cases {
		peer := newFakePeer(t, c.openapi, func(url.Values) (int, string) { return c.status, c.body })
		s := newSyncer(t, n, peerList{{Hotkey: "5P" + c.name, URL: peer.srv.URL}},
			func(o *SyncerOpts) { o.PageSize = 2; o.MaxResponseBytes = 4096 })
		r := one(t, s.SyncOnce(t.Context()))
		switch {
		case c.want != nil && !errors.Is(r.Err, c.want):
			t.Errorf("%s: %v, want %v", c.name, r.Err, c.want)
		case c.name == "server error" && (r.Err == nil || !strings.Contains(r.Err.Error(), "HTTP 500")):
			t.Errorf("%s: %v", c.name, r.Err)
		case c.name == "reference junk rows" && (r.Err != nil || r.Pages != 20 || r.Rejected != 40): // every page full: MaxPages stops it
			t.Errorf("%s: %+v", c.name, r)
		}
	}
	// A redirect is not followed, so a peer cannot point us elsewhere.
	redirect := httptest.NewServer(http.RedirectHandler(other.srv.URL+"/openapi.json", http.StatusFound))
	defer redirect.Close()
	r := one(t, newSyncer(t, n, peerList{{Hotkey: "5Redirect", URL: redirect.URL}}).SyncOnce(t.Context()))
	if r.Err == nil || len(other.requests()) != 0 {
		t.Errorf("redirect: %v, target saw %v", r.Err, other.requests())
	}
	for _, u := range []string{"ftp://x", "not a url", "http://", "http://h/?q=1"} {
		if r := one(t, newSyncer(t, n, peerList{{Hotkey: "5Bad", URL: u}}).SyncOnce(t.Context())); !errors.Is(r.Err, ErrIncompatiblePeer) {
			t.Errorf("URL %q: %v", u, r.Err)
		}
	}
	if n.count() != 0 {
		t.Errorf("stored %d rows from garbage", n.count())
	}
}

// TestSyncCap: a peer cannot push a hotkey past the cap; tombstones are not
// capped.
func TestSyncCap(t *testing.T) {
	clk := clock.NewFake(t0)
	a, b := newNode(t, "sqlite", clk), newNode(t, "sqlite", clk, func(o *HandlerOpts) { o.MaxWorkersPerHotkey = 2 })
	alice := key(t, "//Alice")
	for i := range 4 {
		a.mustRegister(alice, fmt.Sprintf("w%d_%s", i, alice.SS58()), a.now())
	}
	a.mustUnbind(alice, "w3_"+alice.SS58())
	r := one(t, newSyncer(t, b, peerList{a.peer()}, func(o *SyncerOpts) { o.MaxWorkersPerHotkey = 2 }).SyncOnce(t.Context()))
	if r.Err != nil || r.Added != 2 || r.Capped != 1 || r.Tombstoned != 1 {
		t.Errorf("%+v (%s)", r, counts(r))
	}
}

func TestSyncerRunLoop(t *testing.T) {
	clk := clock.NewFake(t0)
	n := newNode(t, "sqlite", clk)
	calls := make(chan struct{}, 10)
	s := newSyncer(t, n, peerFunc(func() []Peer { calls <- struct{}{}; return nil }), func(o *SyncerOpts) { o.Interval = time.Minute })
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	<-calls // at once
	if err := clk.BlockUntilWaiters(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	<-calls
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v", err)
	}
}

type peerFunc func() []Peer

func (f peerFunc) Peers() []Peer { return f() }

func TestCompatibleVersion(t *testing.T) {
	for _, c := range []struct {
		peer, ours string
		ok         bool
	}{
		{"1.4.2", "1.4.2", true}, {"1.4.9", "1.4.2", true}, {"1.4", "1.4.2", true},
		{"1.5.0", "1.4.2", false}, {"2.4.2", "1.4.2", false}, {"", "1.4.2", false}, {"dev", "dev", true}, {"1", "1.4.2", false},
	} {
		if got := CompatibleVersion(c.peer, c.ours); got != c.ok {
			t.Errorf("CompatibleVersion(%q, %q) = %v", c.peer, c.ours, got)
		}
	}
}

func TestNewSyncerRequiresDependencies(t *testing.T) {
	s := storetest.Open(t, "sqlite", nil)
	if _, err := NewSyncer(SyncerOpts{Peers: peerList{}}); err == nil || !strings.Contains(err.Error(), "no store specified") {
		t.Errorf("no store: %v", err)
	}
	if _, err := NewSyncer(SyncerOpts{Store: s}); err == nil || !strings.Contains(err.Error(), "no peer source specified") {
		t.Errorf("no peers: %v", err)
	}
	if _, err := NewSyncer(SyncerOpts{Store: s, Peers: peerList{}, PageSize: -1}); err == nil {
		t.Error("negative page size accepted")
	}
}
