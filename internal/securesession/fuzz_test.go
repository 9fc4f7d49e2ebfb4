package securesession

import (
	"errors"
	"testing"

	"github.com/vigil-validator/vigil/internal/computeproto"
)

// FuzzOpen feeds arbitrary package strings to the server: it must never
// panic, must answer with a typed *Error, and must never accept a record it
// did not get from the session's key holder.
func FuzzOpen(f *testing.F) {
	clock := newFakeClock()
	s := NewServer(validatorHotkey, WithClock(clock.Now))
	seeded := newSeededSession(f, s)
	f.Add(seeded.valid)
	f.Add(`{"ver":"v1","session_id":"x","seq":1,"ciphertext":"AAAAAAAAAAAAAAAAAAAAAA==","sender":"a","recipient":"b","synapse_type":"TASK_V1"}`)
	f.Add(`{"ver":"v1","seq":18446744073709551616}`)
	f.Add(`[]`)
	f.Add("{\"ver\":\"v1\",\"ciphertext\":\"\xff\"}")
	f.Fuzz(func(t *testing.T, pkg string) {
		_, _, err := s.Open(minerHotkey, computeproto.ProtocolTask, pkg)
		if err == nil {
			// Only the genuine record (once) can open.
			if pkg != seeded.valid {
				t.Fatalf("opened a forged package %q", pkg)
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) || e.Code == 0 {
			t.Fatalf("untyped error %v", err)
		}
		if _, _, ok := ParseErrorResponse(e.Response()); !ok {
			t.Fatalf("unparsable error answer %s", e.Response())
		}
	})
}

type seededSession struct{ valid string }

// newSeededSession opens a session on s and seals one genuine record.
func newSeededSession(tb testing.TB, s *Server) seededSession {
	tb.Helper()
	if _, err := s.Handshake(minerHotkey, newInitRequestTB(tb)); err != nil {
		tb.Fatal(err)
	}
	var sess *Session
	for _, x := range s.sessions {
		sess = x
	}
	pkg, err := SealRecord(sess.keys.ClientToServer[:], sess.id, 1, minerHotkey, validatorHotkey, computeproto.ProtocolTask, []byte(`{}`))
	if err != nil {
		tb.Fatal(err)
	}
	return seededSession{valid: pkg}
}
