// Package clock provides an injectable source of time.
//
// Code that waits on time (tempo loops, expiry, drain deadlines, windows)
// takes a Clock instead of calling package time directly, so production code
// uses Real while tests drive a Fake deterministically, without sleeping.
package clock

import (
	"context"
	"time"
)

// Clock is the subset of package time that time-dependent code needs.
// Depending on this interface rather than on package time lets tests
// substitute a Fake and control exactly when deadlines pass.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Since returns the time elapsed since t, as time.Since does.
	Since(t time.Time) time.Duration
	// After waits for d to elapse and then sends the current time on the
	// returned channel, as time.After does.
	After(d time.Duration) <-chan time.Time
	// NewTimer creates a Timer that fires once after d, as time.NewTimer does.
	NewTimer(d time.Duration) Timer
	// NewTicker creates a Ticker with period d, as time.NewTicker does.
	// It panics if d <= 0.
	NewTicker(d time.Duration) Ticker
	// Sleep pauses for d, or until ctx ends, whichever comes first. It
	// returns ctx.Err() if ctx ends first and nil otherwise, so callers can
	// wait and still honour cancellation. It returns nil at once if d <= 0.
	Sleep(ctx context.Context, d time.Duration) error
}

// Timer is the behaviour of *time.Timer behind an interface, so that a Fake
// can supply timers that fire only when the test advances time.
type Timer interface {
	// C returns the channel on which the time is delivered when the timer
	// fires.
	C() <-chan time.Time
	// Stop prevents the timer from firing. It returns true if the call
	// stopped a pending timer, false if it had already fired (and its value
	// was received) or been stopped.
	Stop() bool
	// Reset changes the timer to fire after d. It returns true if the timer
	// had been active, false if it had expired or been stopped.
	Reset(d time.Duration) bool
}

// Ticker is the behaviour of *time.Ticker behind an interface, so that a
// Fake can supply tickers that tick only when the test advances time.
type Ticker interface {
	// C returns the channel on which ticks are delivered.
	C() <-chan time.Time
	// Stop turns the ticker off; no more ticks will be sent.
	Stop()
	// Reset stops the ticker and resets its period to d; the next tick
	// arrives after d. It panics if d <= 0.
	Reset(d time.Duration)
}

// Real returns the Clock backed by package time, for production use.
func Real() Clock { return realClock{} }

type realClock struct{}

var _ Clock = realClock{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) Since(t time.Time) time.Duration        { return time.Since(t) }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
func (realClock) NewTimer(d time.Duration) Timer         { return realTimer{time.NewTimer(d)} }
func (realClock) NewTicker(d time.Duration) Ticker       { return realTicker{time.NewTicker(d)} }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	return sleep(ctx, realClock{}, d)
}

// sleep implements Clock.Sleep on top of c.NewTimer, so that Real and Fake
// share the same cancellation behaviour.
func sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := c.NewTimer(d)
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	}
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }

type realTicker struct{ t *time.Ticker }

func (r realTicker) C() <-chan time.Time   { return r.t.C }
func (r realTicker) Stop()                 { r.t.Stop() }
func (r realTicker) Reset(d time.Duration) { r.t.Reset(d) }
