package securesession

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/vigil-validator/vigil/internal/computeproto"
)

// BenchmarkSealOpen is one 1 KiB record each way through Client and Server.
func BenchmarkSealOpen(b *testing.B) {
	clock := newFakeClock()
	s := NewServer(validatorHotkey, WithClock(clock.Now))
	c := NewClient(minerHotkey, func(_ context.Context, _, req string) (string, error) {
		resp, _ := s.Handshake(minerHotkey, req)
		return resp, nil
	}, WithClock(clock.Now))
	msg := seeded(7, 1024)
	send := func(_ context.Context, req string) (string, error) {
		pt, sess, err := s.Open(minerHotkey, computeproto.ProtocolTask, req)
		if err != nil {
			return "", err
		}
		return s.Seal(sess, computeproto.ProtocolTask, pt)
	}
	ctx := context.Background()
	b.SetBytes(2 * int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Exchange(ctx, validatorHotkey, computeproto.ProtocolTask, msg, send); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSessionMemory opens 10,000 sessions and reports the heap they
// hold per session (map entries, LRU lists and replay windows included).
func BenchmarkSessionMemory(b *testing.B) {
	const n = 10000
	req := newInitRequestTB(b)
	for b.Loop() {
		s := NewServer(validatorHotkey)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range n {
			if _, err := s.Handshake(fmt.Sprintf("5Peer%043d", i), req); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if s.Len() != n {
			b.Fatalf("%d sessions", s.Len())
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/session")
		runtime.KeepAlive(s)
	}
}

// TestSessionMemoryBound keeps the per-session footprint under 2 KiB.
func TestSessionMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 10,000 sessions")
	}
	res := testing.Benchmark(BenchmarkSessionMemory)
	if per := res.Extra["bytes/session"]; per <= 0 || per > 2048 {
		t.Fatalf("%.0f bytes per session", per)
	}
}
