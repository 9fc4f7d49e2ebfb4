package axon

import (
	"fmt"
	"testing"
	"time"
)

func TestNonceStoreBounded(t *testing.T) {
	s := newNonceStore(3)
	now := time.Unix(1_000_000, 0).UnixNano()
	oldest := now - int64(10*time.Second)
	for i := range 3 {
		if why := s.check(fmt.Sprint("e", i), now, true, oldest, now); why != "" {
			t.Fatalf("endpoint %d: %s", i, why)
		}
	}
	if why := s.check("e0", now, true, oldest, now); why == "" {
		t.Error("a repeated nonce accepted")
	}
	// Full of fresh endpoints: a newcomer is refused and nothing is lost.
	if why := s.check("new", now+1, true, oldest, now); why == "" || len(s.last) != 3 {
		t.Fatalf("full store: %q, %d endpoints", why, len(s.last))
	}
	// Once the stored nonces are stale a scan frees room, but a full
	// store is scanned at most once a second.
	later := now + int64(500*time.Millisecond)
	if why := s.check("new", later, true, now, later); why == "" {
		t.Error("a second scan within a second")
	}
	later = now + int64(2*time.Second)
	if why := s.check("new", later, true, now, later); why != "" || len(s.last) != 1 {
		t.Errorf("after the stale endpoints: %q, %d endpoints", why, len(s.last))
	}
}
