package timelock

import (
	"encoding/binary"
	"fmt"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
)

// appendVec appends x as arkworks serializes a Vec<u8>: its length as a
// little-endian uint64, then the bytes.
func appendVec(dst, x []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, uint64(len(x)))
	return append(dst, x...)
}

// ciphertext is a parsed tle ciphertext; the slices alias the input.
type ciphertext struct {
	u     bls.G2Affine // r·G2
	v, w  []byte       // sigma ⊕ H(GT), key ⊕ H(sigma)
	body  []byte       // AES-GCM ciphertext ‖ tag
	nonce []byte
}

// reader walks a ciphertext. Length prefixes come from the input, so every
// length is checked against the bytes that remain before it is used.
type reader struct {
	buf []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
}

func (r *reader) bytes(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.buf) {
		r.fail("%s: need %d bytes, %d left", what, n, len(r.buf))
		return nil
	}
	out := r.buf[:n:n]
	r.buf = r.buf[n:]
	return out
}

// vec reads a length-prefixed byte vector.
func (r *reader) vec(what string) []byte {
	prefix := r.bytes(8, what+" length")
	if r.err != nil {
		return nil
	}
	n := binary.LittleEndian.Uint64(prefix)
	if n > uint64(len(r.buf)) {
		r.fail("%s: length %d, %d bytes left", what, n, len(r.buf))
		return nil
	}
	return r.bytes(int(n), what)
}

// vecN reads a length-prefixed vector that must hold exactly n bytes.
func (r *reader) vecN(n int, what string) []byte {
	x := r.vec(what)
	if r.err == nil && len(x) != n {
		r.fail("%s: %d bytes, want %d", what, len(x), n)
	}
	return x
}

// parse decodes a ciphertext, requiring the exact layout Encrypt writes:
// a valid G2 point for U, 32-byte V and W, a body made of the AES-GCM output
// and a 12-byte nonce, the "AES_GCM_" suite, and nothing after it. (arkworks
// itself would ignore trailing bytes and not look at the suite.)
func parse(b []byte) (*ciphertext, error) {
	r := &reader{buf: b}
	c := new(ciphertext)
	ub := r.bytes(pointSize, "U")
	c.v = r.vecN(32, "V")
	c.w = r.vecN(32, "W")
	body := &reader{buf: r.vec("body")}
	suite := r.vec("cipher suite")
	if r.err != nil {
		return nil, r.err
	}
	if len(r.buf) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(r.buf))
	}
	if string(suite) != cipherSuite {
		return nil, fmt.Errorf("%w: cipher suite %q, want %q", ErrMalformed, suite, cipherSuite)
	}

	c.body = body.vec("AES ciphertext")
	c.nonce = body.vecN(nonceSize, "nonce")
	if body.err != nil {
		return nil, body.err
	}
	if len(body.buf) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes in body", ErrMalformed, len(body.buf))
	}
	if len(c.body) < tagSize {
		return nil, fmt.Errorf("%w: AES ciphertext shorter than its tag", ErrMalformed)
	}

	// SetBytes on exactly 96 bytes accepts only the compressed form; it
	// checks the point is on the curve and in G2.
	if _, err := c.u.SetBytes(ub); err != nil {
		return nil, fmt.Errorf("%w: U: %v", ErrMalformed, err)
	}
	return c, nil
}
