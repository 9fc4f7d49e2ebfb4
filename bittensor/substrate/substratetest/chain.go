package substratetest

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// Hashes a Chain reports: the genesis, the finalized head and the best
// block share one header number; a submitted extrinsic lands in InBlock.
const (
	ChainGenesis   = "0x2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f"
	ChainFinalized = "0x7777777777777777777777777777777777777777777777777777777777777777"
	ChainInBlock   = "0x8888888888888888888888888888888888888888888888888888888888888888"
)

// Failure is a JSON-RPC error a Chain answers a submission with.
type Failure struct {
	Code          int
	Message, Data string
}

// Chain is a scripted node that answers what a signing client asks:
// runtime version, metadata, hashes and headers, nonces, storage from a
// map, and author_submitAndWatchExtrinsic, which puts the extrinsic at
// index 1 of block ChainInBlock. Set the fields before the first request;
// Storage may change later through Set.
type Chain struct {
	Metadata    string // hex, as state_getMetadata answers
	SpecVersion uint32
	Number      uint64 // every header's number; change it with SetNumber
	Nonce       uint32
	// OnSubmit, when set, decides each submission: nil puts it in a block,
	// a Failure rejects it.
	OnSubmit func(ext []byte) *Failure

	mu        sync.Mutex
	storage   map[string]string
	submitted [][]byte
	srv       *Server
}

// Set stores a raw value under a storage key (nil deletes it).
func (n *Chain) Set(key, value []byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.storage == nil {
		n.storage = make(map[string]string)
	}
	k := "0x" + hex.EncodeToString(key)
	if value == nil {
		delete(n.storage, k)
		return
	}
	n.storage[k] = "0x" + hex.EncodeToString(value)
}

// SetNumber changes the number every header reports.
func (n *Chain) SetNumber(v uint64) {
	n.mu.Lock()
	n.Number = v
	n.mu.Unlock()
}

// Submitted returns the extrinsics submitted so far, in order.
func (n *Chain) Submitted() [][]byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([][]byte(nil), n.submitted...)
}

// Start serves the chain on loopback until the test ends and returns its
// ws:// URL.
func (n *Chain) Start(t testing.TB) string {
	n.srv = StartServer(t, n.handle)
	return n.srv.URL()
}

func (n *Chain) handle(c *Conn, req Request) {
	args := req.Args()
	arg := func(i int) string {
		var s string
		if i < len(args) {
			_ = json.Unmarshal(args[i], &s)
		}
		return s
	}
	switch req.Method {
	case "state_getRuntimeVersion":
		_ = c.Reply(req, map[string]any{"specName": "node-subtensor", "specVersion": n.SpecVersion, "transactionVersion": 1})
	case "state_getMetadata":
		_ = c.Reply(req, n.Metadata)
	case "chain_getBlockHash":
		_ = c.Reply(req, ChainGenesis)
	case "chain_getFinalizedHead", "chain_getHead":
		_ = c.Reply(req, ChainFinalized)
	case "chain_getHeader":
		n.mu.Lock()
		num := n.Number
		n.mu.Unlock()
		_ = c.Reply(req, map[string]any{"number": fmt.Sprintf("0x%x", num)})
	case "system_accountNextIndex":
		_ = c.Reply(req, n.Nonce)
	case "state_getStorageAt", "state_getStorage":
		n.mu.Lock()
		v, ok := n.storage[strings.ToLower(arg(0))]
		n.mu.Unlock()
		if !ok {
			_ = c.Reply(req, nil)
			return
		}
		_ = c.Reply(req, v)
	case "author_submitAndWatchExtrinsic":
		x := arg(0)
		b, err := hex.DecodeString(strings.TrimPrefix(x, "0x"))
		if err != nil {
			_ = c.Fail(req, -32602, "Invalid params", err.Error())
			return
		}
		n.mu.Lock()
		n.submitted = append(n.submitted, b)
		n.mu.Unlock()
		if n.OnSubmit != nil {
			if f := n.OnSubmit(b); f != nil {
				_ = c.Fail(req, f.Code, f.Message, f.Data)
				return
			}
		}
		_ = c.Reply(req, "w")
		_ = c.Notify("author_extrinsicUpdate", "w", map[string]any{"inBlock": ChainInBlock})
	case "author_unwatchExtrinsic":
		_ = c.Reply(req, true)
	case "chain_getBlock":
		n.mu.Lock()
		last := ""
		if k := len(n.submitted); k > 0 {
			last = "0x" + hex.EncodeToString(n.submitted[k-1])
		}
		n.mu.Unlock()
		_ = c.Reply(req, map[string]any{"block": map[string]any{"extrinsics": []any{"0x0400", last}}})
	default:
		_ = c.NotFound(req)
	}
}
