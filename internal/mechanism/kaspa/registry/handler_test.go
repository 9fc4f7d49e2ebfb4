package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/oracletest"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

// TestRegisterChecksInOrder walks /register through every answer of the
// reference, each request failing one check while also failing every later
// one, so the order of the checks is pinned too. The reference asks the pool
// before the signature; here every check that costs only CPU comes first, so
// no request that fails one of them reaches the pool.
func TestRegisterChecksInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		n := newNode(t, engine, clock.NewFake(t0))
		alice, bob := key(t, "//Alice"), key(t, "//Bob")
		hk := alice.SS58()
		pub := alice.PublicKey()
		hkSubstrate, err := keys.SS58Encode(pub[:], 0) // the generic-substrate spelling of the same key
		if err != nil {
			t.Fatal(err)
		}
		worker := "worker_" + hk + "_01"
		workerSubstrate := "worker_" + hkSubstrate + "_01"
		now := n.now()
		sigFor := func(w string, at float64) string { return sign(t, alice, RegistrationMessage(hk, w, at)) }
		post := func(w, timeJSON, sig string) answer {
			return do(t, http.MethodPost, n.srv.URL+"/register", registerBody(hk, w, timeJSON), map[string]string{"X-Signature": sig})
		}
		n.checks.set(func(c *checks) { c.missingWorkers["worker1"] = true; c.unregistered[hk] = true })
		badSig := sign(t, bob, RegistrationMessage(hk, "worker1", now))

		type step struct {
			name     string
			req      func() answer
			status   int
			detail   string
			setAfter func(c *checks)
		}
		ordered := []step{
			{"time", func() answer { return post("worker1", FormatPyFloat(now-61), badSig) }, 400, MsgTimeTooFar, nil},
			{"time ahead", func() answer { return post("worker1", FormatPyFloat(now+61), badSig) }, 400, MsgTimeTooFar, nil},
			{"name", func() answer { return post("worker1", FormatPyFloat(now-59), badSig) }, 400, MsgHotkeyNotInWorker, nil},
			{"name case", func() answer { return post("worker_"+strings.ToLower(hk), FormatPyFloat(now), badSig) }, 400, MsgHotkeyNotInWorker,
				func(c *checks) { c.missingWorkers[worker] = true }},
			{"signature", func() answer { return post(worker, FormatPyFloat(now), badSig) }, 400, MsgInvalidSignature, nil},
			{"0x signature", func() answer { return post(worker, FormatPyFloat(now), "0x"+sigFor(worker, now)) }, 400, MsgInvalidSignature, nil},
			{"subnet", func() answer { return post(worker, FormatPyFloat(now), sigFor(worker, now)) }, 400, MsgHotkeyNotInSubnet,
				func(c *checks) { delete(c.unregistered, hk) }},
			// The same registered key under prefix 0, correctly signed: not
			// the subnet's spelling, so not on the subnet.
			{"other prefix", func() answer {
				return do(t, http.MethodPost, n.srv.URL+"/register", registerBody(hkSubstrate, workerSubstrate, FormatPyFloat(now)),
					map[string]string{"X-Signature": sign(t, alice, RegistrationMessage(hkSubstrate, workerSubstrate, now))})
			}, 400, MsgHotkeyNotInSubnet, func(c *checks) {
				if c.workerCalls != 0 {
					t.Errorf("the pool was asked %d times before a request passed the cheap checks", c.workerCalls)
				}
			}},
			{"pool", func() answer { return post(worker, FormatPyFloat(now), sigFor(worker, now)) }, 400, MsgWorkerNotFound + testWallet,
				func(c *checks) { delete(c.missingWorkers, worker) }},
			{"ok", func() answer { return post(worker, FormatPyFloat(now), sigFor(worker, now)) }, 200, "", nil},
			{"again", func() answer { return post(worker, FormatPyFloat(now+1), sigFor(worker, now+1)) }, 400, MsgAlreadyRegistered, nil},
		}
		for _, s := range ordered {
			a := s.req()
			if a.status != s.status || (s.detail != "" && a.detail() != s.detail) {
				t.Errorf("%s: %d %s, want %d %q", s.name, a.status, a.body, s.status, s.detail)
			}
			if s.status == 200 && a.message() != MsgRegistered {
				t.Errorf("%s: %s", s.name, a.body)
			}
			if s.setAfter != nil {
				n.checks.set(s.setAfter)
			}
		}
		m, ok := n.row(worker)
		if !ok || m.Hotkey != hk || m.RegistrationTime != now || m.RegistrationTimeInt != Micros(now) || m.Source != store.KaspaSourceLocal || !m.Active() {
			t.Errorf("stored %+v", m)
		}
		if got := n.mappings(); len(got) != 1 || got[worker] != hk {
			t.Errorf("/mappings %v", got)
		}
		evs, err := n.store.Events(t.Context(), store.EventFilter{Kind: "kaspa.registry.bound"})
		if err != nil || len(evs) != 1 || evs[0].Subject != hk || !strings.Contains(string(evs[0].Detail), worker) {
			t.Errorf("events %+v, %v", evs, err)
		}
	})
}

// TestRegisterExamples replays the reference's test_registration.py names,
// plus signature forms and the integer registration_time.
func TestRegisterExamples(t *testing.T) {
	n := newNode(t, "sqlite", clock.NewFake(t0))
	kp := key(t, "//Ferdie")
	hk := kp.SS58()
	now := n.now()
	for i, w := range []string{hk, "my_worker_" + hk, hk + "_worker1", "worker_" + hk + "_01"} {
		if a := n.register(kp, w, now+float64(i)/10); a.status != 200 {
			t.Errorf("%s: %d %s", w, a.status, a.body)
		}
	}
	for _, w := range []string{"worker1", "my_miner", "kaspa_worker", "miner_123"} {
		if a := n.register(kp, w, now); a.status != 400 || a.detail() != MsgHotkeyNotInWorker {
			t.Errorf("%s: %d %s", w, a.status, a.body)
		}
	}
	// An integer time is a float to the reference: the client signed "….0".
	at := float64(int64(now))
	w := "int_" + hk
	sig := sign(t, kp, RegistrationMessage(hk, w, at))
	if !strings.Contains(string(RegistrationMessage(hk, w, at)), fmt.Sprintf(`"registration_time":%d.0,`, int64(now))) {
		t.Fatal("integral float not written with .0")
	}
	if a := do(t, http.MethodPost, n.srv.URL+"/register", registerBody(hk, w, fmt.Sprint(int64(now))),
		map[string]string{"X-Signature": sig}); a.status != 200 {
		t.Errorf("integer time: %d %s", a.status, a.body)
	}
	// <Bytes>-wrapped (polkadot.js extensions) and upper-case hex signatures.
	w = "wrapped_" + hk
	wrapped, _ := kp.Sign([]byte("<Bytes>" + string(RegistrationMessage(hk, w, now)) + "</Bytes>"))
	if a := do(t, http.MethodPost, n.srv.URL+"/register", registerBody(hk, w, FormatPyFloat(now)),
		map[string]string{"X-Signature": strings.ToUpper(fmt.Sprintf("%x", wrapped[:]))}); a.status != 200 {
		t.Errorf("wrapped, upper case: %d %s", a.status, a.body)
	}
	if m, _ := n.row(w); m.Signature != fmt.Sprintf("%x", wrapped[:]) {
		t.Errorf("signature stored as %s, want lower case", m.Signature)
	}
}

// TestRegisterValidation: malformed requests get FastAPI's 422 (or 413 for
// a body over the cap) and never reach the checks.
func TestRegisterValidation(t *testing.T) {
	n := newNode(t, "sqlite", clock.NewFake(t0), func(o *HandlerOpts) { o.MaxBodyBytes = 1024 })
	kp := key(t, "//Alice")
	hk := kp.SS58()
	good := registerBody(hk, "w_"+hk, FormatPyFloat(n.now()))
	sig := map[string]string{"X-Signature": strings.Repeat("ab", 64)}
	cases := []struct {
		name   string
		body   []byte
		header map[string]string
		status int
		want   []string // fragments of the detail
	}{
		{"no signature header", good, nil, 422, []string{`"loc":["header","x-signature"]`, `"type":"missing"`}},
		{"bad ss58", registerBody("5NotAnAddress", "w", "1.0"), sig, 422, []string{`"loc":["body","hotkey"]`, "Invalid ss58 address"}},
		{"hex public key", registerBody("0x"+strings.Repeat("00", 32), "w", "1.0"), sig, 422, []string{"Invalid ss58 address"}},
		{"missing fields", []byte(`{}`), sig, 422, []string{`["body","hotkey"]`, `["body","worker"]`, `["body","registration_time"]`, "Field required"}},
		{"wrong types", []byte(`{"hotkey":1,"worker":null,"registration_time":"1.5"}`), sig, 422,
			[]string{"string_type", "float_type", `["body","registration_time"]`}},
		{"bool time", []byte(`{"hotkey":"` + hk + `","worker":"w","registration_time":true}`), sig, 422, []string{"float_type"}},
		{"invalid JSON", []byte(`{"hotkey":`), sig, 422, []string{"json_invalid"}},
		{"NaN", []byte(`{"hotkey":"` + hk + `","worker":"w","registration_time":NaN}`), sig, 422, []string{"json_invalid"}},
		{"array", []byte(`[1]`), sig, 422, []string{"model_attributes_type"}},
		{"trailing data", append(append([]byte(nil), good...), []byte(` {}`)...), sig, 422, []string{"json_invalid"}},
		{"invalid UTF-8", []byte("{\"hotkey\":\"" + hk + "\",\"worker\":\"\xff\",\"registration_time\":1}"), sig, 422, []string{"json_invalid"}},
		{"empty body", nil, sig, 422, []string{`"loc":["body"]`, "missing"}},
		{"control character", registerBody(hk, "w\n"+hk, "1.0"), sig, 422, []string{"control characters"}},
		{"long worker", registerBody(hk, strings.Repeat("w", MaxWorkerLen+1)+hk, "1.0"), sig, 422, []string{"at most 256 bytes"}},
		{"too large", registerBody(hk, strings.Repeat("w", 2000), "1.0"), sig, 413, []string{"larger than 1024 bytes"}},
		{"huge number", registerBody(hk, "w_"+hk, "1e999"), sig, 400, []string{MsgTimeTooFar}},
		// A Python miner can sign a name with a lone surrogate; Go would
		// decode it as U+FFFD and check a message nobody signed.
		{"lone high surrogate", []byte(`{"hotkey":"` + hk + `","worker":"w\ud800_` + hk + `","registration_time":1.0}`), sig, 422, []string{"lone UTF-16 surrogate"}},
		{"lone low surrogate", []byte(`{"hotkey":"` + hk + `","worker":"w\udc00_` + hk + `","registration_time":1.0}`), sig, 422, []string{"lone UTF-16 surrogate"}},
		{"reversed pair", []byte(`{"hotkey":"` + hk + `","worker":"w\udc00\ud800_` + hk + `","registration_time":1.0}`), sig, 422, []string{"lone UTF-16 surrogate"}},
		{"surrogate at the end", []byte(`{"hotkey":"` + hk + `","worker":"` + hk + `\ud83d","registration_time":1.0}`), sig, 422, []string{"lone UTF-16 surrogate"}},
	}
	for _, c := range cases {
		a := do(t, http.MethodPost, n.srv.URL+"/register", c.body, c.header)
		if a.status != c.status || !containsAll(string(a.body), c.want...) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, a.status, a.body, c.status, c.want)
		}
	}
	if n.count() != 0 {
		t.Error("a malformed request stored a row")
	}
	// An escaped pair (an emoji) and an escaped backslash before "u" are fine.
	at := n.now()
	for _, w := range []string{`w\ud83d\ude00_` + hk, `w\\ud800_` + hk} {
		var name string
		if err := json.Unmarshal([]byte(`"`+w+`"`), &name); err != nil {
			t.Fatal(err)
		}
		body := []byte(`{"hotkey":"` + hk + `","worker":"` + w + `","registration_time":` + FormatPyFloat(at) + `}`)
		if a := do(t, http.MethodPost, n.srv.URL+"/register", body,
			map[string]string{"X-Signature": sign(t, kp, RegistrationMessage(hk, name, at))}); a.status != 200 {
			t.Errorf("%s: %d %s", w, a.status, a.body)
		}
	}
	// An unknown field is ignored, as pydantic ignores it.
	body := []byte(fmt.Sprintf(`{"extra":[1,2],"hotkey":%q,"worker":%q,"registration_time":%s}`, hk, "x_"+hk, FormatPyFloat(at)))
	if a := do(t, http.MethodPost, n.srv.URL+"/register", body,
		map[string]string{"X-Signature": sign(t, kp, RegistrationMessage(hk, "x_"+hk, at))}); a.status != 200 {
		t.Errorf("extra field: %d %s", a.status, a.body)
	}
}

// TestDependenciesDown: a failing pool or metagraph lookup is a 503, not
// the reference's 500, and stores nothing.
func TestDependenciesDown(t *testing.T) {
	n := newNode(t, "sqlite", clock.NewFake(t0))
	kp := key(t, "//Alice")
	w := "w_" + kp.SS58()
	n.checks.set(func(c *checks) { c.workerErr = errors.New("prometheus down") })
	if a := n.register(kp, w, n.now()); a.status != 503 {
		t.Errorf("pool down: %d %s", a.status, a.body)
	}
	n.checks.set(func(c *checks) { c.workerErr, c.hotkeyErr = nil, errors.New("chain down") })
	if a := n.register(kp, w, n.now()); a.status != 503 {
		t.Errorf("chain down: %d %s", a.status, a.body)
	}
	if a := n.unbind(kp, w); a.status != 503 {
		t.Errorf("chain down, unbind: %d %s", a.status, a.body)
	}
	if n.count() != 0 {
		t.Error("stored a row")
	}
}

// TestWorkerCap: 30 active workers per hotkey by default; unbound ones do
// not count, but their names stay taken.
func TestWorkerCap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		n := newNode(t, engine, clock.NewFake(t0))
		kp, other := key(t, "//Alice"), key(t, "//Bob")
		at := n.now()
		for i := range 30 {
			n.mustRegister(kp, fmt.Sprintf("w%02d_%s", i, kp.SS58()), at)
		}
		extra := "w30_" + kp.SS58()
		if a := n.register(kp, extra, at); a.status != 400 || a.detail() != "Maximum number of workers (30) for this hotkey reached" {
			t.Fatalf("31st worker: %d %s", a.status, a.body)
		}
		n.mustRegister(other, "w00_"+other.SS58(), at) // another hotkey is not affected
		n.mustUnbind(kp, "w00_"+kp.SS58())
		n.mustRegister(kp, extra, at)
		if a := n.register(kp, "w00_"+kp.SS58(), at+1); a.status != 400 || a.detail() != MsgAlreadyRegistered {
			t.Errorf("re-registering an unbound worker: %d %s", a.status, a.body)
		}
		counts, err := n.store.KaspaActiveCounts(t.Context())
		if err != nil || counts[kp.SS58()] != 30 || counts[other.SS58()] != 1 {
			t.Errorf("counts %v, %v", counts, err)
		}
	})
	n := newNode(t, "sqlite", clock.NewFake(t0), func(o *HandlerOpts) { o.MaxWorkersPerHotkey = 2 })
	kp := key(t, "//Alice")
	n.mustRegister(kp, "a"+kp.SS58(), n.now())
	n.mustRegister(kp, "b"+kp.SS58(), n.now())
	if a := n.register(kp, "c"+kp.SS58(), n.now()); a.detail() != "Maximum number of workers (2) for this hotkey reached" {
		t.Errorf("configured cap: %d %s", a.status, a.body)
	}
}

// TestUnbindChecksInOrder walks /unbind through its answers.
func TestUnbindChecksInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		clk := clock.NewFake(t0)
		n := newNode(t, engine, clk)
		alice, bob := key(t, "//Alice"), key(t, "//Bob")
		hk := alice.SS58()
		w := "rig_" + hk
		n.mustRegister(alice, w, n.now())
		n.mustRegister(bob, "rig_"+bob.SS58(), n.now())
		post := func(hotkey, worker, sig string, withSig bool) answer {
			h := map[string]string{}
			if withSig {
				h["X-Signature"] = sig
			}
			return do(t, http.MethodPost, n.srv.URL+"/unbind", unbindBody(hotkey, worker), h)
		}
		good := sign(t, alice, UnbindMessage(hk, w))
		steps := []struct {
			name     string
			a        func() answer
			status   int
			detail   string
			setAfter func(*checks)
		}{
			{"no header", func() answer { return post(hk, w, "", false) }, 422, `"x-signature"`, nil},
			{"bad ss58", func() answer { return post("nope", w, good, true) }, 422, "Invalid ss58 address", nil},
			{"signature by another key", func() answer { return post(hk, w, sign(t, bob, UnbindMessage(hk, w)), true) }, 400, MsgInvalidSignature,
				func(c *checks) { c.unregistered[hk] = true }},
			{"signature over another worker", func() answer { return post(hk, w, sign(t, alice, UnbindMessage(hk, "x")), true) }, 400, MsgInvalidSignature, nil},
			{"not in subnet", func() answer { return post(hk, w, good, true) }, 400, MsgHotkeyNotInSubnet,
				func(c *checks) { delete(c.unregistered, hk) }},
			{"never bound", func() answer { return post(hk, "ghost", sign(t, alice, UnbindMessage(hk, "ghost")), true) }, 400, MsgNoSuchBinding, nil},
			{"bob's worker", func() answer {
				bw := "rig_" + bob.SS58()
				return post(hk, bw, sign(t, alice, UnbindMessage(hk, bw)), true)
			}, 400, MsgNoSuchBinding, nil},
			{"ok", func() answer { clk.Advance(time.Second); return post(hk, w, good, true) }, 200, "", nil},
			{"again", func() answer { return post(hk, w, good, true) }, 400, MsgAlreadyUnbound, nil},
		}
		for _, s := range steps {
			a := s.a()
			if a.status != s.status || !strings.Contains(string(a.body), s.detail) {
				t.Errorf("%s: %d %s, want %d %q", s.name, a.status, a.body, s.status, s.detail)
			}
			if s.status == 200 && a.message() != MsgUnbound {
				t.Errorf("%s: %s", s.name, a.body)
			}
			if s.setAfter != nil {
				n.checks.set(s.setAfter)
			}
		}
		m, _ := n.row(w)
		if m.Active() || m.UnbindSignature != good || m.UnbindSource != store.KaspaSourceLocal || !m.UnboundAt.Equal(t0.Add(time.Second)) {
			t.Errorf("tombstone %+v", m)
		}
		if got := n.mappings(); len(got) != 1 || got["rig_"+bob.SS58()] != bob.SS58() {
			t.Errorf("/mappings after unbind: %v", got)
		}
		if a := n.register(alice, w, n.now()); a.status != 400 || a.detail() != MsgAlreadyRegistered {
			t.Errorf("re-register after unbind: %d %s", a.status, a.body)
		}
	})
}

// TestReadRoutes: /hotkey_workers in the reference's form and as the change
// feed, /validator_sync_offsets and /openapi.json.
func TestReadRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		clk := clock.NewFake(t0)
		n := newNode(t, engine, clk)
		kp := key(t, "//Alice")
		hk := kp.SS58()
		base := float64(t0.Unix()) // integral: served as "….0"
		for i := range 5 {
			n.mustRegister(kp, fmt.Sprintf("w%d_%s", i, hk), base+float64(i))
		}
		n.mustUnbind(kp, "w1_"+hk)

		a := n.get("/hotkey_workers")
		if a.status != 200 || !strings.Contains(string(a.body), fmt.Sprintf(`"registration_time":%d.0,`, t0.Unix())) {
			t.Fatalf("/hotkey_workers: %d %s", a.status, a.body)
		}
		if strings.Contains(string(a.body), "seq") || strings.Contains(string(a.body), "w1_") {
			t.Errorf("reference form carries feed fields or an unbound row: %s", a.body)
		}
		var rows []map[string]any
		list := func(q string) []string {
			a := n.get("/hotkey_workers" + q)
			rows = nil
			if a.status != 200 || json.Unmarshal(a.body, &rows) != nil {
				t.Fatalf("%s: %d %s", q, a.status, a.body)
			}
			var ws []string
			for _, r := range rows {
				ws = append(ws, strings.TrimSuffix(r["worker"].(string), "_"+hk))
			}
			return ws
		}
		for q, want := range map[string]string{
			"":                            "w0 w2 w3 w4",
			"?page_size=2":                "w0 w2",
			"?page_size=2&page_number=2":  "w3 w4",
			"?page_size=2&page_number=3":  "",
			"?page_size=2&page_number=-1": "w0 w2",
			"?since_timestamp=" + FormatPyFloat(base):                      "w2 w3 w4", // strictly after
			"?since_timestamp=" + FormatPyFloat(base+2.5) + "&page_size=1": "w3",
			"?since_seq=0":             "w0 w2 w3 w4 w1",
			"?since_seq=3&page_size=2": "w3 w4",
		} {
			if got := strings.Join(list(q), " "); got != want {
				t.Errorf("%q: %s, want %s", q, got, want)
			}
		}
		list("?since_seq=5")
		if len(rows) != 1 || rows[0]["seq"].(float64) != 6 || rows[0]["unbind_time"] == nil {
			t.Fatalf("tombstone in the feed: %v", rows)
		}
		if err := VerifySignature(hk, UnbindMessage(hk, "w1_"+hk), rows[0]["unbind_signature"].(string)); err != nil {
			t.Errorf("served tombstone does not verify: %v", err)
		}
		for _, q := range []string{"?page_size=abc", "?page_size=0", "?page_size=1001", "?since_timestamp=x", "?since_timestamp=nan", "?since_seq=-1", "?page_number=1.5"} {
			if a := n.get("/hotkey_workers" + q); a.status != 422 || !strings.Contains(string(a.body), `"query"`) {
				t.Errorf("%s: %d %s", q, a.status, a.body)
			}
		}

		ctx := t.Context()
		for _, h := range []string{"5Zpeer", "5Apeer"} {
			if err := n.store.PutKaspaSyncOffset(ctx, store.KaspaSyncOffset{Hotkey: h, LastRegistrationTime: 1721812345, LastSeq: 7}); err != nil {
				t.Fatal(err)
			}
		}
		a = n.get("/validator_sync_offsets?page_size=1&page_number=2")
		want := fmt.Sprintf(`[{"hotkey":"5Zpeer","last_registration_time":1721812345.0,"last_sync_time":%s,"last_seq":7}]`, FormatPyFloat(float64(t0.UnixMicro())/1e6))
		if a.status != 200 || strings.TrimSpace(string(a.body)) != want {
			t.Errorf("/validator_sync_offsets: %d %s, want %s", a.status, a.body, want)
		}

		var doc struct {
			Info map[string]any `json:"info"`
		}
		a = n.get("/openapi.json")
		if a.status != 200 || json.Unmarshal(a.body, &doc) != nil || doc.Info["title"] != Title || doc.Info["version"] != DefaultVersion ||
			doc.Info["x-vigil-registry-feed"] != float64(FeedVersion) || doc.Info["x-vigil-registry-instance"] == "" {
			t.Errorf("/openapi.json: %d %s", a.status, a.body)
		}
		again := n.get("/openapi.json")
		if string(again.body) != string(a.body) {
			t.Error("/openapi.json changed between calls")
		}
		if a := do(t, http.MethodGet, n.srv.URL+"/register", nil, nil); a.status != http.StatusMethodNotAllowed {
			t.Errorf("GET /register: %d", a.status)
		}
	})
}

func TestNewHandlerRequiresDependencies(t *testing.T) {
	s := storetest.Open(t, "sqlite", nil)
	c := &checks{}
	for want, o := range map[string]HandlerOpts{
		"no store specified":          {Workers: c, Hotkeys: c, PoolWallet: testWallet},
		"no worker checker specified": {Store: s, Hotkeys: c, PoolWallet: testWallet},
		"no hotkey checker specified": {Store: s, Workers: c, PoolWallet: testWallet},
		"no pool wallet specified":    {Store: s, Workers: c, Hotkeys: c},
		"negative limit":              {Store: s, Workers: c, Hotkeys: c, PoolWallet: testWallet, MaxWorkersPerHotkey: -1},
	} {
		if _, err := NewHandler(o); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v, want %q", err, want)
		}
	}
}

// TestPythonPeerReadsOurRows: what a reference validator's sync task makes
// of our /hotkey_workers (run by Python itself): every registration_time is
// a float, the message it rebuilds verifies, and it stores the same
// registration_time_int.
func TestPythonPeerReadsOurRows(t *testing.T) {
	py := oracletest.Python(t)
	n := newNode(t, "sqlite", clock.NewFake(t0))
	kp := key(t, "//Alice")
	hk := kp.SS58()
	for i, at := range []float64{float64(t0.Unix()), n.now(), n.now() - 0.000001, n.now() + 1.1, float64(t0.Unix()) + 0.5} {
		n.mustRegister(kp, fmt.Sprintf("w%d_é<>&/%s", i, hk), at)
	}
	a := n.get("/hotkey_workers")
	var rows []WorkerRow
	if a.status != 200 || json.Unmarshal(a.body, &rows) != nil || len(rows) != 5 {
		t.Fatalf("/hotkey_workers: %d %s", a.status, a.body)
	}
	cmd := exec.Command(py, "testdata/python_peer.py")
	cmd.Stdin = bytes.NewReader(a.body)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python_peer.py: %v", err)
	}
	var seen []struct {
		Message string `json:"message"`
		IsFloat bool   `json:"is_float"`
		TimeInt int64  `json:"time_int"`
	}
	if err := json.Unmarshal(out, &seen); err != nil || len(seen) != len(rows) {
		t.Fatalf("python_peer.py answered %s: %v", out, err)
	}
	for i, r := range rows {
		s := seen[i]
		if !s.IsFloat || s.TimeInt != r.RegistrationTimeInt {
			t.Errorf("row %s: Python reads float=%v, int %d; want float, %d", r.Worker, s.IsFloat, s.TimeInt, r.RegistrationTimeInt)
		}
		if err := VerifySignature(r.Hotkey, []byte(s.Message), r.Signature); err != nil {
			t.Errorf("row %s: Python's message %s does not verify: %v", r.Worker, s.Message, err)
		}
	}
}

// TestLockedDatabaseAnswers503: with the SQLite file locked by another
// process, /register and /unbind answer 503 with a reason once the busy
// timeout passes (not 500), and store nothing; after the lock goes, the same
// requests succeed.
func TestLockedDatabaseAnswers503(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "vigil.db")
	clk := clock.NewFake(t0)
	st := storetest.OpenSQLiteAt(t, path, 200*time.Millisecond, clk)
	c := &checks{missingWorkers: map[string]bool{}, unregistered: map[string]bool{}}
	h, err := NewHandler(HandlerOpts{Store: st, Workers: c, Hotkeys: c, PoolWallet: testWallet, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	kp := key(t, "//Alice")
	hk := kp.SS58()
	now := float64(clk.Now().UnixNano()) / 1e9
	register := func(w string) answer {
		return do(t, http.MethodPost, srv.URL+"/register", registerBody(hk, w, FormatPyFloat(now)),
			map[string]string{"X-Signature": sign(t, kp, RegistrationMessage(hk, w, now))})
	}
	unbind := func(w string) answer {
		return do(t, http.MethodPost, srv.URL+"/unbind", unbindBody(hk, w),
			map[string]string{"X-Signature": sign(t, kp, UnbindMessage(hk, w))})
	}
	if a := register("a_" + hk); a.status != 200 {
		t.Fatalf("register: %d %s", a.status, a.body)
	}

	release := storetest.LockSQLite(t, path)
	if a := register("b_" + hk); a.status != http.StatusServiceUnavailable || a.detail() != MsgStoreUnavailable {
		t.Errorf("register on a locked database: %d %s, want 503 %q", a.status, a.body, MsgStoreUnavailable)
	}
	if a := unbind("a_" + hk); a.status != http.StatusServiceUnavailable || a.detail() != MsgStoreUnavailable {
		t.Errorf("unbind on a locked database: %d %s, want 503", a.status, a.body)
	}
	if err := st.Health(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("store health while locked: %v", err)
	}
	release()
	if a := register("b_" + hk); a.status != 200 {
		t.Errorf("register after the lock went: %d %s", a.status, a.body)
	}
	if a := unbind("a_" + hk); a.status != 200 {
		t.Errorf("unbind after the lock went: %d %s", a.status, a.body)
	}
}
