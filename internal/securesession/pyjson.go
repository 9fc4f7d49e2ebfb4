package securesession

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MarshalPython renders v the way the Python peers serialise record
// plaintexts: json.dumps(v, ensure_ascii=False, sort_keys=True). Object keys
// are sorted, separators are ", " and ": ", non-ASCII text is written as is,
// and floats use Python's repr (12.0, 1e-05, 1e+20). Structs follow
// encoding/json's field rules (tags, omitempty, omitzero, embedding); values
// with a MarshalJSON method are re-rendered from its output. NaN and
// infinities are refused: Python would write NaN/Infinity, which is not JSON.
func MarshalPython(v any) ([]byte, error) {
	var e pyEncoder
	if err := e.encode(reflect.ValueOf(v), 0); err != nil {
		return nil, err
	}
	return e.buf, nil
}

type pyEncoder struct {
	buf []byte
}

const pyMaxDepth = 1000

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	jsonNumberType    = reflect.TypeFor[json.Number]()
)

func (e *pyEncoder) encode(v reflect.Value, depth int) error {
	if depth > pyMaxDepth {
		return fmt.Errorf("securesession: value nested deeper than %d", pyMaxDepth)
	}
	if !v.IsValid() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	if v.Type() == jsonNumberType {
		return e.number(v.String())
	}
	if v.Kind() != reflect.Pointer && v.CanAddr() && reflect.PointerTo(v.Type()).Implements(jsonMarshalerType) {
		v = v.Addr()
	}
	if v.Type().Implements(jsonMarshalerType) {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		raw, err := v.Interface().(json.Marshaler).MarshalJSON()
		if err != nil {
			return err
		}
		return e.raw(raw, depth)
	}
	if v.Type().Implements(textMarshalerType) && v.Kind() != reflect.Pointer {
		text, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return err
		}
		e.buf = appendPyString(e.buf, string(text), false)
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.encode(v.Elem(), depth+1)
	case reflect.Bool:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return e.float(v.Float())
	case reflect.String:
		e.buf = appendPyString(e.buf, v.String(), false)
	case reflect.Slice:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 && !v.Type().Elem().Implements(jsonMarshalerType) {
			// encoding/json's convention for byte slices.
			raw, err := json.Marshal(v.Interface())
			if err != nil {
				return err
			}
			e.buf = append(e.buf, raw...)
			return nil
		}
		return e.array(v, depth)
	case reflect.Array:
		return e.array(v, depth)
	case reflect.Map:
		return e.mapValue(v, depth)
	case reflect.Struct:
		return e.structValue(v, depth)
	default:
		return fmt.Errorf("securesession: cannot encode %s", v.Type())
	}
	return nil
}

func (e *pyEncoder) array(v reflect.Value, depth int) error {
	e.buf = append(e.buf, '[')
	for i := range v.Len() {
		if i > 0 {
			e.buf = append(e.buf, ", "...)
		}
		if err := e.encode(v.Index(i), depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

type pyMember struct {
	key string
	val reflect.Value
}

func (e *pyEncoder) object(members []pyMember, depth int) error {
	slices.SortFunc(members, func(a, b pyMember) int { return strings.Compare(a.key, b.key) })
	e.buf = append(e.buf, '{')
	for i, m := range members {
		if i > 0 {
			e.buf = append(e.buf, ", "...)
		}
		e.buf = appendPyString(e.buf, m.key, false)
		e.buf = append(e.buf, ": "...)
		if err := e.encode(m.val, depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

func (e *pyEncoder) mapValue(v reflect.Value, depth int) error {
	if v.IsNil() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	if v.Type().Key().Kind() != reflect.String {
		return fmt.Errorf("securesession: map key type %s is not a string", v.Type().Key())
	}
	members := make([]pyMember, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		members = append(members, pyMember{key: it.Key().String(), val: it.Value()})
	}
	return e.object(members, depth)
}

func (e *pyEncoder) structValue(v reflect.Value, depth int) error {
	fields, err := structFields(v.Type())
	if err != nil {
		return err
	}
	members := make([]pyMember, 0, len(fields))
	for _, f := range fields {
		fv, ok := fieldByIndex(v, f.index)
		if !ok {
			continue
		}
		if f.omitEmpty && isEmptyValue(fv) {
			continue
		}
		if f.omitZero && fv.IsZero() {
			continue
		}
		members = append(members, pyMember{key: f.name, val: fv})
	}
	return e.object(members, depth)
}

// fieldByIndex follows an embedded path, reporting false at a nil embedded
// pointer (encoding/json skips such fields).
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

type pyField struct {
	name      string
	index     []int
	tagged    bool
	omitEmpty bool
	omitZero  bool
}

// structFields lists the JSON members of a struct type with encoding/json's
// visibility rules: the shallowest field of a name wins, a tagged one among
// equals, and ambiguous names are dropped.
func structFields(t reflect.Type) ([]pyField, error) {
	var all []pyField
	var walk func(t reflect.Type, index []int, seen map[reflect.Type]bool) error
	walk = func(t reflect.Type, index []int, seen map[reflect.Type]bool) error {
		if seen[t] {
			return nil
		}
		seen[t] = true
		defer delete(seen, t)
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(slices.Clone(index), i)
			ft := sf.Type
			if sf.Anonymous {
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if !sf.IsExported() && ft.Kind() != reflect.Struct {
					continue
				}
				if name == "" && ft.Kind() == reflect.Struct {
					if err := walk(ft, idx, seen); err != nil {
						return err
					}
					continue
				}
			} else if !sf.IsExported() {
				continue
			}
			f := pyField{name: name, index: idx, tagged: name != ""}
			if f.name == "" {
				f.name = sf.Name
			}
			for o := range strings.SplitSeq(opts, ",") {
				switch o {
				case "omitempty":
					f.omitEmpty = true
				case "omitzero":
					f.omitZero = true
				case "string":
					return fmt.Errorf("securesession: json tag option \"string\" on %s.%s is not supported", t, sf.Name)
				}
			}
			all = append(all, f)
		}
		return nil
	}
	if err := walk(t, nil, map[reflect.Type]bool{}); err != nil {
		return nil, err
	}
	byName := map[string][]pyField{}
	var order []string
	for _, f := range all {
		if _, ok := byName[f.name]; !ok {
			order = append(order, f.name)
		}
		byName[f.name] = append(byName[f.name], f)
	}
	out := make([]pyField, 0, len(order))
	for _, name := range order {
		cands := byName[name]
		minDepth := len(cands[0].index)
		for _, c := range cands {
			minDepth = min(minDepth, len(c.index))
		}
		var top, tagged []pyField
		for _, c := range cands {
			if len(c.index) == minDepth {
				top = append(top, c)
				if c.tagged {
					tagged = append(tagged, c)
				}
			}
		}
		switch {
		case len(top) == 1:
			out = append(out, top[0])
		case len(tagged) == 1:
			out = append(out, tagged[0])
		}
	}
	return out, nil
}

func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// raw re-renders JSON text produced by a MarshalJSON method.
func (e *pyEncoder) raw(raw []byte, depth int) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return err
	}
	return e.encode(reflect.ValueOf(x), depth+1)
}

// number writes JSON number text: integers as they are, anything with a
// fraction or exponent as a Python float.
func (e *pyEncoder) number(s string) error {
	if s == "" {
		s = "0" // encoding/json's reading of an empty json.Number
	}
	if !strings.ContainsAny(s, ".eE") {
		if !validInt(s) {
			return fmt.Errorf("securesession: invalid number %q", s)
		}
		e.buf = append(e.buf, s...)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("securesession: invalid number %q", s)
	}
	return e.float(f)
}

// validInt checks JSON integer syntax of any length.
func validInt(s string) bool {
	t := strings.TrimPrefix(s, "-")
	if t == "" || (len(t) > 1 && t[0] == '0') {
		return false
	}
	for i := range len(t) {
		if t[i] < '0' || t[i] > '9' {
			return false
		}
	}
	return true
}

func (e *pyEncoder) float(f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("securesession: %v is not representable in JSON", f)
	}
	e.buf = appendPyFloat(e.buf, f)
	return nil
}

// appendPyFloat writes Python's repr of a float: the shortest round-trip
// digits, positional when the decimal exponent is in [-5, 16), otherwise
// d.ddde±XX with at least two exponent digits; positional values always show
// a fraction (12.0).
func appendPyFloat(b []byte, f float64) []byte {
	s := strconv.FormatFloat(f, 'e', -1, 64) // e.g. -1.2345e+06
	neg := s[0] == '-'
	if neg {
		s = s[1:]
		b = append(b, '-')
	}
	mant, expStr, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	if exp < -4 || exp >= 16 {
		b = append(b, digits[0])
		if len(digits) > 1 {
			b = append(b, '.')
			b = append(b, digits[1:]...)
		}
		b = append(b, 'e')
		if exp < 0 {
			b = append(b, '-')
			exp = -exp
		} else {
			b = append(b, '+')
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10)
	}
	point := exp + 1 // digits before the decimal point
	switch {
	case point <= 0:
		b = append(b, "0."...)
		b = append(b, strings.Repeat("0", -point)...)
		b = append(b, digits...)
	case point >= len(digits):
		b = append(b, digits...)
		b = append(b, strings.Repeat("0", point-len(digits))...)
		b = append(b, ".0"...)
	default:
		b = append(b, digits[:point]...)
		b = append(b, '.')
		b = append(b, digits[point:]...)
	}
	return b
}

// appendPyString writes a JSON string the way Python's json module does:
// the two-character escapes for " \ \n \r \t \b \f, \u00XX for the other
// control characters, and, when ascii is set, \uXXXX (surrogate pairs above
// the BMP) for everything outside ASCII. Invalid UTF-8 becomes U+FFFD.
func appendPyString(b []byte, s string, ascii bool) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"':
			b = append(b, `\"`...)
		case r == '\\':
			b = append(b, `\\`...)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r == '\b':
			b = append(b, `\b`...)
		case r == '\f':
			b = append(b, `\f`...)
		case r < 0x20 || (ascii && r > 0x7e && r < 0x10000):
			b = append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
		case ascii && r >= 0x10000:
			r -= 0x10000
			hi, lo := 0xd800+(r>>10), 0xdc00+(r&0x3ff)
			for _, u := range []rune{hi, lo} {
				b = append(b, '\\', 'u', hexDigits[u>>12&0xf], hexDigits[u>>8&0xf], hexDigits[u>>4&0xf], hexDigits[u&0xf])
			}
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}
