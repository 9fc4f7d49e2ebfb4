package meshhub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/vigil-validator/vigil/internal/securesession"
)

// Config is the validator's MeshHub link; DefaultConfig has the
// reference's intervals.
type Config struct {
	URL               string
	ValidatorHotkey   string // SS58
	AccessToken       string
	ClientVersion     string
	Capabilities      []string
	HeartbeatInterval time.Duration // 60 s
	ReportInterval    time.Duration // 90 s (at least 5 s)
	ReconnectDelay    time.Duration // 30 s
	HandshakeTimeout  time.Duration // 30 s
}

// DefaultConfig is the reference's.
func DefaultConfig() Config {
	return Config{ClientVersion: "vigil", HeartbeatInterval: time.Minute, ReportInterval: 90 * time.Second,
		ReconnectDelay: 30 * time.Second, HandshakeTimeout: 30 * time.Second}
}

// Handlers are what the validator does with MeshHub's messages.
type Handlers struct {
	// Leases stores published lease scores, already checked.
	Leases func(ctx context.Context, leases []Lease) error
	// Config applies a config update's roots (validation,
	// weight_management); an error acknowledges it as failed.
	Config func(ctx context.Context, roots map[string]json.RawMessage) error
	// Stats is the heartbeat's statistics.
	Stats func() Statistics
	// Resources lists every miner and its workers for resource reports.
	Resources func(ctx context.Context) []ResourceMiner
}

// Client keeps a session with MeshHub while Run runs.
type Client struct {
	cfg Config
	h   Handlers
	log *slog.Logger

	mu      sync.Mutex
	ws      *websocket.Conn
	sess    *session
	sent    map[string]string // workerKey → hash of its last reported state
	since   time.Time         // the last report
	started time.Time
}

// New returns a client; Run connects it.
func New(cfg Config, h Handlers, log *slog.Logger) *Client {
	return &Client{cfg: cfg, h: h, log: log, sent: map[string]string{}, started: time.Now()}
}

// Run connects, and reconnects after ReconnectDelay, until ctx ends.
func (c *Client) Run(ctx context.Context) error {
	for {
		err := c.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		c.log.Warn("meshhub session ended; reconnecting", "err", err, "in", c.cfg.ReconnectDelay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(c.cfg.ReconnectDelay):
		}
	}
}

// Connected reports whether a session is established now.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess != nil
}

func (c *Client) session(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hctx, hcancel := context.WithTimeout(ctx, c.cfg.HandshakeTimeout)
	defer hcancel()
	ws, _, err := websocket.Dial(hctx, c.cfg.URL, nil)
	if err != nil {
		return fmt.Errorf("dial %s: %w", c.cfg.URL, err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(MaxFrame)
	sess, err := c.handshake(hctx, ws)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.ws, c.sess = ws, sess
	c.sent, c.since = map[string]string{}, time.Time{} // a new session starts with a full report
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.ws, c.sess = nil, nil
		c.mu.Unlock()
	}()
	c.log.Info("meshhub session established", "session", sess.id, "server", sess.peer)
	go c.loop(ctx, c.cfg.HeartbeatInterval, c.heartbeat)
	go c.loop(ctx, max(c.cfg.ReportInterval, 5*time.Second), c.report)
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return err
		}
		if err := c.handle(ctx, sess, b); err != nil {
			return err
		}
	}
}

func (c *Client) handshake(ctx context.Context, ws *websocket.Conn) (*session, error) {
	priv, pubB64, nonce, nonceB64, err := ephemeral()
	if err != nil {
		return nil, err
	}
	init, _ := json.Marshal(sessionInit{ValidatorHotkey: c.cfg.ValidatorHotkey, AccessToken: c.cfg.AccessToken, ClientVersion: c.cfg.ClientVersion,
		Capabilities: append([]string{}, c.cfg.Capabilities...), ClientPublicKey: pubB64, ClientNonce: nonceB64})
	b, _ := json.Marshal(frame{Type: TypeSessionInit, Timestamp: nowMS(), Data: init})
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		return nil, err
	}
	_, b, err = ws.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	if f.Type == TypeError {
		var e errorData
		_ = json.Unmarshal(f.Data, &e)
		return nil, fmt.Errorf("handshake refused: code %d", e.Code)
	}
	var r sessionInitResponse
	if f.Type != TypeSessionInitResponse || json.Unmarshal(f.Data, &r) != nil || r.SessionID == "" || r.ServerHotkey == "" {
		return nil, errors.New("handshake: not a session init response")
	}
	peer, err := decodeFixed(r.ValidatorEphemeralPublicKey, 32, "validatorEphemeralPublicKey")
	if err != nil {
		return nil, err
	}
	serverNonce, err := decodeFixed(r.ServerNonce, securesession.NonceSize, "serverNonce")
	if err != nil {
		return nil, err
	}
	keys, err := derive(priv, peer, nonce, serverNonce, c.cfg.ValidatorHotkey, r.ServerHotkey, pubB64, r.ValidatorEphemeralPublicKey)
	if err != nil {
		return nil, err
	}
	return newSession(r.SessionID, c.cfg.ValidatorHotkey, r.ServerHotkey, keys.ClientToServer, keys.ServerToClient), nil
}

func (c *Client) loop(ctx context.Context, every time.Duration, fn func(context.Context) error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("meshhub message not sent", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// send seals and writes one message on the current session.
func (c *Client) send(ctx context.Context, typ string, v any) error {
	c.mu.Lock()
	ws, sess := c.ws, c.sess
	c.mu.Unlock()
	if sess == nil {
		return errors.New("no meshhub session")
	}
	b, err := sess.seal(typ, v)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return ws.Write(wctx, websocket.MessageText, b)
}

func (c *Client) heartbeat(ctx context.Context) error {
	var st Statistics
	if c.h.Stats != nil {
		st = c.h.Stats()
	}
	st.UptimeMS = time.Since(c.started).Milliseconds()
	return c.send(ctx, TypeHeartbeat, Heartbeat{Version: c.cfg.ClientVersion, Statistics: st})
}

// report sends the workers whose state changed since the last report
// (every one on a session's first), at most ReportChunk a message.
func (c *Client) report(ctx context.Context) error {
	if c.h.Resources == nil {
		return nil
	}
	miners := c.h.Resources(ctx)
	c.mu.Lock()
	mode, since := "delta", c.since
	if since.IsZero() {
		mode = "full"
	}
	var changed []ResourceMiner
	hashes := map[string]string{}
	for _, m := range miners {
		var ws []ResourceWorker
		for _, w := range m.Workers {
			b, _ := json.Marshal(w)
			sum := sha256.Sum256(b)
			h := hex.EncodeToString(sum[:])
			hashes[w.WorkerKey] = h
			if mode == "full" || c.sent[w.WorkerKey] != h {
				ws = append(ws, w)
			}
		}
		if len(ws) > 0 {
			changed = append(changed, ResourceMiner{Hotkey: m.Hotkey, Status: m.Status, Version: m.Version, Workers: ws})
		}
	}
	c.mu.Unlock()
	if mode == "delta" && len(changed) == 0 {
		return nil
	}
	for _, chunk := range chunks(changed, ReportChunk) {
		r := ResourceReport{Miners: chunk, Mode: mode}
		if mode == "delta" {
			r.Since = since.UTC().Format(time.RFC3339)
		}
		if err := c.send(ctx, TypeResourceReport, r); err != nil {
			return err
		}
	}
	c.mu.Lock()
	for k, h := range hashes {
		c.sent[k] = h
	}
	c.since = time.Now()
	c.mu.Unlock()
	return nil
}

// chunks splits miners so that no chunk carries more than n workers.
func chunks(miners []ResourceMiner, n int) [][]ResourceMiner {
	var out [][]ResourceMiner
	var cur []ResourceMiner
	count := 0
	for _, m := range miners {
		for len(m.Workers) > 0 {
			take := min(n-count, len(m.Workers))
			cur = append(cur, ResourceMiner{Hotkey: m.Hotkey, Status: m.Status, Version: m.Version, Workers: m.Workers[:take]})
			m.Workers = m.Workers[take:]
			count += take
			if count == n {
				out, cur, count = append(out, cur), nil, 0
			}
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// ReportScores sends a weight pass: the miners' weights first, then the
// workers' scores in chunks.
func (c *Client) ReportScores(ctx context.Context, miners []MinerWeight, workers []json.RawMessage) error {
	sort.Slice(miners, func(i, j int) bool { return miners[i].Hotkey < miners[j].Hotkey })
	now := time.Now().UTC().Format(time.RFC3339)
	if err := c.send(ctx, TypeScoreReport, map[string]any{"minerScores": miners, "effectiveAt": now, "timestamp": now, "version": "1.0"}); err != nil {
		return err
	}
	for i := 0; i < len(workers); i += ReportChunk {
		if err := c.send(ctx, TypeScoreReport, map[string]any{"workerScores": workers[i:min(i+ReportChunk, len(workers))]}); err != nil {
			return err
		}
	}
	return nil
}

// handle processes one inbound frame; an error ends the session.
func (c *Client) handle(ctx context.Context, sess *session, b []byte) error {
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		c.log.Warn("meshhub frame is not JSON", "err", err)
		return nil
	}
	if f.Type == TypeError && f.Encrypted == nil {
		var e errorData
		_ = json.Unmarshal(f.Data, &e)
		switch e.Code {
		case CodeBadAuth, CodeSessionRequired, CodeSessionUnknown, CodeSequence:
			return fmt.Errorf("meshhub error %d: the session is over", e.Code)
		}
		c.log.Warn("meshhub error", "code", e.Code)
		return nil
	}
	pt, err := sess.open(f)
	if err != nil {
		c.log.Warn("meshhub record refused", "type", f.Type, "err", err)
		return nil
	}
	msgID := uuid.NewString()
	var ackErr error
	switch f.Type {
	case TypeLeasePublish:
		var p LeasePublish
		if err := json.Unmarshal(pt, &p); err != nil {
			ackErr = err
			break
		}
		leases, err := CheckLeases(p)
		if err != nil {
			ackErr = err
			break
		}
		if c.h.Leases != nil {
			ackErr = c.h.Leases(ctx, leases)
		}
	case TypeConfigUpdate:
		roots, err := CheckConfigUpdate(pt)
		if err != nil {
			ackErr = err
			break
		}
		if c.h.Config != nil {
			ackErr = c.h.Config(ctx, roots)
		}
	case TypeTaskPublish:
	case TypeAck:
		return nil
	default:
		c.log.Warn("unknown meshhub message", "type", f.Type)
		return nil
	}
	status := "accepted"
	var meta json.RawMessage
	if ackErr != nil {
		status = "failed"
		meta, _ = json.Marshal(map[string]string{"error": ackErr.Error()})
		c.log.Warn("meshhub message refused", "type", f.Type, "err", ackErr)
	}
	return c.send(ctx, TypeAck, Ack{MessageID: msgID, MessageType: f.Type, Status: status, Metadata: meta})
}
