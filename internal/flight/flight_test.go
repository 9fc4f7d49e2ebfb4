package flight

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestConcurrentCallersShareOneCall(t *testing.T) {
	var g Group[int]
	var calls atomic.Int32
	release := make(chan struct{})
	fn := func(context.Context) (int, error) {
		calls.Add(1)
		<-release
		return 42, nil
	}
	const n = 64
	var wg sync.WaitGroup
	results := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, _, err := g.Do(t.Context(), fn)
			if err != nil {
				t.Error(err)
			}
			results[i] = v
		}()
	}
	for !g.InFlight() {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others join
	close(release)
	wg.Wait()
	if c := calls.Load(); c != 1 {
		t.Errorf("%d calls for %d concurrent callers, want 1", c, n)
	}
	for i, v := range results {
		if v != 42 {
			t.Fatalf("caller %d got %d", i, v)
		}
	}
	// The next call after the flight lands is a new one.
	release = make(chan struct{})
	close(release)
	if _, shared, _ := g.Do(t.Context(), fn); shared || calls.Load() != 2 {
		t.Errorf("a later call shared %v, calls %d", shared, calls.Load())
	}
}

// A waiter that gives up does not cancel the call the others wait for.
func TestWaiterGivesUpCallGoesOn(t *testing.T) {
	var g Group[string]
	release := make(chan struct{})
	started := make(chan struct{})
	var once sync.Once
	var callCancelled atomic.Bool
	fn := func(ctx context.Context) (string, error) {
		// A waiter scheduled only after the first call ended starts a
		// second one; that is correct, so only the first signals.
		once.Do(func() { close(started) })
		<-release
		callCancelled.Store(ctx.Err() != nil)
		return "done", nil
	}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { _, _, err := g.Do(ctx, fn); errc <- err }()
	<-started
	other := make(chan string, 1)
	go func() { v, _, _ := g.Do(t.Context(), fn); other <- v }()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled waiter got %v", err)
	}
	close(release)
	if v := <-other; v != "done" {
		t.Errorf("the remaining waiter got %q", v)
	}
	if callCancelled.Load() {
		t.Error("the call saw its starter's cancellation")
	}
}
