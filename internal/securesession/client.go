package securesession

import (
	"context"
	"errors"
	"fmt"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"sync"
)

// HandshakeFunc delivers a SESSION_INIT_V1 request to the validator with the
// given hotkey and returns its synapse.response string.
type HandshakeFunc func(ctx context.Context, validatorHotkey, request string) (string, error)

// SendFunc delivers an encrypted request package (synapse.request) and
// returns the synapse.response string.
type SendFunc func(ctx context.Context, request string) (string, error)

// Client is the miner side: one session per validator hotkey, created on
// demand with a single handshake in flight per validator. It is safe for
// concurrent use.
type Client struct {
	hotkey    string
	handshake HandshakeFunc
	opts      options

	mu    sync.Mutex
	peers map[string]*clientPeer
}

type clientPeer struct {
	gate chan struct{} // capacity 1: held while a handshake is in flight
	sess *clientSession
}

type clientSession struct {
	id        string
	validator string
	keys      Keys
	prefix    [4]byte
	expiresAt float64 // validator clock, Unix seconds

	mu     sync.Mutex
	seqOut uint64
	recv   replayWindow
	dead   bool
}

// NewClient returns a client for the miner with the given ss58 hotkey;
// handshake carries SESSION_INIT_V1 requests.
func NewClient(hotkey string, handshake HandshakeFunc, opts ...Option) *Client {
	return &Client{hotkey: hotkey, handshake: handshake, opts: buildOptions(opts), peers: map[string]*clientPeer{}}
}

// Hotkey is the miner hotkey the client speaks as.
func (c *Client) Hotkey() string { return c.hotkey }

// SessionID is the id of the cached session with validator ("" if none).
func (c *Client) SessionID(validator string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.peers[validator]; p != nil && p.sess != nil {
		return p.sess.id
	}
	return ""
}

// Invalidate drops the cached session with validator.
func (c *Client) Invalidate(validator string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.peers[validator]; p != nil && p.sess != nil {
		p.sess.kill()
		p.sess = nil
	}
}

// drop forgets sess if it is still the cached one (a concurrent caller may
// already have replaced it).
func (c *Client) drop(sess *clientSession) {
	sess.kill()
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.peers[sess.validator]; p != nil && p.sess == sess {
		p.sess = nil
	}
}

func (cs *clientSession) kill() {
	cs.mu.Lock()
	cs.dead = true
	cs.mu.Unlock()
}

// usable reports whether the session may carry another request: alive and
// not within NearExpiryThreshold of the validator's expiry.
func (c *Client) usable(cs *clientSession) bool {
	cs.mu.Lock()
	dead := cs.dead
	cs.mu.Unlock()
	return !dead && cs.expiresAt-unixSeconds(c.opts.now()) >= NearExpiryThreshold.Seconds()
}

// session returns a usable session with validator, handshaking when needed.
func (c *Client) session(ctx context.Context, validator string) (*clientSession, error) {
	c.mu.Lock()
	p := c.peers[validator]
	if p == nil {
		p = &clientPeer{gate: make(chan struct{}, 1)}
		c.peers[validator] = p
	}
	c.mu.Unlock()

	select {
	case p.gate <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-p.gate }()

	c.mu.Lock()
	cs := p.sess
	c.mu.Unlock()
	if cs != nil && c.usable(cs) {
		return cs, nil
	}
	cs, err := c.doHandshake(ctx, validator)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	p.sess = cs
	c.mu.Unlock()
	return cs, nil
}

func (c *Client) doHandshake(ctx context.Context, validator string) (*clientSession, error) {
	if !validHotkey(validator) || !validHotkey(c.hotkey) {
		return nil, errorf(computeproto.CodeHandshakeFailed, "invalid hotkey")
	}
	priv, ourPub, err := newEphemeral(c.opts.rand)
	if err != nil {
		return nil, err
	}
	clientNonce, err := randBytes(c.opts.rand, NonceSize)
	if err != nil {
		return nil, err
	}
	req, err := computeproto.Marshal(SessionInitRequest{
		MinerEphPub32: ourPub,
		ClientNonce16: base64Std(clientNonce),
		CreatedAt:     computeproto.PyFloat(unixSeconds(c.opts.now())),
	})
	if err != nil {
		return nil, err
	}
	hctx, cancel := context.WithTimeout(ctx, HandshakeTimeout)
	defer cancel()
	raw, err := c.handshake(hctx, validator, string(req))
	if err != nil {
		return nil, fmt.Errorf("securesession: handshake with %s: %w", validator, err)
	}
	resp, validatorPub, serverNonce, err := ParseSessionInitResponse(raw)
	if err != nil {
		return nil, err
	}
	shared, err := SharedSecret(priv, validatorPub)
	if err != nil {
		return nil, errorf(computeproto.CodeHandshakeFailed, "key agreement failed: %v", err)
	}
	keys, err := DeriveKeys(shared, clientNonce, serverNonce, c.hotkey, validator, ourPub, resp.ValidatorEphPub32)
	if err != nil {
		return nil, err
	}
	return &clientSession{
		id:        resp.SessionID,
		validator: validator,
		keys:      keys,
		prefix:    ivPrefix(resp.SessionID),
		expiresAt: float64(resp.ExpiresAt),
	}, nil
}

// Exchange sends plaintext to validator's protocolType endpoint and returns
// the decrypted answer. It handshakes when no usable session is cached.
//
// Decision order on the answer, as the Python miners do: a plaintext error
// first (codes 4020, 4012, 4011, 4013 drop the session and retry once with a
// new handshake; any error code comes back as *Error), then the encrypted
// path, where a replayed or out-of-window sequence number from the validator
// also drops the session and retries once. A transport error or a record
// that fails to open drops the session and is returned without a retry.
func (c *Client) Exchange(ctx context.Context, validator, protocolType string, plaintext []byte, send SendFunc) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		out, retry, err := c.exchangeOnce(ctx, validator, protocolType, plaintext, send)
		if retry && attempt == 0 {
			continue
		}
		return out, err
	}
}

func (c *Client) exchangeOnce(ctx context.Context, validator, protocolType string, plaintext []byte, send SendFunc) ([]byte, bool, error) {
	cs, err := c.session(ctx, validator)
	if err != nil {
		return nil, false, err
	}
	cs.mu.Lock()
	if cs.dead {
		cs.mu.Unlock()
		return nil, true, errorf(computeproto.CodeSessionUnknown, "session dropped")
	}
	if cs.seqOut == MaxSeq {
		cs.mu.Unlock()
		c.drop(cs)
		return nil, true, errorf(computeproto.CodeRehandshakeRequired, "session sequence exhausted")
	}
	cs.seqOut++
	seq := cs.seqOut
	cs.mu.Unlock()

	pkg, err := sealRecord(cs.keys.ClientToServer[:], cs.prefix, cs.id, seq, c.hotkey, validator, protocolType, plaintext)
	if err != nil {
		return nil, false, err
	}
	resp, err := send(ctx, pkg)
	if err != nil {
		c.drop(cs)
		return nil, false, err
	}
	if code, msg, ok := ParseErrorResponse(resp); ok {
		if retryable(code) {
			c.drop(cs)
			return nil, true, &Error{Code: code, Message: msg}
		}
		return nil, false, &Error{Code: code, Message: msg}
	}
	p, ct, err := ParsePackage(resp)
	if err == nil {
		err = checkEnvelope(p, validator, c.hotkey, protocolType)
	}
	if err == nil && p.SessionID != cs.id {
		err = errorf(computeproto.CodeBadAAD, "Session id mismatch: got %s, expected %s", p.SessionID, cs.id)
	}
	var out []byte
	if err == nil {
		out, err = openRecord(cs.keys.ServerToClient[:], cs.prefix, p, ct)
	}
	if err != nil {
		c.drop(cs)
		var e *Error
		if errors.As(err, &e) {
			// Whatever went wrong, the answer did not authenticate.
			return nil, false, &Error{Code: computeproto.CodeBadAAD, Message: "Session response decryption failed: " + e.Message}
		}
		return nil, false, err
	}
	cs.mu.Lock()
	ok := p.Seq != 0 && cs.recv.accept(p.Seq)
	cs.mu.Unlock()
	if !ok {
		c.drop(cs)
		return nil, true, &Error{Code: computeproto.CodeSequenceError, Message: fmt.Sprintf("Invalid incoming sequence: %d", p.Seq)}
	}
	return out, false, nil
}
