package scale

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"testing"
)

// fuzzItem exercises every kind of variable-length and validated encoding.
type fuzzItem struct {
	C uint64
	U Uint128
	O *[]byte
	B bool
	F I96F32
}

// fuzzMinItemSize is the smallest encoding of a fuzzItem: a one-byte
// compact, 16 bytes, a None tag, a bool and 16 bytes.
const fuzzMinItemSize = 1 + 16 + 1 + 1 + 16

type fuzzValue struct {
	Big   *big.Int
	U128  Uint128
	U16   uint16
	Name  string
	Items []fuzzItem
}

func decodeFuzzItem(r *Reader) (fuzzItem, error) {
	var it fuzzItem
	var err error
	if it.C, err = r.Compact(); err != nil {
		return it, r.Wrap("c", err)
	}
	if it.U, err = r.U128(); err != nil {
		return it, r.Wrap("u", err)
	}
	if it.O, err = DecodeOption(r, (*Reader).ByteSlice); err != nil {
		return it, r.Wrap("o", err)
	}
	if it.B, err = r.Bool(); err != nil {
		return it, r.Wrap("b", err)
	}
	if it.F, err = r.I96F32(); err != nil {
		return it, r.Wrap("f", err)
	}
	return it, nil
}

func decodeFuzzValue(r *Reader) (fuzzValue, error) {
	var v fuzzValue
	var err error
	if v.Big, err = r.CompactBig(); err != nil {
		return v, r.Wrap("big", err)
	}
	if v.U128, err = r.CompactU128(); err != nil {
		return v, r.Wrap("u128", err)
	}
	if v.U16, err = r.CompactU16(); err != nil {
		return v, r.Wrap("u16", err)
	}
	if v.Name, err = r.UTF8String(); err != nil {
		return v, r.Wrap("name", err)
	}
	if v.Items, err = DecodeVec(r, fuzzMinItemSize, decodeFuzzItem); err != nil {
		return v, r.Wrap("items", err)
	}
	return v, nil
}

func encodeFuzzValue(e *Encoder, v fuzzValue) error {
	if err := e.CompactBig(v.Big); err != nil {
		return err
	}
	e.CompactU128(v.U128)
	e.Compact(uint64(v.U16))
	e.String(v.Name)
	EncodeVec(e, v.Items, func(e *Encoder, it fuzzItem) {
		e.Compact(it.C)
		e.U128(it.U)
		EncodeOption(e, it.O, (*Encoder).ByteSlice)
		e.Bool(it.B)
		e.I96F32(it.F)
	})
	return nil
}

func FuzzReader(f *testing.F) {
	seeds := []fuzzValue{
		{Big: big.NewInt(0), Name: "", Items: nil},
		{Big: bigPow2(64), U128: Uint128{Hi: 1}, U16: 65535, Name: "Apex", Items: []fuzzItem{
			{C: 69, U: Uint128{Lo: 1}, O: ptr([]byte("hi")), B: true, F: I96F32(Int128FromInt64(-3 << 31))},
			{C: math.MaxUint64, U: Uint128{Hi: math.MaxUint64, Lo: math.MaxUint64}, O: nil, B: false, F: I96F32{Hi: math.MinInt64}},
		}},
		{Big: bigPow2Minus1(536), U128: Uint128{Lo: 1 << 30}, U16: 64, Name: "τ", Items: []fuzzItem{
			{C: 1 << 30, O: ptr([]byte{}), F: I96F32{Lo: 1}},
		}},
	}
	for _, s := range seeds {
		e := NewEncoder(0)
		if err := encodeFuzzValue(e, s); err != nil {
			f.Fatal(err)
		}
		f.Add(e.Bytes())
	}
	f.Add([]byte{0x01, 0x00})
	f.Add([]byte{0x13, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})

	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(data)
		v, err := decodeFuzzValue(r)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if e.Offset < 0 || e.Offset > len(data) {
				t.Fatalf("error offset %d outside input of %d bytes", e.Offset, len(data))
			}
			if !errors.Is(err, ErrShort) && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrTooLong) {
				t.Fatalf("error matches no sentinel: %v", err)
			}
			_ = err.Error()
			return
		}
		consumed := data[:r.Offset()]
		e := NewEncoder(len(consumed))
		if err := encodeFuzzValue(e, v); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(e.Bytes(), consumed) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", e.Bytes(), consumed)
		}
		err = Decode(data, func(r *Reader) error { _, err := decodeFuzzValue(r); return err })
		if trailing := len(data) - len(consumed); (trailing == 0) != (err == nil) ||
			trailing > 0 && !errors.Is(err, ErrTrailing) {
			t.Fatalf("Decode with %d trailing bytes: %v", trailing, err)
		}
	})
}
