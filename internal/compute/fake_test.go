package compute

import (
	"encoding/binary"
	"net"
	"path/filepath"
	"sync"
	"testing"
)

// fakeBinary is a BinaryServer on a real Unix socket whose answers a test
// can replace with raw bytes.
type fakeBinary struct {
	path string
	srv  *BinaryServer
	mu   sync.Mutex
	// misbehave writes raw bytes for a command, or returns nil to answer
	// normally.
	misbehave func(command string) []byte
}

func startFake(t *testing.T, backend *CPUBackend) *fakeBinary {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gpu.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeBinary{path: path}
	f.srv = &BinaryServer{Backend: backend, misbehave: func(cmd string) []byte {
		f.mu.Lock()
		mis := f.misbehave
		f.mu.Unlock()
		if mis == nil {
			return nil
		}
		return mis(cmd)
	}}
	go func() { _ = f.srv.Serve(ln) }()
	t.Cleanup(func() { _ = f.srv.Close() })
	return f
}

// rawFrame is a frame header announcing n bytes, then body.
func rawFrame(n uint32, body string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, n)
	return append(b, body...)
}
