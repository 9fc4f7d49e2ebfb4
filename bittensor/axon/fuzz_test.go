package axon_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/axon"
)

// FuzzServe sends the axon arbitrary headers and bodies: it must answer
// every request with one of the SDK's refusals or a success, never panic.
func FuzzServe(f *testing.F) {
	f.Add("name: Ping\nbt_header_input_obj_text: IiI=\nbt_header_dendrite_hotkey: 5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty\nbt_header_dendrite_nonce: 1\nbt_header_dendrite_uuid: u\nbt_header_dendrite_signature: 0x00", `{"text": "a", "n": 1}`)
	f.Add("bt_header_input_obj_text: IiI=", `{"text": 1}`)
	f.Add("timeout: -1", `[`)
	kp := key(f, "//Alice")
	a, err := axon.New(axon.Config{Hotkey: kp, MaxBody: 1 << 16})
	if err != nil {
		f.Fatal(err)
	}
	axon.Handle(a, func(_ context.Context, p *Ping) error { return nil }, nil)
	allowed := map[int]bool{200: true, 400: true, 401: true, 403: true, 404: true, 413: true, 429: true, 500: true}
	f.Fuzz(func(t *testing.T, headers, body string) {
		req := httptest.NewRequest(http.MethodPost, "/Ping", bytes.NewReader([]byte(body)))
		for line := range strings.SplitSeq(headers, "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				req.Header[strings.TrimSpace(k)] = []string{strings.TrimSpace(v)}
			}
		}
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		if !allowed[rec.Code] {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}
