package compute

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The GPU binary's framing: a 4-byte little-endian length, then that many
// bytes of UTF-8 JSON, one request and one response per connection.

// MaxFrame is the largest response taken from the binary, as the reference
// worker's client refuses anything over 16 MiB.
const MaxFrame = 16 << 20

// ErrFrame is wrapped by every framing error.
var ErrFrame = errors.New("bad frame")

// WriteFrame writes one frame.
func WriteFrame(w io.Writer, body []byte) error {
	if len(body) > MaxFrame {
		return fmt.Errorf("%w: %d bytes (at most %d)", ErrFrame, len(body), MaxFrame)
	}
	buf := make([]byte, 4+len(body))
	binary.LittleEndian.PutUint32(buf, uint32(len(body)))
	copy(buf[4:], body)
	_, err := w.Write(buf)
	return err
}

// ReadFrame reads one frame of at most limit bytes; the length is checked
// before anything is allocated, and a short body is an error.
func ReadFrame(r io.Reader, limit int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: length: %w", ErrFrame, err)
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if int64(n) > int64(limit) {
		return nil, fmt.Errorf("%w: %d bytes announced (at most %d)", ErrFrame, n, limit)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrFrame)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("%w: body of %d bytes: %w", ErrFrame, n, err)
	}
	return body, nil
}
