package substratetest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"
)

// Request is one JSON-RPC call a Server received.
type Request struct {
	ID     json.RawMessage
	Method string
	Params json.RawMessage // "[]" when the call had none
}

// Args splits the positional parameters (nil when they are not an array).
func (r Request) Args() []json.RawMessage {
	var a []json.RawMessage
	_ = json.Unmarshal(r.Params, &a)
	return a
}

// Conn is one client connection to a Server. Its methods may be called from
// any goroutine, also after the handler returned (to push notifications).
type Conn struct {
	// Index numbers the server's connections from 1, in accept order.
	Index int
	ws    *websocket.Conn
	mu    sync.Mutex
}

func (c *Conn) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws.Write(context.Background(), websocket.MessageText, b)
}

// Reply answers req with a result.
func (c *Conn) Reply(req Request, result any) error {
	return c.write(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": result})
}

// Fail answers req with a JSON-RPC error; data is left out when nil.
func (c *Conn) Fail(req Request, code int, message string, data any) error {
	e := map[string]any{"code": code, "message": message}
	if data != nil {
		e["data"] = data
	}
	return c.write(map[string]any{"jsonrpc": "2.0", "id": req.ID, "error": e})
}

// NotFound answers req with "Method not found", as nodes do.
func (c *Conn) NotFound(req Request) error { return c.Fail(req, -32601, "Method not found", nil) }

// Notify sends a subscription notification.
func (c *Conn) Notify(method, subscription string, result any) error {
	return c.write(map[string]any{"jsonrpc": "2.0", "method": method,
		"params": map[string]any{"subscription": subscription, "result": result}})
}

// Close drops the connection, as a node restart would.
func (c *Conn) Close() { c.ws.CloseNow() }

// Handler answers one request; it runs on the connection's read loop, so a
// slow answer belongs in a goroutine.
type Handler func(c *Conn, req Request)

// Server is a WebSocket JSON-RPC server on loopback whose answers a test
// scripts. Node (recorded traffic) is one.
type Server struct {
	srv    *httptest.Server
	handle Handler
	n      atomic.Int32
	mu     sync.Mutex
	conns  []*Conn
}

// NewServer starts a server that passes every request to handle.
func NewServer(handle Handler) *Server {
	s := &Server{handle: handle}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// StartServer is NewServer stopped at the end of the test.
func StartServer(t interface{ Cleanup(func()) }, handle Handler) *Server {
	s := NewServer(handle)
	t.Cleanup(s.Close)
	return s
}

// URL is the ws:// address of the server.
func (s *Server) URL() string { return "ws" + strings.TrimPrefix(s.srv.URL, "http") }

// Connections counts the connections accepted so far.
func (s *Server) Connections() int { return int(s.n.Load()) }

// DropConnections closes every open socket.
func (s *Server) DropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

// Close drops the connections and stops the server.
func (s *Server) Close() { s.DropConnections(); s.srv.Close() }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	ws.SetReadLimit(8 << 20) // signed extrinsics and metadata-sized requests
	c := &Conn{Index: int(s.n.Add(1)), ws: ws}
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.mu.Unlock()
	for {
		_, data, err := ws.Read(context.Background())
		if err != nil {
			return
		}
		var req Request // field names match "id", "method", "params"
		if json.Unmarshal(data, &req) != nil {
			continue
		}
		if len(req.Params) == 0 || string(req.Params) == "null" {
			req.Params = json.RawMessage("[]")
		}
		s.handle(c, req)
	}
}
