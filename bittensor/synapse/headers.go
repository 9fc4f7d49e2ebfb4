package synapse

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/vigil-validator/vigil/bittensor/pyfmt"
)

// Header names and prefixes, lower-case as the Python axon sees them.
const (
	HeaderName             = "name"
	HeaderTimeout          = "timeout"
	HeaderBodyHash         = "computed_body_hash"
	HeaderHeaderSize       = "header_size"
	HeaderTotalSize        = "total_size"
	PrefixAxon             = "bt_header_axon_"
	PrefixDendrite         = "bt_header_dendrite_"
	PrefixInputObj         = "bt_header_input_obj_"
	maxHeaderValue         = 1024
	maxTerminalHeaderCount = 64
)

// terminalFields are TerminalInfo's fields by their JSON names.
var terminalFields = fieldIndex(reflect.TypeOf(TerminalInfo{}))

// set writes h[key] without canonicalising the key, so the names go out
// lower-case as the SDK sends them.
func set(h http.Header, key, value string) { h[key] = []string{value} }

// ToHeaders renders the headers a dendrite sends (and an axon answers
// with) for s; computed_body_hash is taken from s.
func ToHeaders(s Synapse) (http.Header, error) {
	b := s.base()
	h := http.Header{}
	set(h, HeaderName, Name(s))
	set(h, HeaderTimeout, pyfmt.Float(b.TimeoutSeconds()))
	appendTerminal(h, PrefixAxon, &b.Axon)
	appendTerminal(h, PrefixDendrite, &b.Dendrite)
	if rf, ok := s.(RequiredFielder); ok {
		for _, name := range rf.RequiredFields() {
			v, ok := field(s, name)
			if !ok {
				return nil, fmt.Errorf("synapse %s: required field %q does not exist", Name(s), name)
			}
			set(h, PrefixInputObj+name, base64.StdEncoding.EncodeToString(emptyJSON(v.Type())))
		}
	}
	set(h, HeaderHeaderSize, strconv.Itoa(intOr(b.HeaderSize)))
	set(h, HeaderTotalSize, strconv.Itoa(intOr(b.TotalSize)))
	hash := ""
	if b.ComputedBodyHash != nil {
		hash = *b.ComputedBodyHash
	}
	set(h, HeaderBodyHash, hash)
	return h, nil
}

func intOr(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// appendTerminal adds a header per set field of t, valued as Python's
// str() of it.
func appendTerminal(h http.Header, prefix string, t *TerminalInfo) {
	v := reflect.ValueOf(t).Elem()
	for name, idx := range terminalFields {
		f := v.FieldByIndex(idx)
		if f.IsNil() {
			continue
		}
		s, _ := pyfmt.Str(f.Interface())
		set(h, prefix+name, s)
	}
}

// emptyJSON is the JSON of an empty value of t, as the SDK puts in
// bt_header_input_obj_ headers: "" 0 0.0 false [] {}.
func emptyJSON(t reflect.Type) []byte {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return []byte(`""`)
	case reflect.Bool:
		return []byte(`false`)
	case reflect.Float32, reflect.Float64:
		return []byte(`0.0`)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return []byte(`0`)
	case reflect.Slice, reflect.Array:
		return []byte(`[]`)
	}
	return []byte(`{}`)
}

// HeaderError is a header the synapse cannot take; an axon answers it
// with 400.
type HeaderError struct {
	Header string
	Reason string
}

func (e *HeaderError) Error() string { return fmt.Sprintf("header %s: %s", e.Header, e.Reason) }

// FromHeaders fills s's base fields from request headers, matching names
// case-insensitively as the Python axon does, and checks that every
// required field has its bt_header_input_obj_ header. Unknown headers are
// ignored.
func FromHeaders(h http.Header, s Synapse) error {
	b := s.base()
	n := 0
	for key, values := range h {
		if len(values) == 0 {
			continue
		}
		k, v := strings.ToLower(key), values[0]
		if len(v) > maxHeaderValue {
			return &HeaderError{k, "too long"}
		}
		switch {
		case k == HeaderName:
			b.Name = &v
		case k == HeaderTimeout:
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
				return &HeaderError{k, "not a number of seconds"}
			}
			b.Timeout = &f
		case k == HeaderBodyHash:
			b.ComputedBodyHash = &v
		case k == HeaderHeaderSize, k == HeaderTotalSize:
			i, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return &HeaderError{k, "not an integer"}
			}
			if k == HeaderHeaderSize {
				b.HeaderSize = &i
			} else {
				b.TotalSize = &i
			}
		case strings.HasPrefix(k, PrefixAxon), strings.HasPrefix(k, PrefixDendrite):
			if n++; n > maxTerminalHeaderCount {
				return &HeaderError{k, "too many terminal headers"}
			}
			t, name := &b.Axon, strings.TrimPrefix(k, PrefixAxon)
			if strings.HasPrefix(k, PrefixDendrite) {
				t, name = &b.Dendrite, strings.TrimPrefix(k, PrefixDendrite)
			}
			if err := setTerminal(t, name, v); err != nil {
				return &HeaderError{k, err.Error()}
			}
		}
	}
	if rf, ok := s.(RequiredFielder); ok {
		for _, name := range rf.RequiredFields() {
			raw := headerValue(h, PrefixInputObj+name)
			if raw == "" {
				return &HeaderError{PrefixInputObj + name, "missing: the field is required"}
			}
			js, err := base64.StdEncoding.DecodeString(raw)
			if err != nil || !json.Valid(js) {
				return &HeaderError{PrefixInputObj + name, "not base64 of JSON"}
			}
		}
	}
	return nil
}

// headerValue reads a header by name, whatever its case.
func headerValue(h http.Header, name string) string {
	if v, ok := h[name]; ok && len(v) > 0 {
		return v[0]
	}
	if v := h.Get(name); v != "" {
		return v
	}
	for k, v := range h {
		if len(v) > 0 && strings.EqualFold(k, name) {
			return v[0]
		}
	}
	return ""
}

// setTerminal parses one terminal-info header value into its field;
// unknown names are ignored.
func setTerminal(t *TerminalInfo, name, v string) error {
	idx, ok := terminalFields[name]
	if !ok {
		return nil
	}
	f := reflect.ValueOf(t).Elem().FieldByIndex(idx)
	switch f.Type().Elem().Kind() {
	case reflect.String:
		f.Set(reflect.ValueOf(&v))
	case reflect.Int:
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("not an integer")
		}
		f.Set(reflect.ValueOf(&i))
	case reflect.Int64:
		i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer")
		}
		f.Set(reflect.ValueOf(&i))
	case reflect.Float64:
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("not a number")
		}
		f.Set(reflect.ValueOf(&x))
	}
	return nil
}
