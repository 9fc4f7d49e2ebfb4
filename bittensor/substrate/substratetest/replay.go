// Package substratetest provides fake Substrate nodes for tests: WebSocket
// JSON-RPC servers on loopback that answer from recordings (Node) or as a
// test scripts them (Server).
package substratetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
)

// Recordings maps seed → method → params (as the recorder wrote them, JSON
// text) → answer, the layout of mainnet_rpc_recordings.json. An answer is
// {"result": …} or {"__cycle__": [answers…]}, answered in turn.
type Recordings map[string]map[string]map[string]json.RawMessage

// LoadRecordings reads a recordings file.
func LoadRecordings(path string) (Recordings, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Recordings
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("recordings %s: %w", path, err)
	}
	return r, nil
}

// canonical re-encodes JSON so that the recorder's spacing and ours compare
// equal; numbers keep their exact text. Hex strings lose their 0x prefix and
// case, because the recorded client sent some call data without it while
// nodes accept both.
func canonical(raw []byte) (string, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return "", err
	}
	if params, ok := v.([]any); ok {
		for i, p := range params {
			if s, ok := p.(string); ok {
				params[i] = normalizeHex(s)
			}
		}
	}
	b, err := json.Marshal(v)
	return string(b), err
}

func normalizeHex(s string) string {
	t := strings.TrimPrefix(s, "0x")
	if len(t) == 0 || len(t)%2 != 0 {
		return s
	}
	for _, c := range t {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return s
		}
	}
	return strings.ToLower(t)
}

type answer struct {
	results []json.RawMessage // more than one: a cycle
	next    atomic.Uint64
}

// Node is a fake node answering from recordings.
type Node struct {
	srv     *Server
	answers map[string]*answer // method + " " + canonical params
	head    string             // the recorded chain_getHead answer, normalised
	calls   sync.Map           // method → *atomic.Int64
}

// NewNode serves the recordings of the given seeds; where two seeds answer
// the same call differently, the earlier seed wins.
func NewNode(rec Recordings, seeds ...string) (*Node, error) {
	n := &Node{answers: map[string]*answer{}}
	for _, seed := range seeds {
		methods, ok := rec[seed]
		if !ok {
			return nil, fmt.Errorf("no seed %q in the recordings", seed)
		}
		for method, byParams := range methods {
			for params, raw := range byParams {
				p, err := canonical([]byte(params))
				if err != nil {
					return nil, fmt.Errorf("seed %s, %s %s: %w", seed, method, params, err)
				}
				key := method + " " + p
				if _, dup := n.answers[key]; dup {
					continue
				}
				a, err := parseAnswer(raw)
				if err != nil {
					return nil, fmt.Errorf("seed %s, %s: %w", seed, method, err)
				}
				n.answers[key] = a
			}
		}
	}
	if a := n.answers["chain_getHead []"]; a != nil {
		var h string
		if json.Unmarshal(a.results[0], &h) == nil {
			n.head = normalizeHex(h)
		}
	}
	n.srv = NewServer(n.answer)
	return n, nil
}

func parseAnswer(raw json.RawMessage) (*answer, error) {
	var a struct {
		Result json.RawMessage   `json:"result"`
		Cycle  []json.RawMessage `json:"__cycle__"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, err
	}
	if a.Cycle != nil {
		out := &answer{}
		for _, c := range a.Cycle {
			inner, err := parseAnswer(c)
			if err != nil {
				return nil, err
			}
			out.results = append(out.results, inner.results...)
		}
		return out, nil
	}
	if a.Result == nil {
		a.Result = json.RawMessage("null")
	}
	return &answer{results: []json.RawMessage{a.Result}}, nil
}

// URL is the ws:// address of the node.
func (n *Node) URL() string { return n.srv.URL() }

// Close stops the node.
func (n *Node) Close() { n.srv.Close() }

// DropConnections closes every open socket, as a node restart would.
func (n *Node) DropConnections() { n.srv.DropConnections() }

// Calls counts the calls of a method received so far. A state_call is also
// counted as "state_call:<runtime method>".
func (n *Node) Calls(method string) int64 {
	if v, ok := n.calls.Load(method); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

func (n *Node) count(name string) {
	v, _ := n.calls.LoadOrStore(name, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

func (n *Node) answer(c *Conn, req Request) {
	n.count(req.Method)
	if req.Method == "state_call" {
		var name string
		if a := req.Args(); len(a) > 0 && json.Unmarshal(a[0], &name) == nil {
			n.count("state_call:" + name)
		}
	}
	p, err := canonical(req.Params)
	if err != nil {
		_ = c.Fail(req, -32602, "Invalid params", nil)
		return
	}
	a := n.lookup(req.Method, p)
	if a == nil {
		_ = c.Fail(req, -32601, "Method not found (not in the recordings): "+req.Method+" "+p, nil)
		return
	}
	i := a.next.Add(1) - 1
	_ = c.Reply(req, a.results[int(i%uint64(len(a.results)))])
}

// lookup finds the answer to a call. A call pinned to the recorded head
// also matches the same call recorded without a block, since both read the
// same state.
func (n *Node) lookup(method, params string) *answer {
	if a := n.answers[method+" "+params]; a != nil || n.head == "" {
		return a
	}
	var ps []any
	if json.Unmarshal([]byte(params), &ps) != nil || len(ps) == 0 || ps[len(ps)-1] != n.head {
		return nil
	}
	for _, alt := range [][]any{ps[:len(ps)-1], append(ps[:len(ps)-1:len(ps)-1], nil)} {
		b, _ := json.Marshal(alt)
		if a := n.answers[method+" "+string(b)]; a != nil {
			return a
		}
	}
	return nil
}
