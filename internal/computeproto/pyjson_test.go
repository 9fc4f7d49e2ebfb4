package computeproto

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

// Expected strings are what CPython's repr prints for the same doubles.
func TestFormatPyFloat(t *testing.T) {
	cases := []struct {
		in   float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1, "1.0"},
		{3, "3.0"},
		{-3, "-3.0"},
		{0.1, "0.1"},
		{0.5, "0.5"},
		{2.5, "2.5"},
		{-12.75, "-12.75"},
		{100, "100.0"},
		{1e-05, "1e-05"},
		{0.0001, "0.0001"},
		{0.00012345, "0.00012345"},
		{1.5e-07, "1.5e-07"},
		{1e16, "1e+16"},
		{1e15, "1000000000000000.0"},
		{9999999999999998.0, "9999999999999998.0"},
		{123456789012345678.0, "1.2345678901234568e+17"},
		{1e22, "1e+22"},
		{5e-324, "5e-324"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{math.Float64frombits(0x3FD3333333333334), "0.30000000000000004"},
		{1.0 / 3, "0.3333333333333333"},
		{9007199254740992.0, "9007199254740992.0"},
		{-1e-100, "-1e-100"},
		{60.03125, "60.03125"},
		{1234.5678, "1234.5678"},
		{1e100, "1e+100"},
	}
	for _, c := range cases {
		b, err := PyFloat(c.in).MarshalJSON()
		if err != nil || string(b) != c.want {
			t.Errorf("PyFloat(%v).MarshalJSON() = %q, %v", c.in, b, err)
		}
	}
}

func TestPyFloatNonFinite(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := PyFloat(f).MarshalJSON(); err == nil {
			t.Errorf("MarshalJSON(%v): no error", f)
		}
	}
	var p PyFloat
	for _, in := range []string{`1e400`, `-1e400`, `"1.5"`, `true`, `null`, `NaN`} {
		if err := json.Unmarshal([]byte(in), &p); err == nil {
			t.Errorf("Unmarshal(%s): no error, got %v", in, p)
		}
	}
	if err := json.Unmarshal([]byte(`1e-400`), &p); err != nil || p != 0 {
		t.Errorf("underflow: %v %v", p, err)
	}
	if err := json.Unmarshal([]byte(`7`), &p); err != nil || p != 7 {
		t.Errorf("integer token: %v %v", p, err)
	}
}

func TestCanonical(t *testing.T) {
	cases := []struct{ in, want string }{
		// Output of CPython json.dumps(..., ensure_ascii=False, sort_keys=True).
		{
			"{\"b\":[1,2.0,-0.0,{\"z\":\"<&>\",\"a\":\"é\u2028\\n\\t\\u0001\u007f\\\"\\\\\"}],\"a\":null,\"A\":true,\"é\":1e-7,\"éa\":3,\"a\\u0000\":[],\"ka\":{}}",
			"{\"A\": true, \"a\": null, \"a\\u0000\": [], \"b\": [1, 2.0, -0.0, {\"a\": \"é\u2028\\n\\t\\u0001\u007f\\\"\\\\\", \"z\": \"<&>\"}], \"ka\": {}, \"é\": 1e-07, \"éa\": 3}",
		},
		{`[1.0E+2, -0, 0.10, 1e5, 12345678901234567890123]`, `[100.0, 0, 0.1, 100000.0, 12345678901234567890123]`},
		{" \n{ } ", `{}`},
		{`[]`, `[]`},
		{`"\u00e9\ud83d\ude00\/"`, `"é😀/"`},
		{`{"k":1,"k":2}`, `{"k": 2}`},
		{`{"b":{"y":[{"d":1,"c":2}],"x":0.5}}`, `{"b": {"x": 0.5, "y": [{"c": 2, "d": 1}]}}`},
		{`"\u001f\b\f\r"`, `"\u001f\b\f\r"`},
	}
	for _, c := range cases {
		got, err := Canonical([]byte(c.in))
		if err != nil {
			t.Errorf("Canonical(%s): %v", c.in, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("Canonical(%s)\n got %s\nwant %s", c.in, got, c.want)
		}
	}
	for _, bad := range []string{`[1e400]`, `{`, `[1] [2]`, `NaN`, "\"\xff\"", ``} {
		if _, err := Canonical([]byte(bad)); err == nil {
			t.Errorf("Canonical(%q): no error", bad)
		}
	}
}

func TestMarshalGeneric(t *testing.T) {
	v := map[string]any{
		"html":  "<a href='x'>&</a>",
		"float": PyFloat(3),
		"int":   3,
		"list":  []PyFloat{1, 0.25, 1e-6},
		"nest":  map[string]any{"z": nil, "a": "ü"},
	}
	got, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"float": 3.0, "html": "<a href='x'>&</a>", "int": 3, "list": [1.0, 0.25, 1e-06], "nest": {"a": "ü", "z": null}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if _, err := Marshal(PyFloat(math.NaN())); err == nil {
		t.Error("NaN marshalled")
	}
}

func TestMarshalValidatesFirst(t *testing.T) {
	_, err := Marshal(Commitment{UUID: "GPU-1", MerkleRoot: "ab", SigVer: SigVerGPU})
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Field != "sig_val" {
		t.Fatalf("err = %v", err)
	}
}

// TestPyFloatZeroSign: Python reads "-0" as the int 0 (float 0.0) and
// "-0.0" as -0.0; the sign decides a binary16 row hash.
func TestPyFloatZeroSign(t *testing.T) {
	for in, neg := range map[string]bool{"-0": false, "0": false, "-0.0": true, "-0e0": true, "-0E5": true, "0.0": false} {
		var f PyFloat
		if err := f.UnmarshalJSON([]byte(in)); err != nil {
			t.Fatal(err)
		}
		if f != 0 || math.Signbit(float64(f)) != neg {
			t.Errorf("%s: %v, sign bit %v", in, float64(f), math.Signbit(float64(f)))
		}
	}
}
