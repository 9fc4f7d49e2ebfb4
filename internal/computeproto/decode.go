package computeproto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// model is implemented by every payload type: decode reads the structure
// (presence, JSON types, list caps) from valid JSON, Validate checks content.
type model interface {
	decode(b []byte) error
	Validate() error
}

// decodeDoc is the common entry point: size cap, strict JSON (one value,
// valid UTF-8, nothing after it), structure, then content rules.
func decodeDoc(b []byte, limit int, m model) error {
	if len(b) > limit {
		return ErrPayloadTooLarge
	}
	if err := checkJSON(b); err != nil {
		return err
	}
	if err := m.decode(bytes.TrimSpace(b)); err != nil {
		return err
	}
	return m.Validate()
}

// checkJSON refuses anything Python's json.loads plus UTF-8 decoding would
// refuse, and also the NaN/Infinity tokens Python would accept: no field
// may hold a non-finite number.
func checkJSON(b []byte) error {
	if !utf8.Valid(b) {
		return errors.Join(ErrInvalidJSON, errors.New("not valid UTF-8"))
	}
	if !json.Valid(b) {
		var v any
		d := json.NewDecoder(bytes.NewReader(b))
		err := d.Decode(&v)
		if err == nil {
			err = errors.New("trailing data after the JSON value")
		}
		return errors.Join(ErrInvalidJSON, err)
	}
	return nil
}

// unmarshalModel backs the UnmarshalJSON methods, so encoding/json users
// get the same structural checks (content rules run in Decode*/Validate).
func unmarshalModel(b []byte, m model) error {
	if err := checkJSON(b); err != nil {
		return err
	}
	return m.decode(bytes.TrimSpace(b))
}

// fields holds the members of one model object while they are consumed;
// whatever remains are the unknown members kept in Extra.
type fields struct {
	m   map[string][]byte
	err error
}

func readObject(b []byte) (*fields, error) {
	if len(b) == 0 || b[0] != '{' {
		return nil, invalid("", "must be an object")
	}
	f := &fields{m: make(map[string][]byte)}
	n := 0
	err := forEachMember(b, func(k string, v []byte) error {
		n++
		if n > MaxObjectMembers {
			return invalid("", "too many members (> "+strconv.Itoa(MaxObjectMembers)+")")
		}
		f.m[k] = v // a later duplicate wins, as in Python
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// take removes a member; present is false when it is absent.
func (f *fields) take(name string) (v []byte, present bool) {
	if f.err != nil {
		return nil, false
	}
	v, present = f.m[name]
	if present {
		delete(f.m, name)
	}
	return v, present
}

func (f *fields) fail(name string, err error) {
	if f.err == nil && err != nil {
		f.err = within(name, err)
	}
}

// value runs dec on a member that is present and not null. A missing
// required member fails; a null one fails unless nullable. It reports
// whether dec ran.
func (f *fields) value(name string, required, nullable bool, dec func(v []byte) error) bool {
	v, ok := f.take(name)
	switch {
	case f.err != nil:
		return false
	case !ok:
		if required {
			f.fail(name, invalid("", "required"))
		}
		return false
	case isNull(v):
		if !nullable {
			f.fail(name, invalid("", "must not be null"))
		}
		return false
	}
	f.fail(name, dec(v))
	return f.err == nil
}

func (f *fields) str(name string, dst *string, required bool) {
	f.value(name, required, false, func(v []byte) (err error) { *dst, err = parseString(v); return })
}

// nullStr reads an Optional[str] whose None we carry as "".
func (f *fields) nullStr(name string, dst *string) {
	f.value(name, false, true, func(v []byte) (err error) { *dst, err = parseString(v); return })
}

func (f *fields) optStr(name string, dst **string) {
	f.value(name, false, true, func(v []byte) error {
		s, err := parseString(v)
		*dst = &s
		return err
	})
}

func (f *fields) int(name string, dst *int64, required bool) {
	f.value(name, required, false, func(v []byte) (err error) { *dst, err = parseInt(v); return })
}

func (f *fields) optInt(name string, dst **int64) {
	f.value(name, false, true, func(v []byte) error {
		n, err := parseInt(v)
		*dst = &n
		return err
	})
}

func (f *fields) float(name string, dst *PyFloat, required bool) {
	f.value(name, required, false, func(v []byte) (err error) { *dst, err = parseFloat(v); return })
}

func (f *fields) optFloat(name string, dst **PyFloat) {
	f.value(name, false, true, func(v []byte) error {
		x, err := parseFloat(v)
		*dst = &x
		return err
	})
}

func (f *fields) optBool(name string, dst **bool) {
	f.value(name, false, true, func(v []byte) error {
		x, err := parseBool(v)
		*dst = &x
		return err
	})
}

// object reads a Dict[str, Any] member kept verbatim. A null leaves dst nil
// when nullable.
func (f *fields) object(name string, dst *json.RawMessage, nullable bool) {
	f.value(name, false, nullable, func(v []byte) error {
		if v[0] != '{' {
			return invalid("", "must be an object")
		}
		if err := checkRawNumbers(v); err != nil {
			return err
		}
		*dst = bytes.Clone(v)
		return nil
	})
}

// checkRawNumbers refuses, inside a member kept verbatim, any number that
// overflows a float64: Python would read it as infinity, which has no JSON
// form, so we could not write the member back.
func checkRawNumbers(v []byte) error {
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"':
			i = stringEnd(v, i) - 1
		case c == '-' || (c >= '0' && c <= '9'):
			end := valueEnd(v, i)
			tok := v[i:end]
			if bytes.ContainsAny(tok, ".eE") {
				if _, err := parseFloat(tok); err != nil {
					return err
				}
			}
			i = end - 1
		}
	}
	return nil
}

// done returns the first error, or the unknown members (nil when none).
func (f *fields) done() (map[string]json.RawMessage, error) {
	if f.err != nil {
		return nil, f.err
	}
	if len(f.m) == 0 {
		return nil, nil
	}
	extra := make(map[string]json.RawMessage, len(f.m))
	for k, v := range f.m {
		if err := checkRawNumbers(v); err != nil {
			return nil, within(k, err)
		}
		extra[k] = bytes.Clone(v)
	}
	return extra, nil
}

// decodeList decodes a JSON array after checking its length, so an
// oversized list is refused before anything is allocated for it.
func decodeList[T any](v []byte, limit int, dec func(e []byte, dst *T) error) ([]T, error) {
	if v[0] != '[' {
		return nil, invalid("", "must be an array")
	}
	n := countElements(v)
	if n > limit {
		return nil, invalid("", tooMany(n, limit))
	}
	out := make([]T, n)
	err := forEachElement(v, func(i int, e []byte) error {
		if isNull(e) {
			return invalid(index(i), "must not be null")
		}
		if err := dec(e, &out[i]); err != nil {
			return within(index(i), err) // path built only on failure
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func decodeModels[T any, P interface {
	*T
	model
}](v []byte, limit int) ([]T, error) {
	return decodeList(v, limit, func(e []byte, dst *T) error { return P(dst).decode(e) })
}

func strElem(e []byte, dst *string) (err error)    { *dst, err = parseString(e); return }
func intElem(e []byte, dst *int64) (err error)     { *dst, err = parseInt(e); return }
func floatElem(e []byte, dst *PyFloat) (err error) { *dst, err = parseFloat(e); return }
func boolElem(e []byte, dst *bool) (err error)     { *dst, err = parseBool(e); return }

func isNull(v []byte) bool { return string(v) == "null" }

// parseString unquotes and strips surrounding whitespace, as every str
// field of the Python models is stripped on validation.
func parseString(v []byte) (string, error) {
	if v[0] != '"' {
		return "", invalid("", "must be a string")
	}
	s, err := unquote(v)
	if err != nil {
		return "", invalid("", "bad string")
	}
	return strings.TrimFunc(s, isPySpace), nil
}

// isPySpace matches Python's str.isspace: Unicode white space plus the
// four ASCII information separators.
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// parseInt takes integer tokens only: Python's encoder never writes an int
// field as 3.0, and a fraction in an index or count is a peer bug.
func parseInt(v []byte) (int64, error) {
	if v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return 0, invalid("", "must be an integer")
	}
	if bytes.ContainsAny(v, ".eE") {
		return 0, invalid("", "must be an integer")
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, invalid("", "integer out of range")
	}
	return n, nil
}

func parseFloat(v []byte) (PyFloat, error) {
	if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return 0, invalid("", "must be a number")
	}
	x, err := strconv.ParseFloat(string(v), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, invalid("", "must be a number")
	}
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return 0, invalid("", "must be finite")
	}
	// An integer literal is a Python int, and float(int) has no negative
	// zero: "-0" is 0.0, as "-0.0" is -0.0. The sign reaches binary16 row
	// hashes, so it must be the reference's.
	if x == 0 && !bytes.ContainsAny(v, ".eE") {
		x = 0
	}
	return PyFloat(x), nil
}

func parseBool(v []byte) (bool, error) {
	switch string(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, invalid("", "must be a boolean")
}

// Content checks shared by the Validate methods.

func checkID(field, s string) error {
	if s == "" {
		return invalid(field, "required")
	}
	if len(s) > MaxIDLength {
		return invalid(field, "longer than "+strconv.Itoa(MaxIDLength)+" bytes")
	}
	return nil
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

func checkHash(field, s string) error {
	if s == "" {
		return invalid(field, "required")
	}
	if len(s) > MaxHashHexLength {
		return invalid(field, "longer than "+strconv.Itoa(MaxHashHexLength)+" characters")
	}
	if !isHex(s) {
		return invalid(field, "must be hex")
	}
	return nil
}

func isBase64(s string) bool {
	_, err := base64.StdEncoding.DecodeString(s)
	return err == nil
}

func checkFinite(field string, x PyFloat, nonNegative bool) error {
	f := float64(x)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return invalid(field, "must be finite")
	}
	if nonNegative && f < 0 {
		return invalid(field, "must be >= 0")
	}
	return nil
}

func checkNonNegative(field string, n int64) error {
	if n < 0 {
		return invalid(field, "must be >= 0")
	}
	return nil
}

func checkSchema(n int64) error {
	if n < 1 {
		return invalid("schema_version", "must be >= 1")
	}
	return nil
}

func checkCount(field string, n, limit int) error {
	if n > limit {
		return invalid(field, tooMany(n, limit))
	}
	return nil
}

// checkObject validates a Dict[str, Any] value built in Go.
func checkObject(field string, raw json.RawMessage, nullable bool) error {
	if raw == nil {
		if nullable {
			return nil
		}
		return invalid(field, "required")
	}
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' || !json.Valid(t) {
		return invalid(field, "must be an object")
	}
	return nil
}

func checkExtra(field string, extra map[string]json.RawMessage) error {
	for k, v := range extra {
		if !json.Valid(v) {
			return invalid(joinPath(field, k), "extra member is not valid JSON")
		}
	}
	return nil
}

// withExtra marshals the known fields, then appends the unknown members
// that do not collide with them, in key order (Canonical orders them all
// anyway). Splicing keeps it one pass: payloads nest models with extras
// several levels deep.
func withExtra(known any, extra map[string]json.RawMessage) ([]byte, error) {
	b, err := json.Marshal(known)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	taken := make(map[string]bool, 16)
	if err := forEachMember(b, func(k string, _ []byte) error { taken[k] = true; return nil }); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(extra))
	for k := range extra {
		if !taken[k] {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	out := b[:len(b)-1] // drop '}'
	for _, k := range names {
		if len(out) > 1 {
			out = append(out, ',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		out = append(append(append(out, kb...), ':'), extra[k]...)
	}
	return append(out, '}'), nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
