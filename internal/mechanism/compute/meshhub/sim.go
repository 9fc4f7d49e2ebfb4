package meshhub

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
)

// Sim is a MeshHub for tests and the demo: it takes validators' sessions
// (with an access token, when it has one), keeps what they send, and
// publishes lease scores and config updates to them.
type Sim struct {
	Hotkey string // the hub's SS58
	Token  string // when set, validators must present it

	mu       sync.Mutex
	conns    map[*simConn]bool
	received []Received
}

// Received is one message a validator sent, decrypted.
type Received struct {
	Validator string
	Type      string
	Body      json.RawMessage
}

type simConn struct {
	ws   *websocket.Conn
	sess *session
}

// NewSim returns a hub answering as hotkey.
func NewSim(hotkey, token string) *Sim {
	return &Sim{Hotkey: hotkey, Token: token, conns: map[*simConn]bool{}}
}

// Messages returns what validators sent so far, of type typ ("" for all).
func (s *Sim) Messages(typ string) []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Received
	for _, r := range s.received {
		if typ == "" || r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Sessions is the number of validators connected.
func (s *Sim) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// ServeHTTP takes one validator's session.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer ws.CloseNow()
	ws.SetReadLimit(MaxFrame)
	ctx := r.Context()
	sess, err := s.handshake(ctx, ws)
	if err != nil {
		return
	}
	c := &simConn{ws: ws, sess: sess}
	s.mu.Lock()
	s.conns[c] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return
		}
		var f frame
		if json.Unmarshal(b, &f) != nil {
			continue
		}
		pt, err := sess.open(f)
		if err != nil {
			code := CodeSessionUnknown
			if errors.Is(err, ErrReplay) {
				code = CodeSequence
			}
			s.refuse(ctx, ws, code)
			return
		}
		s.mu.Lock()
		s.received = append(s.received, Received{Validator: sess.peer, Type: f.Type, Body: pt})
		s.mu.Unlock()
	}
}

func (s *Sim) refuse(ctx context.Context, ws *websocket.Conn, code int) {
	data, _ := json.Marshal(errorData{Code: code})
	b, _ := json.Marshal(frame{Type: TypeError, Timestamp: nowMS(), Data: data})
	_ = ws.Write(ctx, websocket.MessageText, b)
}

func (s *Sim) handshake(ctx context.Context, ws *websocket.Conn) (*session, error) {
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, b, err := ws.Read(hctx)
	if err != nil {
		return nil, err
	}
	var f frame
	var in sessionInit
	if json.Unmarshal(b, &f) != nil || f.Type != TypeSessionInit || json.Unmarshal(f.Data, &in) != nil || in.ValidatorHotkey == "" {
		s.refuse(ctx, ws, CodeSessionRequired)
		return nil, errors.New("no session init")
	}
	if s.Token != "" && subtle.ConstantTimeCompare([]byte(in.AccessToken), []byte(s.Token)) != 1 {
		s.refuse(ctx, ws, CodeBadAuth)
		return nil, errors.New("bad access token")
	}
	clientPub, err := decodeFixed(in.ClientPublicKey, 32, "clientPublicKey")
	if err != nil {
		s.refuse(ctx, ws, CodeSessionRequired)
		return nil, err
	}
	clientNonce, err := decodeFixed(in.ClientNonce, 16, "clientNonce")
	if err != nil {
		s.refuse(ctx, ws, CodeSessionRequired)
		return nil, err
	}
	priv, pubB64, nonce, nonceB64, err := ephemeral()
	if err != nil {
		return nil, err
	}
	keys, err := derive(priv, clientPub, clientNonce, nonce, in.ValidatorHotkey, s.Hotkey, in.ClientPublicKey, pubB64)
	if err != nil {
		return nil, err
	}
	id := uuid.NewString()
	data, _ := json.Marshal(sessionInitResponse{SessionID: id, ValidatorEphemeralPublicKey: pubB64, ServerNonce: nonceB64, ServerHotkey: s.Hotkey})
	out, _ := json.Marshal(frame{Type: TypeSessionInitResponse, Timestamp: nowMS(), Data: data})
	if err := ws.Write(hctx, websocket.MessageText, out); err != nil {
		return nil, err
	}
	return newSession(id, s.Hotkey, in.ValidatorHotkey, keys.ServerToClient, keys.ClientToServer), nil
}

// Publish sends a message of type typ to every connected validator.
func (s *Sim) Publish(ctx context.Context, typ string, body any) error {
	s.mu.Lock()
	conns := make([]*simConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	if len(conns) == 0 {
		return errors.New("no validator connected")
	}
	for _, c := range conns {
		b, err := c.sess.seal(typ, body)
		if err != nil {
			return err
		}
		if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
			return err
		}
	}
	return nil
}

// PublishLeases publishes lease scores.
func (s *Sim) PublishLeases(ctx context.Context, scores []WorkerScore) error {
	return s.Publish(ctx, TypeLeasePublish, LeasePublish{WorkerScores: scores})
}
