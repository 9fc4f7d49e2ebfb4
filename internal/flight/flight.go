// Package flight runs one call at a time on behalf of many waiters: while a
// call is in flight, every other caller waits for its result instead of
// starting its own, so a burst of requests costs one upstream call. A
// waiter whose context ends stops waiting; the call itself goes on, under a
// context detached from any one waiter's (the function bounds it itself).
package flight

import (
	"context"
	"sync"
)

// Group shares one in-flight call among its callers. The zero Group is
// ready to use.
type Group[T any] struct {
	mu   sync.Mutex
	call *call[T]
}

type call[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// Do returns the result of fn: of the call in flight when there is one,
// else of a new call, started now. shared reports that the result came
// from a call another caller started.
func (g *Group[T]) Do(ctx context.Context, fn func(context.Context) (T, error)) (val T, shared bool, err error) {
	g.mu.Lock()
	c := g.call
	shared = c != nil
	if c == nil {
		c = &call[T]{done: make(chan struct{})}
		g.call = c
		go func() {
			c.val, c.err = fn(context.WithoutCancel(ctx))
			g.mu.Lock()
			g.call = nil
			g.mu.Unlock()
			close(c.done)
		}()
	}
	g.mu.Unlock()
	select {
	case <-c.done:
		return c.val, shared, c.err
	case <-ctx.Done():
		var zero T
		return zero, shared, ctx.Err()
	}
}

// InFlight reports whether a call is running.
func (g *Group[T]) InFlight() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.call != nil
}
