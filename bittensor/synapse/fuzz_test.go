package synapse_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/synapse"
)

// FuzzFromHeaders feeds the header parser arbitrary "name: value" lines: it
// must never panic, and what it accepts must render back to headers.
func FuzzFromHeaders(f *testing.F) {
	f.Add("name: Kinds\ntimeout: 12.0\nbt_header_dendrite_nonce: 1732200000123456789\nbt_header_input_obj_s: IiI=")
	f.Add("BT_HEADER_AXON_PORT: 8091\nbt_header_axon_process_time: 0.5\nheader_size: 0")
	f.Add("bt_header_dendrite_version: -1\ntimeout: 1e308\nbt_header_input_obj_m: e30=")
	f.Fuzz(func(t *testing.T, raw string) {
		h := http.Header{}
		for line := range strings.SplitSeq(raw, "\n") {
			k, v, ok := strings.Cut(line, ":")
			if ok {
				h[strings.TrimSpace(k)] = append(h[strings.TrimSpace(k)], strings.TrimSpace(v))
			}
		}
		s := &Kinds{}
		if err := synapse.FromHeaders(h, s); err != nil {
			return
		}
		if _, err := synapse.ToHeaders(s); err != nil {
			t.Fatalf("accepted headers do not render: %v", err)
		}
		if _, err := synapse.BodyHash(s); err != nil {
			t.Fatalf("accepted headers do not hash: %v", err)
		}
	})
}
