package computeproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decoders maps each testdata document to its decoder, returning the value
// as any so one table can drive them all.
var decoders = map[string]func([]byte) (any, error){
	"heartbeat":               wrap(DecodeHeartbeatData),
	"heartbeat_response":      wrap(DecodeHeartbeatResponse),
	"task_request":            wrap(DecodeTaskRequest),
	"task_response":           wrap(DecodeTaskResponse),
	"task_response_none":      wrap(DecodeTaskResponse),
	"commitment_cpu":          wrap(DecodeCommitmentData),
	"commitment_gpu":          wrap(DecodeCommitmentData),
	"commitment_response":     wrap(DecodeCommitmentResponse),
	"commitment_response_cpu": wrap(DecodeCommitmentResponse),
	"proof_data":              wrap(DecodeProofData),
	"proof_data_response":     wrap(DecodeProofDataResponse),
	"session_init_request":    wrap(DecodeSessionInitRequest),
	"session_init_response":   wrap(DecodeSessionInitResponse),
	"vmgw_request":            wrap(DecodeVmgwEnrollTokenRequest),
	"vmgw_response":           wrap(DecodeVmgwEnrollTokenResponse),
	"error_response":          wrap(DecodeErrorResponse),
}

func wrap[T any](f func([]byte) (T, error)) func([]byte) (any, error) {
	return func(b []byte) (any, error) { v, err := f(b); return v, err }
}

// The .golden files are what CPython's json.dumps(..., ensure_ascii=False,
// sort_keys=True) prints for the same dicts; the .json inputs are the same
// documents indented and with non-ASCII escaped.
func TestGoldenRoundTrip(t *testing.T) {
	for name, dec := range decoders {
		t.Run(name, func(t *testing.T) {
			v, err := dec(readTestdata(t, name+".json"))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			got, err := Marshal(v)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			want := readTestdata(t, name+".golden")
			if !bytes.Equal(got, want) {
				t.Errorf("re-encoding differs from Python's\n got %s\nwant %s", got, want)
			}
			v2, err := dec(got)
			if err != nil {
				t.Fatalf("decode of own output: %v", err)
			}
			if !reflect.DeepEqual(normalize(t, v), normalize(t, v2)) {
				t.Errorf("value changed across a round trip")
			}
		})
	}
}

// normalize re-encodes a value so raw members compare by meaning.
func normalize(t *testing.T, v any) string {
	t.Helper()
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHeartbeatFields(t *testing.T) {
	h, err := DecodeHeartbeatData(readTestdata(t, "heartbeat.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Workers) != 2 || h.SchemaVersion != 1 || h.Timestamp != 1760000000.123456 {
		t.Fatalf("unexpected heartbeat %+v", h)
	}
	w := h.Workers[0]
	if w.WorkerID != "9f86d081884c7d65" || *w.WorkerName != "rack-3 · GPU ✓" || w.Status != StatusOnline {
		t.Errorf("worker 0: %+v", w)
	}
	if got := w.SystemInfo.GPUPlugin[0].UUID; got != "GPU-5b4f3c2a-1d2e-4f60-9a7b-3c2d1e0f9a8b" {
		t.Errorf("plugin uuid %q", got)
	}
	if string(w.Extra["vm_slots"]) != "2" {
		t.Errorf("worker extra %v", w.Extra)
	}
	if string(w.SystemInfo.Extra["gpu_temp_note"]) != `"<ok & cool>"` {
		t.Errorf("system extra %s", w.SystemInfo.Extra["gpu_temp_note"])
	}
	if _, ok := w.SystemInfo.GPUInfo[0].Extra["memory_total"]; !ok {
		t.Errorf("gpu_info extras lost: %v", w.SystemInfo.GPUInfo[0].Extra)
	}
	if h.Workers[1].WorkerName != nil || h.Workers[1].Status != StatusBusy {
		t.Errorf("worker 1: %+v", h.Workers[1])
	}
	if h.MinerInfo == nil || *h.MinerInfo.MinerVersion != "0.0.5" || h.MinerInfo.StorageInfo == nil {
		t.Errorf("miner info: %+v", h.MinerInfo)
	}
	if h.Workers[0].SystemInfo.StorageInfo != nil {
		t.Error("null storage_info decoded as non-nil")
	}
	if string(h.Extra["client_build"]) != `"x"` {
		t.Errorf("root extra %v", h.Extra)
	}
}

func TestTaskResponseFields(t *testing.T) {
	r, err := DecodeTaskResponse(readTestdata(t, "task_response.json"))
	if err != nil {
		t.Fatal(err)
	}
	cs := r.TaskData.Challenges
	if r.TaskType != TaskTypeChallengeBatch || len(cs) != 2 {
		t.Fatalf("%+v", r)
	}
	if cs[0].ChallengeType != ChallengeGPUMatrix || cs[0].Data.MatrixSize != 32991 || *cs[0].Data.TargetGPUID != -1 || *cs[0].Data.Mode != 0 {
		t.Errorf("gpu challenge %+v", cs[0])
	}
	if cs[1].Data.Mode != nil || cs[1].Data.TargetGPUID != nil || cs[1].Timeout != 60 || *cs[1].TargetWorkerID != "2c26b46b68ffc68f" {
		t.Errorf("cpu challenge %+v", cs[1])
	}
	n, err := DecodeTaskResponse(readTestdata(t, "task_response_none.json"))
	if err != nil || n.TaskType != TaskTypeNoTask || n.TaskData != nil {
		t.Errorf("no_task: %+v %v", n, err)
	}
}

func TestChallengeFields(t *testing.T) {
	c, err := DecodeCommitmentData(readTestdata(t, "commitment_cpu.json"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Commitments[0].UUID != CPUUUID || c.Commitments[0].SigVer != SigVerCPU || !strings.Contains(string(c.DebugInfo), "worker_task_received_ts") {
		t.Errorf("cpu commitment %+v", c)
	}
	g, err := DecodeCommitmentData(readTestdata(t, "commitment_gpu.json"))
	if err != nil || g.Commitments[0].SigVer != SigVerGPU || len(g.Commitments[0].SigVal) != 128 {
		t.Errorf("gpu commitment %+v %v", g, err)
	}
	r, err := DecodeCommitmentResponse(readTestdata(t, "commitment_response.json"))
	if err != nil {
		t.Fatal(err)
	}
	pr := r.ProofRequests[0]
	if !reflect.DeepEqual(pr.Rows, []int64{101, 20417}) || !reflect.DeepEqual(pr.Coordinates, []Coordinate{{5, 7}, {32000, 12}, {17, 30001}}) || r.AutoVerified != nil {
		t.Errorf("proof request %+v", r)
	}
	p, err := DecodeProofData(readTestdata(t, "proof_data.json"))
	if err != nil {
		t.Fatal(err)
	}
	mp := p.Proofs[0].MerkleProofs[1]
	if mp.LeafIndex != 20417 || !reflect.DeepEqual(mp.ProofDirections, []bool{false, false, true}) || len(p.Proofs[0].CoordinateValues) != 8 || p.Proofs[0].CoordinateValues[3] != 1e-05 {
		t.Errorf("proof %+v", p.Proofs[0])
	}
}

// Built in Go, encoded, and read back: the constructors give values the
// decoders accept, and float fields are written as floats.
func TestConstructedValues(t *testing.T) {
	h := NewHeartbeatData("hk", fixedTime)
	w := NewWorkerInfo("w1", fixedTime)
	w.Capabilities = []string{ChallengeCPUMatrix}
	w.SystemInfo.CPUUsage = 3
	h.Workers = append(h.Workers, w)
	b, err := Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{`"cpu_usage": 3.0`, `"cpu_count": 0`, `"miner_info": null`, `"gpu_info": []`, `"timestamp": 1760000000.5`, `"status": "online"`, `"schema_version": 1`} {
		if !strings.Contains(string(b), frag) {
			t.Errorf("missing %s in %s", frag, b)
		}
	}
	if _, err := DecodeHeartbeatData(b); err != nil {
		t.Errorf("own heartbeat refused: %v", err)
	}

	for _, v := range []any{
		NewTaskRequest("hk", fixedTime),
		NewTaskResponse(nil, fixedTime),
		NewHeartbeatResponse(0, "ok", 1, fixedTime),
		NewCommitmentData("c", "w", []Commitment{{UUID: CPUUUID, MerkleRoot: "00ff"}}),
		NewProofData("c", []ProofResponse{{UUID: CPUUUID, RowHashes: []string{"ab"}, MerkleProofs: []MerkleProof{{LeafHash: "ab"}}}}),
	} {
		if _, err := Marshal(v); err != nil {
			t.Errorf("%T: %v", v, err)
		}
	}
	b, _ = Marshal(NewProofData("c", []ProofResponse{{UUID: CPUUUID, RowHashes: []string{"ab"}, MerkleProofs: []MerkleProof{{LeafHash: "ab"}}}}))
	want := `{"challenge_id": "c", "debug_info": {}, "proofs": [{"coordinate_values": [], "merkle_proofs": [{"leaf_hash": "ab", "leaf_index": 0, "proof_directions": [], "proof_hashes": []}], "row_hashes": ["ab"], "uuid": "-1"}], "schema_version": 1}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	b, _ = Marshal(NewTaskResponse(nil, fixedTime))
	if want := `{"schema_version": 1, "task_data": null, "task_type": "no_task", "timestamp": 1760000000.5}`; string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestDefaultsApplied(t *testing.T) {
	h, err := DecodeHeartbeatData([]byte(`{"hotkey":"hk","workers":[{"worker_id":"w"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	w := h.Workers[0]
	if h.SchemaVersion != 1 || w.Status != StatusOnline || w.Capabilities != nil || h.MinerInfo != nil {
		t.Errorf("%+v", h)
	}
	c, err := DecodeComputeChallenge([]byte(`{"challenge_id":"c","data":{"matrix_size":100,"seed":"0011223344556677"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Timeout != DefaultChallengeTimeout || c.ChallengeType != ChallengeCPUMatrix || c.Data.Iterations != 1 || c.TargetWorkerID != nil {
		t.Errorf("%+v", c)
	}
	cm, err := DecodeCommitment([]byte(`{"uuid":"-1","merkle_root":"ab","sig_val":null}`))
	if err != nil || cm.SigVer != 0 || cm.SigVal != "" {
		t.Errorf("%+v %v", cm, err)
	}
	cd, err := DecodeCommitmentData([]byte(`{"challenge_id":"c","worker_id":"w","commitments":[{"uuid":"-1","merkle_root":"ab"}]}`))
	if err != nil || string(cd.DebugInfo) != "{}" || cd.SchemaVersion != 1 {
		t.Errorf("%+v %v", cd, err)
	}
	cd, err = DecodeCommitmentData([]byte(`{"challenge_id":"c","worker_id":"w","commitments":[{"uuid":"-1","merkle_root":"ab"}],"debug_info":null}`))
	if err != nil || cd.DebugInfo != nil {
		t.Errorf("null debug_info: %+v %v", cd, err)
	}
	pr, err := DecodeProofRequest([]byte(`{"uuid":"g","rows":null,"coordinates":[[1,2]]}`))
	if err != nil || pr.Rows != nil {
		t.Errorf("%+v %v", pr, err)
	}
	if b, _ := Marshal(pr); !strings.Contains(string(b), `"rows": []`) {
		t.Errorf("nil rows written as %s", b)
	}
	// An empty target means "no target" upstream.
	c, err = DecodeComputeChallenge([]byte(`{"challenge_id":"c","target_worker_id":"  ","data":{"matrix_size":100,"seed":"0011223344556677"}}`))
	if err != nil || c.TargetWorkerID != nil {
		t.Errorf("blank target: %+v %v", c, err)
	}
}

func TestWhitespaceStripped(t *testing.T) {
	h, err := DecodeHeartbeatData([]byte("{\"hotkey\":\" hk\\t\",\"workers\":[{\"worker_id\":\"\\u00a0w1\\n\",\"status\":\" busy \",\"capabilities\":[\" gpu_matrix\\u001f\"]}]}"))
	if err != nil {
		t.Fatal(err)
	}
	if h.Hotkey != "hk" || h.Workers[0].WorkerID != "w1" || h.Workers[0].Status != StatusBusy || h.Workers[0].Capabilities[0] != ChallengeGPUMatrix {
		t.Errorf("%+v", h)
	}
	// Only the ends: inner whitespace is data.
	w, err := DecodeWorkerInfo([]byte(`{"worker_id":"a b","worker_name":"  x  y "}`))
	if err != nil || w.WorkerID != "a b" || *w.WorkerName != "x  y" {
		t.Errorf("%+v %v", w, err)
	}
	// A blank required id is empty after stripping.
	_, err = DecodeTaskRequest([]byte(`{"hotkey":"   ","request_type":"challenge"}`))
	assertField(t, err, "hotkey", "required")
}

func TestUnknownFieldsSurvive(t *testing.T) {
	in := `{"hotkey":"hk","future":{"b":[1,2.50],"a":"<x>"},"workers":[{"worker_id":"w","extra_int":7,
		"system_info":{"cpu_count":2,"weird":null,"gpu_plugin":[{"uuid":"GPU-1","name":"A100","bus":"0000:01:00.0"}]}}]}`
	h, err := DecodeHeartbeatData([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{
		`"future": {"a": "<x>", "b": [1, 2.5]}`, `"extra_int": 7`, `"weird": null`,
		`{"bus": "0000:01:00.0", "name": "A100", "uuid": "GPU-1"}`,
	} {
		if !strings.Contains(string(b), frag) {
			t.Errorf("missing %s in\n%s", frag, b)
		}
	}
	// Extra never overrides a declared field.
	h.Extra["hotkey"] = json.RawMessage(`"evil"`)
	b, _ = Marshal(h)
	if !strings.Contains(string(b), `"hotkey": "hk"`) || strings.Contains(string(b), "evil") {
		t.Errorf("extra replaced a field: %s", b)
	}
}

func TestEncodingJSONInterop(t *testing.T) {
	// encoding/json users get the same structure checks and extras.
	var w WorkerInfo
	if err := json.Unmarshal([]byte(`{"worker_id":"w","x":1}`), &w); err != nil || string(w.Extra["x"]) != "1" {
		t.Errorf("%+v %v", w, err)
	}
	if err := json.Unmarshal([]byte(`{"worker_name":"n"}`), &w); err == nil {
		t.Error("missing worker_id accepted")
	}
	var c Coordinate
	if err := json.Unmarshal([]byte(`[1,2,3]`), &c); err == nil {
		t.Error("3-element coordinate accepted")
	}
	if err := json.Unmarshal([]byte(`[4,5]`), &c); err != nil || c != (Coordinate{4, 5}) {
		t.Errorf("%v %v", c, err)
	}
}

func TestDecodeRejectsMalformed(t *testing.T) {
	big := append([]byte(`{"hotkey":"hk","workers":[],"pad":"`), bytes.Repeat([]byte("a"), MaxHeartbeatSize)...)
	big = append(big, `"}`...)
	if _, err := DecodeHeartbeatData(big); !errors.Is(err, ErrPayloadTooLarge) {
		t.Errorf("oversized: %v", err)
	}
	if _, err := DecodeTaskRequest(bytes.Repeat([]byte(" "), MaxSmallPayloadSize+1)); !errors.Is(err, ErrPayloadTooLarge) {
		t.Errorf("oversized small payload: %v", err)
	}
	for _, in := range []string{
		`{"hotkey":"hk","workers":[]} x`,
		`{"hotkey":"hk","workers":[]}{}`,
		`{"hotkey":"hk","workers":[]`,
		`{"hotkey":"hk","workers":[],"timestamp":NaN}`,
		`{"hotkey":"hk","workers":[],"timestamp":Infinity}`,
		"{\"hotkey\":\"h\xffk\",\"workers\":[]}",
		``,
		`{'hotkey':'hk'}`,
	} {
		if _, err := DecodeHeartbeatData([]byte(in)); !errors.Is(err, ErrInvalidJSON) {
			t.Errorf("%q: err = %v, want ErrInvalidJSON", in, err)
		}
	}
	// Trailing whitespace is fine.
	if _, err := DecodeHeartbeatData([]byte(" {\"hotkey\":\"hk\",\"workers\":[]}\n\t")); err != nil {
		t.Errorf("whitespace: %v", err)
	}
}

func TestWrongTypes(t *testing.T) {
	cases := []struct{ in, field, reason string }{
		{`[]`, "", "must be an object"},
		{`null`, "", "must be an object"},
		{`{"hotkey":1,"workers":[]}`, "hotkey", "must be a string"},
		{`{"hotkey":null,"workers":[]}`, "hotkey", "must not be null"},
		{`{"hotkey":"hk","workers":null}`, "workers", "must not be null"},
		{`{"hotkey":"hk","workers":{}}`, "workers", "must be an array"},
		{`{"hotkey":"hk","workers":[null]}`, "workers[0]", "must not be null"},
		{`{"hotkey":"hk","workers":["w"]}`, "workers[0]", "must be an object"},
		{`{"hotkey":"hk","workers":[],"timestamp":"1"}`, "timestamp", "must be a number"},
		{`{"hotkey":"hk","workers":[],"timestamp":1e999}`, "timestamp", "must be finite"},
		{`{"hotkey":"hk","workers":[],"schema_version":1.0}`, "schema_version", "must be an integer"},
		{`{"hotkey":"hk","workers":[],"schema_version":99999999999999999999}`, "schema_version", "integer out of range"},
		{`{"hotkey":"hk","workers":[],"schema_version":true}`, "schema_version", "must be an integer"},
		{`{"hotkey":"hk","workers":[{"worker_id":"w","capabilities":[1]}]}`, "workers[0].capabilities[0]", "must be a string"},
		{`{"hotkey":"hk","workers":[{"worker_id":"w","system_info":null}]}`, "workers[0].system_info", "must not be null"},
		{`{"hotkey":"hk","workers":[{"worker_id":"w","system_info":{"cpu_info":[]}}]}`, "workers[0].system_info.cpu_info", "must be an object"},
		{`{"hotkey":"hk","workers":[{"worker_id":"w","system_info":{"gpu_info":[{"uuid":5}]}}]}`, "workers[0].system_info.gpu_info[0].uuid", "must be a string"},
		{`{"hotkey":"hk","workers":[{"worker_id":"w","system_info":{"cpu_count":2.5}}]}`, "workers[0].system_info.cpu_count", "must be an integer"},
		{`{"hotkey":"hk","workers":[],"x":[1e400]}`, "x", "must be finite"},
		{`{"hotkey":"hk","workers":[{"worker_id":"w","system_info":{"cpu_info":{"f":-1e999}}}]}`, "workers[0].system_info.cpu_info", "must be finite"},
	}
	for _, c := range cases {
		_, err := DecodeHeartbeatData([]byte(c.in))
		assertField(t, err, c.field, c.reason)
	}
}

func assertField(t *testing.T, err error, field, reason string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Errorf("want ValidationError at %q (%s), got %v", field, reason, err)
		return
	}
	if ve.Field != field || !strings.Contains(ve.Reason, reason) {
		t.Errorf("got %q: %q, want %q: %q", ve.Field, ve.Reason, field, reason)
	}
}

func TestListCaps(t *testing.T) {
	many := func(n int, item string) string {
		return "[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]"
	}
	workers := make([]string, MaxWorkersPerHeartbeat+1)
	for i := range workers {
		workers[i] = `{"worker_id":"w` + strconv.Itoa(i) + `"}`
	}
	_, err := DecodeHeartbeatData([]byte(`{"hotkey":"hk","workers":[` + strings.Join(workers, ",") + `]}`))
	assertField(t, err, "workers", "too many items (513 > 512)")

	_, err = DecodeWorkerInfo([]byte(`{"worker_id":"w","system_info":{"gpu_info":` + many(MaxGPUsPerSystem+1, `{}`) + `}}`))
	assertField(t, err, "system_info.gpu_info", "too many items")
	_, err = DecodeProofRequest([]byte(`{"uuid":"g","rows":` + many(MaxProofRows+1, "1") + `}`))
	assertField(t, err, "rows", "too many items")
	_, err = DecodeProofRequest([]byte(`{"uuid":"g","coordinates":` + many(MaxProofCoordinates+1, "[1,1]") + `}`))
	assertField(t, err, "coordinates", "too many items")
	_, err = DecodeProofData([]byte(`{"challenge_id":"c","proofs":` + many(MaxProofs+1, `{}`) + `}`))
	assertField(t, err, "proofs", "too many items")
	_, err = DecodeCommitmentData([]byte(`{"challenge_id":"c","worker_id":"w","commitments":` + many(MaxCommitments+1, `{}`) + `}`))
	assertField(t, err, "commitments", "too many items")
	_, err = DecodeProofResponse([]byte(`{"uuid":"g","row_hashes":[],"merkle_proofs":[],"coordinate_values":` + many(MaxCoordinateValues+1, "0") + `}`))
	assertField(t, err, "coordinate_values", "too many items")
	_, err = DecodeProofResponse([]byte(`{"uuid":"g","row_hashes":["ab"],"merkle_proofs":[{"leaf_index":0,"leaf_hash":"ab","proof_hashes":` + many(MaxMerkleDepth+1, `"ab"`) + `,"proof_directions":[]}]}`))
	assertField(t, err, "merkle_proofs[0].proof_hashes", "too many items")

	members := make([]string, MaxObjectMembers+1)
	for i := range members {
		members[i] = `"k` + strconv.Itoa(i) + `":0`
	}
	_, err = DecodeVmgwEnrollTokenRequest([]byte(`{"worker_id":"w",` + strings.Join(members, ",") + `}`))
	assertField(t, err, "", "too many members")
}

func TestProtocolTables(t *testing.T) {
	for _, p := range Protocols() {
		s, ok := SynapseForProtocol(p)
		if !ok {
			t.Fatalf("%s has no synapse", p)
		}
		if back, ok := ProtocolForSynapse(s); !ok || back != p {
			t.Errorf("%s -> %s -> %s", p, s, back)
		}
	}
	if s, _ := SynapseForProtocol(ProtocolChallengeProof); s != "ChallengeProofSynapse" {
		t.Errorf("got %s", s)
	}
	if p, _ := ProtocolForSynapse("GetVmgwEnrollTokenSynapse"); p != "GET_VMGW_ENROLL_TOKEN_V1" {
		t.Errorf("got %s", p)
	}
	if _, ok := ProtocolForSynapse("Synapse"); ok {
		t.Error("unknown synapse resolved")
	}
	if IsEncrypted(ProtocolSessionInit) || !IsEncrypted(ProtocolHeartbeat) || IsEncrypted("NOPE") {
		t.Error("IsEncrypted wrong")
	}
	names := map[int]string{0: "SUCCESS", 1003: "NETWORK_ERROR", 1006: "CHALLENGE_PROCESSING_FAILED", 2002: "CONFIG_VALIDATION_FAILED",
		3000: "VALIDATION_FAILED", 3003: "MERKLE_VERIFICATION_FAILED", 4010: "SESSION_REQUIRED", 4015: "BAD_AAD",
		4020: "SEQUENCE_ERROR", 5001: "DB_CONNECTION_ERROR", 4000: "UNKNOWN_4000"}
	for code, want := range names {
		if got := CodeName(code); got != want {
			t.Errorf("CodeName(%d) = %s, want %s", code, got, want)
		}
	}
	if len(codeNames) != 28 || IsKnownCode(1007) || !IsKnownCode(4019) {
		t.Errorf("code table has %d entries", len(codeNames))
	}
	for code, want := range map[int]bool{4011: true, 4012: true, 4013: true, 4020: true, 4014: false, 1003: false} {
		if SessionRetryable(code) != want {
			t.Errorf("SessionRetryable(%d) != %v", code, want)
		}
	}
}

var fixedTime = time.Unix(1760000000, 500000000)
