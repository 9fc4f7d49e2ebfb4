package synapse_test

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"crypto/sha3"
	"github.com/vigil-validator/vigil/bittensor/oracletest"
	"github.com/vigil-validator/vigil/bittensor/synapse"
)

// Kinds has a required field of every kind the input-object headers
// distinguish, and hashes several of them.
type Kinds struct {
	synapse.Base
	S  string            `json:"s"`
	I  int               `json:"i"`
	F  float64           `json:"f"`
	B  bool              `json:"b"`
	L  []string          `json:"l"`
	M  map[string]int    `json:"m"`
	P  *float64          `json:"p"`
	LF []float64         `json:"lf"`
	X  map[string]string `json:"x,omitempty"`
}

func (*Kinds) RequiredHashFields() []string { return []string{"s", "i", "f", "b", "l", "lf", "p"} }
func (*Kinds) RequiredFields() []string     { return []string{"s", "i", "f", "b", "l", "m"} }
func (*Kinds) SynapseName() string          { return "KindsSynapse" }

func TestInputObjectHeaders(t *testing.T) {
	h, err := synapse.ToHeaders(&Kinds{})
	if err != nil {
		t.Fatal(err)
	}
	// The base64 of "" [] {} 0 0.0 false, as the SDK sends them.
	want := map[string]string{"s": "IiI=", "i": "MA==", "f": "MC4w", "b": "ZmFsc2U=", "l": "W10=", "m": "e30="}
	for f, v := range want {
		if got := h["bt_header_input_obj_"+f]; len(got) != 1 || got[0] != v {
			t.Errorf("input obj %s = %v, want %s", f, got, v)
		}
	}
	if raw(h, "name") != "KindsSynapse" || raw(h, "timeout") != "12.0" || raw(h, "computed_body_hash") != "" {
		t.Errorf("base headers %v", h)
	}
}

func TestHeadersRoundTrip(t *testing.T) {
	nonce, ver, port, pt := int64(1732200000123456789), synapse.Version, 8091, 0.25
	hk, uuid, sig, ip, msg := "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty", "abc-123", "0xdead", "10.0.0.1", "Success"
	timeout, hash := 30.0, synapse.EmptyBodyHash
	name, zero := "KindsSynapse", 0
	in := &Kinds{}
	in.Name, in.Timeout, in.ComputedBodyHash, in.TotalSize, in.HeaderSize = &name, &timeout, &hash, &zero, &zero
	in.Dendrite = synapse.TerminalInfo{Nonce: &nonce, Version: &ver, Hotkey: &hk, UUID: &uuid, Signature: &sig, IP: &ip}
	in.Axon = synapse.TerminalInfo{Port: &port, ProcessTime: &pt, StatusMessage: &msg}
	h, err := synapse.ToHeaders(in)
	if err != nil {
		t.Fatal(err)
	}
	if raw(h, "bt_header_dendrite_nonce") != "1732200000123456789" || raw(h, "timeout") != "30.0" || raw(h, "bt_header_axon_process_time") != "0.25" {
		t.Errorf("header values %v", h)
	}
	if _, ok := lookup(h, "bt_header_axon_hotkey"); ok {
		t.Error("an unset field became a header")
	}
	// Canonicalised, as Go's server hands them over.
	canon := http.Header{}
	for k, v := range h {
		canon.Set(k, v[0])
	}
	out := &Kinds{}
	if err := synapse.FromHeaders(canon, out); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(in.Base)
	b, _ := json.Marshal(out.Base)
	if string(a) != string(b) {
		t.Errorf("round trip:\n%s\n%s", a, b)
	}
	for _, bad := range []map[string]string{
		{"bt_header_dendrite_nonce": "12x"},
		{"timeout": "nan"},
		{"bt_header_axon_process_time": "inf"},
		{"bt_header_input_obj_s": "!!"},
		{"header_size": "big"},
		{"bt_header_dendrite_hotkey": strings.Repeat("x", 2000)},
	} {
		hh := canon.Clone()
		for k, v := range bad {
			hh.Set(k, v)
		}
		if err := synapse.FromHeaders(hh, &Kinds{}); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	missing := canon.Clone()
	missing.Del("bt_header_input_obj_m")
	if err := synapse.FromHeaders(missing, &Kinds{}); err == nil || !strings.Contains(err.Error(), "bt_header_input_obj_m") {
		t.Errorf("missing input object: %v", err)
	}
}

// TestBodyHashMatchesReferencePeer computes body hashes here and in the
// reference peer (Python str() semantics over the JSON a Python peer would
// parse), for values of every hashed kind.
func TestBodyHashMatchesReferencePeer(t *testing.T) {
	p := 2.5
	vals := []*Kinds{
		{},
		{S: "héllo 'x'", I: -3, F: 12, B: true, L: []string{"a", "it's"}, LF: []float64{1, 1e-05}, P: &p},
		{S: "", I: 1 << 40, F: 0.1, L: []string{}, LF: nil},
	}
	var reqs []map[string]any
	var want []string
	for _, v := range vals {
		h, err := synapse.BodyHash(v)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, h)
		// The JSON Python would parse: floats written as floats.
		js := `{"s": ` + mustJSON(v.S) + `, "i": ` + mustJSON(v.I) + `, "f": ` + floatJSON(v.F) + `, "b": ` + mustJSON(v.B) +
			`, "l": ` + mustJSON(v.L) + `, "lf": ` + floatsJSON(v.LF) + `, "p": ` + ptrJSON(v.P) + `}`
		reqs = append(reqs, map[string]any{"op": "bodyHash", "json": js, "hash_fields": (&Kinds{}).RequiredHashFields()})
	}
	ans := oracletest.Ask[struct {
		Hash  string `json:"hash"`
		Error string `json:"error"`
	}](t, "synapse-wire.mjs", "@polkadot/util-crypto", reqs)
	for i := range vals {
		if ans[i].Error != "" || ans[i].Hash != want[i] {
			t.Errorf("value %d: Go %s, reference %s %s (%s)", i, want[i], ans[i].Hash, ans[i].Error, reqs[i]["json"])
		}
	}
	empty := sha3.Sum256(nil)
	if h, _ := synapse.BodyHash(&synapse.Base{}); h != hex.EncodeToString(empty[:]) {
		t.Errorf("no hashed fields: %s, want sha3-256 of nothing", h)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func floatJSON(f float64) string {
	s := mustJSON(f)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

func floatsJSON(fs []float64) string {
	if fs == nil {
		return "null"
	}
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = floatJSON(f)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func ptrJSON(p *float64) string {
	if p == nil {
		return "null"
	}
	return floatJSON(*p)
}

// raw reads a header by its exact (lower-case) name, as it goes out.
func raw(h http.Header, name string) string {
	v, _ := lookup(h, name)
	return v
}

func lookup(h http.Header, name string) (string, bool) {
	v, ok := h[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}
