package scale

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"math/big"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// hx decodes a hex string, ignoring spaces.
func hx(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func bigPow2(n uint) *big.Int { return new(big.Int).Lsh(big.NewInt(1), n) }

func bigPow2Minus1(n uint) *big.Int { return new(big.Int).Sub(bigPow2(n), big.NewInt(1)) }

var compactVectors = []struct {
	v   uint64
	hex string
}{
	{0, "00"},
	{1, "04"},
	{42, "a8"},
	{63, "fc"},
	{64, "0101"},
	{69, "1501"},
	{16383, "fdff"},
	{16384, "02000100"},
	{1073741823, "feffffff"},
	{1073741824, "0300000040"},
	{1<<32 - 1, "03ffffffff"},
	{1 << 32, "070000000001"},
	{1<<48 - 1, "0bffffffffffff"},
	{1 << 56, "13 00000000000000 01"},
	{math.MaxUint64, "13ffffffffffffffff"},
}

func TestCompactVectors(t *testing.T) {
	for _, tc := range compactVectors {
		want := hx(t, tc.hex)
		e := NewEncoder(0)
		e.Compact(tc.v)
		if !bytes.Equal(e.Bytes(), want) {
			t.Errorf("Compact(%d) = %x, want %x", tc.v, e.Bytes(), want)
		}
		var got uint64
		if err := Decode(want, func(r *Reader) (err error) { got, err = r.Compact(); return }); err != nil || got != tc.v {
			t.Errorf("Reader.Compact(%x) = %d, %v; want %d", want, got, err, tc.v)
		}
		var gotBig *big.Int
		if err := Decode(want, func(r *Reader) (err error) { gotBig, err = r.CompactBig(); return }); err != nil ||
			!gotBig.IsUint64() || gotBig.Uint64() != tc.v {
			t.Errorf("Reader.CompactBig(%x) = %v, %v; want %d", want, gotBig, err, tc.v)
		}
		var got128 Uint128
		if err := Decode(want, func(r *Reader) (err error) { got128, err = r.CompactU128(); return }); err != nil ||
			got128 != (Uint128{Lo: tc.v}) {
			t.Errorf("Reader.CompactU128(%x) = %v, %v; want %d", want, got128, err, tc.v)
		}
		e.Reset()
		if err := e.CompactBig(new(big.Int).SetUint64(tc.v)); err != nil || !bytes.Equal(e.Bytes(), want) {
			t.Errorf("CompactBig(%d) = %x, %v; want %x", tc.v, e.Bytes(), err, want)
		}
		e.Reset()
		e.CompactU128(Uint128{Lo: tc.v})
		if !bytes.Equal(e.Bytes(), want) {
			t.Errorf("CompactU128(%d) = %x, want %x", tc.v, e.Bytes(), want)
		}
	}
}

func TestCompactBigVectors(t *testing.T) {
	tests := []struct {
		v   *big.Int
		hex string
	}{
		{bigPow2(64), "17 0000000000000000 01"},
		{bigPow2Minus1(128), "33" + strings.Repeat("ff", 16)},
		{bigPow2(128), "37" + strings.Repeat("00", 16) + "01"},
		{bigPow2Minus1(536), "ff" + strings.Repeat("ff", 67)},
	}
	for _, tc := range tests {
		want := hx(t, tc.hex)
		e := NewEncoder(0)
		if err := e.CompactBig(tc.v); err != nil || !bytes.Equal(e.Bytes(), want) {
			t.Errorf("CompactBig(%v) = %x, %v; want %x", tc.v, e.Bytes(), err, want)
		}
		var got *big.Int
		if err := Decode(want, func(r *Reader) (err error) { got, err = r.CompactBig(); return }); err != nil || got.Cmp(tc.v) != 0 {
			t.Errorf("Reader.CompactBig(%x) = %v, %v; want %v", want, got, err, tc.v)
		}
		if tc.v.BitLen() <= 128 {
			u, err := Uint128FromBig(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			e.Reset()
			e.CompactU128(u)
			if !bytes.Equal(e.Bytes(), want) {
				t.Errorf("CompactU128(%v) = %x, want %x", tc.v, e.Bytes(), want)
			}
			var got128 Uint128
			if err := Decode(want, func(r *Reader) (err error) { got128, err = r.CompactU128(); return }); err != nil || got128 != u {
				t.Errorf("Reader.CompactU128(%x) = %v, %v; want %v", want, got128, err, u)
			}
		}
	}

	e := NewEncoder(0)
	for _, bad := range []*big.Int{big.NewInt(-1), bigPow2(536)} {
		if err := e.CompactBig(bad); !errors.Is(err, ErrRange) {
			t.Errorf("CompactBig(%v) error = %v, want ErrRange", bad, err)
		}
	}
	if e.Len() != 0 {
		t.Errorf("failed CompactBig wrote %x", e.Bytes())
	}
}

// TestKnownVectors checks encodings taken from the SCALE specification and
// the parity-scale-codec documentation, in both directions.
func TestKnownVectors(t *testing.T) {
	tests := []struct {
		name string
		enc  func(*Encoder)
		hex  string
		dec  func(*Reader) (any, error)
		want any
	}{
		{"u8", func(e *Encoder) { e.U8(0x45) }, "45",
			func(r *Reader) (any, error) { return r.U8() }, uint8(0x45)},
		{"u16 42", func(e *Encoder) { e.U16(42) }, "2a00",
			func(r *Reader) (any, error) { return r.U16() }, uint16(42)},
		{"u32", func(e *Encoder) { e.U32(16777215) }, "ffffff00",
			func(r *Reader) (any, error) { return r.U32() }, uint32(16777215)},
		{"u64", func(e *Encoder) { e.U64(0x0102030405060708) }, "0807060504030201",
			func(r *Reader) (any, error) { return r.U64() }, uint64(0x0102030405060708)},
		{"i8 -1", func(e *Encoder) { e.I8(-1) }, "ff",
			func(r *Reader) (any, error) { return r.I8() }, int8(-1)},
		{"i16 -1", func(e *Encoder) { e.I16(-1) }, "ffff",
			func(r *Reader) (any, error) { return r.I16() }, int16(-1)},
		{"i32 -2", func(e *Encoder) { e.I32(-2) }, "feffffff",
			func(r *Reader) (any, error) { return r.I32() }, int32(-2)},
		{"i64 min", func(e *Encoder) { e.I64(math.MinInt64) }, "0000000000000080",
			func(r *Reader) (any, error) { return r.I64() }, int64(math.MinInt64)},
		{"u128", func(e *Encoder) { e.U128(Uint128{Hi: 1, Lo: 2}) }, "0200000000000000 0100000000000000",
			func(r *Reader) (any, error) { return r.U128() }, Uint128{Hi: 1, Lo: 2}},
		{"i128 -1", func(e *Encoder) { e.I128(Int128FromInt64(-1)) }, strings.Repeat("ff", 16),
			func(r *Reader) (any, error) { return r.I128() }, Int128{Hi: -1, Lo: math.MaxUint64}},
		{"bool false", func(e *Encoder) { e.Bool(false) }, "00",
			func(r *Reader) (any, error) { return r.Bool() }, false},
		{"bool true", func(e *Encoder) { e.Bool(true) }, "01",
			func(r *Reader) (any, error) { return r.Bool() }, true},
		{"option<u32> none", func(e *Encoder) { EncodeOption(e, nil, (*Encoder).U32) }, "00",
			func(r *Reader) (any, error) { return DecodeOption(r, (*Reader).U32) }, (*uint32)(nil)},
		{"option<u32> some(1)", func(e *Encoder) { v := uint32(1); EncodeOption(e, &v, (*Encoder).U32) }, "01 01000000",
			func(r *Reader) (any, error) { return DecodeOption(r, (*Reader).U32) }, ptr(uint32(1))},
		{"option<bool> some(false)", func(e *Encoder) { e.OptionSome(); e.Bool(false) }, "01 00",
			func(r *Reader) (any, error) { return DecodeOption(r, (*Reader).Bool) }, ptr(false)},
		{"vec<u16>", func(e *Encoder) { EncodeVec(e, []uint16{4, 8, 15, 16, 23, 42}, (*Encoder).U16) },
			"18 0400 0800 0f00 1000 1700 2a00",
			func(r *Reader) (any, error) { return DecodeVec(r, 2, (*Reader).U16) }, []uint16{4, 8, 15, 16, 23, 42}},
		{"vec<u16> empty", func(e *Encoder) { EncodeVec(e, []uint16{}, (*Encoder).U16) }, "00",
			func(r *Reader) (any, error) { return DecodeVec(r, 2, (*Reader).U16) }, []uint16{}},
		{"vec<compact<u16>>", func(e *Encoder) {
			EncodeVec(e, []uint64{1, 64, 65535}, (*Encoder).Compact)
		}, "0c 04 0101 feff0300",
			func(r *Reader) (any, error) { return DecodeVec(r, 1, (*Reader).CompactU16) }, []uint16{1, 64, 65535}},
		{"string", func(e *Encoder) { e.String("Hello") }, "14 48656c6c6f",
			func(r *Reader) (any, error) { return r.String() }, "Hello"},
		{"utf8 string", func(e *Encoder) { e.String("héllo") }, "18 68c3a96c6c6f",
			func(r *Reader) (any, error) { return r.UTF8String() }, "héllo"},
		{"bytes", func(e *Encoder) { e.ByteSlice([]byte{1, 2, 3}) }, "0c 010203",
			func(r *Reader) (any, error) { return r.ByteSlice() }, []byte{1, 2, 3}},
		{"fixed", func(e *Encoder) { e.Fixed([]byte{9, 8}) }, "0908",
			func(r *Reader) (any, error) { return r.Fixed(2) }, []byte{9, 8}},
		{"tuple (u8, compact)", func(e *Encoder) { e.U8(3); e.Compact(69) }, "03 1501",
			func(r *Reader) (any, error) {
				a, err := r.U8()
				if err != nil {
					return nil, err
				}
				b, err := r.Compact()
				return [2]uint64{uint64(a), b}, err
			}, [2]uint64{3, 69}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := hx(t, tc.hex)
			e := NewEncoder(4)
			tc.enc(e)
			if !bytes.Equal(e.Bytes(), want) {
				t.Errorf("encode = %x, want %x", e.Bytes(), want)
			}
			var got any
			err := Decode(want, func(r *Reader) (err error) { got, err = tc.dec(r); return })
			if err != nil {
				t.Fatalf("decode %x: %v", want, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("decode %x = %#v, want %#v", want, got, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestRoundTrip(t *testing.T) {
	u128s := []Uint128{{}, {Lo: 1}, {Hi: 1}, {Hi: math.MaxUint64, Lo: math.MaxUint64}, {Hi: 0x0123456789abcdef, Lo: 0xfedcba9876543210}}
	i128s := []Int128{{}, {Lo: 1}, {Hi: -1, Lo: math.MaxUint64}, {Hi: math.MaxInt64, Lo: math.MaxUint64}, {Hi: math.MinInt64}}
	u64s := []uint64{0, 1, 63, 64, 16383, 16384, 1<<30 - 1, 1 << 30, 1<<32 - 1, 1 << 32, 1<<40 + 5, 1<<56 - 1, 1 << 56, math.MaxUint64}
	bigs := []*big.Int{big.NewInt(0), bigPow2(64), bigPow2Minus1(100), bigPow2(200), bigPow2Minus1(536)}

	e := NewEncoder(0)
	e.U8(0xab)
	e.U16(0xbeef)
	e.U32(0xdeadbeef)
	e.U64(math.MaxUint64)
	e.I8(math.MinInt8)
	e.I16(math.MinInt16)
	e.I32(math.MinInt32)
	e.I64(math.MinInt64)
	e.Bool(true)
	e.Bool(false)
	for _, v := range u64s {
		e.Compact(v)
	}
	e.Compact(math.MaxUint16)
	e.Compact(math.MaxUint32)
	for _, v := range bigs {
		if err := e.CompactBig(v); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range u128s {
		e.U128(v)
		e.CompactU128(v)
		e.U64F64(U64F64(v))
	}
	for _, v := range i128s {
		e.I128(v)
		e.I96F32(I96F32(v))
	}
	e.I32F32(-1 << 31)
	e.ByteSlice(nil)
	e.ByteSlice(bytes.Repeat([]byte{7}, 300))
	e.String("")
	e.String("Bittensor τ")
	e.Fixed([]byte{1, 2, 3, 4})
	e.OptionNone()
	e.OptionSome()
	e.U16(5)
	e.VecLen(2)
	e.U8(1)
	e.U8(2)
	e.Fixed(bytes.Repeat([]byte{0x5a}, 32))

	err := Decode(e.Bytes(), func(r *Reader) error {
		check := func(name string, got, want any, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s = %#v, want %#v", name, got, want)
			}
		}
		u8, err := r.U8()
		check("u8", u8, uint8(0xab), err)
		u16, err := r.U16()
		check("u16", u16, uint16(0xbeef), err)
		u32, err := r.U32()
		check("u32", u32, uint32(0xdeadbeef), err)
		u64, err := r.U64()
		check("u64", u64, uint64(math.MaxUint64), err)
		i8, err := r.I8()
		check("i8", i8, int8(math.MinInt8), err)
		i16, err := r.I16()
		check("i16", i16, int16(math.MinInt16), err)
		i32, err := r.I32()
		check("i32", i32, int32(math.MinInt32), err)
		i64, err := r.I64()
		check("i64", i64, int64(math.MinInt64), err)
		b, err := r.Bool()
		check("bool", b, true, err)
		b, err = r.Bool()
		check("bool", b, false, err)
		for _, v := range u64s {
			got, err := r.Compact()
			check("compact", got, v, err)
		}
		c16, err := r.CompactU16()
		check("compact u16", c16, uint16(math.MaxUint16), err)
		c32, err := r.CompactU32()
		check("compact u32", c32, uint32(math.MaxUint32), err)
		for _, v := range bigs {
			got, err := r.CompactBig()
			if err != nil || got.Cmp(v) != 0 {
				t.Errorf("compact big = %v, %v; want %v", got, err, v)
			}
		}
		for _, v := range u128s {
			got, err := r.U128()
			check("u128", got, v, err)
			got, err = r.CompactU128()
			check("compact u128", got, v, err)
			fp, err := r.U64F64()
			check("u64f64", fp, U64F64(v), err)
		}
		for _, v := range i128s {
			got, err := r.I128()
			check("i128", got, v, err)
			fp, err := r.I96F32()
			check("i96f32", fp, I96F32(v), err)
		}
		fp, err := r.I32F32()
		check("i32f32", fp, I32F32(-1<<31), err)
		bs, err := r.ByteSlice()
		check("empty bytes", len(bs), 0, err)
		bs, err = r.ByteSlice()
		check("bytes", bs, bytes.Repeat([]byte{7}, 300), err)
		s, err := r.String()
		check("empty string", s, "", err)
		s, err = r.UTF8String()
		check("string", s, "Bittensor τ", err)
		fx, err := r.Fixed(4)
		check("fixed", fx, []byte{1, 2, 3, 4}, err)
		o, err := DecodeOption(r, (*Reader).U16)
		check("none", o, (*uint16)(nil), err)
		o, err = DecodeOption(r, (*Reader).U16)
		check("some", o, ptr(uint16(5)), err)
		n, err := r.VecLen(1)
		check("vec len", n, 2, err)
		check("skip", r.Remaining(), 34, r.Skip(2))
		a32, err := r.Bytes32()
		check("bytes32", a32, [32]byte(bytes.Repeat([]byte{0x5a}, 32)), err)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFixedPointFloat64(t *testing.T) {
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"I32F32 1.0", I32F32(1 << 32).Float64(), 1.0},
		{"I32F32 -0.5", I32F32(-(1 << 31)).Float64(), -0.5},
		{"I32F32 0", I32F32(0).Float64(), 0},
		{"I32F32 min", I32F32(math.MinInt64).Float64(), -(1 << 31)},
		{"I32F32 smallest", I32F32(1).Float64(), math.Ldexp(1, -32)},
		{"U64F64 1.0", U64F64{Hi: 1}.Float64(), 1.0},
		{"U64F64 0.5", U64F64{Lo: 1 << 63}.Float64(), 0.5},
		{"U64F64 smallest", U64F64{Lo: 1}.Float64(), math.Ldexp(1, -64)},
		{"U64F64 max", U64F64{Hi: math.MaxUint64, Lo: math.MaxUint64}.Float64(), math.Ldexp(1, 64)},
		{"I96F32 -1.5", I96F32(Int128FromInt64(-3 << 31)).Float64(), -1.5},
		{"I96F32 1.5", I96F32(Int128FromInt64(3 << 31)).Float64(), 1.5},
		{"I96F32 min", I96F32{Hi: math.MinInt64}.Float64(), -math.Ldexp(1, 95)},
		{"I96F32 max", I96F32{Hi: math.MaxInt64, Lo: math.MaxUint64}.Float64(), math.Ldexp(1, 95)},
		{"I96F32 -2^-32", I96F32(Int128FromInt64(-1)).Float64(), -math.Ldexp(1, -32)},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}

	// Wide values must round exactly once: compare with big.Float, which
	// rounds the exact rational to nearest-even.
	exact := func(raw *big.Int, fracBits uint) float64 {
		f, _ := new(big.Float).SetMantExp(new(big.Float).SetInt(raw), -int(fracBits)).Float64()
		return f
	}
	raws := []Uint128{
		{Hi: 1, Lo: 1},                     // 1 + 2^-64: rounds to 1
		{Hi: 1<<53 + 1, Lo: 1 << 63},       // exactly half-way plus: sticky decides
		{Hi: 1<<53 + 1, Lo: 0},             // odd 54-bit integer part, tie to even
		{Hi: 1<<53 + 1, Lo: 1},             // just above the tie
		{Hi: 0x1f, Lo: 0xffffffffffffffff}, // rounds up through a carry
		{Hi: 0x0123456789abcdef, Lo: 0xfedcba9876543210},
		{Hi: 1 << 63, Lo: 0x0000000000000401},
		{Hi: 0, Lo: 0x001fffffffffffff},
		{Hi: 0, Lo: 0xffffffffffffffff},
	}
	for _, raw := range raws {
		if got, want := U64F64(raw).Float64(), exact(raw.Big(), 64); got != want {
			t.Errorf("U64F64%+v = %v, want %v", raw, got, want)
		}
		if raw.Hi>>63 == 0 {
			pos := I96F32{Hi: int64(raw.Hi), Lo: raw.Lo}
			if got, want := pos.Float64(), exact(raw.Big(), 32); got != want {
				t.Errorf("I96F32%+v = %v, want %v", raw, got, want)
			}
			neg, err := Int128FromBig(new(big.Int).Neg(raw.Big()))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := I96F32(neg).Float64(), -exact(raw.Big(), 32); got != want {
				t.Errorf("I96F32(-%v) = %v, want %v", raw, got, want)
			}
		}
	}
}

func TestInt128Conversions(t *testing.T) {
	tests := []struct {
		s string
		u *Uint128
		i *Int128
	}{
		{"0", &Uint128{}, &Int128{}},
		{"1", &Uint128{Lo: 1}, &Int128{Lo: 1}},
		{"18446744073709551616", &Uint128{Hi: 1}, &Int128{Hi: 1}},
		{"340282366920938463463374607431768211455", &Uint128{Hi: math.MaxUint64, Lo: math.MaxUint64}, nil},
		{"170141183460469231731687303715884105727", &Uint128{Hi: math.MaxInt64, Lo: math.MaxUint64}, &Int128{Hi: math.MaxInt64, Lo: math.MaxUint64}},
		{"-1", nil, &Int128{Hi: -1, Lo: math.MaxUint64}},
		{"-18446744073709551616", nil, &Int128{Hi: -1}},
		{"-170141183460469231731687303715884105728", nil, &Int128{Hi: math.MinInt64}},
		{"-170141183460469231731687303715884105729", nil, nil},
		{"340282366920938463463374607431768211456", nil, nil},
	}
	for _, tc := range tests {
		b, ok := new(big.Int).SetString(tc.s, 10)
		if !ok {
			t.Fatal(tc.s)
		}
		u, err := Uint128FromBig(b)
		switch {
		case tc.u == nil && !errors.Is(err, ErrRange):
			t.Errorf("Uint128FromBig(%s) = %v, %v; want ErrRange", tc.s, u, err)
		case tc.u != nil && (err != nil || u != *tc.u):
			t.Errorf("Uint128FromBig(%s) = %v, %v; want %v", tc.s, u, err, *tc.u)
		case tc.u != nil && (u.String() != tc.s || u.Big().Cmp(b) != 0):
			t.Errorf("Uint128 %v String/Big = %s/%v, want %s", u, u.String(), u.Big(), tc.s)
		}
		i, err := Int128FromBig(b)
		switch {
		case tc.i == nil && !errors.Is(err, ErrRange):
			t.Errorf("Int128FromBig(%s) = %v, %v; want ErrRange", tc.s, i, err)
		case tc.i != nil && (err != nil || i != *tc.i):
			t.Errorf("Int128FromBig(%s) = %+v, %v; want %+v", tc.s, i, err, *tc.i)
		case tc.i != nil && (i.String() != tc.s || i.Big().Cmp(b) != 0):
			t.Errorf("Int128 %+v String/Big = %s/%v, want %s", i, i.String(), i.Big(), tc.s)
		}
	}
	if got := Int128FromInt64(math.MinInt64); got != (Int128{Hi: -1, Lo: 1 << 63}) {
		t.Errorf("Int128FromInt64(min) = %+v", got)
	}
}

func TestInvalidEncodings(t *testing.T) {
	tests := []struct {
		name   string
		hex    string
		dec    func(*Reader) error
		kind   error
		offset int
		msg    string // a substring of the error text, if set
	}{
		{"compact 0 in two-byte mode", "0100", compactOnly, ErrInvalid, 0, "non-canonical compact"},
		{"compact 63 in two-byte mode", "fd00", compactOnly, ErrInvalid, 0, ""},
		{"compact 0 in four-byte mode", "02000000", compactOnly, ErrInvalid, 0, ""},
		{"compact 16383 in four-byte mode", "feff0000", compactOnly, ErrInvalid, 0, ""},
		{"compact 2^30-1 in big mode", "03ffffff3f", compactOnly, ErrInvalid, 0, ""},
		{"compact 0 in big mode", "0300000000", compactOnly, ErrInvalid, 0, ""},
		{"compact 2^32-1 in five bytes", "07ffffffff00", compactOnly, ErrInvalid, 0, ""},
		{"compact 2^56-1 in eight bytes", "13ffffffffffffff00", compactOnly, ErrInvalid, 0, ""},
		{"compact 2^64 as u64", "17000000000000000001", compactOnly, ErrInvalid, 0, "out of range for u64"},
		{"compact 2^64 (truncated) as u64", "17", compactOnly, ErrInvalid, 0, ""},
		{"compact u16 65536", "02000400", func(r *Reader) error { _, err := r.CompactU16(); return err }, ErrInvalid, 0, ""},
		{"compact u16 2^30", "0300000040", func(r *Reader) error { _, err := r.CompactU16(); return err }, ErrInvalid, 0, ""},
		{"compact u32 2^32", "070000000001", func(r *Reader) error { _, err := r.CompactU32(); return err }, ErrInvalid, 0, ""},
		{"compact u128 2^128", "37" + strings.Repeat("00", 16) + "01", func(r *Reader) error { _, err := r.CompactU128(); return err }, ErrInvalid, 0, ""},
		{"compact u128 non-canonical", "17" + strings.Repeat("ff", 8) + "00", func(r *Reader) error { _, err := r.CompactU128(); return err }, ErrInvalid, 0, ""},
		{"compact big non-canonical", "17" + strings.Repeat("ff", 8) + "00", func(r *Reader) error { _, err := r.CompactBig(); return err }, ErrInvalid, 0, ""},
		{"compact big small non-canonical", "0100", func(r *Reader) error { _, err := r.CompactBig(); return err }, ErrInvalid, 0, ""},
		{"compact after a byte", "00 0100", func(r *Reader) error {
			if _, err := r.U8(); err != nil {
				return err
			}
			return compactOnly(r)
		}, ErrInvalid, 1, ""},
		{"bool 2", "02", func(r *Reader) error { _, err := r.Bool(); return err }, ErrInvalid, 0, "at offset 0: invalid bool byte 0x02"},
		{"bool ff", "00ff", func(r *Reader) error {
			if _, err := r.Bool(); err != nil {
				return err
			}
			_, err := r.Bool()
			return err
		}, ErrInvalid, 1, ""},
		{"option 2", "02", func(r *Reader) error { _, err := r.Option(); return err }, ErrInvalid, 0, "invalid option tag 0x02"},
		{"invalid utf-8", "08 ff fe", func(r *Reader) error { _, err := r.UTF8String(); return err }, ErrInvalid, 0, ""},
		{"bytes longer than input", "10 010203", func(r *Reader) error { _, err := r.ByteSlice(); return err }, ErrTooLong, 0, "length 4 exceeds the remaining 3 bytes"},
		{"compact int beyond input", "08 00", func(r *Reader) error { _, err := r.CompactInt(); return err }, ErrTooLong, 0, ""},
		{"vec count beyond input", "0c 0100 0200", func(r *Reader) error { _, err := DecodeVec(r, 2, (*Reader).U16); return err }, ErrTooLong, 0, ""},
		{"huge vec count", "13ffffffffffffffff", func(r *Reader) error { _, err := r.VecLen(0); return err }, ErrTooLong, 0, ""},
		{"trailing", "04 000000", compactOnly, ErrTrailing, 1, "scale: at offset 1: 3 trailing bytes"},
		{"negative fixed", "00", func(r *Reader) error { _, err := r.Fixed(-1); return err }, ErrInvalid, 0, ""},
		{"negative skip", "00", func(r *Reader) error { return r.Skip(-1) }, ErrInvalid, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Decode(hx(t, tc.hex), tc.dec)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("error = %v, want %v", err, tc.kind)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error", err)
			}
			if e.Offset != tc.offset {
				t.Errorf("offset = %d, want %d (%v)", e.Offset, tc.offset, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not contain %q", err, tc.msg)
			}
		})
	}
}

func compactOnly(r *Reader) error {
	_, err := r.Compact()
	return err
}

// segment is the byte range of one primitive read in truncationInput.
type segment struct {
	start int
	field string
}

// truncationInput encodes a struct of many field kinds and returns the
// start offset and name of each primitive read.
func truncationInput(t *testing.T) ([]byte, []segment) {
	e := NewEncoder(0)
	var segs []segment
	mark := func(field string) { segs = append(segs, segment{e.Len(), field}) }
	mark("a")
	e.U8(0x7f)
	mark("b")
	e.U16(513)
	mark("c")
	e.Compact(1 << 20)
	mark("d")
	e.String("hello")
	mark("e")
	e.OptionSome()
	mark("e")
	e.U32(9)
	mark("f")
	e.Bool(true)
	mark("g")
	EncodeVec(e, []uint16{1, 2, 3}, (*Encoder).U16)
	mark("h")
	e.U128(Uint128{Hi: 3, Lo: 4})
	mark("i")
	e.I32F32(1 << 32)
	mark("j")
	if err := e.CompactBig(bigPow2(70)); err != nil {
		t.Fatal(err)
	}
	mark("k")
	e.Fixed(bytes.Repeat([]byte{0xaa}, 32))
	mark("l")
	e.Compact(1 << 40)
	mark("m")
	e.CompactU128(Uint128{Hi: 1 << 20})
	segs = append(segs, segment{e.Len(), ""})
	return e.Bytes(), segs
}

func decodeTruncationInput(r *Reader) error {
	if _, err := r.U8(); err != nil {
		return r.Wrap("a", err)
	}
	if _, err := r.U16(); err != nil {
		return r.Wrap("b", err)
	}
	if _, err := r.Compact(); err != nil {
		return r.Wrap("c", err)
	}
	if _, err := r.String(); err != nil {
		return r.Wrap("d", err)
	}
	if _, err := DecodeOption(r, (*Reader).U32); err != nil {
		return r.Wrap("e", err)
	}
	if _, err := r.Bool(); err != nil {
		return r.Wrap("f", err)
	}
	if _, err := DecodeVec(r, 2, (*Reader).U16); err != nil {
		return r.Wrap("g", err)
	}
	if _, err := r.U128(); err != nil {
		return r.Wrap("h", err)
	}
	if _, err := r.I32F32(); err != nil {
		return r.Wrap("i", err)
	}
	if _, err := r.CompactBig(); err != nil {
		return r.Wrap("j", err)
	}
	if _, err := r.Bytes32(); err != nil {
		return r.Wrap("k", err)
	}
	if _, err := r.Compact(); err != nil {
		return r.Wrap("l", err)
	}
	if _, err := r.CompactU128(); err != nil {
		return r.Wrap("m", err)
	}
	return nil
}

func TestTruncatedInput(t *testing.T) {
	full, segs := truncationInput(t)
	if err := Decode(full, decodeTruncationInput); err != nil {
		t.Fatalf("full input: %v", err)
	}
	seg := 0
	for n := range len(full) {
		for segs[seg+1].start <= n {
			seg++
		}
		want := segs[seg]
		err := Decode(full[:n], decodeTruncationInput)
		var e *Error
		if !errors.Is(err, ErrShort) || !errors.As(err, &e) {
			t.Fatalf("prefix %d: error = %v, want *Error matching ErrShort", n, err)
		}
		if e.Offset != want.start || e.Field != want.field {
			t.Errorf("prefix %d: field %q at offset %d, want %q at %d (%v)", n, e.Field, e.Offset, want.field, want.start, err)
		}
	}
	err := Decode(append(full[:len(full):len(full)], 0, 0), decodeTruncationInput)
	if !errors.Is(err, ErrTrailing) {
		t.Fatalf("extra bytes: error = %v, want ErrTrailing", err)
	}
	if want := "scale: at offset " + strconv.Itoa(len(full)) + ": 2 trailing bytes"; err.Error() != want {
		t.Errorf("trailing error = %q, want %q", err, want)
	}
}

type testAxon struct {
	IP   Uint128
	Port uint16
}

type testNeuron struct {
	UID  uint16
	Axon testAxon
}

func decodeTestNeuron(r *Reader) (testNeuron, error) {
	var n testNeuron
	var err error
	if n.UID, err = r.CompactU16(); err != nil {
		return n, r.Wrap("uid", err)
	}
	if n.Axon.IP, err = r.U128(); err != nil {
		return n, r.Wrap("axon_info.ip", err)
	}
	if n.Axon.Port, err = r.U16(); err != nil {
		return n, r.Wrap("axon_info", r.Wrap("port", err))
	}
	return n, nil
}

func TestErrorFieldPath(t *testing.T) {
	e := NewEncoder(0)
	e.U8(1) // leading field outside the vector
	EncodeVec(e, []testNeuron{{UID: 7, Axon: testAxon{Port: 80}}, {UID: 300, Axon: testAxon{Port: 443}}}, func(e *Encoder, n testNeuron) {
		e.Compact(uint64(n.UID))
		e.U128(n.Axon.IP)
		e.U16(n.Axon.Port)
	})
	full := e.Bytes()
	// Item 1 starts at 1+1+19 = 21; its port at 21+2+16 = 39.
	in := full[:40]
	err := Decode(in, func(r *Reader) error {
		if _, err := r.U8(); err != nil {
			return r.Wrap("version", err)
		}
		_, err := DecodeVec(r, 1, decodeTestNeuron)
		return r.Wrap("neurons", err)
	})
	const want = `scale: field "neurons[1].axon_info.port" at offset 39: need 2 bytes, have 1`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
	if !errors.Is(err, ErrShort) {
		t.Errorf("error does not match ErrShort")
	}

	r := NewReader([]byte{1, 2, 3})
	if r.Wrap("x", nil) != nil {
		t.Error("Wrap(nil) != nil")
	}
	_, _ = r.U8()
	custom := errors.New("bad ip_type 5")
	werr := r.Wrap("list", r.Wrap("[2]", r.Wrap("ip_type", custom)))
	if !errors.Is(werr, custom) {
		t.Errorf("wrapped custom error lost its cause: %v", werr)
	}
	if got, want := werr.Error(), `scale: field "list[2].ip_type" at offset 1: bad ip_type 5`; got != want {
		t.Errorf("custom error = %q, want %q", got, want)
	}
}

func TestOversizedVecDoesNotAllocate(t *testing.T) {
	// A count of 2^62-1 items, followed by a few bytes.
	in := hx(t, "13 ffffffffffffff3f 0102030405")
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	for range 100 {
		_, err := DecodeVec(NewReader(in), 0, (*Reader).U64)
		if !errors.Is(err, ErrTooLong) {
			t.Fatalf("error = %v, want ErrTooLong", err)
		}
		_, err = NewReader(in).ByteSlice()
		if !errors.Is(err, ErrTooLong) {
			t.Fatalf("ByteSlice error = %v, want ErrTooLong", err)
		}
	}
	runtime.ReadMemStats(&ms1)
	if got := ms1.TotalAlloc - ms0.TotalAlloc; got > 1<<20 {
		t.Errorf("rejecting oversized lengths allocated %d bytes", got)
	}
	// A count that fits the bytes only if items were smaller than declared.
	_, err := DecodeVec(NewReader(hx(t, "14 0102030405")), 2, (*Reader).U16)
	if !errors.Is(err, ErrTooLong) {
		t.Errorf("5 items of 2 bytes in 5 bytes: error = %v, want ErrTooLong", err)
	}
}

func TestSubSlices(t *testing.T) {
	in := hx(t, "08 0102 0304 05")
	r := NewReader(in)
	b, err := r.ByteSlice()
	if err != nil {
		t.Fatal(err)
	}
	if &b[0] != &in[1] {
		t.Error("ByteSlice copied its result")
	}
	if cap(b) != 2 {
		t.Errorf("ByteSlice cap = %d, want 2", cap(b))
	}
	f, err := r.Fixed(2)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(f, 0xee)
	if in[5] != 0x05 {
		t.Error("appending to a Fixed result overwrote the input")
	}
	if r.Offset() != 5 || r.Remaining() != 1 {
		t.Errorf("offset/remaining = %d/%d, want 5/1", r.Offset(), r.Remaining())
	}
	if err := r.Done(); !errors.Is(err, ErrTrailing) {
		t.Errorf("Done = %v, want ErrTrailing", err)
	}
	if err := r.Skip(1); err != nil || r.Done() != nil {
		t.Errorf("Skip/Done = %v/%v", err, r.Done())
	}
	if err := r.Skip(1); !errors.Is(err, ErrShort) {
		t.Errorf("Skip past end = %v, want ErrShort", err)
	}
}

func TestEncoderBuffer(t *testing.T) {
	e := NewEncoder(64)
	if e.Len() != 0 || cap(e.Bytes()) != 64 {
		t.Fatalf("NewEncoder(64): len %d cap %d", e.Len(), cap(e.Bytes()))
	}
	e.U32(1)
	if e.Len() != 4 {
		t.Errorf("Len = %d, want 4", e.Len())
	}
	e.Reset()
	if e.Len() != 0 || cap(e.Bytes()) != 64 {
		t.Errorf("after Reset: len %d cap %d", e.Len(), cap(e.Bytes()))
	}
	var zero Encoder
	zero.Compact(69)
	if !bytes.Equal(zero.Bytes(), []byte{0x15, 0x01}) {
		t.Errorf("zero Encoder wrote %x", zero.Bytes())
	}
	defer func() {
		if recover() == nil {
			t.Error("VecLen(-1) did not panic")
		}
	}()
	zero.VecLen(-1)
}

// benchItem is a 60-byte fixed-size struct for BenchmarkDecodeVec.
type benchItem struct {
	Key    [32]byte
	Block  uint64
	Stake  Uint128
	Port   uint16
	Active bool
	Kind   uint8
}

func decodeBenchItem(r *Reader) (benchItem, error) {
	var it benchItem
	var err error
	if it.Key, err = r.Bytes32(); err != nil {
		return it, r.Wrap("key", err)
	}
	if it.Block, err = r.U64(); err != nil {
		return it, r.Wrap("block", err)
	}
	if it.Stake, err = r.U128(); err != nil {
		return it, r.Wrap("stake", err)
	}
	if it.Port, err = r.U16(); err != nil {
		return it, r.Wrap("port", err)
	}
	if it.Active, err = r.Bool(); err != nil {
		return it, r.Wrap("active", err)
	}
	if it.Kind, err = r.U8(); err != nil {
		return it, r.Wrap("kind", err)
	}
	return it, nil
}

func BenchmarkReaderCompact(b *testing.B) {
	e := NewEncoder(0)
	vals := []uint64{0, 42, 63, 64, 1000, 16383, 16384, 65535, 1 << 20, 1 << 30, 1 << 40, math.MaxUint64}
	const n = 1200
	for i := range n {
		e.Compact(vals[i%len(vals)])
	}
	in := e.Bytes()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	var r Reader
	for b.Loop() {
		r = Reader{p: in, n: len(in)}
		for range n {
			if _, err := r.Compact(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/compact")
}

func BenchmarkDecodeVec(b *testing.B) {
	items := make([]benchItem, 1024)
	for i := range items {
		items[i] = benchItem{Block: uint64(i), Stake: Uint128{Lo: uint64(i) * 1e9}, Port: 8091, Active: i%2 == 0, Kind: 4}
		items[i].Key[0] = byte(i)
	}
	e := NewEncoder(0)
	EncodeVec(e, items, func(e *Encoder, it benchItem) {
		e.Fixed(it.Key[:])
		e.U64(it.Block)
		e.U128(it.Stake)
		e.U16(it.Port)
		e.Bool(it.Active)
		e.U8(it.Kind)
	})
	in := e.Bytes()
	if len(in) != 2+60*1024 {
		b.Fatalf("encoded %d bytes", len(in))
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		out, err := DecodeVec(NewReader(in), 60, decodeBenchItem)
		if err != nil || len(out) != 1024 {
			b.Fatal(err)
		}
	}
}

// benchNeuron follows the NeuronInfoLite layout of subtensor's runtime API,
// to measure a realistic metagraph decode.
type benchNeuron struct {
	Hotkey, Coldkey [32]byte
	UID, Netuid     uint16
	Active          bool
	Axon            benchAxon
	Prometheus      benchAxon
	Stake           []benchStake
	Rank            uint16
	Emission        uint64
	Incentive       uint16
	Consensus       uint16
	Trust           uint16
	ValidatorTrust  uint16
	Dividends       uint16
	LastUpdate      uint64
	ValidatorPermit bool
	PruningScore    uint16
}

type benchAxon struct {
	Block   uint64
	Version uint32
	IP      Uint128
	Port    uint16
	IPType  uint8
	Extra   [4]uint8 // protocol, placeholder1, placeholder2 (axon only)
}

type benchStake struct {
	Coldkey [32]byte
	Amount  uint64
}

func encodeBenchNeuron(e *Encoder, n benchNeuron) {
	e.Fixed(n.Hotkey[:])
	e.Fixed(n.Coldkey[:])
	e.Compact(uint64(n.UID))
	e.Compact(uint64(n.Netuid))
	e.Bool(n.Active)
	for i, a := range []benchAxon{n.Axon, n.Prometheus} {
		e.U64(a.Block)
		e.U32(a.Version)
		e.U128(a.IP)
		e.U16(a.Port)
		e.U8(a.IPType)
		if i == 0 {
			e.Fixed(a.Extra[:3])
		}
	}
	EncodeVec(e, n.Stake, func(e *Encoder, s benchStake) {
		e.Fixed(s.Coldkey[:])
		e.Compact(s.Amount)
	})
	for _, v := range []uint16{n.Rank} {
		e.Compact(uint64(v))
	}
	e.Compact(n.Emission)
	for _, v := range []uint16{n.Incentive, n.Consensus, n.Trust, n.ValidatorTrust, n.Dividends} {
		e.Compact(uint64(v))
	}
	e.Compact(n.LastUpdate)
	e.Bool(n.ValidatorPermit)
	e.Compact(uint64(n.PruningScore))
}

func decodeBenchAxon(r *Reader, a *benchAxon, axon bool) (err error) {
	if a.Block, err = r.U64(); err != nil {
		return r.Wrap("block", err)
	}
	if a.Version, err = r.U32(); err != nil {
		return r.Wrap("version", err)
	}
	if a.IP, err = r.U128(); err != nil {
		return r.Wrap("ip", err)
	}
	if a.Port, err = r.U16(); err != nil {
		return r.Wrap("port", err)
	}
	if a.IPType, err = r.U8(); err != nil {
		return r.Wrap("ip_type", err)
	}
	if axon {
		var b []byte
		if b, err = r.Fixed(3); err != nil {
			return r.Wrap("protocol", err)
		}
		copy(a.Extra[:], b)
	}
	return nil
}

func decodeBenchStake(r *Reader) (s benchStake, err error) {
	if s.Coldkey, err = r.Bytes32(); err != nil {
		return s, r.Wrap("0", err)
	}
	if s.Amount, err = r.Compact(); err != nil {
		return s, r.Wrap("1", err)
	}
	return s, nil
}

func decodeBenchNeuron(r *Reader) (n benchNeuron, err error) {
	if n.Hotkey, err = r.Bytes32(); err != nil {
		return n, r.Wrap("hotkey", err)
	}
	if n.Coldkey, err = r.Bytes32(); err != nil {
		return n, r.Wrap("coldkey", err)
	}
	if n.UID, err = r.CompactU16(); err != nil {
		return n, r.Wrap("uid", err)
	}
	if n.Netuid, err = r.CompactU16(); err != nil {
		return n, r.Wrap("netuid", err)
	}
	if n.Active, err = r.Bool(); err != nil {
		return n, r.Wrap("active", err)
	}
	if err = decodeBenchAxon(r, &n.Axon, true); err != nil {
		return n, r.Wrap("axon_info", err)
	}
	if err = decodeBenchAxon(r, &n.Prometheus, false); err != nil {
		return n, r.Wrap("prometheus_info", err)
	}
	if n.Stake, err = DecodeVec(r, 33, decodeBenchStake); err != nil {
		return n, r.Wrap("stake", err)
	}
	if n.Rank, err = r.CompactU16(); err != nil {
		return n, r.Wrap("rank", err)
	}
	if n.Emission, err = r.Compact(); err != nil {
		return n, r.Wrap("emission", err)
	}
	if n.Incentive, err = r.CompactU16(); err != nil {
		return n, r.Wrap("incentive", err)
	}
	if n.Consensus, err = r.CompactU16(); err != nil {
		return n, r.Wrap("consensus", err)
	}
	if n.Trust, err = r.CompactU16(); err != nil {
		return n, r.Wrap("trust", err)
	}
	if n.ValidatorTrust, err = r.CompactU16(); err != nil {
		return n, r.Wrap("validator_trust", err)
	}
	if n.Dividends, err = r.CompactU16(); err != nil {
		return n, r.Wrap("dividends", err)
	}
	if n.LastUpdate, err = r.Compact(); err != nil {
		return n, r.Wrap("last_update", err)
	}
	if n.ValidatorPermit, err = r.Bool(); err != nil {
		return n, r.Wrap("validator_permit", err)
	}
	if n.PruningScore, err = r.CompactU16(); err != nil {
		return n, r.Wrap("pruning_score", err)
	}
	return n, nil
}

// BenchmarkDecodeNeuronsLite decodes a 256-neuron Vec<NeuronInfoLite>, the
// shape of a metagraph query.
func BenchmarkDecodeNeuronsLite(b *testing.B) {
	neurons := make([]benchNeuron, 256)
	for i := range neurons {
		n := &neurons[i]
		n.Hotkey[0], n.Coldkey[1] = byte(i), byte(i)
		n.UID, n.Netuid, n.Active = uint16(i), 64, true
		n.Axon = benchAxon{Block: 5_000_000 + uint64(i), Version: 900, IP: Uint128{Lo: 3235789677}, Port: 8091, IPType: 4}
		n.Prometheus = benchAxon{Block: 4_000_000, Version: 900, IPType: 4}
		n.Stake = []benchStake{{Coldkey: n.Coldkey, Amount: uint64(i) * 1_000_000_007}}
		n.Emission, n.Incentive, n.Consensus = uint64(i)*12345, uint16(i*200), uint16(i*100)
		n.ValidatorTrust, n.Dividends, n.LastUpdate = uint16(i*7), uint16(i*3), 5_100_000+uint64(i)
		n.ValidatorPermit, n.PruningScore = i < 64, 65535
	}
	e := NewEncoder(0)
	EncodeVec(e, neurons, encodeBenchNeuron)
	in := e.Bytes()
	if got, err := DecodeVec(NewReader(in), 1, decodeBenchNeuron); err != nil || !reflect.DeepEqual(got, neurons) {
		b.Fatalf("round trip failed: %v", err)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeVec(NewReader(in), 1, decodeBenchNeuron); err != nil {
			b.Fatal(err)
		}
	}
}
