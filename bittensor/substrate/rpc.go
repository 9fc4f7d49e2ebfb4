// Package substrate is a Substrate JSON-RPC client over WebSocket, with the
// metadata, storage-key and extrinsic tooling a Bittensor client needs.
package substrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Sentinel errors, for errors.Is.
var (
	// ErrConnectionLost fails calls that were in flight when the socket
	// dropped. The call may or may not have reached the node; reads are
	// safe to retry.
	ErrConnectionLost = errors.New("connection to the node lost")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("client closed")
)

// RPCError is an error answered by the node.
type RPCError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *RPCError) Error() string {
	if len(e.Data) > 0 && string(e.Data) != "null" {
		return fmt.Sprintf("rpc error %d: %s: %s", e.Code, e.Message, e.Data)
	}
	return fmt.Sprintf("rpc error %d: %s", e.Code, e.Message)
}

// CallError says which method failed.
type CallError struct {
	Method string
	Err    error
}

func (e *CallError) Error() string { return e.Method + ": " + e.Err.Error() }
func (e *CallError) Unwrap() error { return e.Err }

// IsRetriable reports whether a failed call may succeed if made again: the
// socket dropped or the node did not answer in time.
func IsRetriable(err error) bool {
	return errors.Is(err, ErrConnectionLost) || errors.Is(err, context.DeadlineExceeded)
}

// Options configures a Client.
type Options struct {
	URL string
	// CallTimeout bounds every call whose context has no earlier deadline.
	CallTimeout time.Duration
	// DialTimeout bounds each connection attempt.
	DialTimeout time.Duration
	// MaxMessageSize caps one message from the node (metadata is ~1 MiB).
	MaxMessageSize int64
	// MinBackoff and MaxBackoff bound the wait between reconnection attempts.
	MinBackoff, MaxBackoff time.Duration
	// SubscriptionBuffer is the number of notifications a subscription
	// holds before the oldest are dropped.
	SubscriptionBuffer int
	Logger             *slog.Logger
}

func (o *Options) defaults() error {
	if o.URL == "" {
		return errors.New("substrate: no URL specified")
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 30 * time.Second
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = 64 << 20
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(30*time.Second, o.MinBackoff)
	}
	if o.SubscriptionBuffer <= 0 {
		o.SubscriptionBuffer = 64
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Logger = o.Logger.With("component", "substrate")
	return nil
}

type response struct {
	result json.RawMessage
	err    error
}

// conn is one live WebSocket with its pending calls.
type conn struct {
	ws      *websocket.Conn
	mu      sync.Mutex
	pending map[uint64]chan response
	dead    chan struct{} // closed when the read loop ends
}

// Client is a JSON-RPC 2.0 client over one WebSocket that reconnects by
// itself. Calls may be made concurrently.
type Client struct {
	opts   Options
	nextID atomic.Uint64

	mu    sync.Mutex
	cur   *conn         // nil while reconnecting
	ready chan struct{} // closed when cur becomes non-nil
	subs  map[*Subscription]struct{}
	// early holds notifications that arrived before their subscription's
	// id was known: a node may send the first one right after its answer
	// to the subscribe call, and the reader gets there first.
	early      map[string][]json.RawMessage
	earlyOrder []string
	closed     bool
	closeCh    chan struct{}
	reconnect  sync.WaitGroup
	// conns counts the connections made, the first included.
	conns atomic.Uint64
}

// Dial connects to the node. The first connection must succeed; later drops
// are repaired in the background.
func Dial(ctx context.Context, opts Options) (*Client, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	c := &Client{opts: opts, ready: make(chan struct{}), subs: map[*Subscription]struct{}{}, closeCh: make(chan struct{})}
	cn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	c.install(cn)
	return c, nil
}

func (c *Client) dial(ctx context.Context) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.DialTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, c.opts.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", c.opts.URL, err)
	}
	ws.SetReadLimit(c.opts.MaxMessageSize)
	cn := &conn{ws: ws, pending: map[uint64]chan response{}, dead: make(chan struct{})}
	go c.readLoop(cn)
	return cn, nil
}

func (c *Client) install(cn *conn) {
	c.conns.Add(1)
	c.mu.Lock()
	c.cur = cn
	close(c.ready)
	c.mu.Unlock()
}

// Connections counts the connections this client has made: it changes
// after every reconnection. What a client read from the node (its genesis
// hash, say) may be stale once it changes, as the node may be another.
func (c *Client) Connections() uint64 { return c.conns.Load() }

// current returns the live connection, waiting for a reconnection if there
// is none, until ctx ends.
func (c *Client) current(ctx context.Context) (*conn, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, ErrClosed
		}
		cn, ready := c.cur, c.ready
		c.mu.Unlock()
		if cn != nil {
			return cn, nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: not reconnected yet (%w)", ErrConnectionLost, ctx.Err())
		case <-c.closeCh:
			return nil, ErrClosed
		}
	}
}

type request struct {
	JSONRPC string `json:"jsonrpc"`
	ID      uint64 `json:"id"`
	Method  string `json:"method"`
	Params  []any  `json:"params"`
}

// Call invokes method with params and decodes the result into result (which
// may be nil to discard it, or a *json.RawMessage to keep it as is).
func (c *Client) Call(ctx context.Context, method string, params []any, result any) error {
	raw, err := c.call(ctx, method, params)
	if err != nil {
		return &CallError{Method: method, Err: err}
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(raw, result); err != nil {
		return &CallError{Method: method, Err: fmt.Errorf("decode result: %w", err)}
	}
	return nil
}

// CallIdempotent is Call for reads: a retriable failure (dropped socket, a
// node slow to answer one attempt) is retried with backoff until ctx ends or
// the call's overall timeout passes. Never use it to submit extrinsics.
func (c *Client) CallIdempotent(ctx context.Context, method string, params []any, result any) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.CallTimeout)
		defer cancel()
	}
	wait := c.opts.MinBackoff
	for {
		err := c.Call(ctx, method, params, result)
		if err == nil || !errors.Is(err, ErrConnectionLost) || ctx.Err() != nil {
			return err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return err
		}
		wait = min(wait*2, c.opts.MaxBackoff)
	}
}

func (c *Client) call(ctx context.Context, method string, params []any) (json.RawMessage, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.CallTimeout)
		defer cancel()
	}
	if params == nil {
		params = []any{}
	}
	id := c.nextID.Add(1)
	body, err := json.Marshal(request{JSONRPC: "2.0", ID: id, Method: method, Params: params})
	if err != nil {
		return nil, fmt.Errorf("encode params: %w", err)
	}
	ch := make(chan response, 1)
	var cn *conn
	for {
		if cn, err = c.current(ctx); err != nil {
			return nil, err
		}
		cn.mu.Lock()
		if cn.pending != nil {
			cn.pending[id] = ch
			cn.mu.Unlock()
			break
		}
		// This socket died after current returned it; by now it is
		// detached, so the next look waits for its replacement.
		cn.mu.Unlock()
	}
	defer func() {
		cn.mu.Lock()
		if cn.pending != nil {
			delete(cn.pending, id)
		}
		cn.mu.Unlock()
	}()
	if err := cn.ws.Write(ctx, websocket.MessageText, body); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("no answer: %w", ctx.Err())
		}
		return nil, fmt.Errorf("%w: %v", ErrConnectionLost, err)
	}
	select {
	case r := <-ch:
		return r.result, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("no answer: %w", ctx.Err())
	}
}

// answer hands a call its response without waiting: a call takes one,
// and its channel holds one, so a full channel means the call has its
// answer (a node that answers twice) or has gone (its deadline passed).
// Waiting there would stall the socket's reads, or, when the socket dies,
// hold the lock the leaving call needs: both hung the client.
func answer(ch chan response, r response) {
	select {
	case ch <- r:
	default:
	}
}

// envelope is any message from the node: a response or a notification.
type envelope struct {
	ID     *uint64         `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *RPCError       `json:"error"`
	Method string          `json:"method"`
	Params *struct {
		Subscription json.RawMessage `json:"subscription"`
		Result       json.RawMessage `json:"result"`
	} `json:"params"`
}

func (c *Client) readLoop(cn *conn) {
	var err error
	for {
		var data []byte
		_, data, err = cn.ws.Read(context.Background())
		if err != nil {
			break
		}
		var env envelope
		if json.Unmarshal(data, &env) != nil {
			c.opts.Logger.Debug("ignoring a malformed message", "bytes", len(data))
			continue
		}
		switch {
		case env.ID != nil:
			cn.mu.Lock()
			ch := cn.pending[*env.ID]
			cn.mu.Unlock()
			if ch != nil {
				r := response{result: env.Result}
				if env.Error != nil {
					r.err = env.Error
				}
				answer(ch, r)
			}
		case env.Params != nil:
			c.notify(subscriptionKey(env.Params.Subscription), env.Params.Result)
		}
	}
	// Detach the socket first, so no new call picks it up, then fail
	// everything in flight at once rather than letting each call wait out
	// its deadline.
	c.mu.Lock()
	if c.cur == cn {
		c.cur = nil
		c.ready = make(chan struct{})
	}
	c.early, c.earlyOrder = nil, nil // subscription ids are per socket
	closed := c.closed
	if !closed {
		c.reconnect.Add(1)
	}
	c.mu.Unlock()
	cn.mu.Lock()
	for _, ch := range cn.pending {
		answer(ch, response{err: fmt.Errorf("%w: %v", ErrConnectionLost, err)})
	}
	cn.pending = nil
	cn.mu.Unlock()
	c.endOnceSubscriptions(err)
	close(cn.dead)
	cn.ws.CloseNow()
	if !closed {
		c.opts.Logger.Warn("connection lost; reconnecting", "url", c.opts.URL, "err", err)
		go c.reconnectLoop()
	}
}

// subscriptionKey normalises a subscription id, which nodes send as a string
// or a number.
func subscriptionKey(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

func (c *Client) reconnectLoop() {
	defer c.reconnect.Done()
	backoff := c.opts.MinBackoff
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-c.closeCh:
				cancel()
			case <-ctx.Done():
			}
		}()
		cn, err := c.dial(ctx)
		cancel()
		if err == nil {
			c.install(cn)
			c.opts.Logger.Info("reconnected", "url", c.opts.URL, "attempts", attempt)
			c.resubscribe()
			return
		}
		// Jitter keeps many clients from hammering a recovering node in step.
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-time.After(wait):
		case <-c.closeCh:
			return
		}
		backoff = min(backoff*2, c.opts.MaxBackoff)
	}
}

// Close closes the connection and stops reconnecting; calls in flight fail
// with ErrClosed or ErrConnectionLost.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.closeCh)
	cn := c.cur
	subs := make([]*Subscription, 0, len(c.subs))
	for s := range c.subs {
		subs = append(subs, s)
	}
	c.mu.Unlock()
	for _, s := range subs {
		s.finish(ErrClosed)
	}
	if cn != nil {
		cn.ws.Close(websocket.StatusNormalClosure, "")
		<-cn.dead
	}
	c.reconnect.Wait()
	return nil
}

// Subscription delivers the notifications of one subscription. It survives
// reconnections: the client subscribes again on the new socket. Heads missed
// while disconnected are not replayed; a consumer that needs every block
// fills the gap by number.
type Subscription struct {
	c                  *Client
	once               bool // ends when the socket drops instead of renewing
	method, unsub      string
	params             []any
	ch                 chan json.RawMessage
	mu                 sync.Mutex
	id                 string // the node's id on the current socket
	err                error
	done               chan struct{}
	dropped, delivered atomic.Uint64
}

// C delivers notification payloads. It is never closed; select on Done too.
func (s *Subscription) C() <-chan json.RawMessage { return s.ch }

// Done is closed when the subscription ends; Err then says why.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err is the reason the subscription ended, or nil while it runs.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Dropped counts notifications discarded because the consumer was slow.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Subscribe starts a subscription (chain_subscribeNewHeads and the like);
// unsub names the method that ends it.
func (c *Client) Subscribe(ctx context.Context, method, unsub string, params []any) (*Subscription, error) {
	return c.startSubscription(ctx, method, unsub, params, false)
}

// SubscribeOnce is Subscribe for subscriptions that must not be renewed on
// another socket, such as author_submitAndWatchExtrinsic, where renewing
// would submit the transaction again. When the socket drops it ends with an
// error matching ErrConnectionLost.
func (c *Client) SubscribeOnce(ctx context.Context, method, unsub string, params []any) (*Subscription, error) {
	return c.startSubscription(ctx, method, unsub, params, true)
}

func (c *Client) startSubscription(ctx context.Context, method, unsub string, params []any, once bool) (*Subscription, error) {
	s := &Subscription{c: c, once: once, method: method, unsub: unsub, params: params,
		ch: make(chan json.RawMessage, c.opts.SubscriptionBuffer), done: make(chan struct{})}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	c.subs[s] = struct{}{}
	c.mu.Unlock()
	if err := s.subscribe(ctx); err != nil {
		c.mu.Lock()
		delete(c.subs, s)
		c.mu.Unlock()
		return nil, err
	}
	return s, nil
}

func (c *Client) endOnceSubscriptions(cause error) {
	c.mu.Lock()
	var once []*Subscription
	for s := range c.subs {
		if s.once {
			once = append(once, s)
		}
	}
	c.mu.Unlock()
	for _, s := range once {
		s.finish(fmt.Errorf("%s: %w: %v", s.method, ErrConnectionLost, cause))
	}
}

func (s *Subscription) subscribe(ctx context.Context) error {
	var id json.RawMessage
	if err := s.c.Call(ctx, s.method, s.params, &id); err != nil {
		return err
	}
	key := subscriptionKey(id)
	// Under c.mu, so that notify (which looks up under c.mu and delivers
	// after) cannot deliver a later notification before the early ones.
	s.c.mu.Lock()
	s.mu.Lock()
	s.id = key
	s.mu.Unlock()
	pending := s.c.early[key]
	delete(s.c.early, key)
	for _, p := range pending {
		s.deliver(p)
	}
	s.c.mu.Unlock()
	return nil
}

// Bounds of the early-notification buffer: a few subscriptions being set
// up at once, a few notifications each.
const (
	maxEarlyIDs  = 32
	maxEarlyEach = 16
)

// keepEarly stores a notification for an id not known yet; c.mu is held.
func (c *Client) keepEarly(id string, payload json.RawMessage) {
	if c.early == nil {
		c.early = map[string][]json.RawMessage{}
	}
	if _, ok := c.early[id]; !ok {
		if len(c.earlyOrder) >= maxEarlyIDs {
			delete(c.early, c.earlyOrder[0])
			c.earlyOrder = c.earlyOrder[1:]
		}
		c.earlyOrder = append(c.earlyOrder, id)
	}
	if len(c.early[id]) < maxEarlyEach {
		c.early[id] = append(c.early[id], payload)
	}
}

func (c *Client) resubscribe() {
	c.mu.Lock()
	subs := make([]*Subscription, 0, len(c.subs))
	for s := range c.subs {
		subs = append(subs, s)
	}
	c.mu.Unlock()
	for _, s := range subs {
		s.mu.Lock()
		s.id = ""
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), c.opts.CallTimeout)
		err := s.subscribe(ctx)
		cancel()
		if err != nil {
			// The next drop retries; a subscription that cannot be
			// renewed on a live socket ends with the reason.
			if !IsRetriable(err) {
				s.finish(fmt.Errorf("resubscribe %s: %w", s.method, err))
			}
			continue
		}
	}
}

func (c *Client) notify(id string, payload json.RawMessage) {
	c.mu.Lock()
	var target *Subscription
	for s := range c.subs {
		s.mu.Lock()
		match := s.id == id
		s.mu.Unlock()
		if match {
			target = s
			break
		}
	}
	if target == nil {
		c.keepEarly(id, payload)
	}
	c.mu.Unlock()
	if target != nil {
		target.deliver(payload)
	}
}

// deliver queues a notification, dropping the oldest when the consumer is
// behind: for head subscriptions the newest matters.
func (s *Subscription) deliver(payload json.RawMessage) {
	select {
	case s.ch <- payload:
		s.delivered.Add(1)
	default:
		select {
		case <-s.ch:
			s.dropped.Add(1)
		default:
		}
		select {
		case s.ch <- payload:
		default:
			s.dropped.Add(1)
		}
	}
}

func (s *Subscription) finish(err error) {
	s.c.mu.Lock()
	_, live := s.c.subs[s]
	delete(s.c.subs, s)
	s.c.mu.Unlock()
	if !live {
		return
	}
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
	close(s.done)
}

// Unsubscribe ends the subscription and tells the node.
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	s.mu.Lock()
	id := s.id
	s.mu.Unlock()
	s.finish(ErrClosed)
	if id == "" || s.unsub == "" {
		return nil
	}
	var ok bool
	err := s.c.Call(ctx, s.unsub, []any{id}, &ok)
	if err != nil && !errors.Is(err, ErrClosed) && !IsRetriable(err) {
		return err
	}
	return nil
}

// HexNumber decodes the "0x…" block numbers of headers.
func HexNumber(s string) (uint64, error) {
	if len(s) < 3 || s[:2] != "0x" {
		return 0, fmt.Errorf("not a 0x number: %q", s)
	}
	return strconv.ParseUint(s[2:], 16, 64)
}
