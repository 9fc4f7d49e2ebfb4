package synapse_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/oracletest"
	"github.com/vigil-validator/vigil/bittensor/synapse"
)

// Hashed hashes one field of each kind a Python synapse holds, dicts and
// nested lists included.
type Hashed struct {
	synapse.Base
	I  int64           `json:"i"`
	F  float64         `json:"f"`
	B  bool            `json:"b"`
	S  string          `json:"s"`
	L  []any           `json:"l"`
	D  map[string]any  `json:"d"`
	N  [][]float64     `json:"n"`
	NP *int64          `json:"np"`
	R  json.RawMessage `json:"r"`
}

func (*Hashed) RequiredHashFields() []string {
	return []string{"i", "f", "b", "s", "l", "d", "n", "np", "r"}
}

// TestBodyHashMatchesPython computes the SDK's body hash in Python itself
// (str() of each field, hashlib.sha3_256, the hex digests joined and
// hashed again) from the JSON body a Go dendrite sends, and compares it
// with ours. Go maps are written with sorted keys (they keep no order,
// and Python's str() follows insertion order); a json.RawMessage field
// keeps any order.
func TestBodyHashMatchesPython(t *testing.T) {
	py := oracletest.Python(t)
	seven := int64(7)
	vals := []*Hashed{
		{},
		{I: -1 << 53, F: 0.1, B: true, S: "héllo 'x' \"y\" \n\t\u00e9\u2603", L: []any{1.0, "a", false, nil, []any{2.5e-7}},
			D: map[string]any{"b": []any{1e22, true}, "a": "it's", "c": map[string]any{"z": nil}}, N: [][]float64{{1, 2.5}, {}}, NP: &seven,
			R: json.RawMessage(`{"z": [1, 1.0, 1e-7], "a": {"y": "é", "b": null}, "m": true}`)},
		{F: 1e16, S: "", L: []any{}, D: map[string]any{}, N: [][]float64{}},
	}
	type item struct {
		Body   string   `json:"body"`
		Fields []string `json:"fields"`
	}
	var items []item
	var want []string
	for _, v := range vals {
		h, err := synapse.BodyHash(v)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, h)
		body, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, item{string(body), v.RequiredHashFields()})
	}
	in, _ := json.Marshal(items)
	// Go writes whole floats without a point; Python must read the float
	// fields as floats, as pydantic would for a float-typed field.
	script := `
import hashlib, json, sys
def floats(v):
    if isinstance(v, bool) or v is None: return v
    if isinstance(v, int): return float(v)
    if isinstance(v, list): return [floats(x) for x in v]
    return v
out = []
for it in json.loads(sys.stdin.read()):
    body = json.loads(it["body"])
    body["f"] = floats(body["f"])
    body["n"] = floats(body["n"])
    if body.get("l"):
        body["l"][0] = float(body["l"][0])
        body["l"][4] = floats(body["l"][4])
    if body.get("d") and "b" in body["d"]:
        body["d"]["b"][0] = float(body["d"]["b"][0])
    hashes = [hashlib.sha3_256(str(body[f]).encode()).hexdigest() for f in it["fields"]]
    out.append(hashlib.sha3_256("".join(hashes).encode()).hexdigest())
print(json.dumps(out))
`
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python said %s: %v", out, err)
	}
	for i := range vals {
		if got[i] != want[i] {
			t.Errorf("value %d: Go %s, Python %s (%s)", i, want[i], got[i], items[i].Body)
		}
	}
}
