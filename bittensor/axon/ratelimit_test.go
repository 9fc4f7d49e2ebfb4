package axon

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiterSlidingWindow(t *testing.T) {
	l := NewRateLimiter(3, 10*time.Second, 100)
	t0 := time.Unix(1_000_000, 0) // on a window boundary
	for i := 0; i < 3; i++ {
		if !l.Allow("a", t0.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("event %d refused", i)
		}
	}
	if l.Allow("a", t0.Add(3*time.Second)) {
		t.Fatal("fourth event in the window allowed")
	}
	if !l.Allow("b", t0.Add(3*time.Second)) {
		t.Fatal("another key shares the allowance")
	}
	// Half-way into the next window the previous three still weigh 1.5:
	// two more fit (1.5+1 < 3), a third does not (1.5+2 >= 3).
	mid := t0.Add(15 * time.Second)
	for i := 0; i < 2; i++ {
		if !l.Allow("a", mid) {
			t.Fatalf("event %d half a window later refused", i)
		}
	}
	if l.Allow("a", mid) {
		t.Fatal("the previous window's events no longer count")
	}
	// Two windows later everything is forgotten.
	for i := 0; i < 3; i++ {
		if !l.Allow("a", t0.Add(30*time.Second)) {
			t.Fatalf("event %d after two windows refused", i)
		}
	}
}

func TestLimiterBoundedKeys(t *testing.T) {
	l := NewRateLimiter(1, time.Minute, 10)
	now := time.Unix(1_000_000, 0)
	for i := 0; i < 1000; i++ {
		if !l.Allow(fmt.Sprint("k", i), now) {
			t.Fatalf("first event of key %d refused", i)
		}
		if n := l.Len(); n > 10 {
			t.Fatalf("%d keys remembered, cap 10", n)
		}
	}
	// Idle keys are swept first: after two windows a full table empties.
	later := now.Add(2 * time.Minute)
	l.Allow("fresh", later)
	if n := l.Len(); n != 1 {
		t.Fatalf("after a sweep %d keys remembered, want 1", n)
	}
}
