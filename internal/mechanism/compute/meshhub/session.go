package meshhub

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/vigil-validator/vigil/internal/securesession"
)

// session is one side of an established MeshHub session: records out
// under one key with a counter, records in under the other, each checked
// for its fields and against a replay window (the reference checks none
// inbound).
type session struct {
	id         string
	self, peer string
	sendKey    []byte
	recvKey    []byte

	mu     sync.Mutex
	seqOut uint64
	replay *securesession.ReplayWindow
}

func newSession(id, self, peer string, send, recv [securesession.KeySize]byte) *session {
	return &session{id: id, self: self, peer: peer, sendKey: send[:], recvKey: recv[:], replay: securesession.NewReplayWindow()}
}

// seal frames v as an encrypted message of type typ.
func (s *session) seal(typ string, v any) ([]byte, error) {
	pt, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.seqOut++
	seq := s.seqOut
	s.mu.Unlock()
	ct, err := securesession.Seal(s.sendKey, s.id, seq, s.self, s.peer, typ, pt)
	if err != nil {
		return nil, err
	}
	return json.Marshal(frame{Type: typ, Timestamp: nowMS(), Encrypted: &envelope{Version: "v1", SessionID: s.id, Sequence: seq,
		Ciphertext: base64.StdEncoding.EncodeToString(ct), Sender: s.self, Recipient: s.peer, MessageType: typ}})
}

// Errors opening a record.
var (
	ErrEnvelope = errors.New("record envelope does not match the session")
	ErrReplay   = errors.New("record sequence replayed or out of window")
)

// open decrypts an encrypted frame and returns its plaintext.
func (s *session) open(f frame) ([]byte, error) {
	e := f.Encrypted
	if e == nil || e.Version != "v1" || e.SessionID != s.id || e.Sender != s.peer || e.Recipient != s.self || e.MessageType != f.Type {
		return nil, ErrEnvelope
	}
	ct, err := base64.StdEncoding.Strict().DecodeString(e.Ciphertext)
	if err != nil {
		return nil, fmt.Errorf("%w: ciphertext is not base64", ErrEnvelope)
	}
	pt, err := securesession.Open(s.recvKey, s.id, e.Sequence, s.peer, s.self, f.Type, ct)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	ok := s.replay.Accept(e.Sequence)
	s.mu.Unlock()
	if !ok {
		return nil, ErrReplay
	}
	return pt, nil
}

// ephemeral makes an X25519 key and a 16-byte nonce, both as exchanged.
func ephemeral() (*ecdh.PrivateKey, string, []byte, string, error) {
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", nil, "", err
	}
	nonce := make([]byte, securesession.NonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", nil, "", err
	}
	return priv, base64.StdEncoding.EncodeToString(priv.PublicKey().Bytes()), nonce, base64.StdEncoding.EncodeToString(nonce), nil
}

// decodeFixed reads standard base64 of exactly n bytes.
func decodeFixed(s string, n int, what string) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != n {
		return nil, fmt.Errorf("%s: want %d bytes of base64", what, n)
	}
	return b, nil
}

// derive computes the session keys; the validator is the client.
func derive(priv *ecdh.PrivateKey, peerPub, clientNonce, serverNonce []byte, validator, server, clientPubB64, serverPubB64 string) (securesession.Keys, error) {
	shared, err := securesession.SharedSecret(priv, peerPub)
	if err != nil {
		return securesession.Keys{}, err
	}
	return securesession.DeriveKeys(shared, clientNonce, serverNonce, validator, server, clientPubB64, serverPubB64)
}
