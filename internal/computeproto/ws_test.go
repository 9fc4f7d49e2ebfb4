package computeproto

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var wsDecoders = map[string]func([]byte) (any, error){
	"register":              func(b []byte) (any, error) { r, _, err := DecodeRegistration(b); return r, err },
	"heartbeat":             wrap(DecodeWorkerHeartbeat),
	"task_result_cpu":       wrap(DecodeTaskResult),
	"task_result_gpu":       wrap(DecodeTaskResult),
	"task_result_error":     wrap(DecodeTaskResult),
	"proof_response":        wrap(DecodeProofResponseMessage),
	"proof_response_failed": wrap(DecodeProofResponseMessage),
	"task_assignment":       wrap(DecodeTaskAssignment),
	"proof_request":         wrap(DecodeProofRequestMessage),
}

func readWS(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "ws", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// covers reports whether got holds every member of want with the same
// value, recursively, allowing got members want lacks only when null (an
// Optional field the model writes as None).
func covers(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !covers(v, g[k]) {
				return false
			}
		}
		for k, v := range g {
			if _, ok := w[k]; !ok && v != nil {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !covers(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(want, got)
}

// TestWSMessagesRoundTrip: every reference message decodes, its type is
// read without decoding the rest, and re-encoding keeps every member,
// the unknown ones included.
func TestWSMessagesRoundTrip(t *testing.T) {
	for name, dec := range wsDecoders {
		t.Run(name, func(t *testing.T) {
			in := readWS(t, name)
			typ, err := MessageType(in)
			if err != nil || !strings.HasPrefix(name, strings.TrimSuffix(strings.TrimSuffix(typ, "_cpu"), "_gpu")) {
				t.Fatalf("type %q, %v", typ, err)
			}
			v, err := dec(in)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			out, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			if err := json.Unmarshal(in, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if !covers(want, got) {
				t.Errorf("re-encoding lost or changed members\n  in %s\n out %s", in, out)
			}
			if _, err := dec(out); err != nil {
				t.Errorf("own output does not decode: %v", err)
			}
		})
	}
}

func TestWSMessageFields(t *testing.T) {
	r, code, err := DecodeRegistration(readWS(t, "register"))
	if err != nil || code != 0 || r.WorkerID != "3f2a9c0d4e5b6a71" || r.WorkerVersion != "0.0.3" || len(r.Capabilities) != 2 ||
		r.SystemInfo.GPUPlugin[0].UUID != "GPU-5b4f3c2a-1d2e-4f60-9a7b-3c2d1e0f9a8b" {
		t.Fatalf("register: %+v %d %v", r, code, err)
	}
	h, err := DecodeWorkerHeartbeat(readWS(t, "heartbeat"))
	if err != nil || h.Data.Status != StatusOnline || h.Data.SystemInfo.CPUCount != 16 || !bytes.Contains(h.Data.GPUInfo, []byte(`"gpu_count"`)) {
		t.Fatalf("heartbeat: %+v %v", h, err)
	}
	cpu, err := DecodeTaskResult(readWS(t, "task_result_cpu"))
	if err != nil || !cpu.Data.Succeeded() || cpu.Data.Result.MatrixSize != 1958 || cpu.Data.Result.Commitments[0].UUID != "-1" ||
		cpu.Data.Timestamps["worker_task_completed_ts"] != 1765000123450 || string(cpu.Data.Extra["plugin_name"]) != `"cpu_matrix_compute"` {
		t.Fatalf("cpu result: %+v %v", cpu, err)
	}
	bad, err := DecodeTaskResult(readWS(t, "task_result_error"))
	if err != nil || bad.Data.Succeeded() || !strings.Contains(bad.Data.Error, "None response") {
		t.Fatalf("error result: %+v %v", bad, err)
	}
	pr, err := DecodeProofResponseMessage(readWS(t, "proof_response"))
	if err != nil || !pr.Data.Success || len(pr.Data.Proofs[0].MerkleProofs) != 2 || pr.Data.Phase2Timestamps()["worker_proof_completed_ts"] != 1765000124012 {
		t.Fatalf("proof response: %+v %v", pr, err)
	}
	a, err := DecodeTaskAssignment(readWS(t, "task_assignment"))
	if err != nil || a.Data.TaskType != ChallengeCPUMatrix || a.Data.Data.MatrixSize != 1958 || a.Data.Timeout != 60 || a.Data.ValidatorHotkey == "" {
		t.Fatalf("assignment: %+v %v", a, err)
	}
	q, err := DecodeProofRequestMessage(readWS(t, "proof_request"))
	if err != nil || len(q.Data.Requests) != 1 || q.Data.Requests[0].Coordinates[1] != (Coordinate{31000, 2}) {
		t.Fatalf("proof request: %+v %v", q, err)
	}
}

// TestRegistrationCloseCodes: the reference hub's close code for each way
// a first message can be wrong.
func TestRegistrationCloseCodes(t *testing.T) {
	for doc, want := range map[string]int{
		`{"type":"register","worker_version":"1"}`:                                                CloseMissingWorkerID,
		`{"type":"register","worker_id":"   ","worker_version":"1"}`:                              CloseMissingWorkerID,
		`{"type":"register","worker_id":"` + strings.Repeat("a", 300) + `","worker_version":"1"}`: CloseMissingWorkerID,
		`{"type":"register","worker_id":"w1"}`:                                                    CloseMissingVersion,
		`{"type":"register","worker_id":"w1","worker_version":" "}`:                               CloseMissingVersion,
		`{"type":"heartbeat","worker_id":"w1","worker_version":"1"}`:                              CloseInvalidRegistration,
		`{"worker_id":"w1","worker_version":"1"}`:                                                 CloseInvalidRegistration,
		`not json`: CloseInvalidRegistration,
		`[1,2]`:    CloseInvalidRegistration,
		`{"type":"register","worker_id":"w1","worker_version":"1","capabilities":"cpu"}`:            CloseInvalidRegistration,
		`{"type":"register","worker_id":"w1","worker_version":"1","system_info":{"cpu_count":"x"}}`: CloseInvalidRegistration,
	} {
		if _, code, err := DecodeRegistration([]byte(doc)); err == nil || code != want {
			t.Errorf("%.60s: code %d (%v), want %d", doc, code, err, want)
		}
	}
}

func FuzzDecodeWSMessage(f *testing.F) {
	for name := range wsDecoders {
		b, err := os.ReadFile(filepath.Join("testdata", "ws", name+".json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = MessageType(b)
		for _, dec := range wsDecoders {
			v, err := dec(b)
			if err != nil {
				continue
			}
			out, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("a decoded message does not encode: %v", err)
			}
			if _, err := dec(out); err != nil {
				t.Fatalf("own output does not decode: %v\n%s", err, out)
			}
		}
	})
}
