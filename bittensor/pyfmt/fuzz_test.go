package pyfmt_test

import (
	"encoding/json"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/pyfmt"
)

// FuzzStrRawJSON: any bytes a peer sends in a raw JSON field either print
// or fail cleanly, and valid JSON always prints.
func FuzzStrRawJSON(f *testing.F) {
	for _, s := range []string{`{"b": 1, "a": [1.0, "x", null]}`, `-0`, `1e400`, `"s"`, `[[[]]]`, `{"a": }`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := pyfmt.Str(json.RawMessage(b))
		if err != nil && json.Valid(b) {
			t.Fatalf("valid JSON %q refused: %v", b, err)
		}
	})
}
