package computeproto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/vigil-validator/vigil/bittensor/pyfmt"
)

// PyFloat is a float64 that encodes like a Python float (3.0, not 3), so a
// float field keeps its type on the wire as it does in the Python models.
// Non-finite values are refused both ways: Python would write the non-JSON
// tokens NaN/Infinity, and these fields feed scoring and verification.
type PyFloat float64

// MarshalJSON writes the Python repr of the value.
func (f PyFloat) MarshalJSON() ([]byte, error) {
	s, err := formatPyFloat(float64(f))
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// UnmarshalJSON accepts any finite JSON number.
func (f *PyFloat) UnmarshalJSON(b []byte) error {
	v, err := parseFloat(bytes.TrimSpace(b))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

func formatPyFloat(f float64) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("computeproto: non-finite float %v has no JSON form", f)
	}
	return pyfmt.Float(f), nil
}

// Marshal encodes v as the record plaintext a Python peer would write for
// the same model: json.dumps(model_dump(), ensure_ascii=False,
// sort_keys=True). Values with a Validate method are validated first, so an
// invalid payload never leaves this process.
func Marshal(v any) ([]byte, error) {
	if val, ok := v.(interface{ Validate() error }); ok {
		if err := val.Validate(); err != nil {
			return nil, err
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return Canonical(b)
}

// Canonical rewrites any JSON document in Python's json.dumps form: keys
// sorted by code point at every level (the last of duplicate keys wins, as
// in Python), ", " and ": " separators, non-ASCII and HTML characters
// written as is, control characters escaped, integers unchanged and other
// numbers re-spelled as Python float reprs. Numbers too large for a float64
// are refused.
func Canonical(b []byte) ([]byte, error) {
	if !utf8.Valid(b) || !json.Valid(b) {
		return nil, ErrInvalidJSON
	}
	b = bytes.TrimSpace(b)
	out := make([]byte, 0, len(b)+len(b)/8)
	return appendCanonical(out, b)
}

type member struct {
	key string
	val []byte
}

func appendCanonical(dst, v []byte) ([]byte, error) {
	var err error
	switch v[0] {
	case '{':
		var ms []member
		if err := forEachMember(v, func(k string, val []byte) error {
			ms = append(ms, member{k, val})
			return nil
		}); err != nil {
			return nil, err
		}
		slices.SortStableFunc(ms, func(a, b member) int { return strings.Compare(a.key, b.key) })
		dst = append(dst, '{')
		first := true
		for i, m := range ms {
			if i+1 < len(ms) && ms[i+1].key == m.key {
				continue // a later duplicate replaces this one
			}
			if !first {
				dst = append(dst, ", "...)
			}
			first = false
			dst = appendPyString(dst, m.key)
			dst = append(dst, ": "...)
			if dst, err = appendCanonical(dst, m.val); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case '[':
		dst = append(dst, '[')
		err = forEachElement(v, func(i int, e []byte) error {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			var err error
			dst, err = appendCanonical(dst, e)
			return err
		})
		if err != nil {
			return nil, err
		}
		return append(dst, ']'), nil
	case '"':
		s, err := unquote(v)
		if err != nil {
			return nil, err
		}
		return appendPyString(dst, s), nil
	case 't', 'f', 'n':
		return append(dst, v...), nil
	}
	return appendPyNumber(dst, v)
}

// appendPyNumber keeps integers as integers (Python ints are unbounded) and
// writes every other number the way Python prints the float it parses to.
// Out-of-range numbers are refused: Python would write Infinity, which is
// not JSON.
func appendPyNumber(dst, tok []byte) ([]byte, error) {
	s, err := pyfmt.Number(string(tok))
	if err != nil {
		return nil, err
	}
	if s == "inf" || s == "-inf" {
		return nil, fmt.Errorf("computeproto: number %s out of float range", tok)
	}
	return append(dst, s...), nil
}

// appendPyString quotes s as Python's encoder does with ensure_ascii off:
// only the quote, the backslash and C0 controls are escaped.
func appendPyString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// The scanners below walk a document already known to be valid JSON; they
// never allocate per element, so counting a list costs no memory.

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// forEachElement calls fn for each element of the array v (v[0] == '[').
func forEachElement(v []byte, fn func(i int, e []byte) error) error {
	i := skipWS(v, 1)
	if i >= len(v) || v[i] == ']' {
		return nil
	}
	for n := 0; ; n++ {
		i = skipWS(v, i)
		end := valueEnd(v, i)
		if err := fn(n, v[i:end]); err != nil {
			return err
		}
		i = skipWS(v, end)
		if i >= len(v) || v[i] != ',' {
			return nil
		}
		i++
	}
}

func countElements(v []byte) int {
	n := 0
	_ = forEachElement(v, func(int, []byte) error { n++; return nil })
	return n
}

// forEachMember calls fn for each member of the object v (v[0] == '{').
func forEachMember(v []byte, fn func(k string, val []byte) error) error {
	i := skipWS(v, 1)
	if i >= len(v) || v[i] == '}' {
		return nil
	}
	for {
		i = skipWS(v, i)
		kend := stringEnd(v, i)
		key, err := unquote(v[i:kend])
		if err != nil {
			return err
		}
		i = skipWS(v, kend) + 1 // past ':'
		i = skipWS(v, i)
		end := valueEnd(v, i)
		if err := fn(key, v[i:end]); err != nil {
			return err
		}
		i = skipWS(v, end)
		if i >= len(v) || v[i] != ',' {
			return nil
		}
		i++
	}
}

func unquote(tok []byte) (string, error) {
	if len(tok) >= 2 && bytes.IndexByte(tok, '\\') < 0 {
		return string(tok[1 : len(tok)-1]), nil
	}
	var s string
	if err := json.Unmarshal(tok, &s); err != nil {
		return "", err
	}
	return s, nil
}
