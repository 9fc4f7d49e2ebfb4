package lifecycle

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/clock"
)

// blocker is an actor that runs until interrupted, recording the order of
// interrupts.
func blocker(name string, order *[]string, mu *sync.Mutex) Actor {
	stop := make(chan struct{})
	var once sync.Once
	return Actor{func() error { <-stop; return nil }, func(error) {
		once.Do(func() {
			mu.Lock()
			*order = append(*order, name)
			mu.Unlock()
			close(stop)
		})
	}}
}

func TestFirstReturnStopsAllInReverseOrder(t *testing.T) {
	var order []string
	var mu sync.Mutex
	g := Group{DrainTimeout: time.Minute}
	g.Add("store", blocker("store", &order, &mu))
	g.Add("server", blocker("server", &order, &mu))
	boom := errors.New("boom")
	g.Add("failing", Actor{func() error { return boom }, func(error) {}})
	if err := g.Run(); !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want the first actor's error", err)
	}
	if strings.Join(order, ",") != "server,store" {
		t.Errorf("interrupt order %v, want server before store", order)
	}
}

func TestDrainDeadline(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	g := Group{DrainTimeout: 30 * time.Second, Clock: clk}
	release := make(chan struct{})
	g.Add("stubborn", Actor{func() error { <-release; return nil }, func(error) {}}) // ignores interrupt
	g.Add("quits", Actor{func() error { return nil }, func(error) {}})
	done := make(chan error, 1)
	go func() { done <- g.Run() }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := clk.BlockUntilWaiters(ctx, 1); err != nil {
		t.Fatal("Run never armed its drain timer")
	}
	clk.Advance(29 * time.Second)
	select {
	case err := <-done:
		t.Fatalf("Run returned %v before the deadline", err)
	case <-time.After(20 * time.Millisecond):
	}
	clk.Advance(time.Second)
	select {
	case err := <-done:
		if !errors.Is(err, ErrDrainTimeout) || !strings.Contains(err.Error(), "still running: stubborn") {
			t.Fatalf("Run = %v, want ErrDrainTimeout naming stubborn", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return at the deadline")
	}
	close(release)
}

func TestContextActorCleanStop(t *testing.T) {
	g := Group{DrainTimeout: time.Minute}
	g.Add("loop", Context(context.Background(), func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }))
	g.Add("stopper", Actor{func() error { return nil }, func(error) {}})
	if err := g.Run(); err != nil {
		t.Fatalf("Run = %v", err)
	}
	// A loop that fails on its own reports its error.
	fail := errors.New("chain unreachable")
	if err := Context(context.Background(), func(context.Context) error { return fail }).Execute(); !errors.Is(err, fail) {
		t.Errorf("execute = %v", err)
	}
}

func TestSignals(t *testing.T) {
	sig := Signals(syscall.SIGUSR1)
	done := make(chan error, 1)
	go func() { done <- sig.Execute() }()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !IsSignal(err) || !strings.Contains(err.Error(), "user defined signal 1") {
			t.Fatalf("execute = %v, want a SignalError", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("signal not received")
	}
	sig.Interrupt(nil) // interrupt after return must be harmless
	sig2 := Signals(syscall.SIGUSR2)
	sig2.Interrupt(nil)
	if err := sig2.Execute(); err != nil || IsSignal(err) {
		t.Errorf("interrupted Signals actor returned %v", err)
	}
}

func TestHTTPServerDrainsInFlightRequests(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		time.Sleep(100 * time.Millisecond)
		io.WriteString(w, "done")
	})}
	actor := HTTPServer(srv, ln, 5*time.Second)
	served := make(chan error, 1)
	go func() { served <- actor.Execute() }()
	body := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String())
		if err != nil {
			body <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body <- string(b)
	}()
	<-entered
	actor.Interrupt(nil)
	if got := <-body; got != "done" {
		t.Errorf("in-flight request got %q, want it to complete", got)
	}
	if err := <-served; err != nil {
		t.Errorf("execute = %v, want nil after a clean shutdown", err)
	}
}
