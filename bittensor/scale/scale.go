// Package scale implements the SCALE codec (Parity's Simple Concatenated
// Aggregate Little-Endian encoding) used by Substrate runtimes: runtime-API
// responses and storage values are decoded with a Reader, extrinsics are
// encoded with an Encoder.
//
// SCALE is not self-describing, so there is no reflection: callers decode a
// type by calling the Reader methods for its fields in declaration order, and
// encode it by calling the matching Encoder methods. This keeps the hot path
// free of reflection and of allocations beyond the decoded values themselves.
//
// Decoding errors are *Error values carrying the input offset and a field
// path; callers add path elements with Reader.Wrap only when an error
// occurs, so naming fields costs nothing on success. The sentinel errors
// ErrShort, ErrInvalid, ErrTooLong and ErrTrailing classify decoding
// failures for errors.Is; ErrRange classifies out-of-range arguments to the
// encoder and the big.Int conversions.
package scale

import (
	"errors"
	"strconv"
)

// Sentinel errors matched with errors.Is against the errors returned by a
// Reader, by Decode and by the conversion functions.
var (
	// ErrShort reports input that ends before the value being read. Length
	// prefixes that exceed the remaining input also match ErrShort (as well
	// as ErrTooLong), because a truncated input produces exactly that.
	ErrShort = errors.New("scale: truncated input")
	// ErrInvalid reports bytes that are not a valid encoding: a bool or
	// Option tag other than 0 or 1, a non-canonical compact integer, a
	// compact value too large for the requested type, or invalid UTF-8.
	ErrInvalid = errors.New("scale: invalid encoding")
	// ErrTooLong reports a length or item count that cannot fit in the
	// remaining input, so that a corrupt prefix is rejected before the
	// caller allocates for it.
	ErrTooLong = errors.New("scale: length exceeds input")
	// ErrTrailing reports input left over after a value that should have
	// consumed all of it.
	ErrTrailing = errors.New("scale: trailing bytes")
	// ErrRange reports a value outside the range of the target type when
	// encoding or converting (for example a negative or over-wide big.Int).
	ErrRange = errors.New("scale: value out of range")
)

// Error is a decoding failure. Offset is the position in the input where the
// failing value starts; Field is the dotted path of the value (for example
// "neurons[3].axon_info.port"), empty when the caller named nothing; Err is
// the cause, which matches one or more of the sentinel errors.
type Error struct {
	Offset int
	Field  string
	Err    error
}

// Error formats the failure as
// `scale: field "a[1].b" at offset 12: need 2 bytes, have 1`.
func (e *Error) Error() string {
	msg := "<nil>"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Field == "" {
		return "scale: at offset " + strconv.Itoa(e.Offset) + ": " + msg
	}
	return "scale: field " + strconv.Quote(e.Field) + " at offset " + strconv.Itoa(e.Offset) + ": " + msg
}

// Unwrap returns the cause so that errors.Is sees the sentinel errors.
func (e *Error) Unwrap() error { return e.Err }

// cause is the Err of an Error built by this package: a specific message
// that still matches its sentinel kinds under errors.Is.
type cause struct {
	msg   string
	kinds []error
}

func (c *cause) Error() string   { return c.msg }
func (c *cause) Unwrap() []error { return c.kinds }

// Pre-built kind lists, so that building an error does not allocate them.
var (
	kindInvalid  = []error{ErrInvalid}
	kindLength   = []error{ErrTooLong, ErrShort}
	kindTrailing = []error{ErrTrailing}
)

// joinField prefixes inner with outer, inserting a dot unless inner is an
// index such as "[3]".
func joinField(outer, inner string) string {
	switch {
	case inner == "":
		return outer
	case outer == "":
		return inner
	case inner[0] == '[':
		return outer + inner
	default:
		return outer + "." + inner
	}
}

// Decode runs f on a Reader over b and then requires that f consumed every
// byte, so that a layout mismatch that happens to parse is still reported
// (as ErrTrailing).
func Decode(b []byte, f func(*Reader) error) error {
	r := NewReader(b)
	if err := f(r); err != nil {
		return err
	}
	return r.Done()
}

// DecodeVec reads a Vec<T>: a compact item count, then the items, each
// decoded by f. minItemSize is the smallest encoded size of one item and is
// used to reject counts the remaining input cannot hold before the slice is
// allocated (see Reader.VecLen). Item errors are wrapped with their index,
// as in "[3].port".
func DecodeVec[T any](r *Reader, minItemSize int, f func(*Reader) (T, error)) ([]T, error) {
	n, err := r.VecLen(minItemSize)
	if err != nil {
		return nil, err
	}
	out := make([]T, n)
	for i := range out {
		v, err := f(r)
		if err != nil {
			return nil, r.Wrap(indexField(i), err)
		}
		out[i] = v
	}
	return out, nil
}

// DecodeOption reads an Option<T>: nil for None, otherwise a pointer to the
// value decoded by f.
func DecodeOption[T any](r *Reader, f func(*Reader) (T, error)) (*T, error) {
	some, err := r.Option()
	if err != nil || !some {
		return nil, err
	}
	v, err := f(r)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// EncodeVec writes a Vec<T>: the compact item count, then each item as
// written by f.
func EncodeVec[T any](e *Encoder, items []T, f func(*Encoder, T)) {
	e.VecLen(len(items))
	for _, it := range items {
		f(e, it)
	}
}

// EncodeOption writes an Option<T>: None for a nil v, otherwise Some and the
// value as written by f.
func EncodeOption[T any](e *Encoder, v *T, f func(*Encoder, T)) {
	if v == nil {
		e.OptionNone()
		return
	}
	e.OptionSome()
	f(e, *v)
}

func indexField(i int) string {
	return "[" + strconv.Itoa(i) + "]"
}
