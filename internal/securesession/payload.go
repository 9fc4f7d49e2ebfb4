package securesession

import (
	"crypto/ecdh"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"io"
	"math"
	"strings"
	"time"
)

// SessionInitRequest is the miner's handshake payload (SESSION_INIT_V1
// request). The base64 fields are kept as received: they enter the HKDF info.
type SessionInitRequest struct {
	MinerEphPub32 string  `json:"miner_eph_pub32"`
	ClientNonce16 string  `json:"client_nonce16"`
	CreatedAt     float64 `json:"created_at"`
}

// SessionInitResponse is the validator's handshake answer.
type SessionInitResponse struct {
	ValidatorEphPub32 string  `json:"validator_eph_pub32"`
	SessionID         string  `json:"session_id"`
	ServerNonce16     string  `json:"server_nonce16"`
	ExpiresAt         float64 `json:"expires_at"`
}

// maxSessionIDLen bounds a session id accepted from a validator; a uuid4 is 36.
const maxSessionIDLen = 128

// ParseSessionInitRequest decodes and validates a handshake request,
// returning the raw public key and nonce. The base64 must be canonical and
// the lengths exact.
func ParseSessionInitRequest(s string) (*SessionInitRequest, []byte, []byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, nil, nil, fmt.Errorf("invalid session init request: %v", err)
	}
	req := new(SessionInitRequest)
	if err := stringField(m, "miner_eph_pub32", &req.MinerEphPub32); err != nil {
		return nil, nil, nil, err
	}
	if err := stringField(m, "client_nonce16", &req.ClientNonce16); err != nil {
		return nil, nil, nil, err
	}
	if raw, ok := m["created_at"]; ok {
		if err := json.Unmarshal(raw, &req.CreatedAt); err != nil {
			return nil, nil, nil, fmt.Errorf("created_at must be a number")
		}
	}
	pub, err := fixedB64(req.MinerEphPub32, "miner_eph_pub32", PubKeySize)
	if err != nil {
		return nil, nil, nil, err
	}
	nonce, err := fixedB64(req.ClientNonce16, "client_nonce16", NonceSize)
	if err != nil {
		return nil, nil, nil, err
	}
	return req, pub, nonce, nil
}

// ParseSessionInitResponse decodes and validates a handshake answer. A
// plaintext error answer yields the validator's *Error.
func ParseSessionInitResponse(s string) (*SessionInitResponse, []byte, []byte, error) {
	if code, msg, ok := ParseErrorResponse(s); ok {
		return nil, nil, nil, &Error{Code: code, Message: msg}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, nil, nil, errorf(computeproto.CodeHandshakeFailed, "invalid session init response: %v", err)
	}
	if _, ok := m["error"]; ok {
		return nil, nil, nil, errorf(computeproto.CodeHandshakeFailed, "handshake refused: %s", m["error"])
	}
	resp := new(SessionInitResponse)
	for _, f := range []struct {
		name string
		dst  *string
	}{{"validator_eph_pub32", &resp.ValidatorEphPub32}, {"session_id", &resp.SessionID}, {"server_nonce16", &resp.ServerNonce16}} {
		if err := stringField(m, f.name, f.dst); err != nil {
			return nil, nil, nil, errorf(computeproto.CodeHandshakeFailed, "%v", err)
		}
	}
	raw, ok := m["expires_at"]
	if !ok || json.Unmarshal(raw, &resp.ExpiresAt) != nil || math.IsNaN(resp.ExpiresAt) || math.IsInf(resp.ExpiresAt, 0) {
		return nil, nil, nil, errorf(computeproto.CodeHandshakeFailed, "expires_at must be a number")
	}
	if resp.SessionID == "" || len(resp.SessionID) > maxSessionIDLen {
		return nil, nil, nil, errorf(computeproto.CodeHandshakeFailed, "session_id must be 1..%d bytes", maxSessionIDLen)
	}
	pub, err := fixedB64(resp.ValidatorEphPub32, "validator_eph_pub32", PubKeySize)
	if err != nil {
		return nil, nil, nil, errorf(computeproto.CodeHandshakeFailed, "%v", err)
	}
	nonce, err := fixedB64(resp.ServerNonce16, "server_nonce16", NonceSize)
	if err != nil {
		return nil, nil, nil, errorf(computeproto.CodeHandshakeFailed, "%v", err)
	}
	return resp, pub, nonce, nil
}

func stringField(m map[string]json.RawMessage, name string, dst *string) error {
	raw, ok := m[name]
	if !ok {
		return fmt.Errorf("%s is required", name)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%s must be a string", name)
	}
	return nil
}

func fixedB64(s, name string, n int) ([]byte, error) {
	b, err := decodeB64(s)
	if err != nil {
		return nil, fmt.Errorf("%s must be valid base64", name)
	}
	if len(b) != n {
		return nil, fmt.Errorf("%s must decode to %d bytes, got %d", name, n, len(b))
	}
	return b, nil
}

// validHotkey refuses hotkeys that would make the '|'-joined HKDF info and
// AAD ambiguous; ss58 addresses never contain '|'.
func validHotkey(h string) bool {
	return h != "" && !strings.ContainsRune(h, '|')
}

// newEphemeral draws an X25519 key from r. Reading the scalar ourselves keeps
// tests deterministic when they supply r.
func newEphemeral(r io.Reader) (*ecdh.PrivateKey, string, error) {
	var seed [32]byte
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return nil, "", err
	}
	priv, err := ecdh.X25519().NewPrivateKey(seed[:])
	if err != nil {
		return nil, "", err
	}
	return priv, base64.StdEncoding.EncodeToString(priv.PublicKey().Bytes()), nil
}

func randBytes(r io.Reader, n int) ([]byte, error) {
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return b, err
}

// newUUID4 formats 16 random bytes as a version-4 UUID string.
func newUUID4(r io.Reader) (string, error) {
	b, err := randBytes(r, 16)
	if err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// unixSeconds is t as float seconds, Python's time.time() form.
func unixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
