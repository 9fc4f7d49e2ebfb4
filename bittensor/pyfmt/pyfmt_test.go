package pyfmt_test

import (
	"encoding/json"
	"math"
	"os/exec"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/oracletest"
	"github.com/vigil-validator/vigil/bittensor/pyfmt"
)

// cases pair a Go value with the JSON a Python peer would parse into the
// same Python value.
var cases = []struct {
	v    any
	json string
}{
	{"héllo wörld", `"héllo wörld"`},
	{12.0, `12.0`},
	{0.1, `0.1`},
	{1e-05, `1e-05`},
	{0.0001, `0.0001`},
	{1e16, `1e16`},
	{9999999999999998.0, `9999999999999998.0`},
	{1.5e300, `1.5e300`},
	{math.Copysign(0, -1), `-0.0`},
	{123456789.123, `123456789.123`},
	{42, `42`},
	{int64(-7), `-7`},
	{uint16(65535), `65535`},
	{true, `true`},
	{false, `false`},
	{(*string)(nil), `null`},
	{[]any{1, "a'b", 2.5, true, nil}, `[1, "a'b", 2.5, true, null]`},
	{[]string{"it's", `say "hi"`, `both '"`, "tab\there", "ü", "\x01", `back\slash`}, `["it's", "say \"hi\"", "both '\"", "tab\there", "ü", "\u0001", "back\\slash"]`},
	{map[string]any{"a": 1, "b": []string{"x"}, "c": map[string]float64{"z": 3}}, `{"a": 1, "b": ["x"], "c": {"z": 3.0}}`},
	{[]float64{1, 2.5, 1e-07}, `[1.0, 2.5, 1e-07]`},
	{[][]int{{1, 2}, {}}, `[[1, 2], []]`},
	{[]string{}, `[]`},
	{json.RawMessage(`{"zeta": 1, "alpha": [1.0, 2, "it's", null, false], "mid": {"y": 2.5e-07, "x": {}}, "zeta": 3e2}`),
		`{"zeta": 1, "alpha": [1.0, 2, "it's", null, false], "mid": {"y": 2.5e-07, "x": {}}, "zeta": 3e2}`},
	{[]json.RawMessage{json.RawMessage(`"a"`), json.RawMessage(`12`), json.RawMessage(`12.0`)}, `["a", 12, 12.0]`},
	{json.RawMessage(`"top-level 'str'"`), `"top-level 'str'"`},
}

func goStr(t *testing.T) []string {
	t.Helper()
	out := make([]string, len(cases))
	for i, c := range cases {
		s, err := pyfmt.Str(c.v)
		if err != nil {
			t.Fatalf("Str(%#v): %v", c.v, err)
		}
		out[i] = s
	}
	return out
}

// TestStrMatchesReferencePeer checks str() against the reference peer of
// tools/oracle, which keeps Python's int/float distinction when parsing.
func TestStrMatchesReferencePeer(t *testing.T) {
	var reqs []map[string]string
	for _, c := range cases {
		reqs = append(reqs, map[string]string{"op": "str", "json": c.json})
	}
	ans := oracletest.Ask[struct {
		Str   string `json:"str"`
		Error string `json:"error"`
	}](t, "synapse-wire.mjs", "@polkadot/util-crypto", reqs)
	for i, s := range goStr(t) {
		if ans[i].Error != "" || ans[i].Str != s {
			t.Errorf("%s: Go %q, reference %q %s", cases[i].json, s, ans[i].Str, ans[i].Error)
		}
	}
}

// pythonStr is Python's str() of json.loads of each document.
func pythonStr(t *testing.T, docs []string) []string {
	t.Helper()
	py := oracletest.Python(t)
	js, _ := json.Marshal(docs)
	out, err := exec.Command(py, "-c", "import json,sys; print(json.dumps([str(json.loads(s)) for s in json.loads(sys.argv[1])]))", string(js)).Output()
	if err != nil {
		t.Fatal(err)
	}
	var strs []string
	if err := json.Unmarshal(out, &strs); err != nil || len(strs) != len(docs) {
		t.Fatalf("python answered %s: %v", out, err)
	}
	return strs
}

// TestStrMatchesPython checks str() against Python itself.
func TestStrMatchesPython(t *testing.T) {
	var in []string
	for _, c := range cases {
		in = append(in, c.json)
	}
	want := pythonStr(t, in)
	for i, s := range goStr(t) {
		if want[i] != s {
			t.Errorf("%s: Go %q, Python %q", cases[i].json, s, want[i])
		}
	}
}

// TestRawJSONEdgesMatchPython covers what json.loads makes of numbers at
// the edges: -0 is the int 0, huge integers stay exact, out-of-range
// floats are inf.
func TestRawJSONEdgesMatchPython(t *testing.T) {
	in := []string{`-0`, `-0.0`, `123456789012345678901234567890`, `1e400`, `-1E400`, `[1e-7, 10.50, 0E0]`, `{"b": {"b": 1, "a": 2}, "a": "\u00e9\n"}`}
	want := pythonStr(t, in)
	for i, s := range in {
		got, err := pyfmt.Str(json.RawMessage(s))
		if err != nil || got != want[i] {
			t.Errorf("%s: Go %q (%v), Python %q", s, got, err, want[i])
		}
	}
	for _, bad := range []string{`{"a": }`, `[1, 2`, `1 2`, `nan`} {
		if _, err := pyfmt.Str(json.RawMessage(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestFloatForms(t *testing.T) {
	for f, want := range map[float64]string{math.NaN(): "nan", math.Inf(1): "inf", math.Inf(-1): "-inf", 1e22: "1e+22", 5e-324: "5e-324"} {
		if got := pyfmt.Float(f); got != want {
			t.Errorf("Float(%v) = %s, want %s", f, got, want)
		}
	}
	if got := pyfmt.JSONFloat(math.Inf(-1)); got != "-Infinity" {
		t.Errorf("JSONFloat(-inf) = %s", got)
	}
	if _, err := pyfmt.Str(struct{ A int }{1}); err == nil {
		t.Error("a struct has no Python str() here")
	}
}

func TestNumberRefusesWhatIsNotJSON(t *testing.T) {
	for _, tok := range []string{"", "-", "01", "-00", "1x", "+1", "0x10"} {
		if s, err := pyfmt.Number(tok); err == nil {
			t.Errorf("Number(%q) = %q, want an error", tok, s)
		}
	}
}
