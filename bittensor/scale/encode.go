package scale

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"math/bits"
)

// maxCompactBits is the widest value a compact integer can carry: the
// big-integer mode has a 6-bit length field, giving at most 63+4 = 67 bytes.
const maxCompactBits = 8 * (63 + 4)

// Encoder appends SCALE encodings to an internal buffer. The zero value is
// ready to use. Methods never fail except where they return an error for an
// out-of-range argument; in that case nothing is written.
type Encoder struct {
	buf []byte
}

// NewEncoder returns an Encoder whose buffer has the given capacity, so that
// encoding a value of known size does not reallocate.
func NewEncoder(capacity int) *Encoder {
	return &Encoder{buf: make([]byte, 0, max(capacity, 0))}
}

// Bytes returns the encoded bytes. The slice aliases the Encoder's buffer
// and is only valid until the next write or Reset.
func (e *Encoder) Bytes() []byte { return e.buf }

// Len returns the number of bytes written.
func (e *Encoder) Len() int { return len(e.buf) }

// Reset empties the buffer but keeps its capacity for reuse.
func (e *Encoder) Reset() { e.buf = e.buf[:0] }

// U8 writes a u8.
func (e *Encoder) U8(v uint8) { e.buf = append(e.buf, v) }

// U16 writes a little-endian u16.
func (e *Encoder) U16(v uint16) { e.buf = binary.LittleEndian.AppendUint16(e.buf, v) }

// U32 writes a little-endian u32.
func (e *Encoder) U32(v uint32) { e.buf = binary.LittleEndian.AppendUint32(e.buf, v) }

// U64 writes a little-endian u64.
func (e *Encoder) U64(v uint64) { e.buf = binary.LittleEndian.AppendUint64(e.buf, v) }

// I8 writes an i8 (two's complement).
func (e *Encoder) I8(v int8) { e.U8(uint8(v)) }

// I16 writes a little-endian i16 (two's complement).
func (e *Encoder) I16(v int16) { e.U16(uint16(v)) }

// I32 writes a little-endian i32 (two's complement).
func (e *Encoder) I32(v int32) { e.U32(uint32(v)) }

// I64 writes a little-endian i64 (two's complement).
func (e *Encoder) I64(v int64) { e.U64(uint64(v)) }

// U128 writes a little-endian u128: the low word, then the high word.
func (e *Encoder) U128(v Uint128) {
	e.U64(v.Lo)
	e.U64(v.Hi)
}

// I128 writes a little-endian i128 (two's complement).
func (e *Encoder) I128(v Int128) {
	e.U64(v.Lo)
	e.U64(uint64(v.Hi))
}

// I32F32 writes the raw 8-byte representation of an I32F32.
func (e *Encoder) I32F32(v I32F32) { e.I64(int64(v)) }

// I96F32 writes the raw 16-byte representation of an I96F32.
func (e *Encoder) I96F32(v I96F32) { e.I128(Int128(v)) }

// U64F64 writes the raw 16-byte representation of a U64F64.
func (e *Encoder) U64F64(v U64F64) { e.U128(Uint128(v)) }

// Bool writes a bool as one byte, 0 or 1.
func (e *Encoder) Bool(v bool) {
	var b byte
	if v {
		b = 1
	}
	e.buf = append(e.buf, b)
}

// Compact writes v in the canonical (shortest) compact encoding.
func (e *Encoder) Compact(v uint64) {
	switch {
	case v < 1<<6:
		e.buf = append(e.buf, byte(v<<2))
	case v < 1<<14:
		e.buf = binary.LittleEndian.AppendUint16(e.buf, uint16(v<<2|1))
	case v < 1<<30:
		e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(v<<2|2))
	default:
		n := (bits.Len64(v) + 7) / 8 // 4..8 since v >= 2^30
		e.buf = append(e.buf, byte((n-4)<<2|3))
		for range n {
			e.buf = append(e.buf, byte(v))
			v >>= 8
		}
	}
}

// CompactU128 writes a u128 in the canonical compact encoding, without the
// allocation CompactBig needs.
func (e *Encoder) CompactU128(v Uint128) {
	if v.Hi == 0 {
		e.Compact(v.Lo)
		return
	}
	hiBytes := (bits.Len64(v.Hi) + 7) / 8
	e.buf = append(e.buf, byte((8+hiBytes-4)<<2|3))
	e.buf = binary.LittleEndian.AppendUint64(e.buf, v.Lo)
	hi := v.Hi
	for range hiBytes {
		e.buf = append(e.buf, byte(hi))
		hi >>= 8
	}
}

// CompactBig writes v in the canonical compact encoding. It fails with
// ErrRange, writing nothing, when v is negative or wider than 536 bits
// (2^536-1 is the largest value the encoding can express).
func (e *Encoder) CompactBig(v *big.Int) error {
	if v.Sign() < 0 || v.BitLen() > maxCompactBits {
		return fmt.Errorf("%w: compact value %v not in [0, 2^536-1]", ErrRange, v)
	}
	if v.IsUint64() {
		e.Compact(v.Uint64())
		return nil
	}
	n := (v.BitLen() + 7) / 8 // > 8
	var be [maxCompactBits / 8]byte
	v.FillBytes(be[:n])
	e.buf = append(e.buf, byte((n-4)<<2|3))
	for i := n - 1; i >= 0; i-- {
		e.buf = append(e.buf, be[i])
	}
	return nil
}

// VecLen writes the compact item count that starts a Vec. It panics if n is
// negative, which only a programming error can cause.
func (e *Encoder) VecLen(n int) {
	if n < 0 {
		panic("scale: negative length")
	}
	e.Compact(uint64(n))
}

// ByteSlice writes a Vec<u8>: the compact length, then the bytes.
func (e *Encoder) ByteSlice(b []byte) {
	e.Compact(uint64(len(b)))
	e.buf = append(e.buf, b...)
}

// Fixed writes b as is, with no length prefix, as for [u8; N] and
// AccountId32.
func (e *Encoder) Fixed(b []byte) { e.buf = append(e.buf, b...) }

// String writes s as a Vec<u8>, which is how Substrate encodes strings.
func (e *Encoder) String(s string) {
	e.Compact(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

// OptionNone writes the None tag of an Option.
func (e *Encoder) OptionNone() { e.buf = append(e.buf, 0) }

// OptionSome writes the Some tag of an Option; the caller writes the value
// next.
func (e *Encoder) OptionSome() { e.buf = append(e.buf, 1) }
