package computeproto

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strconv"
	"time"
)

// SessionInitRequest opens a session (SESSION_INIT_V1 request, plaintext).
// The base64 strings are kept exactly as received: the key derivation
// hashes their text, not the decoded bytes.
type SessionInitRequest struct {
	MinerEphPub32 string  `json:"miner_eph_pub32"`
	ClientNonce16 string  `json:"client_nonce16"`
	CreatedAt     PyFloat `json:"created_at"` // 0 when the peer omitted it

	Extra map[string]json.RawMessage `json:"-"`
}

// DecodeSessionInitRequest decodes and validates a handshake request.
func DecodeSessionInitRequest(b []byte) (SessionInitRequest, error) {
	var r SessionInitRequest
	err := decodeDoc(b, MaxSmallPayloadSize, &r)
	return r, err
}

func (r *SessionInitRequest) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*r = SessionInitRequest{}
	f.str("miner_eph_pub32", &r.MinerEphPub32, true)
	f.str("client_nonce16", &r.ClientNonce16, true)
	f.float("created_at", &r.CreatedAt, false)
	r.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *SessionInitRequest) UnmarshalJSON(b []byte) error { return unmarshalModel(b, r) }

// MarshalJSON implements json.Marshaler.
func (r SessionInitRequest) MarshalJSON() ([]byte, error) {
	type wire SessionInitRequest
	return withExtra(wire(r), r.Extra)
}

// Validate checks the key and nonce lengths.
func (r SessionInitRequest) Validate() error {
	if err := checkB64Len("miner_eph_pub32", r.MinerEphPub32, 32); err != nil {
		return err
	}
	if err := checkB64Len("client_nonce16", r.ClientNonce16, 16); err != nil {
		return err
	}
	if err := checkFinite("created_at", r.CreatedAt, true); err != nil {
		return err
	}
	return checkExtra("", r.Extra)
}

// SessionInitResponse accepts a session (SESSION_INIT_V1 response).
type SessionInitResponse struct {
	ValidatorEphPub32 string  `json:"validator_eph_pub32"`
	SessionID         string  `json:"session_id"`
	ServerNonce16     string  `json:"server_nonce16"`
	ExpiresAt         PyFloat `json:"expires_at"` // validator epoch seconds

	Extra map[string]json.RawMessage `json:"-"`
}

// DecodeSessionInitResponse decodes and validates a handshake answer. An
// error answer ({"error", "error_code"}) fails here; try DecodeErrorResponse
// first, as the client must.
func DecodeSessionInitResponse(b []byte) (SessionInitResponse, error) {
	var r SessionInitResponse
	err := decodeDoc(b, MaxSmallPayloadSize, &r)
	return r, err
}

func (r *SessionInitResponse) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*r = SessionInitResponse{}
	f.str("validator_eph_pub32", &r.ValidatorEphPub32, true)
	f.str("session_id", &r.SessionID, true)
	f.str("server_nonce16", &r.ServerNonce16, true)
	f.float("expires_at", &r.ExpiresAt, true)
	r.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *SessionInitResponse) UnmarshalJSON(b []byte) error { return unmarshalModel(b, r) }

// MarshalJSON implements json.Marshaler.
func (r SessionInitResponse) MarshalJSON() ([]byte, error) {
	type wire SessionInitResponse
	return withExtra(wire(r), r.Extra)
}

// Validate checks lengths and the session id.
func (r SessionInitResponse) Validate() error {
	if err := checkB64Len("validator_eph_pub32", r.ValidatorEphPub32, 32); err != nil {
		return err
	}
	if err := checkID("session_id", r.SessionID); err != nil {
		return err
	}
	if err := checkB64Len("server_nonce16", r.ServerNonce16, 16); err != nil {
		return err
	}
	if err := checkFinite("expires_at", r.ExpiresAt, true); err != nil {
		return err
	}
	return checkExtra("", r.Extra)
}

func checkB64Len(field, s string, n int) error {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return invalid(field, "must be standard base64")
	}
	if len(raw) != n {
		return invalid(field, "must decode to "+strconv.Itoa(n)+" bytes")
	}
	return nil
}

// ErrorResponse is the plaintext error a validator puts in a response
// field instead of a record (session failures, rate limiting), or inside a
// record when a handler fails. Both members are required for it to count
// as an error answer.
type ErrorResponse struct {
	Error     string `json:"error"`
	ErrorCode int64  `json:"error_code"`

	Extra map[string]json.RawMessage `json:"-"`
}

// DecodeErrorResponse decodes an error answer; it fails on anything else,
// so callers can try it before the regular payload decoder.
func DecodeErrorResponse(b []byte) (ErrorResponse, error) {
	var r ErrorResponse
	err := decodeDoc(b, MaxSmallPayloadSize, &r)
	return r, err
}

func (r *ErrorResponse) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*r = ErrorResponse{}
	f.str("error", &r.Error, true)
	f.int("error_code", &r.ErrorCode, true)
	r.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *ErrorResponse) UnmarshalJSON(b []byte) error { return unmarshalModel(b, r) }

// MarshalJSON implements json.Marshaler.
func (r ErrorResponse) MarshalJSON() ([]byte, error) {
	type wire ErrorResponse
	return withExtra(wire(r), r.Extra)
}

// Validate checks the error answer.
func (r ErrorResponse) Validate() error {
	if r.ErrorCode <= 0 {
		return invalid("error_code", "must be > 0")
	}
	return checkExtra("", r.Extra)
}

// VmgwEnrollTokenRequest asks a validator for a VM-gateway enrolment token
// for a worker (GET_VMGW_ENROLL_TOKEN_V1 request).
type VmgwEnrollTokenRequest struct {
	WorkerID string `json:"worker_id"`

	Extra map[string]json.RawMessage `json:"-"`
}

// DecodeVmgwEnrollTokenRequest decodes and validates a token request.
func DecodeVmgwEnrollTokenRequest(b []byte) (VmgwEnrollTokenRequest, error) {
	var r VmgwEnrollTokenRequest
	err := decodeDoc(b, MaxSmallPayloadSize, &r)
	return r, err
}

func (r *VmgwEnrollTokenRequest) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*r = VmgwEnrollTokenRequest{}
	f.str("worker_id", &r.WorkerID, true)
	r.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *VmgwEnrollTokenRequest) UnmarshalJSON(b []byte) error { return unmarshalModel(b, r) }

// MarshalJSON implements json.Marshaler.
func (r VmgwEnrollTokenRequest) MarshalJSON() ([]byte, error) {
	type wire VmgwEnrollTokenRequest
	return withExtra(wire(r), r.Extra)
}

// Validate checks the request.
func (r VmgwEnrollTokenRequest) Validate() error {
	if err := checkID("worker_id", r.WorkerID); err != nil {
		return err
	}
	return checkExtra("", r.Extra)
}

// VmgwEnrollTokenResponse answers a token request. Code 0 with no token
// means "pending, ask again after TryAgainInSec"; a non-zero code means
// "ask another validator". Optional members are written as null, as the
// miner parses this map into a model whose fields all accept None.
type VmgwEnrollTokenResponse struct {
	WorkerID      string  `json:"worker_id"`
	Code          int64   `json:"code"`
	TryAgainInSec *int64  `json:"try_again_in_sec"`
	Token         *string `json:"token"`
	ExpiresAt     *string `json:"expires_at"` // ISO-8601 UTC
	EnrollmentURL *string `json:"enrollment_url"`
	ErrorMessage  *string `json:"error_message"`

	Extra map[string]json.RawMessage `json:"-"`
}

// DecodeVmgwEnrollTokenResponse decodes and validates a token answer.
func DecodeVmgwEnrollTokenResponse(b []byte) (VmgwEnrollTokenResponse, error) {
	var r VmgwEnrollTokenResponse
	err := decodeDoc(b, MaxSmallPayloadSize, &r)
	return r, err
}

func (r *VmgwEnrollTokenResponse) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*r = VmgwEnrollTokenResponse{}
	f.str("worker_id", &r.WorkerID, false)
	f.int("code", &r.Code, false)
	f.optInt("try_again_in_sec", &r.TryAgainInSec)
	f.optStr("token", &r.Token)
	f.optStr("expires_at", &r.ExpiresAt)
	f.optStr("enrollment_url", &r.EnrollmentURL)
	f.optStr("error_message", &r.ErrorMessage)
	r.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *VmgwEnrollTokenResponse) UnmarshalJSON(b []byte) error { return unmarshalModel(b, r) }

// MarshalJSON implements json.Marshaler.
func (r VmgwEnrollTokenResponse) MarshalJSON() ([]byte, error) {
	type wire VmgwEnrollTokenResponse
	return withExtra(wire(r), r.Extra)
}

// RetryAfter is the wait before asking again for a pending token (5 s
// when the validator gives none).
func (r VmgwEnrollTokenResponse) RetryAfter() time.Duration {
	if r.TryAgainInSec == nil || *r.TryAgainInSec <= 0 {
		return 5 * time.Second
	}
	return time.Duration(*r.TryAgainInSec) * time.Second
}

// Validate checks the answer. A token is useless without the URL the
// worker must enrol at, and that URL is dialled by the worker, so it must
// be an absolute http(s) URL.
func (r VmgwEnrollTokenResponse) Validate() error {
	if len(r.WorkerID) > MaxIDLength {
		return invalid("worker_id", "too long")
	}
	if r.Code < 0 {
		return invalid("code", "must be >= 0")
	}
	if r.TryAgainInSec != nil && (*r.TryAgainInSec < 0 || *r.TryAgainInSec > MaxTryAgainInSeconds) {
		return invalid("try_again_in_sec", "must be in 0..3600")
	}
	if r.Token != nil && *r.Token == "" {
		return invalid("token", "must not be empty")
	}
	if r.Code == 0 && r.Token != nil {
		if r.EnrollmentURL == nil || *r.EnrollmentURL == "" {
			return invalid("enrollment_url", "required with a token")
		}
	}
	if r.EnrollmentURL != nil && *r.EnrollmentURL != "" {
		u, err := url.Parse(*r.EnrollmentURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return invalid("enrollment_url", "must be an absolute http(s) URL")
		}
	}
	return checkExtra("", r.Extra)
}
