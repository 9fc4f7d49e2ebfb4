package clock

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"
)

// Fake is a Clock whose time moves only when Advance or Set is called, so
// tests of time-based code are deterministic and never sleep.
//
// Timers, tickers, After and Sleep created from a Fake fire during Advance
// or Set, in deadline order (ties in the order they were armed). Each
// delivery sends the waiter's deadline, not the time Advance moved to, so a
// receiver sees the instant at which it was due. Channels have a buffer of
// one and sends never block: like time.Ticker, a ticker whose receiver falls
// behind drops ticks. As with package time since Go 1.23, Stop and Reset
// discard a value that was sent but not yet received.
//
// A Fake is safe for concurrent use. Create one with NewFake.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	seq     uint64
	waiters map[*fakeWaiter]struct{}
	// changed is closed and replaced whenever a waiter is armed, waking
	// BlockUntilWaiters without polling.
	changed chan struct{}
}

var _ Clock = (*Fake)(nil)

// NewFake returns a Fake whose current time is start.
func NewFake(start time.Time) *Fake {
	return &Fake{
		now:     start,
		waiters: make(map[*fakeWaiter]struct{}),
		changed: make(chan struct{}),
	}
}

// fakeWaiter is the shared state of a fake timer or ticker. It is armed while
// it is in f.waiters; all fields other than c are guarded by f.mu.
type fakeWaiter struct {
	f      *Fake
	c      chan time.Time
	when   time.Time
	period time.Duration // zero for a one-shot timer
	seq    uint64        // arm order, to break ties between equal deadlines
}

// Now returns the Fake's current time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Since returns the fake time elapsed since t.
func (f *Fake) Since(t time.Time) time.Duration { return f.Now().Sub(t) }

// After returns the channel of a new timer that fires after d.
func (f *Fake) After(d time.Duration) <-chan time.Time { return f.NewTimer(d).C() }

// NewTimer returns a Timer that fires once the Fake has advanced by d.
// If d <= 0 it fires at once, as time.NewTimer does.
func (f *Fake) NewTimer(d time.Duration) Timer {
	w := &fakeWaiter{f: f, c: make(chan time.Time, 1)}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armLocked(w, d, 0)
	return &fakeTimer{w}
}

// NewTicker returns a Ticker that ticks every d of fake time. It panics if
// d <= 0, as time.NewTicker does.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	w := &fakeWaiter{f: f, c: make(chan time.Time, 1)}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armLocked(w, d, d)
	return &fakeTicker{w}
}

// Sleep blocks until the Fake has advanced by d or ctx ends. While it
// blocks it counts as one waiter, so a test can wait for it with
// BlockUntilWaiters before advancing.
func (f *Fake) Sleep(ctx context.Context, d time.Duration) error {
	return sleep(ctx, f, d)
}

// Advance moves the Fake's time forward by d and fires every waiter whose
// deadline is at or before the new time. It panics if d < 0.
func (f *Fake) Advance(d time.Duration) {
	if d < 0 {
		panic("clock: Fake.Advance with negative duration")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advanceLocked(f.now.Add(d))
}

// Set moves the Fake's time to t, firing waiters as Advance does. It panics
// if t is before the current time, since time never runs backwards.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.Before(f.now) {
		panic("clock: Fake.Set to a time before Now")
	}
	f.advanceLocked(t)
}

// Waiters returns the number of armed timers, tickers, After calls and
// Sleep calls. Stopped or fired timers and stopped tickers are not counted.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

// BlockUntilWaiters blocks until at least n waiters are armed, so a test can
// advance time only after the code under test has started waiting;
// advancing earlier would let the deadline pass unnoticed. It returns
// ctx.Err() if ctx ends first.
func (f *Fake) BlockUntilWaiters(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		if len(f.waiters) >= n {
			f.mu.Unlock()
			return nil
		}
		changed := f.changedLocked()
		f.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// firing records one delivery made by advanceLocked.
type firing struct {
	w  *fakeWaiter
	at time.Time
}

// advanceLocked sets the time to target and fires the due waiters in
// deadline order, returning the deliveries in the order they were made.
// A due ticker fires once and is rescheduled to its first period boundary
// after target, skipping the periods it missed, as a late time.Ticker does.
func (f *Fake) advanceLocked(target time.Time) []firing {
	var due []*fakeWaiter
	for w := range f.waiters {
		if !w.when.After(target) {
			due = append(due, w)
		}
	}
	slices.SortFunc(due, func(a, b *fakeWaiter) int {
		if c := a.when.Compare(b.when); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	fired := make([]firing, 0, len(due))
	for _, w := range due {
		at := w.when
		send(w.c, at)
		fired = append(fired, firing{w: w, at: at})
		if w.period > 0 {
			missed := target.Sub(at) / w.period
			w.when = at.Add(w.period * (missed + 1))
		} else {
			delete(f.waiters, w)
		}
	}
	f.now = target
	return fired
}

// armLocked schedules w to fire after d (with the given ticker period, or
// zero for a timer). A timer with d <= 0 fires at once and stays disarmed.
// It returns whether w was armed beforehand or held an undelivered value,
// which is what time.Timer.Reset and Stop report.
func (f *Fake) armLocked(w *fakeWaiter, d, period time.Duration) bool {
	wasActive := f.disarmLocked(w)
	w.period = period
	if d <= 0 && period == 0 {
		send(w.c, f.now)
		return wasActive
	}
	if f.waiters == nil {
		f.waiters = make(map[*fakeWaiter]struct{})
	}
	f.seq++
	w.seq = f.seq
	w.when = f.now.Add(d)
	f.waiters[w] = struct{}{}
	f.notifyLocked()
	return wasActive
}

// disarmLocked removes w from the pending set and discards any value sent
// but not yet received, so no stale tick is seen after Stop or Reset.
// It reports whether w was armed or held such a value.
func (f *Fake) disarmLocked(w *fakeWaiter) bool {
	_, armed := f.waiters[w]
	delete(f.waiters, w)
	drained := false
	select {
	case <-w.c:
		drained = true
	default:
	}
	return armed || drained
}

func (f *Fake) changedLocked() chan struct{} {
	if f.changed == nil {
		f.changed = make(chan struct{})
	}
	return f.changed
}

// notifyLocked wakes every BlockUntilWaiters call so it rechecks the count.
// Only arming can satisfy a waiting call, so only arming notifies.
func (f *Fake) notifyLocked() {
	if f.changed != nil {
		close(f.changed)
		f.changed = nil
	}
}

// send delivers t without blocking; a full channel drops it, as the runtime
// does for a ticker whose receiver is behind.
func send(c chan time.Time, t time.Time) {
	select {
	case c <- t:
	default:
	}
}

type fakeTimer struct{ w *fakeWaiter }

func (t *fakeTimer) C() <-chan time.Time { return t.w.c }

func (t *fakeTimer) Stop() bool {
	f := t.w.f
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.disarmLocked(t.w)
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	f := t.w.f
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.armLocked(t.w, d, 0)
}

type fakeTicker struct{ w *fakeWaiter }

func (t *fakeTicker) C() <-chan time.Time { return t.w.c }

func (t *fakeTicker) Stop() {
	f := t.w.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.disarmLocked(t.w)
}

func (t *fakeTicker) Reset(d time.Duration) {
	if d <= 0 {
		panic("clock: non-positive interval for Ticker.Reset")
	}
	f := t.w.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armLocked(t.w, d, d)
}
