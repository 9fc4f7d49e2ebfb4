// Package securesession implements the application-level session encryption
// that miners and validators of the ByteLeap subnet put inside the
// request/response strings of their synapses: an X25519 handshake, HKDF-SHA256
// key derivation bound to both hotkeys, AES-256-GCM records with per-direction
// sequence numbers, and a sliding replay window.
//
// Server is the validator side, Client the miner side. Both are transport
// agnostic: they take and return the strings carried by the synapse fields.
package securesession

import (
	"encoding/json"
	"fmt"
	"github.com/vigil-validator/vigil/bittensor/pyfmt"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"math"
	"strings"
	"time"
)

// Protocol constants shared with the Python peers.
const (
	ProtocolVersion = "v1"
	AADPrefix       = "leap-comm"

	SessionTTL          = 6 * time.Hour
	MaxSessionsPerPeer  = 3
	HandshakeRateLimit  = 5
	HandshakeRateWindow = 60 * time.Second
	HandshakeTimeout    = 30 * time.Second
	NearExpiryThreshold = 300 * time.Second
	// CleanupInterval is how often handshakes sweep expired sessions.
	CleanupInterval = 300 * time.Second

	ReplayWindowSize = 1024
	MaxForwardJump   = 2 * ReplayWindowSize
	MaxSeq           = math.MaxUint64

	PubKeySize = 32
	NonceSize  = 16
	KeySize    = 32

	// KDFSuite closes the HKDF info string.
	KDFSuite = "HKDF-SHA256_AES-256-GCM_X25519"
	// DirClientToServer and DirServerToClient open the HKDF info string of
	// the two directional keys.
	DirClientToServer = "session_key_client_to_server"
	DirServerToClient = "session_key_server_to_client"
)

// SequenceErrorMessage is the text the validator answers a replayed or
// out-of-window record with; Python miners match on the code only, but the
// text is kept identical for log parity.
const SequenceErrorMessage = "SEQUENCE_ERROR:4020:Replay detected or sequence out of window"

// Error is a protocol failure with the code sent to (or received from) the
// peer. Use errors.As to get at it.
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("securesession: code %d: %s", e.Code, e.Message)
}

// Response renders e as the plaintext error JSON a validator answers with.
func (e *Error) Response() string { return ErrorResponse(e.Code, e.Message) }

func errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorResponse renders the plaintext error JSON {"error": msg,
// "error_code": code} the way Python's json.dumps does with its defaults
// (ASCII only, ", " and ": " separators).
func ErrorResponse(code int, msg string) string {
	b := []byte(`{"error": `)
	b = pyfmt.AppendJSONString(b, msg)
	b = append(b, `, "error_code": `...)
	b = fmt.Appendf(b, "%d}", code)
	return string(b)
}

// ParseErrorResponse recognises a plaintext error answer: a JSON object with
// both "error" and an integral "error_code". Encrypted packages never carry
// those keys, so this is checked first, as Python miners do.
func ParseErrorResponse(s string) (code int, msg string, ok bool) {
	// Cheap pre-check for the common encrypted answer; escaped keys still
	// get the full parse.
	if !strings.Contains(s, "error") && !strings.Contains(s, `\u`) {
		return 0, "", false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return 0, "", false
	}
	rawMsg, hasMsg := m["error"]
	rawCode, hasCode := m["error_code"]
	if !hasMsg || !hasCode {
		return 0, "", false
	}
	var f float64
	if err := json.Unmarshal(rawCode, &f); err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<31 {
		return 0, "", false
	}
	if err := json.Unmarshal(rawMsg, &msg); err != nil {
		// A non-string error is still an error answer; keep its JSON text.
		msg = string(rawMsg)
	}
	return int(f), msg, true
}

// retryable reports the codes after which a miner drops its session and
// retries once with a fresh handshake.
func retryable(code int) bool {
	return computeproto.SessionRetryable(code)
}
