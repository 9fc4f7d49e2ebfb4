package workerhub

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/vigil-validator/vigil/internal/computeproto"
)

type harness struct {
	t      *testing.T
	hub    *Hub
	srv    *httptest.Server
	url    string
	mu     sync.Mutex
	beats  []Worker
	result []computeproto.TaskResult
	gone   map[string][]string
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, gone: map[string][]string{}}
	h.hub = New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), Events{
		Heartbeat: func(w Worker) { h.mu.Lock(); h.beats = append(h.beats, w); h.mu.Unlock() },
		TaskResult: func(id string, r computeproto.TaskResult) {
			h.mu.Lock()
			h.result = append(h.result, r)
			h.mu.Unlock()
		},
		Disconnected: func(id string, tasks []string) { h.mu.Lock(); h.gone[id] = tasks; h.mu.Unlock() },
	}, nil)
	h.srv = httptest.NewServer(h.hub)
	h.url = "ws" + strings.TrimPrefix(h.srv.URL, "http")
	t.Cleanup(func() { h.hub.Close(); h.srv.Close() })
	return h
}

func testConfig() Config {
	c := DefaultConfig()
	c.RegistrationTimeout, c.ProofTimeout, c.MinHeartbeatGap = 300*time.Millisecond, 2*time.Second, 50*time.Millisecond
	return c
}

type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func (h *harness) dial(header http.Header) *client {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, h.url, &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		if resp != nil {
			h.t.Fatalf("dial: %v (HTTP %d)", err, resp.StatusCode)
		}
		h.t.Fatal(err)
	}
	ws.SetReadLimit(computeproto.MaxWSMessage)
	h.t.Cleanup(func() { _ = ws.CloseNow() })
	return &client{t: h.t, ws: ws}
}

func (c *client) send(v any) {
	c.t.Helper()
	b, ok := v.([]byte)
	if !ok {
		var err error
		if s, isStr := v.(string); isStr {
			b = []byte(s)
		} else if b, err = json.Marshal(v); err != nil {
			c.t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next message, or the close error.
func (c *client) read() (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatal(err)
	}
	return m, nil
}

func (c *client) register(id string) {
	c.t.Helper()
	c.send(map[string]any{"type": "register", "worker_id": id, "worker_name": "w-" + id, "worker_version": "0.0.3",
		"capabilities": []string{"cpu_matrix"}, "system_info": map[string]any{"cpu_count": 4}})
	m, err := c.read()
	if err != nil || m["type"] != "registration_ack" {
		c.t.Fatalf("registration: %v %v", m, err)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRegistrationAndCloseCodes(t *testing.T) {
	h := newHarness(t, testConfig())
	good := h.dial(nil)
	good.register("aaaa000011112222")
	if ws := h.hub.Workers(); len(ws) != 1 || ws[0].Name != "w-aaaa000011112222" || ws[0].Status != computeproto.StatusOnline || ws[0].SystemInfo.CPUCount != 4 {
		t.Fatalf("workers: %+v", ws)
	}
	for doc, code := range map[string]websocket.StatusCode{
		`{"type":"register","worker_version":"1"}`: 4001,
		`{"type":"register","worker_id":"x"}`:      4002,
		`{"type":"hello"}`:                         4000,
		`garbage`:                                  4000,
	} {
		c := h.dial(nil)
		c.send(doc)
		if _, err := c.read(); websocket.CloseStatus(err) != code {
			t.Errorf("%s: closed with %v, want %d", doc, err, code)
		}
	}
	silent := h.dial(nil)
	if _, err := silent.read(); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("no registration: %v", err)
	}
	if h.hub.metrics.Refused("no_registration") != 1 || h.hub.metrics.Refused("4001") != 1 {
		t.Errorf("refusals not counted")
	}
	// The healthy worker is untouched by all of it.
	good.send(map[string]any{"type": "heartbeat", "data": map[string]any{"status": "online"}})
	if m, err := good.read(); err != nil || m["type"] != "heartbeat_ack" {
		t.Fatalf("after the bad connections: %v %v", m, err)
	}
}

func TestReplacementKeepsTheNewConnection(t *testing.T) {
	h := newHarness(t, testConfig())
	old := h.dial(nil)
	old.register("bbbb000011112222")
	task := computeproto.TaskAssignmentData{TaskID: "r1", TaskType: "cpu_matrix", ChallengeID: "r1", Timeout: 60, ValidatorHotkey: "5V",
		Data: computeproto.ChallengeData{MatrixSize: 10, Seed: "00112233", Iterations: 1}}
	if err := h.hub.Assign(context.Background(), "bbbb000011112222", task); err != nil {
		t.Fatal(err)
	}
	if m, err := old.read(); err != nil || m["type"] != "task_assignment" {
		t.Fatalf("assignment: %v %v", m, err)
	}
	newer := h.dial(nil)
	newer.register("bbbb000011112222")
	// The task moved with the worker: its result on the new connection
	// is taken.
	newer.send(`{"type":"task_result","worker_id":"bbbb000011112222","task_id":"r1","data":{"success":true}}`)
	eventually(t, "the result after reconnecting", func() bool { h.mu.Lock(); defer h.mu.Unlock(); return len(h.result) == 1 })
	if _, err := old.read(); websocket.CloseStatus(err) != 1001 {
		t.Fatalf("the old connection: %v, want 1001", err)
	}
	time.Sleep(100 * time.Millisecond) // the old reader's cleanup has run
	if ws := h.hub.Workers(); len(ws) != 1 {
		t.Fatalf("after replacement: %+v", ws)
	}
	newer.send(map[string]any{"type": "heartbeat", "data": map[string]any{}})
	if m, err := newer.read(); err != nil || m["type"] != "heartbeat_ack" {
		t.Fatalf("the new connection: %v %v", m, err)
	}
}

func TestHostileWorkers(t *testing.T) {
	h := newHarness(t, testConfig())
	bystander := h.dial(nil)
	bystander.register("cccc000011112222")
	bad := h.dial(nil)
	bad.register("dddd000011112222")

	// Malformed messages and unknown types are dropped; the connection lives.
	bad.send("{not json")
	bad.send(`{"type":"launch_missiles"}`)
	bad.send(`{"type":"heartbeat","data":{"status":"sleeping"}}`)
	// A flood of heartbeats: the first is taken, the rest dropped.
	for range 50 {
		bad.send(`{"type":"heartbeat","data":{"status":"online"}}`)
	}
	// Results and proofs nobody asked for.
	bad.send(`{"type":"task_result","worker_id":"dddd000011112222","task_id":"never-given","data":{"success":true,"error_code":0,"result":{"commitments":[]}}}`)
	bad.send(`{"type":"proof_response","message_id":"not-pending","data":{"success":true}}`)
	eventually(t, "drops counted", func() bool {
		m := h.hub.metrics
		return m.Dropped("malformed") >= 2 && m.Dropped("unknown_type") == 1 && m.Dropped("heartbeat_flood") >= 40 &&
			m.Dropped("unknown_task") == 1 && m.Dropped("unknown_proof") == 1
	})
	h.mu.Lock()
	results := len(h.result)
	h.mu.Unlock()
	if results != 0 {
		t.Fatalf("a result for a task never given reached the miner")
	}
	// 20 MiB: the connection is closed for its size (1009); nothing else is.
	// The hub may reset the connection before the write ends.
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	_ = bad.ws.Write(wctx, websocket.MessageText, []byte(`{"type":"heartbeat","data":{"pad":"`+strings.Repeat("x", 20<<20)+`"}}`))
	wcancel()
	eventually(t, "the oversized sender is gone", func() bool { return len(h.hub.Workers()) == 1 })
	bystander.send(map[string]any{"type": "heartbeat", "data": map[string]any{}})
	if m, err := bystander.read(); err != nil || m["type"] != "heartbeat_ack" {
		t.Fatalf("bystander: %v %v", m, err)
	}
}

func TestTasksAndProofs(t *testing.T) {
	h := newHarness(t, testConfig())
	a := h.dial(nil)
	a.register("eeee000011112222")
	b := h.dial(nil)
	b.register("ffff000011112222")
	ctx := context.Background()
	task := computeproto.TaskAssignmentData{TaskID: "t1", TaskType: "cpu_matrix", ChallengeID: "t1", Timeout: 60, ValidatorHotkey: "5V",
		Data: computeproto.ChallengeData{MatrixSize: 10, Seed: "00112233", Iterations: 1}}
	if err := h.hub.Assign(ctx, "eeee000011112222", task); err != nil {
		t.Fatal(err)
	}
	if err := h.hub.Assign(ctx, "eeee000011112222", task); err == nil {
		t.Fatal("a busy worker took a second task")
	}
	if f := h.hub.IdleFraction(); f != 0.5 {
		t.Fatalf("idle fraction %v", f)
	}
	m, err := a.read()
	if err != nil || m["type"] != "task_assignment" || m["data"].(map[string]any)["task_id"] != "t1" {
		t.Fatalf("assignment: %v %v", m, err)
	}
	// b answers a task it never got: dropped; a answers its own.
	b.send(`{"type":"task_result","worker_id":"ffff000011112222","task_id":"t1","data":{"success":true}}`)
	a.send(`{"type":"task_result","worker_id":"eeee000011112222","task_id":"t1","data":{"success":true,"error_code":0,"result":{"computation_time_ms":5,"matrix_size":10,"commitments":[{"uuid":"-1","merkle_root":"ab","sig_ver":0,"sig_val":""}]}}}`)
	eventually(t, "the result", func() bool { h.mu.Lock(); defer h.mu.Unlock(); return len(h.result) == 1 })

	// A proof round trip, and b answering a's message id is refused.
	done := make(chan error, 1)
	var body computeproto.ProofResponseBody
	go func() {
		var err error
		body, err = h.hub.RequestProof(ctx, "eeee000011112222", "5V", "t1", []computeproto.ProofRequest{{UUID: "-1", Rows: []int64{1}}})
		done <- err
	}()
	req, err := a.read()
	if err != nil || req["type"] != "proof_request" {
		t.Fatalf("proof request: %v %v", req, err)
	}
	id := req["message_id"].(string)
	b.send(map[string]any{"type": "proof_response", "message_id": id, "data": map[string]any{"success": false, "error": "not mine"}})
	eventually(t, "the stolen answer dropped", func() bool { return h.hub.metrics.Dropped("unknown_proof") == 1 })
	a.send(map[string]any{"type": "proof_response", "message_id": id, "data": map[string]any{"success": true, "proofs": []any{}}})
	if err := <-done; err != nil || !body.Success {
		t.Fatalf("proof: %+v %v", body, err)
	}
	h.hub.Finalize("eeee000011112222", "t1")
	if f := h.hub.IdleFraction(); f != 1 {
		t.Fatalf("after finalising: idle %v", f)
	}
	// A worker that drops mid-task: the task is reported with it.
	if err := h.hub.Assign(ctx, "ffff000011112222", task); err != nil {
		t.Fatal(err)
	}
	_ = b.ws.CloseNow()
	eventually(t, "the disconnect", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.gone["ffff000011112222"]) == 1
	})
}

func TestSilentWorkerDropped(t *testing.T) {
	cfg := testConfig()
	cfg.HeartbeatTimeout, cfg.MonitorInterval = 200*time.Millisecond, 50*time.Millisecond
	h := newHarness(t, cfg)
	c := h.dial(nil)
	c.register("1111000011112222")
	if _, err := c.read(); err == nil {
		t.Fatal("a silent worker was kept")
	}
	eventually(t, "the drop", func() bool { return len(h.hub.Workers()) == 0 && h.hub.metrics.Dropped("heartbeat_timeout") == 1 })
}

func TestToken(t *testing.T) {
	cfg := testConfig()
	cfg.Token = "s3cret"
	h := newHarness(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, h.url, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without the token: %v", err)
	}
	c := h.dial(http.Header{"Authorization": {"Bearer s3cret"}})
	c.register("2222000011112222")
}
