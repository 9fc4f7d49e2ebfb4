package registry

import (
	"errors"
	"math"
	"time"

	"github.com/vigil-validator/vigil/internal/store"
)

// PyFloat is a float that marshals as Python's repr, so it always carries a
// "." or an "e". A Python peer parses an integer-looking number as int and
// then reads a registration time as microseconds and rebuilds the signed
// message without ".0", so integral floats must not look like integers.
type PyFloat float64

// MarshalJSON implements json.Marshaler.
func (f PyFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return nil, errors.New("registry: non-finite float")
	}
	return []byte(FormatPyFloat(float64(f))), nil
}

// WorkerRow is one element of GET /hotkey_workers. The first five fields are
// the reference's; the others are served only in the change-feed mode
// (since_seq), which the reference does not know:
//
//	seq               the change number of the row on the serving validator
//	unbind_signature  the tombstone: the hotkey's signature (hex) over
//	                  UnbindMessage(hotkey, worker); absent while bound
//	unbind_time       when the serving validator learned of the unbind (unix
//	                  seconds); informative, not signed
type WorkerRow struct {
	Worker              string   `json:"worker"`
	Hotkey              string   `json:"hotkey"`
	RegistrationTime    PyFloat  `json:"registration_time"`
	RegistrationTimeInt int64    `json:"registration_time_int"`
	Signature           string   `json:"signature"`
	Seq                 int64    `json:"seq,omitempty"`
	UnbindSignature     string   `json:"unbind_signature,omitempty"`
	UnbindTime          *PyFloat `json:"unbind_time,omitempty"`
}

func rowOf(m store.KaspaMapping, feed bool) WorkerRow {
	r := WorkerRow{
		Worker:              m.Worker,
		Hotkey:              m.Hotkey,
		RegistrationTime:    PyFloat(m.RegistrationTime),
		RegistrationTimeInt: m.RegistrationTimeInt,
		Signature:           m.Signature,
	}
	if feed {
		r.Seq = m.Seq
		if !m.Active() {
			r.UnbindSignature = m.UnbindSignature
			t := unixSeconds(m.UnboundAt)
			r.UnbindTime = &t
		}
	}
	return r
}

// SyncOffsetRow is one element of GET /validator_sync_offsets; last_seq is
// an addition to the reference's three fields.
type SyncOffsetRow struct {
	Hotkey               string  `json:"hotkey"`
	LastRegistrationTime PyFloat `json:"last_registration_time"`
	LastSyncTime         PyFloat `json:"last_sync_time"`
	LastSeq              int64   `json:"last_seq"`
}

func unixSeconds(t time.Time) PyFloat {
	return PyFloat(float64(t.UnixMicro()) / 1e6)
}

// Micros is the reference's registration_time_int: int(t × 1_000_000),
// truncated toward zero. t × 1e6 is one IEEE multiplication in both Python
// and Go, so the results agree; out-of-range values saturate.
func Micros(t float64) int64 {
	v := t * 1e6
	switch {
	case math.IsNaN(v):
		return 0
	case v >= math.MaxInt64:
		return math.MaxInt64
	case v <= math.MinInt64:
		return math.MinInt64
	}
	return int64(v)
}

// The OpenAPI document peers read before syncing. The reference checks
// info.title and info.version; the x-vigil-* fields tell a vigil peer that
// the change feed (GET /hotkey_workers?since_seq=…) with tombstones is
// served, and which database it numbers.
const (
	// Title is the info.title every HashTensor-compatible validator serves.
	Title = "HashTensor Validator"
	// DefaultVersion is the reference release this implementation speaks
	// for; Python peers sync only from an identical info.version.
	DefaultVersion = "1.4.2"
	// FeedVersion is the version of the change feed with tombstones.
	FeedVersion = 1
)

type openAPIInfo struct {
	Title    string `json:"title"`
	Version  string `json:"version"`
	Feed     int    `json:"x-vigil-registry-feed,omitempty"`
	Instance string `json:"x-vigil-registry-instance,omitempty"`
}

type openAPIDoc struct {
	OpenAPI string         `json:"openapi"`
	Info    openAPIInfo    `json:"info"`
	Paths   map[string]any `json:"paths"`
}

func openAPIPaths() map[string]any {
	q := func(name, typ string, def any) map[string]any {
		return map[string]any{"name": name, "in": "query", "required": false, "schema": map[string]any{"type": typ, "default": def}}
	}
	sigHeader := map[string]any{"name": "x-signature", "in": "header", "required": true, "schema": map[string]any{"type": "string"}}
	op := func(summary string, params ...any) map[string]any {
		o := map[string]any{"summary": summary, "responses": map[string]any{"200": map[string]any{"description": "Successful Response"}}}
		if len(params) > 0 {
			o["parameters"] = params
		}
		return o
	}
	return map[string]any{
		"/register": map[string]any{"post": op("Register a worker to a hotkey (signed)", sigHeader)},
		"/unbind":   map[string]any{"post": op("Unbind a worker from its hotkey (signed)", sigHeader)},
		"/mappings": map[string]any{"get": op("Active worker to hotkey mappings")},
		"/hotkey_workers": map[string]any{"get": op("Signed registrations for peer sync",
			q("since_timestamp", "number", 0.0), q("page_size", "integer", 100), q("page_number", "integer", 1),
			q("since_seq", "integer", nil))},
		"/validator_sync_offsets": map[string]any{"get": op("Sync cursors per peer validator",
			q("page_size", "integer", 100), q("page_number", "integer", 1))},
	}
}
