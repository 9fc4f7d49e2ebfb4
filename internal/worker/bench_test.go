package worker

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// BenchmarkHeartbeat: encoding a heartbeat and sending it over a
// WebSocket on loopback, the inventory as last sampled (its /proc reads
// are BenchmarkInventorySample).
func BenchmarkHeartbeat(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(-1)
		for {
			if _, _, err := c.Read(r.Context()); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	cfg := DefaultConfig()
	cfg.MinerURL, cfg.WorkerID = url, "bench0000000000"
	w, err := New(cfg, quiet(), nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.CloseNow()
	w.Heartbeat(ctx) // fills the caches
	b.ReportAllocs()
	for b.Loop() {
		if err := w.send(ctx, ws, w.Heartbeat(ctx)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInventorySample: reading the machine's load from /proc and
// statfs, as each heartbeat does when its sample is older than a second.
func BenchmarkInventorySample(b *testing.B) {
	inv := &Inventory{}
	b.ReportAllocs()
	for b.Loop() {
		inv.Sample()
	}
}
