package oracletest

import (
	"bytes"
	"crypto/sha3"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

const peerModule = "@polkadot/util-crypto"

type axonHello struct {
	Port   int    `json:"port"`
	Hotkey string `json:"hotkey"`
}

type axonLog struct {
	Log []struct {
		Path   string `json:"path"`
		Method string `json:"method"`
		Status int    `json:"status"`
		Reason string `json:"reason"`
	} `json:"log"`
}

type dendriteAnswer struct {
	Case        string            `json:"case"`
	Status      int               `json:"status"`
	FirstStatus int               `json:"first_status"`
	Skipped     bool              `json:"skipped"`
	Error       string            `json:"error"`
	Body        json.RawMessage   `json:"body"`
	Headers     map[string]string `json:"headers"`
}

var pingSynapse = map[string]any{
	"Ping": map[string]any{
		"hash_fields": []string{"text", "n"},
		"required":    []string{"text"},
		"reply":       map[string]any{"echo": "pong"},
	},
}

func startAxonPeer(t *testing.T) (*Process, axonHello) {
	t.Helper()
	p := Start(t, "axon-peer.mjs", peerModule, map[string]any{
		"uri":        "//Alice",
		"synapses":   pingSynapse,
		"timeout_ms": 120000,
	})
	var hello axonHello
	p.First(&hello)
	if hello.Port == 0 || hello.Hotkey == "" {
		t.Fatalf("axon peer said %+v", hello)
	}
	return p, hello
}

// TestPeersAgainstEachOther runs the reference dendrite against the
// reference axon: each must hold the other to the SDK's rules.
func TestPeersAgainstEachOther(t *testing.T) {
	axon, hello := startAxonPeer(t)
	cases := []string{"ok", "unsigned", "bad_signature", "tamper_body", "replay", "stale_nonce",
		"lower_nonce", "wrong_axon", "get", "wrapped_signature", "missing_input_obj", "unknown_synapse"}
	var got []dendriteAnswer
	Run(t, Script(t, "dendrite-peer.mjs", peerModule), map[string]any{
		"url":         fmt.Sprintf("http://127.0.0.1:%d", hello.Port),
		"uri":         "//Bob",
		"axon_hotkey": hello.Hotkey,
		"synapse":     "Ping",
		"fields":      map[string]any{"text": "hello", "n": 7, "echo": nil},
		"hash_fields": []string{"text", "n"},
		"required":    map[string]any{"text": ""},
		"timeout":     12.0,
		"cases":       cases,
	}, &got)
	if len(got) != len(cases) {
		t.Fatalf("dendrite peer answered %d of %d cases", len(got), len(cases))
	}
	want := map[string]int{
		"ok": 200, "unsigned": 401, "bad_signature": 401, "tamper_body": 500, "replay": 401,
		"stale_nonce": 401, "lower_nonce": 401, "wrong_axon": 401, "get": 200, "wrapped_signature": 200,
		"missing_input_obj": 400, "unknown_synapse": 404,
	}
	for i, a := range got {
		if a.Case != cases[i] || a.Error != "" || a.Skipped {
			t.Errorf("case %d: %+v", i, a)
			continue
		}
		if a.Status != want[a.Case] {
			t.Errorf("%s: status %d, want %d; body %s", a.Case, a.Status, want[a.Case], a.Body)
		}
		if (a.Case == "replay" || a.Case == "lower_nonce") && a.FirstStatus != 200 {
			t.Errorf("%s: first request status %d, want 200", a.Case, a.FirstStatus)
		}
		if a.Status == 200 {
			var body struct {
				Echo string `json:"echo"`
				Text string `json:"text"`
				Axon struct {
					StatusCode    int    `json:"status_code"`
					StatusMessage string `json:"status_message"`
					Hotkey        string `json:"hotkey"`
				} `json:"axon"`
			}
			if err := json.Unmarshal(a.Body, &body); err != nil {
				t.Fatalf("%s body: %v", a.Case, err)
			}
			if body.Echo != "pong" || body.Text != "hello" || body.Axon.StatusCode != 200 || body.Axon.StatusMessage != "Success" {
				t.Errorf("%s body: %s", a.Case, a.Body)
			}
			if a.Headers["bt_header_axon_status_code"] != "200" || a.Headers["bt_header_axon_status_message"] != "Success" ||
				a.Headers["bt_header_axon_process_time"] == "" {
				t.Errorf("%s headers: %v", a.Case, a.Headers)
			}
		} else {
			var body struct {
				Message string `json:"message"`
			}
			if err := json.Unmarshal(a.Body, &body); err != nil || body.Message == "" {
				t.Errorf("%s: error body %s (%v)", a.Case, a.Body, err)
			}
			if a.Headers["bt_header_axon_status_code"] != fmt.Sprint(a.Status) {
				t.Errorf("%s: bt_header_axon_status_code %q", a.Case, a.Headers["bt_header_axon_status_code"])
			}
		}
		if a.Case == "tamper_body" && !strings.Contains(string(a.Body), "Internal Server Error #") {
			t.Errorf("tamper_body: body %s", a.Body)
		}
	}

	var final axonLog
	axon.Close(&final)
	// replay and lower_nonce send two requests each.
	wantLog := []struct {
		method string
		status int
	}{
		{"POST", 200}, {"POST", 401}, {"POST", 401}, {"POST", 500}, {"POST", 200}, {"POST", 401},
		{"POST", 401}, {"POST", 200}, {"POST", 401}, {"POST", 401}, {"GET", 200}, {"POST", 200},
		{"POST", 400}, {"POST", 404},
	}
	if len(final.Log) != len(wantLog) {
		t.Fatalf("axon log has %d entries, want %d: %+v", len(final.Log), len(wantLog), final.Log)
	}
	for i, w := range wantLog {
		e := final.Log[i]
		if e.Method != w.method || e.Status != w.status || e.Reason == "" {
			t.Errorf("axon log %d: %+v, want %s %d", i, e, w.method, w.status)
		}
	}
	if p := final.Log[len(final.Log)-1].Path; p != "/PingUnknown" {
		t.Errorf("last path %q", p)
	}
}

// TestAxonPeerBareRequest sends requests without the SDK's headers. The
// axon builds the synapse from the headers before it verifies anything, and
// Ping's required field text has no input object, so that fails first
// (400); with the input object alone, verification fails (no hotkey, 401).
func TestAxonPeerBareRequest(t *testing.T) {
	axon, hello := startAxonPeer(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", hello.Port)
	send := func(method, path string, header map[string]string) int {
		t.Helper()
		req, err := http.NewRequest(method, base+path, bytes.NewReader([]byte(`{"text": "hi"}`)))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var body struct {
			Message string `json:"message"`
		}
		if err := json.Unmarshal(b, &body); err != nil || body.Message == "" {
			t.Errorf("%s %s: body %s", method, path, b)
		}
		if got := resp.Header.Get("bt_header_axon_status_code"); got != fmt.Sprint(resp.StatusCode) {
			t.Errorf("%s %s: bt_header_axon_status_code %q with status %d", method, path, got, resp.StatusCode)
		}
		return resp.StatusCode
	}
	if got := send("POST", "/Ping", nil); got != http.StatusBadRequest {
		t.Errorf("bare POST /Ping: %d, want 400", got)
	}
	// Go canonicalizes the name to Bt_header_input_obj_text; the axon must
	// still find it.
	if got := send("POST", "/Ping", map[string]string{"bt_header_input_obj_text": "IiI="}); got != http.StatusUnauthorized {
		t.Errorf("POST /Ping with only the input object: %d, want 401", got)
	}
	if got := send("GET", "/Nope", nil); got != http.StatusNotFound {
		t.Errorf("GET /Nope: %d, want 404", got)
	}
	var final axonLog
	axon.Close(&final)
	if len(final.Log) != 3 || final.Log[0].Status != 400 || final.Log[1].Status != 401 || final.Log[2].Status != 404 {
		t.Errorf("axon log: %+v", final.Log)
	}
}

// pyStrCases are JSON texts and Python's str(json.loads(text)), from
// Python's documented float repr (shortest round-trip digits, exponent form
// below 1e-4 and from 1e16 on) and str repr (single quotes unless the text
// has a single quote and no double quote; unprintable characters escaped).
var pyStrCases = []struct{ json, want string }{
	{`0.1`, `0.1`},
	{`1e-05`, `1e-05`},
	{`0.0001`, `0.0001`},
	{`2.5E-3`, `0.0025`},
	{`1e16`, `1e+16`},
	{`1e15`, `1000000000000000.0`},
	{`1e22`, `1e+22`},
	{`12.0`, `12.0`},
	{`100.0`, `100.0`},
	{`12`, `12`},
	{`1.5e+300`, `1.5e+300`},
	{`-0.0`, `-0.0`},
	{`-0`, `0`},
	{`0.30000000000000004`, `0.30000000000000004`},
	{`5e-324`, `5e-324`},
	{`1.7976931348623157e308`, `1.7976931348623157e+308`},
	{`1e400`, `inf`},
	{`123456789012345678901234567890`, `123456789012345678901234567890`},
	{`-42`, `-42`},
	{`true`, `True`},
	{`false`, `False`},
	{`null`, `None`},
	{`"plain"`, `plain`},
	{`"it's"`, `it's`},
	{`[]`, `[]`},
	{`{}`, `{}`},
	{`[[1, [2.0]], {"x": {}}]`, `[[1, [2.0]], {'x': {}}]`},
	{`["it's", "a\"b", 1, 2.5, null, true]`, `["it's", 'a"b', 1, 2.5, None, True]`},
	{`{"k": [1.0, {"q": "x'y\"z"}]}`, `{'k': [1.0, {'q': 'x\'y"z'}]}`},
	{`["a\\b", "tab\there", "\u0001", "\u00e9", "\u007f", "nl\n"]`, `['a\\b', 'tab\there', '\x01', 'é', '\x7f', 'nl\n']`},
	{`{"b": 1, "a": 2, "1": 3}`, `{'b': 1, 'a': 2, '1': 3}`},
	{`{"a": 1, "b": 2, "a": 3}`, `{'a': 3, 'b': 2}`},
	{`["\u00a0", "\u2028", "\ud800", "😀"]`, `['\xa0', '\u2028', '\ud800', '😀']`},
}

type strAnswer struct {
	Str   string `json:"str"`
	Error string `json:"error"`
}

func TestPythonStr(t *testing.T) {
	reqs := make([]map[string]any, len(pyStrCases))
	for i, c := range pyStrCases {
		reqs[i] = map[string]any{"op": "str", "json": c.json}
	}
	got := Ask[strAnswer](t, "synapse-wire.mjs", peerModule, reqs)
	for i, c := range pyStrCases {
		if got[i].Error != "" || got[i].Str != c.want {
			t.Errorf("str(json.loads(%s)) = %q (error %q), want %q", c.json, got[i].Str, got[i].Error, c.want)
		}
	}

	// Cross-check with a real Python.
	py := Python(t)
	texts := make([]string, len(pyStrCases))
	for i, c := range pyStrCases {
		texts[i] = c.json
	}
	in, _ := json.Marshal(texts)
	cmd := exec.Command(py, "-c", "import json, sys\nprint(json.dumps([str(json.loads(x)) for x in json.load(sys.stdin)]))")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 did not run (%v: %s)", err, stderr.String())
	}
	var pyGot []string
	if err := json.Unmarshal(out, &pyGot); err != nil || len(pyGot) != len(pyStrCases) {
		t.Fatalf("python3 output %s: %v", out, err)
	}
	for i, c := range pyStrCases {
		if pyGot[i] != c.want || pyGot[i] != got[i].Str {
			t.Errorf("%s: python %q, synapse-wire %q, table %q", c.json, pyGot[i], got[i].Str, c.want)
		}
	}
	t.Logf("compared %d values with %s", len(pyStrCases), py)
}

func sha3Hex(s string) string {
	sum := sha3.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestBodyHash checks synapse-wire's body hash against one computed here
// from the SDK's definition.
func TestBodyHash(t *testing.T) {
	cases := []struct {
		json   string
		fields []string
		strs   []string // Python str of each hashed field
	}{
		{`{"text": "x"}`, nil, nil},
		{`{"text": "hello", "n": 7}`, []string{"text", "n"}, []string{"hello", "7"}},
		{`{"x": 12.0, "l": [1, "a"]}`, []string{"l", "x"}, []string{"[1, 'a']", "12.0"}},
		{`{"d": {"k": null}}`, []string{"d", "missing"}, []string{"{'k': None}", "None"}},
	}
	reqs := make([]map[string]any, len(cases))
	for i, c := range cases {
		reqs[i] = map[string]any{"op": "bodyHash", "json": c.json, "hash_fields": c.fields}
	}
	type hashAnswer struct {
		Hash  string `json:"hash"`
		Error string `json:"error"`
	}
	got := Ask[hashAnswer](t, "synapse-wire.mjs", peerModule, reqs)
	for i, c := range cases {
		var cat strings.Builder
		for _, s := range c.strs {
			cat.WriteString(sha3Hex(s))
		}
		want := sha3Hex(cat.String())
		if got[i].Hash != want {
			t.Errorf("body hash of %s over %v: %q (error %q), want %s", c.json, c.fields, got[i].Hash, got[i].Error, want)
		}
	}
	if want := "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"; got[0].Hash != want {
		t.Errorf("empty body hash %s, want %s", got[0].Hash, want)
	}
}
