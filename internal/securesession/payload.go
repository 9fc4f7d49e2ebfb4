package securesession

import (
	"crypto/ecdh"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigil-validator/vigil/internal/computeproto"
)

// The handshake payloads are computeproto's models, decoded and validated
// there; these parsers add the raw bytes the key agreement needs.
type (
	SessionInitRequest  = computeproto.SessionInitRequest
	SessionInitResponse = computeproto.SessionInitResponse
)

// ParseSessionInitRequest decodes and validates a handshake request,
// returning the raw public key and nonce. The base64 must be canonical and
// the lengths exact.
func ParseSessionInitRequest(s string) (*SessionInitRequest, []byte, []byte, error) {
	req, err := computeproto.DecodeSessionInitRequest([]byte(s))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("invalid session init request: %v", err)
	}
	pub, err := fixedB64(req.MinerEphPub32, "miner_eph_pub32", PubKeySize)
	if err != nil {
		return nil, nil, nil, err
	}
	nonce, err := fixedB64(req.ClientNonce16, "client_nonce16", NonceSize)
	if err != nil {
		return nil, nil, nil, err
	}
	return &req, pub, nonce, nil
}

// ParseSessionInitResponse decodes and validates a handshake answer. A
// plaintext error answer yields the validator's *Error.
func ParseSessionInitResponse(s string) (*SessionInitResponse, []byte, []byte, error) {
	if code, msg, ok := ParseErrorResponse(s); ok {
		return nil, nil, nil, &Error{Code: code, Message: msg}
	}
	// An error without a code is a refusal too.
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(s), &m) == nil && m["error"] != nil {
		return nil, nil, nil, errorf(computeproto.CodeHandshakeFailed, "handshake refused: %s", m["error"])
	}
	resp, err := computeproto.DecodeSessionInitResponse([]byte(s))
	if err != nil {
		return nil, nil, nil, errorf(computeproto.CodeHandshakeFailed, "invalid session init response: %v", err)
	}
	pub, err := fixedB64(resp.ValidatorEphPub32, "validator_eph_pub32", PubKeySize)
	if err != nil {
		return nil, nil, nil, errorf(computeproto.CodeHandshakeFailed, "%v", err)
	}
	nonce, err := fixedB64(resp.ServerNonce16, "server_nonce16", NonceSize)
	if err != nil {
		return nil, nil, nil, errorf(computeproto.CodeHandshakeFailed, "%v", err)
	}
	return &resp, pub, nonce, nil
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
