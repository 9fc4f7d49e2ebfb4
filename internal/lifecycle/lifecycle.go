// Package lifecycle runs a process as a group of actors: each is a pair of an
// execute function, which blocks while the actor works, and an interrupt
// function, which asks it to stop. The first actor to return stops all the
// others, and the group waits for them to drain, up to a deadline, so a
// process never exits in the middle of a weight submission or a proof check
// unless that work overruns its drain time.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/vigil-validator/vigil/internal/clock"
)

// ErrDrainTimeout is returned by Run when actors are still running when the
// drain deadline passes.
var ErrDrainTimeout = errors.New("actors did not stop within the drain deadline")

// SignalError is returned by a Signals actor when a signal arrives; a
// process that stops on one has stopped cleanly.
type SignalError struct{ Signal os.Signal }

func (e SignalError) Error() string { return "received signal " + e.Signal.String() }

// IsSignal reports whether err says the group stopped on a signal.
func IsSignal(err error) bool {
	var se SignalError
	return errors.As(err, &se)
}

// Actor is one member of a Group. Interrupt must make Execute return, and
// must be safe to call even after Execute has returned.
type Actor struct {
	Execute   func() error
	Interrupt func(error)
}

type actor struct {
	name string
	Actor
}

// Group is a set of actors run together. The zero value is not usable:
// set DrainTimeout.
type Group struct {
	// DrainTimeout bounds the wait for actors after the first one returns.
	DrainTimeout time.Duration
	// Clock measures the drain deadline; nil means the real clock.
	Clock clock.Clock
	// Logger reports which actor ended the run; nil means none.
	Logger *slog.Logger

	actors []actor
}

// Add adds a named actor.
func (g *Group) Add(name string, a Actor) {
	g.actors = append(g.actors, actor{name, a})
}

type result struct {
	idx int
	err error
}

// Run starts every actor and blocks until the first returns, then interrupts
// all of them, in reverse order of addition (so servers added last stop
// taking work before the stores added first go away), and waits for the rest.
// It returns the first actor's error, or an error wrapping ErrDrainTimeout
// naming the actors that had not stopped in time.
func (g *Group) Run() error {
	if len(g.actors) == 0 {
		return nil
	}
	if g.DrainTimeout <= 0 {
		return errors.New("lifecycle: no drain timeout specified")
	}
	clk := g.Clock
	if clk == nil {
		clk = clock.Real()
	}
	results := make(chan result, len(g.actors))
	for i, a := range g.actors {
		go func() { results <- result{i, a.Execute()} }()
	}
	first := <-results
	if g.Logger != nil {
		g.Logger.Info("stopping", "cause", g.actors[first.idx].name, "reason", errString(first.err))
	}
	for i := len(g.actors) - 1; i >= 0; i-- {
		g.actors[i].Interrupt(first.err)
	}
	running := make(map[int]bool, len(g.actors))
	for i := range g.actors {
		running[i] = i != first.idx
	}
	timer := clk.NewTimer(g.DrainTimeout)
	defer timer.Stop()
	for n := len(g.actors) - 1; n > 0; n-- {
		select {
		case r := <-results:
			running[r.idx] = false
			if r.err != nil && g.Logger != nil {
				g.Logger.Debug("actor stopped", "actor", g.actors[r.idx].name, "err", r.err)
			}
		case <-timer.C():
			var names []string
			for i, on := range running {
				if on {
					names = append(names, g.actors[i].name)
				}
			}
			sort.Strings(names)
			return fmt.Errorf("%w (%s): still running: %s", ErrDrainTimeout, g.DrainTimeout, strings.Join(names, ", "))
		}
	}
	return first.err
}

func errString(err error) string {
	if err == nil {
		return "returned"
	}
	return err.Error()
}

// Signals returns an actor that returns a SignalError when one of sigs
// arrives.
func Signals(sigs ...os.Signal) Actor {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	stop := make(chan struct{})
	return Actor{func() error {
		defer signal.Stop(ch)
		select {
		case s := <-ch:
			return SignalError{s}
		case <-stop:
			return nil
		}
	}, func(error) {
		select {
		case <-stop:
		default:
			close(stop)
		}
	}}
}

// Context returns an actor running fn with a context that is cancelled on
// interrupt. fn returning the context's own error after an interrupt counts
// as a clean stop.
func Context(parent context.Context, fn func(ctx context.Context) error) Actor {
	ctx, cancel := context.WithCancel(parent)
	return Actor{func() error {
		err := fn(ctx)
		if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil
		}
		return err
	}, func(error) {
		cancel()
	}}
}

// HTTPServer returns an actor serving srv on ln. On interrupt the server stops
// accepting and waits up to drain for in-flight requests.
func HTTPServer(srv *http.Server, ln net.Listener, drain time.Duration) Actor {
	return Actor{func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, func(error) {
		ctx, cancel := context.WithTimeout(context.Background(), drain)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
	}}
}
