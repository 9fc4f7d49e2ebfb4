package scale

import (
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
	"unicode/utf8"
)

// Reader decodes SCALE values from a byte slice, front to back. Each method
// reads one value and returns it with a nil error, or returns an *Error
// (carrying the offset where the value starts) and leaves the position
// unspecified: a decode that failed is not meant to be resumed. A Reader is
// not safe for concurrent use.
//
// Lengths and item counts read from the input are checked against the bytes
// that remain, so corrupt input cannot make a caller allocate for more bytes
// or items than the input could actually hold.
type Reader struct {
	p []byte // unread input
	n int    // total input length, so that Offset is n - len(p)
}

// NewReader returns a Reader over b. Methods that return byte slices return
// sub-slices of b, so b must not be modified while they are in use.
func NewReader(b []byte) *Reader { return &Reader{p: b, n: len(b)} }

// Offset returns the number of bytes consumed so far.
func (r *Reader) Offset() int { return r.n - len(r.p) }

// Remaining returns the number of bytes not yet consumed.
func (r *Reader) Remaining() int { return len(r.p) }

// Done reports ErrTrailing if any input is left, so that a value decoded
// with the wrong layout is not silently accepted.
func (r *Reader) Done() error {
	if len(r.p) == 0 {
		return nil
	}
	return r.fail(r.Offset(), kindTrailing, strconv.Itoa(len(r.p))+" trailing bytes")
}

// Wrap adds field as the outermost element of the path of err, so that
// callers name the fields they read only when a read fails:
//
//	if n.Port, err = r.U16(); err != nil {
//		return r.Wrap("port", err)
//	}
//
// Paths join with dots, except that index elements such as "[3]" attach
// directly. An err that is not an *Error (for example a caller's own
// validation error) becomes the cause of a new *Error at the current offset.
// Wrap returns nil for a nil err.
func (r *Reader) Wrap(field string, err error) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(*Error); ok {
		return &Error{Offset: e.Offset, Field: joinField(field, e.Field), Err: e.Err}
	}
	return &Error{Offset: r.Offset(), Field: field, Err: err}
}

func (r *Reader) fail(off int, kinds []error, msg string) error {
	return &Error{Offset: off, Err: &cause{msg: msg, kinds: kinds}}
}

// short reports that need bytes are required at the current offset. It is
// cheap enough to inline (the message is formatted only when asked for), so
// the fixed-width readers that call it stay inlinable too.
func (r *Reader) short(need int) error {
	return &Error{Offset: r.Offset(), Err: &shortError{need: need, have: len(r.p)}}
}

// shortError is the cause of an ErrShort failure; it formats its message
// only when asked.
type shortError struct{ need, have int }

func (e *shortError) Error() string {
	return "need " + strconv.Itoa(e.need) + " bytes, have " + strconv.Itoa(e.have)
}

func (e *shortError) Unwrap() error { return ErrShort }

// U8 reads a u8.
func (r *Reader) U8() (uint8, error) {
	p := r.p
	if len(p) < 1 {
		return 0, r.short(1)
	}
	r.p = p[1:]
	return p[0], nil
}

// U16 reads a little-endian u16.
func (r *Reader) U16() (uint16, error) {
	p := r.p
	if len(p) < 2 {
		return 0, r.short(2)
	}
	r.p = p[2:]
	return binary.LittleEndian.Uint16(p), nil
}

// U32 reads a little-endian u32.
func (r *Reader) U32() (uint32, error) {
	p := r.p
	if len(p) < 4 {
		return 0, r.short(4)
	}
	r.p = p[4:]
	return binary.LittleEndian.Uint32(p), nil
}

// U64 reads a little-endian u64.
func (r *Reader) U64() (uint64, error) {
	p := r.p
	if len(p) < 8 {
		return 0, r.short(8)
	}
	r.p = p[8:]
	return binary.LittleEndian.Uint64(p), nil
}

// I8 reads an i8.
func (r *Reader) I8() (int8, error) {
	v, err := r.U8()
	return int8(v), err
}

// I16 reads a little-endian i16.
func (r *Reader) I16() (int16, error) {
	v, err := r.U16()
	return int16(v), err
}

// I32 reads a little-endian i32.
func (r *Reader) I32() (int32, error) {
	v, err := r.U32()
	return int32(v), err
}

// I64 reads a little-endian i64.
func (r *Reader) I64() (int64, error) {
	v, err := r.U64()
	return int64(v), err
}

// U128 reads a little-endian u128.
func (r *Reader) U128() (Uint128, error) {
	p := r.p
	if len(p) < 16 {
		return Uint128{}, r.short(16)
	}
	r.p = p[16:]
	return Uint128{Lo: binary.LittleEndian.Uint64(p), Hi: binary.LittleEndian.Uint64(p[8:])}, nil
}

// I128 reads a little-endian i128.
func (r *Reader) I128() (Int128, error) {
	p := r.p
	if len(p) < 16 {
		return Int128{}, r.short(16)
	}
	r.p = p[16:]
	return Int128{Lo: binary.LittleEndian.Uint64(p), Hi: int64(binary.LittleEndian.Uint64(p[8:]))}, nil
}

// I32F32 reads an I32F32 (8 raw bytes).
func (r *Reader) I32F32() (I32F32, error) {
	v, err := r.I64()
	return I32F32(v), err
}

// I96F32 reads an I96F32 (16 raw bytes).
func (r *Reader) I96F32() (I96F32, error) {
	p := r.p
	if len(p) < 16 {
		return I96F32{}, r.short(16)
	}
	r.p = p[16:]
	return I96F32{Lo: binary.LittleEndian.Uint64(p), Hi: int64(binary.LittleEndian.Uint64(p[8:]))}, nil
}

// U64F64 reads a U64F64 (16 raw bytes).
func (r *Reader) U64F64() (U64F64, error) {
	v, err := r.U128()
	return U64F64(v), err
}

// Bool reads a bool; bytes other than 0 and 1 are ErrInvalid, as in
// parity-scale-codec.
func (r *Reader) Bool() (bool, error) {
	p := r.p
	if len(p) == 0 {
		return false, r.short(1)
	}
	if p[0] > 1 {
		return false, &Error{Offset: r.n - len(p), Err: &tagError{what: "bool byte", b: p[0]}}
	}
	r.p = p[1:]
	return p[0] == 1, nil
}

// Option reads the tag of an Option and reports whether a value (Some)
// follows; tags other than 0 and 1 are ErrInvalid.
func (r *Reader) Option() (bool, error) {
	p := r.p
	if len(p) == 0 {
		return false, r.short(1)
	}
	if p[0] > 1 {
		return false, &Error{Offset: r.n - len(p), Err: &tagError{what: "option tag", b: p[0]}}
	}
	r.p = p[1:]
	return p[0] == 1, nil
}

// tagError is the cause of an invalid bool or Option tag.
type tagError struct {
	what string
	b    byte
}

func (e *tagError) Error() string { return "invalid " + e.what + " 0x" + hexByte(e.b) }

func (e *tagError) Unwrap() error { return ErrInvalid }

// Fixed reads n raw bytes, as for [u8; N] and AccountId32. The result is a
// sub-slice of the input, not a copy; its capacity is limited to n so that
// appending to it cannot overwrite the input that follows.
func (r *Reader) Fixed(n int) ([]byte, error) {
	p := r.p
	if n < 0 {
		return nil, r.fail(r.Offset(), kindInvalid, "negative length "+strconv.Itoa(n))
	}
	if len(p) < n {
		return nil, r.short(n)
	}
	r.p = p[n:]
	return p[:n:n], nil
}

// Bytes32 reads 32 raw bytes (an AccountId32 or H256) into an array, which
// needs no allocation.
func (r *Reader) Bytes32() ([32]byte, error) {
	p := r.p
	if len(p) < 32 {
		return [32]byte{}, r.short(32)
	}
	r.p = p[32:]
	return [32]byte(p), nil
}

// Skip discards n bytes.
func (r *Reader) Skip(n int) error {
	_, err := r.Fixed(n)
	return err
}

// ByteSlice reads a Vec<u8>: a compact length, then that many bytes. A
// length beyond the remaining input is ErrTooLong (and ErrShort). The result
// is a sub-slice of the input, not a copy, with capacity limited to its
// length.
func (r *Reader) ByteSlice() ([]byte, error) {
	n, err := r.CompactInt()
	if err != nil {
		return nil, err
	}
	p := r.p
	r.p = p[n:]
	return p[:n:n], nil
}

// String reads a Vec<u8> and returns it as a string (a copy) without
// checking that it is UTF-8, since Substrate strings are plain byte vectors.
func (r *Reader) String() (string, error) {
	b, err := r.ByteSlice()
	return string(b), err
}

// UTF8String is String but reports ErrInvalid for bytes that are not valid
// UTF-8.
func (r *Reader) UTF8String() (string, error) {
	start := r.Offset()
	b, err := r.ByteSlice()
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", r.fail(start, kindInvalid, "invalid UTF-8")
	}
	return string(b), nil
}

// VecLen reads the compact item count of a Vec. minItemSize is the smallest
// number of bytes one item can encode to; a count whose items could not fit
// in the remaining input is ErrTooLong (and ErrShort), so that a corrupt
// count is rejected before the caller allocates for it. A minItemSize below
// 1 is treated as 1: every item type met in practice encodes to at least one
// byte, and the rule keeps every count bounded by the input length.
func (r *Reader) VecLen(minItemSize int) (int, error) {
	start := r.Offset()
	v, err := r.Compact()
	if err != nil {
		return 0, err
	}
	minItemSize = max(minItemSize, 1)
	if v > uint64(len(r.p)/minItemSize) {
		return 0, r.fail(start, kindLength,
			"vector of "+strconv.FormatUint(v, 10)+" items of at least "+strconv.Itoa(minItemSize)+
				" bytes exceeds the remaining "+strconv.Itoa(len(r.p))+" bytes")
	}
	return int(v), nil
}

// CompactInt reads a compact integer used as a byte length. A value beyond
// the remaining input is ErrTooLong (and ErrShort), which also guarantees
// that it fits in an int.
func (r *Reader) CompactInt() (int, error) {
	start := r.Offset()
	v, err := r.Compact()
	if err != nil {
		return 0, err
	}
	if v > uint64(len(r.p)) {
		return 0, r.fail(start, kindLength,
			"length "+strconv.FormatUint(v, 10)+" exceeds the remaining "+strconv.Itoa(len(r.p))+" bytes")
	}
	return int(v), nil
}

// Compact reads a compact integer into a uint64. As in parity-scale-codec,
// an encoding longer than necessary is ErrInvalid (so every value has
// exactly one accepted encoding), and so is a value wider than 64 bits.
func (r *Reader) Compact() (uint64, error) {
	p := r.p
	if len(p) > 0 && p[0]&3 == 0 {
		r.p = p[1:]
		return uint64(p[0] >> 2), nil
	}
	return r.compactSlow(math.MaxUint64, "u64")
}

// CompactU16 reads a Compact<u16>; values above 65535 are ErrInvalid.
func (r *Reader) CompactU16() (uint16, error) {
	p := r.p
	if len(p) > 0 && p[0]&3 == 0 {
		r.p = p[1:]
		return uint16(p[0] >> 2), nil
	}
	v, err := r.compactSlow(math.MaxUint16, "u16")
	return uint16(v), err
}

// CompactU32 reads a Compact<u32>; values above 2^32-1 are ErrInvalid.
func (r *Reader) CompactU32() (uint32, error) {
	p := r.p
	if len(p) > 0 && p[0]&3 == 0 {
		r.p = p[1:]
		return uint32(p[0] >> 2), nil
	}
	v, err := r.compactSlow(math.MaxUint32, "u32")
	return uint32(v), err
}

// compactSlow decodes the multi-byte compact modes (and reports empty
// input), rejecting non-canonical encodings and values above limit.
func (r *Reader) compactSlow(limit uint64, typ string) (uint64, error) {
	p := r.p
	if len(p) == 0 {
		return 0, r.short(1)
	}
	var v uint64
	var size int
	switch p[0] & 3 {
	case 0:
		v, size = uint64(p[0]>>2), 1
	case 1:
		if len(p) < 2 {
			return 0, r.short(2)
		}
		v, size = uint64(binary.LittleEndian.Uint16(p)>>2), 2
		if v < 1<<6 {
			return 0, r.nonCanonical()
		}
	case 2:
		if len(p) < 4 {
			return 0, r.short(4)
		}
		v, size = uint64(binary.LittleEndian.Uint32(p)>>2), 4
		if v < 1<<14 {
			return 0, r.nonCanonical()
		}
	default:
		n := int(p[0]>>2) + 4
		if n > 8 {
			return 0, r.outOfRange(typ)
		}
		if len(p) < 1+n {
			return 0, r.short(1 + n)
		}
		if len(p) >= 9 {
			v = binary.LittleEndian.Uint64(p[1:]) & (math.MaxUint64 >> (64 - 8*n))
		} else {
			for i := n; i >= 1; i-- {
				v = v<<8 | uint64(p[i])
			}
		}
		if n == 4 && v < 1<<30 || n > 4 && p[n] == 0 {
			return 0, r.nonCanonical()
		}
		size = 1 + n
	}
	if v > limit {
		return 0, r.outOfRange(typ)
	}
	r.p = p[size:]
	return v, nil
}

// CompactU128 reads a Compact<u128> without allocating.
func (r *Reader) CompactU128() (Uint128, error) {
	p := r.p
	if len(p) == 0 || p[0]&3 != 3 || p[0]>>2 <= 4 {
		v, err := r.Compact()
		return Uint128{Lo: v}, err
	}
	n := int(p[0]>>2) + 4 // 9..67
	if n > 16 {
		return Uint128{}, r.outOfRange("u128")
	}
	if len(p) < 1+n {
		return Uint128{}, r.short(1 + n)
	}
	if p[n] == 0 {
		return Uint128{}, r.nonCanonical()
	}
	var v Uint128
	v.Lo = binary.LittleEndian.Uint64(p[1:])
	for i := n; i >= 9; i-- {
		v.Hi = v.Hi<<8 | uint64(p[i])
	}
	r.p = p[1+n:]
	return v, nil
}

// CompactBig reads a compact integer of any width the encoding allows (up
// to 2^536-1). It allocates; prefer Compact or CompactU128 where the type's
// width is known.
func (r *Reader) CompactBig() (*big.Int, error) {
	p := r.p
	if len(p) == 0 || p[0]&3 != 3 || p[0]>>2 <= 4 {
		v, err := r.Compact()
		if err != nil {
			return nil, err
		}
		return new(big.Int).SetUint64(v), nil
	}
	n := int(p[0]>>2) + 4 // 9..67
	if len(p) < 1+n {
		return nil, r.short(1 + n)
	}
	if p[n] == 0 {
		return nil, r.nonCanonical()
	}
	var be [maxCompactBits / 8]byte
	for i := range n {
		be[i] = p[n-i]
	}
	r.p = p[1+n:]
	return new(big.Int).SetBytes(be[:n]), nil
}

// nonCanonical reports a compact encoding longer than its value needs.
func (r *Reader) nonCanonical() error {
	return r.fail(r.Offset(), kindInvalid, "non-canonical compact encoding")
}

func (r *Reader) outOfRange(typ string) error {
	return r.fail(r.Offset(), kindInvalid, "compact value out of range for "+typ)
}

func hexByte(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&15]})
}
