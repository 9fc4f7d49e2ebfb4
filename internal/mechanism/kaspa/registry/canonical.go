package registry

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The signed messages are the bytes Python's
// json.dumps(obj, sort_keys=True, separators=(",", ":")) produces (ASCII
// output, Python float repr): what the miners' scripts sign and what the
// reference validators rebuild, so every byte must agree.

// RegistrationMessage is the message a hotkey signs to bind worker:
// {"hotkey":…,"registration_time":…,"worker":…}.
func RegistrationMessage(hotkey, worker string, registrationTime float64) []byte {
	b := make([]byte, 0, 64+len(hotkey)+len(worker))
	b = append(b, `{"hotkey":`...)
	b = AppendPyString(b, hotkey)
	b = append(b, `,"registration_time":`...)
	b = append(b, FormatPyFloat(registrationTime)...)
	b = append(b, `,"worker":`...)
	b = AppendPyString(b, worker)
	return append(b, '}')
}

// UnbindMessage is the message a hotkey signs to unbind worker:
// {"hotkey":…,"worker":…}. Its signature is also the tombstone peers pass
// on: it carries no time, so it stays valid, and applies to the one binding
// the worker name can ever have.
func UnbindMessage(hotkey, worker string) []byte {
	b := make([]byte, 0, 32+len(hotkey)+len(worker))
	b = append(b, `{"hotkey":`...)
	b = AppendPyString(b, hotkey)
	b = append(b, `,"worker":`...)
	b = AppendPyString(b, worker)
	return append(b, '}')
}

// FormatPyFloat formats f as Python's json.dumps does (float.__repr__):
// the shortest digits that round-trip, fixed notation with at least one
// digit after the point when the decimal exponent is in [-4, 16), and
// 1e+16 / 1.5e-05 style otherwise; NaN and ±Infinity as json.dumps spells
// them.
func FormatPyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
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

// AppendPyString appends s as a JSON string the way Python's json.dumps
// does with ensure_ascii: short escapes for " \ \n \r \t \b \f, \u00XX for
// other control characters and DEL, \uXXXX (lowercase, UTF-16 surrogate
// pairs) for everything outside ASCII, and / < > & as they are. Invalid
// UTF-8 bytes become U+FFFD, as they do when Go decodes a JSON string.
func AppendPyString(b []byte, s string) []byte {
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
		switch c {
		case '\n':
			b = append(b, `\n`...)
			i++
			continue
		case '\r':
			b = append(b, `\r`...)
			i++
			continue
		case '\t':
			b = append(b, `\t`...)
			i++
			continue
		case '\b':
			b = append(b, `\b`...)
			i++
			continue
		case '\f':
			b = append(b, `\f`...)
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

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}
