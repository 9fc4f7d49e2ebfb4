package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// Limits on request fields. The reference has none; these keep names
// storable (no NUL for PostgreSQL), printable in logs, and far above any real
// stratum worker name or SS58 address.
const (
	MaxWorkerLen = 256 // bytes
	maxHotkeyLen = 64  // bytes; an SS58 account address is 47-50
)

// FieldError is one entry of a 422 answer, shaped as FastAPI's (pydantic v2)
// validation errors so clients of the reference read it the same way.
type FieldError struct {
	Type  string          `json:"type"`
	Loc   []any           `json:"loc"`
	Msg   string          `json:"msg"`
	Input json.RawMessage `json:"input"`
	Ctx   map[string]any  `json:"ctx,omitempty"`
}

func fieldError(typ, msg string, input json.RawMessage, loc ...any) FieldError {
	if input == nil {
		input = json.RawMessage("null")
	}
	return FieldError{Type: typ, Loc: loc, Msg: msg, Input: input}
}

// RegisterRequest is the body of POST /register.
type RegisterRequest struct {
	Hotkey           string
	Worker           string
	RegistrationTime float64
}

// UnbindRequest is the body of POST /unbind.
type UnbindRequest struct {
	Hotkey string
	Worker string
}

// DecodeRegisterRequest parses and validates a /register body. It returns
// the FastAPI-style errors that make the answer a 422; fields other than the
// three are ignored, as the reference ignores them.
func DecodeRegisterRequest(body []byte) (RegisterRequest, []FieldError) {
	var req RegisterRequest
	obj, errs := decodeObject(body)
	if errs != nil {
		return req, errs
	}
	req.Hotkey, errs = hotkeyField(obj, errs)
	req.Worker, errs = workerField(obj, errs)
	req.RegistrationTime, errs = floatField(obj, "registration_time", errs)
	return req, errs
}

// DecodeUnbindRequest parses and validates a /unbind body. Unlike the
// reference, which answers an unparsable hotkey with a 500, the hotkey must
// be an SS58 address here.
func DecodeUnbindRequest(body []byte) (UnbindRequest, []FieldError) {
	var req UnbindRequest
	obj, errs := decodeObject(body)
	if errs != nil {
		return req, errs
	}
	req.Hotkey, errs = hotkeyField(obj, errs)
	req.Worker, errs = workerField(obj, errs)
	return req, errs
}

// decodeObject parses body as exactly one JSON object. Python's json module
// refuses invalid UTF-8 and trailing data, so this does too (Go's decoder
// would replace the one and ignore the other).
func decodeObject(body []byte) (map[string]json.RawMessage, []FieldError) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, []FieldError{fieldError("missing", "Field required", nil, "body")}
	}
	if !utf8.Valid(body) {
		return nil, []FieldError{jsonInvalid(0, "body is not valid UTF-8")}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, []FieldError{jsonInvalid(syntaxOffset(err, dec), err.Error())}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, []FieldError{jsonInvalid(dec.InputOffset(), "extra data after the JSON value")}
	}
	if raw[0] != '{' {
		return nil, []FieldError{fieldError("model_attributes_type",
			"Input should be a valid dictionary or object to extract fields from", raw, "body")}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, []FieldError{jsonInvalid(0, err.Error())}
	}
	return obj, nil
}

func syntaxOffset(err error, dec *json.Decoder) int64 {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Offset
	}
	return dec.InputOffset()
}

func jsonInvalid(offset int64, why string) FieldError {
	e := fieldError("json_invalid", "JSON decode error", json.RawMessage("{}"), "body", offset)
	e.Ctx = map[string]any{"error": why}
	return e
}

// stringField reads a JSON string field; ok is false when it was missing or
// not a string (an error is appended then).
func stringField(obj map[string]json.RawMessage, name string, errs []FieldError) (string, bool, []FieldError) {
	raw, present := obj[name]
	if !present {
		return "", false, append(errs, fieldError("missing", "Field required", nil, "body", name))
	}
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false, append(errs, fieldError("string_type", "Input should be a valid string", raw, "body", name))
	}
	return s, true, errs
}

func hotkeyField(obj map[string]json.RawMessage, errs []FieldError) (string, []FieldError) {
	s, ok, errs := stringField(obj, "hotkey", errs)
	if !ok {
		return "", errs
	}
	// The length check spares ParseHotkey oversized input.
	if len(s) > maxHotkeyLen || !validHotkey(s) {
		return "", append(errs, fieldError("value_error", "Value error, Invalid ss58 address", obj["hotkey"], "body", "hotkey"))
	}
	return s, errs
}

func validHotkey(s string) bool {
	_, err := ParseHotkey(s)
	return err == nil
}

func workerField(obj map[string]json.RawMessage, errs []FieldError) (string, []FieldError) {
	s, ok, errs := stringField(obj, "worker", errs)
	if !ok {
		return "", errs
	}
	why := checkWorkerName(s)
	if why == "" && loneSurrogate(obj["worker"]) {
		// Go's decoder turns it into U+FFFD, so the message checked here
		// would not be the one a Python miner signed (json.dumps writes the
		// surrogate back as \udXXX).
		why = "Worker name must not contain a lone UTF-16 surrogate"
	}
	if why != "" {
		e := fieldError("value_error", "Value error, "+why, obj["worker"], "body", "worker")
		return "", append(errs, e)
	}
	return s, errs
}

// loneSurrogate reports whether the JSON string literal raw has a \u
// escape of a UTF-16 surrogate that is not half of a high-low pair.
func loneSurrogate(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 >= len(raw) {
			continue
		}
		if raw[i+1] != 'u' {
			i++ // a two-character escape; skip its second byte
			continue
		}
		r, ok := hex4(raw, i+2)
		if !ok {
			return false // not valid JSON; the decoder has refused it already
		}
		i += 5
		switch {
		case r >= 0xdc00 && r <= 0xdfff:
			return true
		case r >= 0xd800 && r <= 0xdbff:
			lo, ok := hex4(raw, i+3)
			if i+2 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' || !ok || lo < 0xdc00 || lo > 0xdfff {
				return true
			}
			i += 6
		}
	}
	return false
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[at:at+4]), 16, 16)
	return rune(v), err == nil
}

// checkWorkerName returns why a worker name cannot be stored, or "".
func checkWorkerName(s string) string {
	if len(s) > MaxWorkerLen {
		return "Worker name must be at most " + strconv.Itoa(MaxWorkerLen) + " bytes"
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return "Worker name must not contain control characters"
		}
	}
	return ""
}

// floatField reads a JSON number as a float, as pydantic does for a float
// field: an integer is accepted and becomes a float (so the signed message
// carries "….0"). A number too large for a float becomes ±Inf, as in Python,
// and then fails the time check rather than the parse.
func floatField(obj map[string]json.RawMessage, name string, errs []FieldError) (float64, []FieldError) {
	raw, present := obj[name]
	if !present {
		return 0, append(errs, fieldError("missing", "Field required", nil, "body", name))
	}
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, append(errs, fieldError("float_type", "Input should be a valid number", raw, "body", name))
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil && !(errors.Is(err, strconv.ErrRange) && math.IsInf(f, 0)) {
		return 0, append(errs, fieldError("float_parsing", "Input should be a valid number", raw, "body", name))
	}
	return f, errs
}
