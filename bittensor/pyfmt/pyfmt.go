// Package pyfmt writes values the way Python prints them, where Python
// peers hash or sign the printed form: float repr, str() and repr() of
// strings, lists and dicts, and json.dumps' float and string spellings.
package pyfmt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Float is Python's repr (and str) of a float: the shortest digits that
// round-trip, fixed notation with at least one digit after the point when
// the decimal exponent is in [-4, 16), and 1e+16 / 1.5e-05 style
// otherwise; nan, inf and -inf.
func Float(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return finite(f)
}

// JSONFloat is a float as json.dumps writes it: Float, with NaN, Infinity
// and -Infinity for the values JSON lacks.
func JSONFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return finite(f)
}

func finite(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if exp := decimalExponent(f); exp < -4 || exp >= 16 {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// decimalExponent is the exponent of f in scientific notation, taken from
// the shortest representation itself so rounding (9.9999999999999999e15
// printing as 1e+16) decides as Python does.
func decimalExponent(f float64) int {
	s := strconv.FormatFloat(f, 'e', -1, 64)
	i := strings.LastIndexByte(s, 'e')
	exp, _ := strconv.Atoi(s[i+1:])
	return exp
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string the way Python's json.dumps
// does with ensure_ascii (its default): short escapes for " \ \n \r \t \b
// \f, \u00XX for other control characters and DEL, \uXXXX (lowercase,
// UTF-16 surrogate pairs) for everything outside ASCII, and / < > & as they
// are. Invalid UTF-8 bytes become U+FFFD, as they do when Go decodes a JSON
// string.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			if c == '"' || c == '\\' {
				b = append(b, '\\')
			}
			b = append(b, c)
			i++
			continue
		}
		if esc := shortEscape(c); esc != "" {
			b = append(b, esc...)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r >= 0x10000 {
			hi, lo := utf16.EncodeRune(r)
			b = appendU(b, hi)
			b = appendU(b, lo)
			continue
		}
		b = appendU(b, r)
	}
	return append(b, '"')
}

func shortEscape(c byte) string {
	switch c {
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	case '\b':
		return `\b`
	case '\f':
		return `\f`
	}
	return ""
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// Repr is Python's repr() of a str: single quotes, or double quotes when
// the string holds a single quote and no double quote; backslash escapes
// for the quote, backslash, \t \n \r, and \xNN, \uNNNN or \UNNNNNNNN for
// characters that are not printable.
func Repr(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	b := make([]byte, 0, len(s)+2)
	b = append(b, quote)
	for _, r := range s {
		switch {
		case r == rune(quote) || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\t':
			b = append(b, `\t`...)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r < 0x20 || r == 0x7f:
			b = append(b, '\\', 'x', hexDigits[r>>4], hexDigits[r&0xf])
		case r < 0x80 || unicode.IsPrint(r):
			b = utf8.AppendRune(b, r)
		case r <= 0xff:
			b = append(b, '\\', 'x', hexDigits[r>>4], hexDigits[r&0xf])
		case r <= 0xffff:
			b = append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
		default:
			b = append(b, fmt.Sprintf(`\U%08x`, r)...)
		}
	}
	return string(append(b, quote))
}

// Str is Python's str() of a Go value that mirrors a Python one: strings
// as they are, integers in decimal, floats by Float, booleans True/False,
// nil pointers, slices and maps None, slices and arrays as lists and maps
// as dicts (keys sorted, since Go maps keep no order) with their elements
// in repr form. A json.RawMessage is the value Python's json.loads makes of
// it: key order kept, integers and floats told apart by their spelling;
// use it for dict and Any fields whose order must match a Python peer's.
// Structs have no Python counterpart here and are an error.
func Str(v any) (string, error) {
	var b strings.Builder
	if err := write(&b, reflect.ValueOf(v), false); err != nil {
		return "", err
	}
	return b.String(), nil
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

func write(b *strings.Builder, v reflect.Value, nested bool) error {
	if !v.IsValid() {
		b.WriteString("None")
		return nil
	}
	if v.Type() == rawMessageType {
		if v.IsNil() {
			b.WriteString("None")
			return nil
		}
		d := json.NewDecoder(bytes.NewReader(v.Bytes()))
		d.UseNumber()
		if err := writeJSON(b, d, nested); err != nil {
			return fmt.Errorf("pyfmt: %w", err)
		}
		if _, err := d.Token(); err != io.EOF {
			return errors.New("pyfmt: data after the JSON value")
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("None")
			return nil
		}
		return write(b, v.Elem(), nested)
	case reflect.String:
		if nested {
			b.WriteString(Repr(v.String()))
		} else {
			b.WriteString(v.String())
		}
	case reflect.Bool:
		if v.Bool() {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		b.WriteString(Float(v.Float()))
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			b.WriteString("None")
			return nil
		}
		b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := write(b, v.Index(i), true); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case reflect.Map:
		if v.IsNil() {
			b.WriteString("None")
			return nil
		}
		type kv struct {
			key string
			val reflect.Value
		}
		items := make([]kv, 0, v.Len())
		for it := v.MapRange(); it.Next(); {
			var kb strings.Builder
			if err := write(&kb, it.Key(), true); err != nil {
				return err
			}
			items = append(items, kv{kb.String(), it.Value()})
		}
		sort.Slice(items, func(i, j int) bool { return items[i].key < items[j].key })
		b.WriteByte('{')
		for i, it := range items {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(it.key)
			b.WriteString(": ")
			if err := write(b, it.val, true); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("pyfmt: no Python form for a %s", v.Type())
	}
	return nil
}

// Number is Python's str() of what json.loads reads from the JSON number
// tok: an integer keeps its digits (-0 is 0; Python ints are unbounded),
// any other number prints as the float it parses to, ±inf when out of
// range.
func Number(tok string) (string, error) {
	if strings.ContainsAny(tok, ".eE") {
		f, err := strconv.ParseFloat(tok, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return "", err
		}
		return Float(f), nil
	}
	// A JSON integer (no leading zeros) is already spelled as Python
	// prints it, but for the sign of zero.
	digits := strings.TrimPrefix(tok, "-")
	if digits == "" || digits[0] == '0' && len(digits) > 1 || strings.Trim(digits, "0123456789") != "" {
		return "", fmt.Errorf("bad JSON integer %q", tok)
	}
	if digits == "0" {
		return "0", nil
	}
	return tok, nil
}

// writeJSON writes the next JSON value of d as Python's str() (nested:
// repr()) of what json.loads makes of it.
func writeJSON(b *strings.Builder, d *json.Decoder, nested bool) error {
	tok, err := d.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if t {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case string:
		if nested {
			b.WriteString(Repr(t))
		} else {
			b.WriteString(t)
		}
	case json.Number:
		s, err := Number(string(t))
		if err != nil {
			return err
		}
		b.WriteString(s)
	case json.Delim:
		if t == '[' {
			b.WriteByte('[')
			for i := 0; d.More(); i++ {
				if i > 0 {
					b.WriteString(", ")
				}
				if err := writeJSON(b, d, true); err != nil {
					return err
				}
			}
			b.WriteByte(']')
		} else {
			if err := writeObject(b, d); err != nil {
				return err
			}
		}
		if _, err := d.Token(); err != nil { // the closing delimiter
			return err
		}
	}
	return nil
}

// writeObject writes a JSON object's members as a dict: in order, and a
// repeated key keeps its first place with its last value, as in Python.
func writeObject(b *strings.Builder, d *json.Decoder) error {
	var keys []string
	vals := map[string]string{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		k, _ := tok.(string)
		var vb strings.Builder
		if err := writeJSON(&vb, d, true); err != nil {
			return err
		}
		if _, seen := vals[k]; !seen {
			keys = append(keys, k)
		}
		vals[k] = vb.String()
	}
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(Repr(k))
		b.WriteString(": ")
		b.WriteString(vals[k])
	}
	b.WriteByte('}')
	return nil
}
