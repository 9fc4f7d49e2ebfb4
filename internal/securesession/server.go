package securesession

import (
	"crypto/rand"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"io"
	"sync"
	"time"
)

// Option configures a Server or a Client.
type Option func(*options)

type options struct {
	now  func() time.Time
	rand io.Reader
}

// WithClock sets the time source (time.Now by default).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithRand sets the source of ephemeral keys, nonces and session ids
// (crypto/rand by default). Only tests should replace it.
func WithRand(r io.Reader) Option { return func(o *options) { o.rand = r } }

func buildOptions(opts []Option) options {
	o := options{now: time.Now, rand: rand.Reader}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Session is a validator-side session. Its fields are guarded by the owning
// Server's mutex; the accessors are safe to call at any time.
type Session struct {
	id      string
	peer    string
	keys    Keys
	prefix  [4]byte
	expires int64  // Unix ns; an int64 keeps the struct small
	seqOut  uint64 // last seq sealed towards the miner
	recv    replayWindow
	removed bool
}

// ID is the session id sent to the miner.
func (s *Session) ID() string { return s.id }

// PeerHotkey is the hotkey that opened the session.
func (s *Session) PeerHotkey() string { return s.peer }

// ExpiresAt is when the session stops being accepted.
func (s *Session) ExpiresAt() time.Time { return time.Unix(0, s.expires) }

type serverPeer struct {
	// sessions in least-recently-used order (front = evicted first).
	sessions []*Session
	// handshake times (Unix ns) of the sliding rate-limit window, oldest first.
	attempts []int64
}

// Server is the validator side: it answers handshakes and opens and seals
// records for the sessions it created. It is safe for concurrent use.
//
// Compared with the reference it additionally binds each session to the
// hotkey that opened it, counts the rate limit before evicting anything, and
// evicts only when a new session is really created.
type Server struct {
	hotkey string
	opts   options

	mu        sync.Mutex
	sessions  map[string]*Session
	peers     map[string]*serverPeer
	lastSweep int64 // Unix ns
}

// NewServer returns a server for the validator with the given ss58 hotkey.
func NewServer(hotkey string, opts ...Option) *Server {
	return &Server{
		hotkey:   hotkey,
		opts:     buildOptions(opts),
		sessions: map[string]*Session{},
		peers:    map[string]*serverPeer{},
	}
}

// Hotkey is the validator hotkey the server answers as.
func (s *Server) Hotkey() string { return s.hotkey }

// Handshake answers a SESSION_INIT_V1 request from peerHotkey (the verified
// dendrite hotkey). The returned string goes into synapse.response in every
// case: a SessionInitResponse, or on failure the plaintext error JSON of the
// returned *Error (code 4018).
func (s *Server) Handshake(peerHotkey, request string) (string, error) {
	resp, err := s.handshake(peerHotkey, request)
	if err != nil {
		return err.Response(), err
	}
	return resp, nil
}

func (s *Server) handshake(peer, request string) (string, *Error) {
	if !validHotkey(peer) {
		return "", errorf(computeproto.CodeHandshakeFailed, "Handshake failed: invalid peer hotkey")
	}
	if !s.allowHandshake(peer) {
		return "", errorf(computeproto.CodeHandshakeFailed, "Handshake rate limit exceeded: %d/%d in %ds",
			HandshakeRateLimit, HandshakeRateLimit, int(HandshakeRateWindow/time.Second))
	}
	req, minerPub, clientNonce, err := ParseSessionInitRequest(request)
	if err != nil {
		return "", errorf(computeproto.CodeHandshakeFailed, "Handshake failed: %v", err)
	}
	priv, ourPub, err := newEphemeral(s.opts.rand)
	if err != nil {
		return "", errorf(computeproto.CodeHandshakeFailed, "Handshake failed: %v", err)
	}
	shared, err := SharedSecret(priv, minerPub)
	if err != nil {
		return "", errorf(computeproto.CodeHandshakeFailed, "Handshake failed: %v", err)
	}
	serverNonce, err := randBytes(s.opts.rand, NonceSize)
	if err != nil {
		return "", errorf(computeproto.CodeHandshakeFailed, "Handshake failed: %v", err)
	}
	keys, err := DeriveKeys(shared, clientNonce, serverNonce, peer, s.hotkey, req.MinerEphPub32, ourPub)
	if err != nil {
		return "", errorf(computeproto.CodeHandshakeFailed, "Handshake failed: %v", err)
	}
	id, err := newUUID4(s.opts.rand)
	if err != nil {
		return "", errorf(computeproto.CodeHandshakeFailed, "Handshake failed: %v", err)
	}
	now := s.opts.now()
	sess := &Session{
		id:      id,
		peer:    peer,
		keys:    keys,
		prefix:  ivPrefix(id),
		expires: now.Add(SessionTTL).UnixNano(),
	}
	s.mu.Lock()
	p := s.peer(peer)
	for len(p.sessions) >= MaxSessionsPerPeer {
		s.removeLocked(p.sessions[0])
	}
	s.sessions[id] = sess
	p.sessions = append(p.sessions, sess)
	s.mu.Unlock()

	out, err := computeproto.Marshal(SessionInitResponse{
		ValidatorEphPub32: ourPub,
		SessionID:         id,
		ServerNonce16:     base64Std(serverNonce),
		ExpiresAt:         computeproto.PyFloat(unixSeconds(now.Add(SessionTTL))),
	})
	if err != nil {
		return "", errorf(computeproto.CodeHandshakeFailed, "Handshake failed: %v", err)
	}
	return string(out), nil
}

// allowHandshake applies the sliding limit of HandshakeRateLimit handshakes
// per HandshakeRateWindow; every allowed attempt counts, valid or not.
func (s *Server) allowHandshake(peer string) bool {
	now := s.opts.now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now-s.lastSweep >= int64(CleanupInterval) {
		s.sweepLocked(now)
	}
	p := s.peer(peer)
	p.attempts = pruneAttempts(p.attempts, now)
	if len(p.attempts) >= HandshakeRateLimit {
		return false
	}
	p.attempts = append(p.attempts, now)
	return true
}

// pruneAttempts drops attempts older than the window, reusing the array.
func pruneAttempts(a []int64, now int64) []int64 {
	cut := now - int64(HandshakeRateWindow)
	i := 0
	for i < len(a) && a[i] < cut {
		i++
	}
	if i == 0 {
		return a
	}
	n := copy(a, a[i:])
	return a[:n]
}

func (s *Server) peer(hotkey string) *serverPeer {
	p := s.peers[hotkey]
	if p == nil {
		p = &serverPeer{}
		s.peers[hotkey] = p
	}
	return p
}

// removeLocked forgets a session; the peer entry stays for the rate limit
// until Sweep drops it.
func (s *Server) removeLocked(sess *Session) {
	if sess.removed {
		return
	}
	sess.removed = true
	delete(s.sessions, sess.id)
	if p := s.peers[sess.peer]; p != nil {
		for i, x := range p.sessions {
			if x == sess {
				p.sessions = append(p.sessions[:i], p.sessions[i+1:]...)
				break
			}
		}
	}
	sess.keys = Keys{}
}

// lookupLocked finds a live session of peer. A session of another hotkey is
// reported as unknown (4011): the binding is stricter than the reference,
// and answering "unknown" reveals nothing about other peers' sessions while
// an honest client simply re-handshakes.
func (s *Server) lookupLocked(id, peer string, now int64) (*Session, *Error) {
	sess := s.sessions[id]
	if sess == nil || sess.peer != peer {
		return nil, errorf(computeproto.CodeSessionUnknown, "Session not found: %s", id)
	}
	if now > sess.expires {
		s.removeLocked(sess)
		return nil, errorf(computeproto.CodeSessionExpired, "Session expired: %s", id)
	}
	return sess, nil
}

// Open authenticates and decrypts a record that peerHotkey (the verified
// dendrite hotkey) sent to the protocolType endpoint. On failure the error
// is an *Error whose Response() is the answer to send back.
//
// Codes: 4011 a malformed package, clear fields that do not match
// (version, sender, recipient, synapse type), an unknown session, a session
// of another hotkey, or failed authentication; 4012 expired session; 4020
// replayed or out-of-window sequence number. The replay window is only
// consulted after authentication, so forged records cannot move it.
func (s *Server) Open(peerHotkey, protocolType, pkg string) ([]byte, *Session, error) {
	p, ct, err := ParsePackage(pkg)
	if err != nil {
		return nil, nil, err
	}
	if err := checkEnvelope(p, peerHotkey, s.hotkey, protocolType); err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	sess, lerr := s.lookupLocked(p.SessionID, peerHotkey, s.opts.now().UnixNano())
	var key [KeySize]byte
	var prefix [4]byte
	if lerr == nil {
		key, prefix = sess.keys.ClientToServer, sess.prefix
	}
	s.mu.Unlock()
	if lerr != nil {
		return nil, nil, lerr
	}
	pt, err := openRecord(key[:], prefix, p, ct)
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess.removed {
		return nil, nil, errorf(computeproto.CodeSessionUnknown, "Session not found: %s", p.SessionID)
	}
	// seq 0 is never sent (senders pre-increment from 0).
	if p.Seq == 0 || !sess.recv.accept(p.Seq) {
		return nil, nil, &Error{Code: computeproto.CodeSequenceError, Message: SequenceErrorMessage}
	}
	s.touchLocked(sess)
	return pt, sess, nil
}

// touchLocked marks sess as most recently used.
func (s *Server) touchLocked(sess *Session) {
	p := s.peers[sess.peer]
	if p == nil {
		return
	}
	for i, x := range p.sessions {
		if x == sess {
			copy(p.sessions[i:], p.sessions[i+1:])
			p.sessions[len(p.sessions)-1] = sess
			return
		}
	}
}

// Seal encrypts a validator->miner record for sess with k_sc and the
// session's next outgoing sequence number.
func (s *Server) Seal(sess *Session, protocolType string, plaintext []byte) (string, error) {
	s.mu.Lock()
	if sess.removed {
		s.mu.Unlock()
		return "", errorf(computeproto.CodeSessionUnknown, "Session not found: %s", sess.id)
	}
	if s.opts.now().UnixNano() > sess.expires {
		s.removeLocked(sess)
		s.mu.Unlock()
		return "", errorf(computeproto.CodeSessionExpired, "Session expired: %s", sess.id)
	}
	if sess.seqOut == MaxSeq {
		s.removeLocked(sess)
		s.mu.Unlock()
		return "", errorf(computeproto.CodeRehandshakeRequired, "Session sequence exhausted, re-handshake required")
	}
	sess.seqOut++
	seq, key := sess.seqOut, sess.keys.ServerToClient
	s.mu.Unlock()
	return sealRecord(key[:], sess.prefix, sess.id, seq, s.hotkey, sess.peer, protocolType, plaintext)
}

// Invalidate forgets a session.
func (s *Server) Invalidate(sessionID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess := s.sessions[sessionID]; sess != nil {
		s.removeLocked(sess)
	}
}

// Sweep removes expired sessions and peers with neither sessions nor recent
// handshakes; it returns the number of sessions removed. Handshakes run it
// every CleanupInterval, so the tables stay bounded without a caller;
// expired sessions are also refused on lookup.
func (s *Server) Sweep() int {
	now := s.opts.now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sweepLocked(now)
}

func (s *Server) sweepLocked(now int64) int {
	s.lastSweep = now
	n := 0
	for _, sess := range s.sessions {
		if now > sess.expires {
			s.removeLocked(sess)
			n++
		}
	}
	for hotkey, p := range s.peers {
		p.attempts = pruneAttempts(p.attempts, now)
		if len(p.sessions) == 0 && len(p.attempts) == 0 {
			delete(s.peers, hotkey)
		}
	}
	return n
}

// Len is the number of sessions held.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// PeerSessions lists the session ids of peer, least recently used first.
func (s *Server) PeerSessions(peer string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	if p := s.peers[peer]; p != nil {
		for _, sess := range p.sessions {
			ids = append(ids, sess.id)
		}
	}
	return ids
}
