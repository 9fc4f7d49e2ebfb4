package clock

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

var start = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// failAfter bounds how long a test waits on a goroutine before declaring a
// hang; it is never reached when the code behaves.
const failAfter = 5 * time.Second

// poll returns the value waiting on c, if any, without blocking. Fake sends
// complete before Advance returns, so a missing value means it never fired.
func poll(c <-chan time.Time) (time.Time, bool) {
	select {
	case v := <-c:
		return v, true
	default:
		return time.Time{}, false
	}
}

func mustFire(t *testing.T, c <-chan time.Time, want time.Time) {
	t.Helper()
	got, ok := poll(c)
	if !ok {
		t.Fatalf("no value on channel, want %v", want)
	}
	if !got.Equal(want) {
		t.Fatalf("channel delivered %v, want %v", got, want)
	}
}

func mustNotFire(t *testing.T, c <-chan time.Time) {
	t.Helper()
	if got, ok := poll(c); ok {
		t.Fatalf("unexpected value on channel: %v", got)
	}
}

func mustPanic(t *testing.T, name string, fn func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", name)
		}
	}()
	fn()
}

func TestFakeNowSince(t *testing.T) {
	f := NewFake(start)
	if got := f.Now(); !got.Equal(start) {
		t.Fatalf("Now = %v, want %v", got, start)
	}
	f.Advance(90 * time.Second)
	if got, want := f.Now(), start.Add(90*time.Second); !got.Equal(want) {
		t.Fatalf("Now after Advance = %v, want %v", got, want)
	}
	if got := f.Since(start); got != 90*time.Second {
		t.Fatalf("Since = %v, want 90s", got)
	}
	f.Set(start.Add(time.Hour))
	if got := f.Since(start); got != time.Hour {
		t.Fatalf("Since after Set = %v, want 1h", got)
	}
	f.Set(start.Add(time.Hour)) // setting to Now is allowed
	mustPanic(t, "Set before Now", func() { f.Set(start) })
	mustPanic(t, "negative Advance", func() { f.Advance(-time.Nanosecond) })
	if got, want := f.Now(), start.Add(time.Hour); !got.Equal(want) {
		t.Fatalf("Now changed by a rejected call: %v, want %v", got, want)
	}
}

func TestFakeTimerFiresAtDeadline(t *testing.T) {
	tests := []struct {
		name string
		d    time.Duration
	}{
		{"1ns", time.Nanosecond},
		{"1ms", time.Millisecond},
		{"5s", 5 * time.Second},
		{"24h", 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFake(start)
			tm := f.NewTimer(tc.d)
			f.Advance(tc.d - time.Nanosecond)
			mustNotFire(t, tm.C())
			if f.Waiters() != 1 {
				t.Fatalf("Waiters before deadline = %d, want 1", f.Waiters())
			}
			f.Advance(time.Nanosecond)
			mustFire(t, tm.C(), start.Add(tc.d))
			if f.Waiters() != 0 {
				t.Fatalf("Waiters after firing = %d, want 0", f.Waiters())
			}
			f.Advance(10 * tc.d)
			mustNotFire(t, tm.C()) // one-shot
		})
	}
}

func TestFakeTimerOvershootDeliversDeadline(t *testing.T) {
	f := NewFake(start)
	tm := f.NewTimer(time.Second)
	f.Advance(time.Minute)
	mustFire(t, tm.C(), start.Add(time.Second))
	if got, want := f.Now(), start.Add(time.Minute); !got.Equal(want) {
		t.Fatalf("Now = %v, want %v", got, want)
	}
}

func TestFakeTimerNonPositiveFiresAtOnce(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Nanosecond, -time.Hour} {
		f := NewFake(start)
		tm := f.NewTimer(d)
		mustFire(t, tm.C(), start)
		if f.Waiters() != 0 {
			t.Errorf("NewTimer(%v): Waiters = %d, want 0", d, f.Waiters())
		}
		if tm.Stop() {
			t.Errorf("NewTimer(%v): Stop after receiving = true, want false", d)
		}
	}
}

func TestFakeDeadlineOrder(t *testing.T) {
	f := NewFake(start)
	// Armed out of order; the two 3s timers tie and must keep arm order.
	durs := []time.Duration{5 * time.Second, time.Second, 3 * time.Second, 4 * time.Second, 3 * time.Second, 2 * time.Second}
	byWaiter := map[*fakeWaiter]time.Duration{}
	timers := make([]Timer, len(durs))
	for i, d := range durs {
		timers[i] = f.NewTimer(d)
		byWaiter[timers[i].(*fakeTimer).w] = d
	}
	tk := f.NewTicker(2500 * time.Millisecond)
	byWaiter[tk.(*fakeTicker).w] = 2500 * time.Millisecond

	f.mu.Lock()
	fired := f.advanceLocked(start.Add(4 * time.Second))
	f.mu.Unlock()

	want := []time.Duration{time.Second, 2 * time.Second, 2500 * time.Millisecond, 3 * time.Second, 3 * time.Second, 4 * time.Second}
	if len(fired) != len(want) {
		t.Fatalf("fired %d waiters, want %d", len(fired), len(want))
	}
	for i, fr := range fired {
		if got := fr.at.Sub(start); got != want[i] {
			t.Errorf("firing %d at +%v, want +%v", i, got, want[i])
		}
		if got := byWaiter[fr.w]; got != want[i] {
			t.Errorf("firing %d was the +%v waiter, want +%v", i, got, want[i])
		}
	}
	if fired[3].w != timers[2].(*fakeTimer).w || fired[4].w != timers[4].(*fakeTimer).w {
		t.Errorf("equal deadlines did not fire in arm order")
	}
	for i, d := range durs {
		if d <= 4*time.Second {
			mustFire(t, timers[i].C(), start.Add(d))
		} else {
			mustNotFire(t, timers[i].C())
		}
	}
	mustFire(t, tk.C(), start.Add(2500*time.Millisecond))
	if f.Waiters() != 2 { // the 5s timer and the ticker
		t.Fatalf("Waiters = %d, want 2", f.Waiters())
	}
}

func TestFakeTimerStopReset(t *testing.T) {
	tests := []struct {
		name string
		// prepare brings the timer (armed with 10s at start) into a state.
		prepare func(t *testing.T, f *Fake, tm Timer)
		wantOK  bool // result of Stop, and of Reset from the same state
	}{
		{
			name:    "pending",
			prepare: func(t *testing.T, f *Fake, tm Timer) { f.Advance(5 * time.Second) },
			wantOK:  true,
		},
		{
			name: "fired and received",
			prepare: func(t *testing.T, f *Fake, tm Timer) {
				f.Advance(10 * time.Second)
				mustFire(t, tm.C(), start.Add(10*time.Second))
			},
			wantOK: false,
		},
		{
			// Like package time since Go 1.23: an undelivered value counts
			// as pending and is discarded.
			name:    "fired not received",
			prepare: func(t *testing.T, f *Fake, tm Timer) { f.Advance(10 * time.Second) },
			wantOK:  true,
		},
		{
			name: "already stopped",
			prepare: func(t *testing.T, f *Fake, tm Timer) {
				if !tm.Stop() {
					t.Fatal("first Stop = false, want true")
				}
			},
			wantOK: false,
		},
	}
	for _, tc := range tests {
		t.Run("Stop/"+tc.name, func(t *testing.T) {
			f := NewFake(start)
			tm := f.NewTimer(10 * time.Second)
			tc.prepare(t, f, tm)
			if got := tm.Stop(); got != tc.wantOK {
				t.Fatalf("Stop = %v, want %v", got, tc.wantOK)
			}
			if f.Waiters() != 0 {
				t.Fatalf("Waiters after Stop = %d, want 0", f.Waiters())
			}
			mustNotFire(t, tm.C())
			f.Advance(time.Hour)
			mustNotFire(t, tm.C())
			if tm.Stop() {
				t.Fatal("second Stop = true, want false")
			}
		})
		t.Run("Reset/"+tc.name, func(t *testing.T) {
			f := NewFake(start)
			tm := f.NewTimer(10 * time.Second)
			tc.prepare(t, f, tm)
			now := f.Now()
			if got := tm.Reset(3 * time.Second); got != tc.wantOK {
				t.Fatalf("Reset = %v, want %v", got, tc.wantOK)
			}
			if f.Waiters() != 1 {
				t.Fatalf("Waiters after Reset = %d, want 1", f.Waiters())
			}
			mustNotFire(t, tm.C()) // no stale value survives Reset
			f.Advance(3*time.Second - time.Nanosecond)
			mustNotFire(t, tm.C())
			f.Advance(time.Nanosecond)
			mustFire(t, tm.C(), now.Add(3*time.Second))
			f.Advance(time.Hour) // the original 10s deadline must be gone
			mustNotFire(t, tm.C())
		})
	}
}

func TestFakeTimerResetNonPositiveFiresAtOnce(t *testing.T) {
	f := NewFake(start)
	tm := f.NewTimer(time.Minute)
	f.Advance(time.Second)
	if !tm.Reset(0) {
		t.Fatal("Reset(0) of a pending timer = false, want true")
	}
	mustFire(t, tm.C(), start.Add(time.Second))
	if f.Waiters() != 0 {
		t.Fatalf("Waiters = %d, want 0", f.Waiters())
	}
	f.Advance(time.Hour)
	mustNotFire(t, tm.C())
}

func TestFakeTicker(t *testing.T) {
	f := NewFake(start)
	tk := f.NewTicker(10 * time.Second)
	if f.Waiters() != 1 {
		t.Fatalf("Waiters = %d, want 1", f.Waiters())
	}

	// Regular ticks, one per period, and none in between.
	for i := 1; i <= 3; i++ {
		f.Advance(9 * time.Second)
		mustNotFire(t, tk.C())
		f.Advance(time.Second)
		mustFire(t, tk.C(), start.Add(time.Duration(i)*10*time.Second))
	}

	// Several missed periods in one Advance give a single tick, and the
	// schedule stays aligned to the original period boundaries.
	f.Advance(35 * time.Second) // now +65s; boundaries +40, +50, +60 passed
	mustFire(t, tk.C(), start.Add(40*time.Second))
	mustNotFire(t, tk.C())
	f.Advance(4 * time.Second) // +69s
	mustNotFire(t, tk.C())
	f.Advance(time.Second) // +70s
	mustFire(t, tk.C(), start.Add(70*time.Second))

	// An unread tick is dropped, not queued, when the next one is due.
	f.Advance(10 * time.Second) // +80s, left unread
	f.Advance(10 * time.Second) // +90s, dropped: buffer full
	mustFire(t, tk.C(), start.Add(80*time.Second))
	mustNotFire(t, tk.C())

	// Reset restarts the period from now and discards an unread tick.
	f.Advance(5 * time.Second) // +95s
	f.Advance(5 * time.Second) // +100s tick, left unread
	tk.Reset(3 * time.Second)
	mustNotFire(t, tk.C())
	for i := 1; i <= 3; i++ {
		f.Advance(2 * time.Second)
		mustNotFire(t, tk.C())
		f.Advance(time.Second)
		mustFire(t, tk.C(), start.Add(100*time.Second+time.Duration(i)*3*time.Second))
		f.Advance(0) // a zero step must not tick again
		mustNotFire(t, tk.C())
	}

	// Stop ends the ticks and the waiter.
	tk.Stop()
	if f.Waiters() != 0 {
		t.Fatalf("Waiters after Stop = %d, want 0", f.Waiters())
	}
	f.Advance(time.Hour)
	mustNotFire(t, tk.C())

	// Reset revives a stopped ticker, as with time.Ticker.
	tk.Reset(time.Minute)
	f.Advance(time.Minute)
	mustFire(t, tk.C(), f.Now())
	tk.Stop()
}

func TestFakeTickerPanics(t *testing.T) {
	f := NewFake(start)
	mustPanic(t, "NewTicker(0)", func() { f.NewTicker(0) })
	mustPanic(t, "NewTicker(-1s)", func() { f.NewTicker(-time.Second) })
	tk := f.NewTicker(time.Second)
	mustPanic(t, "Reset(0)", func() { tk.Reset(0) })
	if f.Waiters() != 1 {
		t.Fatalf("Waiters = %d, want 1", f.Waiters())
	}
}

func TestFakeAfter(t *testing.T) {
	f := NewFake(start)
	c := f.After(2 * time.Second)
	if f.Waiters() != 1 {
		t.Fatalf("Waiters = %d, want 1", f.Waiters())
	}
	f.Advance(time.Second)
	mustNotFire(t, c)
	f.Advance(time.Second)
	mustFire(t, c, start.Add(2*time.Second))
	if f.Waiters() != 0 {
		t.Fatalf("Waiters = %d, want 0", f.Waiters())
	}
	mustFire(t, f.After(0), f.Now())
}

func TestFakeSleep(t *testing.T) {
	t.Run("returns on Advance", func(t *testing.T) {
		f := NewFake(start)
		done := make(chan error, 1)
		go func() { done <- f.Sleep(context.Background(), 5*time.Second) }()
		ctx, cancel := context.WithTimeout(context.Background(), failAfter)
		defer cancel()
		if err := f.BlockUntilWaiters(ctx, 1); err != nil {
			t.Fatalf("Sleep never armed a waiter: %v", err)
		}
		f.Advance(5*time.Second - time.Nanosecond)
		// The sleeper's timer is still armed, so its deadline has not passed.
		if f.Waiters() != 1 {
			t.Fatalf("Waiters before deadline = %d, want 1", f.Waiters())
		}
		select {
		case err := <-done:
			t.Fatalf("Sleep returned early: %v", err)
		default:
		}
		f.Advance(time.Nanosecond)
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Sleep = %v, want nil", err)
			}
		case <-time.After(failAfter):
			t.Fatal("Sleep did not return after Advance")
		}
		if f.Waiters() != 0 {
			t.Fatalf("Waiters = %d, want 0", f.Waiters())
		}
	})

	t.Run("returns on cancel", func(t *testing.T) {
		f := NewFake(start)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- f.Sleep(ctx, time.Hour) }()
		wctx, wcancel := context.WithTimeout(context.Background(), failAfter)
		defer wcancel()
		if err := f.BlockUntilWaiters(wctx, 1); err != nil {
			t.Fatalf("Sleep never armed a waiter: %v", err)
		}
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Sleep = %v, want context.Canceled", err)
			}
		case <-time.After(failAfter):
			t.Fatal("Sleep did not return after cancel")
		}
		if f.Waiters() != 0 {
			t.Fatalf("Waiters after cancelled Sleep = %d, want 0", f.Waiters())
		}
	})

	t.Run("immediate cases", func(t *testing.T) {
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		tests := []struct {
			name string
			ctx  context.Context
			d    time.Duration
			want error
		}{
			{"zero", context.Background(), 0, nil},
			{"negative", context.Background(), -time.Second, nil},
			{"zero with ended ctx", cancelled, 0, nil},
			{"ended ctx", cancelled, time.Second, context.Canceled},
		}
		for _, tc := range tests {
			f := NewFake(start)
			if err := f.Sleep(tc.ctx, tc.d); !errors.Is(err, tc.want) {
				t.Errorf("%s: Sleep = %v, want %v", tc.name, err, tc.want)
			}
			if f.Waiters() != 0 {
				t.Errorf("%s: Waiters = %d, want 0", tc.name, f.Waiters())
			}
		}
	})
}

func TestFakeBlockUntilWaiters(t *testing.T) {
	t.Run("unblocks when armed", func(t *testing.T) {
		f := NewFake(start)
		const n = 3
		release := make(chan struct{})
		go func() {
			<-release
			for i := range n {
				f.NewTimer(time.Duration(i+1) * time.Second)
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), failAfter)
		defer cancel()
		result := make(chan error, 1)
		go func() { result <- f.BlockUntilWaiters(ctx, n) }()
		select {
		case err := <-result:
			t.Fatalf("BlockUntilWaiters returned %v with no waiters", err)
		default:
		}
		close(release)
		if err := <-result; err != nil {
			t.Fatalf("BlockUntilWaiters = %v, want nil", err)
		}
		if got := f.Waiters(); got < n {
			t.Fatalf("BlockUntilWaiters returned with %d waiters, want >= %d", got, n)
		}
	})

	t.Run("times out", func(t *testing.T) {
		f := NewFake(start)
		f.NewTimer(time.Second)
		tm := f.NewTimer(time.Second)
		tm.Stop() // stopped timers do not count
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		if err := f.BlockUntilWaiters(ctx, 2); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("BlockUntilWaiters = %v, want context.DeadlineExceeded", err)
		}
	})

	t.Run("already satisfied", func(t *testing.T) {
		f := NewFake(start)
		f.NewTicker(time.Second)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for _, n := range []int{-1, 0, 1} {
			if err := f.BlockUntilWaiters(ctx, n); err != nil {
				t.Errorf("BlockUntilWaiters(%d) = %v, want nil", n, err)
			}
		}
		if err := f.BlockUntilWaiters(ctx, 2); !errors.Is(err, context.Canceled) {
			t.Errorf("BlockUntilWaiters(2) = %v, want context.Canceled", err)
		}
	})
}

func TestFakeWaiters(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *Fake)
		want  int
	}{
		{"none", func(f *Fake) {}, 0},
		{"timer", func(f *Fake) { f.NewTimer(time.Second) }, 1},
		{"ticker", func(f *Fake) { f.NewTicker(time.Second) }, 1},
		{"after", func(f *Fake) { f.After(time.Second) }, 1},
		{"immediate timer", func(f *Fake) { f.NewTimer(0) }, 0},
		{"stopped timer", func(f *Fake) { f.NewTimer(time.Second).Stop() }, 0},
		{"stopped ticker", func(f *Fake) { f.NewTicker(time.Second).Stop() }, 0},
		{"reset timer counted once", func(f *Fake) { f.NewTimer(time.Second).Reset(time.Minute) }, 1},
		{"fired timer", func(f *Fake) { f.NewTimer(time.Second); f.Advance(time.Second) }, 0},
		{"ticker survives firing", func(f *Fake) { f.NewTicker(time.Second); f.Advance(time.Minute) }, 1},
		{"mixed", func(f *Fake) {
			f.NewTimer(time.Second)
			f.NewTimer(time.Minute)
			f.NewTicker(time.Hour)
			f.After(2 * time.Second)
			f.NewTicker(time.Second).Stop()
			f.Advance(2 * time.Second)
		}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFake(start)
			tc.setup(f)
			if got := f.Waiters(); got != tc.want {
				t.Fatalf("Waiters = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestFakeConcurrent exercises the Fake from many goroutines; run with -race.
func TestFakeConcurrent(t *testing.T) {
	f := NewFake(start)
	const workers = 8
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			tk := f.NewTicker(time.Duration(i+1) * time.Millisecond)
			defer tk.Stop()
			for range 20 {
				tm := f.NewTimer(time.Millisecond)
				_ = f.Now()
				tm.Reset(2 * time.Millisecond)
				tm.Stop()
				_ = f.Waiters()
			}
			if err := f.Sleep(ctx, time.Millisecond); err != nil {
				t.Errorf("Sleep = %v", err)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	deadline := time.After(failAfter)
	for {
		select {
		case <-done:
			return
		case <-deadline:
			t.Fatal("workers did not finish")
		default:
			f.Advance(time.Millisecond)
		}
	}
}

func TestReal(t *testing.T) {
	c := Real()
	ctx := context.Background()
	const d = 2 * time.Millisecond

	before := time.Now()
	now := c.Now()
	if now.Before(before) || now.Sub(before) > time.Second {
		t.Fatalf("Now = %v, want close to %v", now, before)
	}
	if s := c.Since(before); s < 0 || s > time.Second {
		t.Fatalf("Since = %v, want small and non-negative", s)
	}

	t0 := time.Now()
	select {
	case <-c.After(d):
	case <-time.After(failAfter):
		t.Fatal("After never fired")
	}
	if el := time.Since(t0); el < d {
		t.Fatalf("After fired after %v, want >= %v", el, d)
	}

	tm := c.NewTimer(d)
	if _, ok := tm.(realTimer); !ok {
		t.Fatalf("NewTimer returned %T, want realTimer", tm)
	}
	<-tm.C()
	if tm.Stop() {
		t.Fatal("Stop after receive = true, want false")
	}
	if tm.Reset(time.Hour) {
		t.Fatal("Reset of expired timer = true, want false")
	}
	if !tm.Stop() {
		t.Fatal("Stop of pending timer = false, want true")
	}
	if tm.Reset(d) {
		t.Fatal("Reset of stopped timer = true, want false")
	}
	<-tm.C()

	tk := c.NewTicker(d)
	if _, ok := tk.(realTicker); !ok {
		t.Fatalf("NewTicker returned %T, want realTicker", tk)
	}
	<-tk.C()
	<-tk.C()
	tk.Reset(time.Millisecond)
	<-tk.C()
	tk.Stop()
	select {
	case v := <-tk.C():
		t.Fatalf("tick %v received after Stop", v)
	case <-time.After(5 * time.Millisecond):
	}

	t0 = time.Now()
	if err := c.Sleep(ctx, d); err != nil {
		t.Fatalf("Sleep = %v, want nil", err)
	}
	if el := time.Since(t0); el < d {
		t.Fatalf("Sleep returned after %v, want >= %v", el, d)
	}
	if err := c.Sleep(ctx, 0); err != nil {
		t.Fatalf("Sleep(0) = %v, want nil", err)
	}
	cctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	t0 = time.Now()
	if err := c.Sleep(cctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Sleep past ctx deadline = %v, want context.DeadlineExceeded", err)
	}
	if el := time.Since(t0); el > time.Minute {
		t.Fatalf("Sleep ignored ctx for %v", el)
	}
	mustPanic(t, "Real NewTicker(0)", func() { c.NewTicker(0) })
}
