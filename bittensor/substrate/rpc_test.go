package substrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/substrate/substratetest"
)

// fakeNode is a JSON-RPC server on loopback with scripted methods.
type fakeNode struct {
	*substratetest.Server
	subscribed atomic.Int32
}

func newFakeNode(t *testing.T) *fakeNode {
	f := &fakeNode{}
	f.Server = substratetest.StartServer(t, func(c *substratetest.Conn, req substratetest.Request) {
		switch req.Method {
		case "echo":
			_ = c.Reply(req, req.Args())
		case "slow_echo":
			go func() {
				time.Sleep(20 * time.Millisecond)
				_ = c.Reply(req, req.Args())
			}()
		case "thrice":
			for range 3 {
				_ = c.Reply(req, req.Args())
			}
		case "never":
		case "drop":
			c.Close()
		case "fail":
			_ = c.Fail(req, 1010, "Invalid Transaction", "Custom error: 6")
		case "chain_subscribeNewHeads":
			f.subscribed.Add(1)
			id := fmt.Sprintf("sub-%d", c.Index)
			_ = c.Reply(req, id)
			go func() {
				for i := 0; ; i++ {
					time.Sleep(10 * time.Millisecond)
					if c.Notify("chain_newHead", id, map[string]any{"number": fmt.Sprintf("0x%x", c.Index*1000+i)}) != nil {
						return
					}
				}
			}()
		case "chain_unsubscribeNewHeads":
			_ = c.Reply(req, true)
		default:
			_ = c.NotFound(req)
		}
	})
	return f
}

func (f *fakeNode) url() string { return f.URL() }

// dropAll closes every socket from the server side.
func (f *fakeNode) dropAll() { f.DropConnections() }

func dial(t *testing.T, f *fakeNode, timeout time.Duration) *Client {
	t.Helper()
	c, err := Dial(context.Background(), Options{URL: f.url(), CallTimeout: timeout, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestConcurrentCalls(t *testing.T) {
	c := dial(t, newFakeNode(t), 5*time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			method := "echo"
			if i%2 == 0 {
				method = "slow_echo"
			}
			var got []int
			if err := c.Call(context.Background(), method, []any{i, i * 2}, &got); err != nil {
				errs <- err
				return
			}
			if len(got) != 2 || got[0] != i || got[1] != 2*i {
				errs <- fmt.Errorf("call %d got %v", i, got)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestAnsweredThrice: a node that answers one request several times
// neither stalls the socket nor confuses later calls.
func TestAnsweredThrice(t *testing.T) {
	c := dial(t, newFakeNode(t), time.Second)
	for i := range 3 {
		var got []int
		if err := c.Call(context.Background(), "thrice", []any{i}, &got); err != nil || len(got) != 1 || got[0] != i {
			t.Fatalf("thrice %d: %v %v", i, got, err)
		}
		if err := c.Call(context.Background(), "echo", []any{10 + i}, &got); err != nil || len(got) != 1 || got[0] != 10+i {
			t.Fatalf("echo after thrice %d: %v %v", i, got, err)
		}
	}
}

func TestCallThatNeverAnswersTimesOutNamingTheMethod(t *testing.T) {
	c := dial(t, newFakeNode(t), 100*time.Millisecond)
	start := time.Now()
	err := c.Call(context.Background(), "never", nil, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "never: no answer") || !errors.Is(err, context.DeadlineExceeded) || !IsRetriable(err) {
		t.Fatalf("err = %v, want a retriable timeout naming the method", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("timeout took %s", took)
	}
	var ce *CallError
	if !errors.As(err, &ce) || ce.Method != "never" {
		t.Errorf("err is not a CallError for never: %#v", err)
	}
	// A caller's own shorter deadline wins.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := c.Call(ctx, "never", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("caller deadline: %v", err)
	}
}

func TestNodeErrors(t *testing.T) {
	c := dial(t, newFakeNode(t), time.Second)
	err := c.Call(context.Background(), "fail", nil, nil)
	var re *RPCError
	if !errors.As(err, &re) || re.Code != 1010 || !strings.Contains(err.Error(), "Custom error: 6") || IsRetriable(err) {
		t.Fatalf("err = %v, want RPCError 1010 with its data", err)
	}
	if err := c.Call(context.Background(), "nope", nil, nil); !errors.As(err, &re) || re.Code != -32601 {
		t.Errorf("unknown method: %v", err)
	}
	var wrong struct{ X int }
	if err := c.Call(context.Background(), "echo", []any{1}, &wrong); err == nil || !strings.Contains(err.Error(), "echo: decode result") {
		t.Errorf("undecodable result: %v", err)
	}
}

func TestDroppedSocketFailsInFlightAndReconnects(t *testing.T) {
	f := newFakeNode(t)
	c := dial(t, f, 10*time.Second)
	inFlight := make(chan error, 1)
	go func() { inFlight <- c.Call(context.Background(), "never", nil, nil) }()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	f.dropAll()
	select {
	case err := <-inFlight:
		if !errors.Is(err, ErrConnectionLost) || !IsRetriable(err) {
			t.Fatalf("in-flight call: %v, want ErrConnectionLost", err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("in-flight call failed after %s, want at once", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("in-flight call did not fail when the socket dropped")
	}
	var got []int
	if err := c.Call(context.Background(), "echo", []any{7}, &got); err != nil || len(got) != 1 || got[0] != 7 {
		t.Fatalf("call after reconnect: %v %v", got, err)
	}
	if n := f.Connections(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
	// The node closing the socket on a request is the same kind of drop.
	if err := c.Call(context.Background(), "drop", nil, nil); !errors.Is(err, ErrConnectionLost) {
		t.Errorf("drop: %v", err)
	}
	if err := c.Call(context.Background(), "echo", []any{8}, &got); err != nil || got[0] != 8 {
		t.Errorf("call after second reconnect: %v %v", got, err)
	}
}

func TestSubscriptionResumesAfterReconnect(t *testing.T) {
	f := newFakeNode(t)
	c := dial(t, f, 5*time.Second)
	sub, err := c.Subscribe(context.Background(), "chain_subscribeNewHeads", "chain_unsubscribeNewHeads", nil)
	if err != nil {
		t.Fatal(err)
	}
	next := func() uint64 {
		t.Helper()
		select {
		case raw := <-sub.C():
			var h struct{ Number string }
			if err := json.Unmarshal(raw, &h); err != nil {
				t.Fatal(err)
			}
			n, err := HexNumber(h.Number)
			if err != nil {
				t.Fatal(err)
			}
			return n
		case <-time.After(5 * time.Second):
			t.Fatal("no notification")
		}
		return 0
	}
	if n := next(); n < 1000 || n >= 2000 {
		t.Fatalf("first head %d, want one from connection 1", n)
	}
	f.dropAll()
	deadline := time.After(5 * time.Second)
	for {
		if n := next(); n >= 2000 {
			break // a head from the second connection: resubscribed
		}
		select {
		case <-deadline:
			t.Fatal("no head from the new connection")
		default:
		}
	}
	if s := f.subscribed.Load(); s != 2 {
		t.Errorf("subscribed %d times, want 2", s)
	}
	if err := sub.Unsubscribe(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sub.Done():
		if !errors.Is(sub.Err(), ErrClosed) {
			t.Errorf("Err after unsubscribe: %v", sub.Err())
		}
	default:
		t.Error("Done not closed after Unsubscribe")
	}
}

func TestCloseWhileReconnecting(t *testing.T) {
	f := newFakeNode(t)
	c := dial(t, f, time.Second)
	sub, err := c.Subscribe(context.Background(), "chain_subscribeNewHeads", "chain_unsubscribeNewHeads", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Close() // the node is gone for good
	f.dropAll()
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung while reconnecting")
	}
	if err := c.Call(context.Background(), "echo", nil, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("call after Close: %v", err)
	}
	select {
	case <-sub.Done():
	default:
		t.Error("subscription not ended by Close")
	}
	if _, err := Dial(context.Background(), Options{URL: f.url(), DialTimeout: time.Second}); err == nil {
		t.Error("Dial to a dead node succeeded")
	}
	if _, err := Dial(context.Background(), Options{}); err == nil || !strings.Contains(err.Error(), "no URL specified") {
		t.Errorf("Dial without URL: %v", err)
	}
}

func TestCallIdempotentRidesOutADrop(t *testing.T) {
	f := newFakeNode(t)
	c := dial(t, f, 5*time.Second)
	for range 20 {
		f.dropAll()
		var got []int
		if err := c.CallIdempotent(context.Background(), "echo", []any{3}, &got); err != nil || len(got) != 1 || got[0] != 3 {
			t.Fatalf("CallIdempotent after a drop: %v %v", got, err)
		}
	}
	// A node error is an answer, not a reason to retry.
	if err := c.CallIdempotent(context.Background(), "fail", nil, nil); err == nil || IsRetriable(err) {
		t.Errorf("fail: %v", err)
	}
}

// A SubscribeOnce subscription ends on a dropped socket rather than being
// made again on the next one (which, for a transaction watch, would submit
// the transaction twice).
func TestSubscribeOnceEndsOnDrop(t *testing.T) {
	f := newFakeNode(t)
	c := dial(t, f, 5*time.Second)
	sub, err := c.SubscribeOnce(context.Background(), "chain_subscribeNewHeads", "chain_unsubscribeNewHeads", nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-sub.C():
	case <-time.After(5 * time.Second):
		t.Fatal("no notification")
	}
	f.dropAll()
	select {
	case <-sub.Done():
		if !errors.Is(sub.Err(), ErrConnectionLost) || !strings.Contains(sub.Err().Error(), "chain_subscribeNewHeads") {
			t.Errorf("Err = %v, want ErrConnectionLost naming the method", sub.Err())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("subscription did not end on the drop")
	}
	// The client reconnects, calls work, and nothing was subscribed again.
	var out []any
	if err := c.CallIdempotent(context.Background(), "echo", []any{1}, &out); err != nil {
		t.Fatal(err)
	}
	if s := f.subscribed.Load(); s != 1 {
		t.Errorf("subscribed %d times, want 1", s)
	}
}
