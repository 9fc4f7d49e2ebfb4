package securesession

import (
	"encoding/json"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"testing"
)

// pyCases are JSON documents as a Python peer writes them (12.0 stays a
// float, 3 an int); computeproto.Canonical must print each as Python's
// json.dumps(..., ensure_ascii=False, sort_keys=True) does, the record
// plaintext form.
var pyCases = []struct{ name, json string }{
	{"scalars", `{"i": 3, "neg": -7, "t": true, "f": false, "n": null, "s": "x"}`},
	{"floats", `[12.0, 0.1, 1e-05, 1e+20, 1e16, 1e15, 0.0001, -0.0, 123456.789, 1.5e300, 5e-324, -2.5, 0.3333333333333333]`},
	{"unicode", `{"é": "ünï ✓ 🚀", "ctl": "a\"b\\c\n\r\t\b\f\u0001\u001f\u007f", "sep": "\u2028\u2029", "k": "<&>"}`},
	{"nested", `{"b": {"y": [1, 2.0, {}], "x": []}, "a": [null, "z"]}`},
	{"object", `{"depth": 2, "name": "w", "inner": {"z": 7.0}, "list": [1.25, "a"], "map": {"k": 1e-07}, "ptr": null, "raw": {"q": 1.0, "p": 10}}`},
}

func TestCanonicalMatchesOracle(t *testing.T) {
	var reqs []oracleReq
	for _, c := range pyCases {
		reqs = append(reqs, oracleReq{"op": "dumps", "json": c.json, "record": true})
	}
	for _, msg := range []string{"Handshake rate limit exceeded: 5/5 in 60s", "ünï \"q\" 🚀\n\x7f"} {
		reqs = append(reqs, oracleReq{"op": "dumps", "record": false,
			"json": ErrorResponse(4018, msg)})
	}
	out := ask(t, reqs...)
	for i, c := range pyCases {
		got, err := computeproto.Canonical([]byte(c.json))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if string(got) != out[i].Text {
			t.Errorf("%s:\n go %s\n py %s", c.name, got, out[i].Text)
		}
	}
	// ErrorResponse already is Python's default form: dumps(loads(x)) == x.
	for _, r := range out[len(pyCases):] {
		var m map[string]any
		if err := json.Unmarshal([]byte(r.Text), &m); err != nil {
			t.Fatal(err)
		}
		if got := ErrorResponse(4018, m["error"].(string)); got != r.Text {
			t.Errorf("ErrorResponse:\n go %s\n py %s", got, r.Text)
		}
	}
}

func TestErrorResponseRoundTrip(t *testing.T) {
	s := ErrorResponse(computeproto.CodeSequenceError, SequenceErrorMessage)
	if want := `{"error": "SEQUENCE_ERROR:4020:Replay detected or sequence out of window", "error_code": 4020}`; s != want {
		t.Fatalf("got %s", s)
	}
	code, msg, ok := ParseErrorResponse(s)
	if !ok || code != computeproto.CodeSequenceError || msg != SequenceErrorMessage {
		t.Fatalf("parse: %d %q %v", code, msg, ok)
	}
	for _, bad := range []string{`{"error": "x"}`, `{"error_code": 1}`, `{"error": "x", "error_code": "1"}`,
		`{"error": "x", "error_code": 1.5}`, `[1]`, `not json`, `{"ver": "v1"}`} {
		if _, _, ok := ParseErrorResponse(bad); ok {
			t.Errorf("%s parsed as an error answer", bad)
		}
	}
	if code, msg, ok := ParseErrorResponse(`{"error": {"a": 1}, "error_code": 4011}`); !ok || code != 4011 || msg != `{"a": 1}` {
		t.Errorf("non-string error: %d %q %v", code, msg, ok)
	}
}

// TestSealIsTheRecordLayer: Seal's bytes are the ciphertext of the package
// SealRecord builds for the same record (itself held to Python's
// cryptography), and Open reverses them.
func TestSealIsTheRecordLayer(t *testing.T) {
	key := make([]byte, KeySize)
	key[0] = 7
	pkg, err := SealRecord(key, "sess-1", 42, "5From", "5To", "MESH_HEARTBEAT_V1", []byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	p, ct, err := ParsePackage(pkg)
	if err != nil || p.Seq != 42 {
		t.Fatal(err)
	}
	got, err := Seal(key, "sess-1", 42, "5From", "5To", "MESH_HEARTBEAT_V1", []byte(`{"a":1}`))
	if err != nil || string(got) != string(ct) {
		t.Fatalf("Seal differs from the package's ciphertext: %v", err)
	}
	pt, err := Open(key, "sess-1", 42, "5From", "5To", "MESH_HEARTBEAT_V1", got)
	if err != nil || string(pt) != `{"a":1}` {
		t.Fatalf("Open: %s %v", pt, err)
	}
	if _, err := Open(key, "sess-1", 43, "5From", "5To", "MESH_HEARTBEAT_V1", got); err == nil {
		t.Fatal("another sequence opened")
	}
	w := NewReplayWindow()
	if !w.Accept(5) || w.Accept(5) || !w.Accept(4) || w.Accept(5000) {
		t.Fatal("replay window")
	}
}
