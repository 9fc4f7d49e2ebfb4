package registry

import (
	"encoding/json"
	"math"
	"testing"
)

// FuzzRegisterRequest: the /register decoder never panics, and whatever it
// accepts yields a signed message that is valid JSON decoding back to the
// same hotkey, worker and time.
func FuzzRegisterRequest(f *testing.F) {
	f.Add([]byte(`{"hotkey":"` + aliceSS58 + `","worker":"w_` + aliceSS58 + `","registration_time":1721812345.5}`))
	f.Add([]byte(`{"hotkey":"` + aliceSS58 + `","worker":"é😀/<>&\"","registration_time":1e400}`))
	f.Add([]byte(`{"hotkey":1,"worker":null,"registration_time":"x"} trailing`))
	f.Add([]byte(`[{"hotkey":""}]`))
	f.Add([]byte("{\"worker\":\"\xff\"}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, errs := DecodeRegisterRequest(body)
		_, _ = DecodeUnbindRequest(body)
		if len(errs) > 0 {
			return
		}
		if _, err := ParseHotkey(req.Hotkey); err != nil {
			t.Fatalf("accepted hotkey %q: %v", req.Hotkey, err)
		}
		if checkWorkerName(req.Worker) != "" {
			t.Fatalf("accepted worker %q", req.Worker)
		}
		if math.IsInf(req.RegistrationTime, 0) {
			return // refused later by the time check; json.dumps would write Infinity
		}
		msg := RegistrationMessage(req.Hotkey, req.Worker, req.RegistrationTime)
		var back struct {
			Hotkey           string  `json:"hotkey"`
			Worker           string  `json:"worker"`
			RegistrationTime float64 `json:"registration_time"`
		}
		if err := json.Unmarshal(msg, &back); err != nil {
			t.Fatalf("message %s is not JSON: %v", msg, err)
		}
		if back.Hotkey != req.Hotkey || back.Worker != req.Worker || back.RegistrationTime != req.RegistrationTime {
			t.Fatalf("message %s decodes to %+v, want %+v", msg, back, req)
		}
		for _, c := range msg {
			if c >= 0x7f || c < 0x20 {
				t.Fatalf("message %q is not printable ASCII", msg)
			}
		}
	})
}

// FuzzPeerRow: rows from peers never panic the parser, and an accepted row
// obeys the name rules.
func FuzzPeerRow(f *testing.F) {
	// Rows signed as a peer signs them, so the fuzzer starts from rows the
	// parser accepts, tombstone included, and mutates from there.
	alice := key(f, "//Alice")
	worker := "w_" + alice.SS58()
	reg := sign(f, alice, RegistrationMessage(alice.SS58(), worker, 1721812345.5))
	unbind := sign(f, alice, UnbindMessage(alice.SS58(), worker))
	for _, seed := range []string{
		`{"worker":"` + worker + `","hotkey":"` + alice.SS58() + `","registration_time":1721812345.5,"signature":"` + reg + `","seq":1}`,
		`{"worker":"` + worker + `","hotkey":"` + alice.SS58() + `","registration_time":1721812345.5,"signature":"` + reg +
			`","seq":2,"unbind_signature":"` + unbind + `"}`,
	} {
		if _, err := parsePeerRow([]byte(seed), true); err != nil {
			f.Fatalf("signed seed refused: %v", err)
		}
		f.Add([]byte(seed), true)
		f.Add([]byte(seed), false)
	}
	f.Add([]byte(`{"worker":"w_`+aliceSS58+`","hotkey":"`+aliceSS58+`","registration_time":1.5,"signature":"00","seq":1}`), true)
	f.Add([]byte(`{"worker":5,"registration_time":"x","seq":-1}`), false)
	f.Add([]byte(`[]`), true)
	f.Fuzz(func(t *testing.T, raw []byte, feed bool) {
		row, err := parsePeerRow(raw, feed)
		if err == nil && (checkWorkerName(row.worker) != "" || row.worker == "" || (feed && row.seq <= 0)) {
			t.Fatalf("accepted %+v", row)
		}
	})
}
