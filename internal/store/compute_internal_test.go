package store

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"
)

// TestCommitmentUnits: the fast reading of a commitments object gives the
// keys encoding/json gives, for what CommitComputeChallenge writes and for
// what it does not (escapes, spaces), and refuses what is not an object.
func TestCommitmentUnits(t *testing.T) {
	same := func(b []byte) string { return string(b) }
	for _, in := range []string{
		`{}`, ` { } `, `{"-1":"ab"}`, `{"GPU-2":"cd","GPU-1":"ab"}`, `{ "GPU-1" : "ab" , "GPU-2":"cd" }`,
		`{"GPU-\u00e9":"ab"}`, `{"a\"b":"x"}`, `{"a":"x\"y"}`, `{"a":1}`, `{"a":"x","a":"y"}`,
	} {
		got, err := commitmentUnits([]byte(in), same)
		var roots map[string]json.RawMessage
		if jerr := json.Unmarshal([]byte(in), &roots); jerr != nil {
			t.Fatalf("%s: %v", in, jerr)
		}
		var want []string
		for k := range roots {
			want = append(want, k)
		}
		sort.Strings(want)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %q %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{``, `[]`, `{"a":"b"`, `{"a" "b"}`, `nope`} {
		if got, err := commitmentUnits([]byte(in), same); err == nil {
			t.Errorf("%q: %q, want an error", in, got)
		}
	}
}
