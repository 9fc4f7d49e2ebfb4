package computeproto

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// del marks a member to remove in a mutation.
type delMarker struct{}

var del = delMarker{}

// mutate loads a testdata document, sets the value at a dotted path (list
// indices as numbers) and returns the new JSON.
func mutate(t *testing.T, doc, path string, value any) []byte {
	t.Helper()
	var root any
	if err := json.Unmarshal(readTestdata(t, doc+".json"), &root); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(path, ".")
	cur := root
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				if _, ok := value.(delMarker); ok {
					delete(c, p)
				} else {
					c[p] = value
				}
			}
			cur = c[p]
		case []any:
			n, err := strconv.Atoi(p)
			if err != nil || n >= len(c) {
				t.Fatalf("bad path %s", path)
			}
			if last {
				c[n] = value
			}
			cur = c[n]
		default:
			t.Fatalf("bad path %s at %s", path, p)
		}
	}
	b, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestValidationRules(t *testing.T) {
	long := strings.Repeat("x", MaxIDLength+1)
	cases := []struct {
		doc, path string
		value     any
		field     string
		reason    string
	}{
		// Heartbeat.
		{"heartbeat", "hotkey", del, "hotkey", "required"},
		{"heartbeat", "hotkey", "", "hotkey", "required"},
		{"heartbeat", "hotkey", long, "hotkey", "longer than"},
		{"heartbeat", "workers", del, "workers", "required"},
		{"heartbeat", "timestamp", -1, "timestamp", ">= 0"},
		{"heartbeat", "schema_version", 0, "schema_version", ">= 1"},
		{"heartbeat", "workers.1.worker_id", del, "workers[1].worker_id", "required"},
		{"heartbeat", "workers.1.worker_id", "", "workers[1].worker_id", "required"},
		{"heartbeat", "workers.1.worker_id", "9f86d081884c7d65", "workers[1].worker_id", "duplicate"},
		{"heartbeat", "workers.0.status", "idle", "workers[0].status", "online, busy or offline"},
		{"heartbeat", "workers.0.capabilities.1", "fpga_matrix", "workers[0].capabilities[1]", "cpu_matrix or gpu_matrix"},
		{"heartbeat", "workers.0.connected_at", -5.0, "workers[0].connected_at", ">= 0"},
		{"heartbeat", "workers.0.last_heartbeat", -0.5, "workers[0].last_heartbeat", ">= 0"},
		{"heartbeat", "workers.0.system_info.cpu_count", -1, "workers[0].system_info.cpu_count", ">= 0"},
		{"heartbeat", "workers.0.system_info.memory_total", -1, "workers[0].system_info.memory_total", ">= 0"},
		{"heartbeat", "workers.0.system_info.memory_available", -1, "workers[0].system_info.memory_available", ">= 0"},
		{"heartbeat", "workers.0.system_info.disk_total", -1, "workers[0].system_info.disk_total", ">= 0"},
		{"heartbeat", "workers.0.system_info.disk_free", -1, "workers[0].system_info.disk_free", ">= 0"},
		{"heartbeat", "workers.0.system_info.cpu_usage", -0.1, "workers[0].system_info.cpu_usage", ">= 0"},
		{"heartbeat", "workers.0.system_info.memory_usage", -2.0, "workers[0].system_info.memory_usage", ">= 0"},
		{"heartbeat", "workers.0.system_info.uptime_seconds", -1.0, "workers[0].system_info.uptime_seconds", ">= 0"},
		{"heartbeat", "workers.0.system_info.gpu_plugin.0.uuid", del, "workers[0].system_info.gpu_plugin[0].uuid", "required"},
		{"heartbeat", "workers.0.system_info.gpu_plugin.0.uuid", nil, "workers[0].system_info.gpu_plugin[0].uuid", "required"},
		{"heartbeat", "workers.0.system_info.gpu_plugin.0.uuid", long, "workers[0].system_info.gpu_plugin[0].uuid", "longer than"},
		{"heartbeat", "workers.0.system_info.gpu_info.0.uuid", long, "workers[0].system_info.gpu_info[0].uuid", "too long"},
		{"heartbeat", "workers.0.system_info.storage_info", []any{}, "workers[0].system_info.storage_info", "must be an object"},
		{"heartbeat", "workers.0.system_info.public_ip", 7, "workers[0].system_info.public_ip", "must be a string"},
		{"heartbeat", "miner_info.cpu_count", -3, "miner_info.cpu_count", ">= 0"},
		{"heartbeat", "miner_info.miner_version", false, "miner_info.miner_version", "must be a string"},

		{"heartbeat_response", "message", del, "message", "required"},
		{"heartbeat_response", "workers_processed", -1, "workers_processed", ">= 0"},
		{"heartbeat_response", "error_code", -1, "error_code", ">= 0"},
		{"heartbeat_response", "request_id", 5, "request_id", "must be a string"},

		// Task poll and challenges.
		{"task_request", "request_type", del, "request_type", "required"},
		{"task_request", "request_type", "lease", "request_type", "must be challenge"},
		{"task_request", "hotkey", "", "hotkey", "required"},
		{"task_response", "task_type", "vm_task", "task_type", "compute_challenge_batch or no_task"},
		{"task_response", "task_type", del, "task_type", "required"},
		{"task_response", "task_data", nil, "task_data", "required for compute_challenge_batch"},
		{"task_response", "task_data.challenges", []any{}, "task_data.challenges", "must not be empty"},
		{"task_response", "task_data.challenges", del, "task_data.challenges", "required"},
		{"task_response", "task_type", "no_task", "task_data.challenges", "must be empty for no_task"},
		{"task_response", "task_data.challenges.1.challenge_id", "", "task_data.challenges[1].challenge_id", "required"},
		{"task_response", "task_data.challenges.1.challenge_id", "3f1c7f0e-8a3b-4d1e-9c55-0b7d2a6e4f11", "task_data.challenges[1].challenge_id", "duplicate"},
		{"task_response", "task_data.challenges.0.challenge_type", "tpu_matrix", "task_data.challenges[0].challenge_type", "cpu_matrix or gpu_matrix"},
		{"task_response", "task_data.challenges.0.challenge_type", "cpu_matrix", "task_data.challenges[0].data.challenge_type", "differs"},
		{"task_response", "task_data.challenges.0.timeout", 0, "task_data.challenges[0].timeout", "1..300"},
		{"task_response", "task_data.challenges.0.timeout", 301, "task_data.challenges[0].timeout", "1..300"},
		{"task_response", "task_data.challenges.0.timeout", 60.5, "task_data.challenges[0].timeout", "must be an integer"},
		{"task_response", "task_data.challenges.0.target_worker_id", long, "task_data.challenges[0].target_worker_id", "longer than"},
		{"task_response", "task_data.challenges.0.data", del, "task_data.challenges[0].data", "required"},
		{"task_response", "task_data.challenges.0.data.seed", "xyz", "task_data.challenges[0].data.seed", "must be hex"},
		{"task_response", "task_data.challenges.0.data.seed", "abc", "task_data.challenges[0].data.seed", "even number"},
		{"task_response", "task_data.challenges.0.data.seed", del, "task_data.challenges[0].data.seed", "required"},
		{"task_response", "task_data.challenges.0.data.matrix_size", 0, "task_data.challenges[0].data.matrix_size", "1..65536"},
		{"task_response", "task_data.challenges.0.data.matrix_size", 70000, "task_data.challenges[0].data.matrix_size", "1..65536"},
		{"task_response", "task_data.challenges.0.data.iterations", 0, "task_data.challenges[0].data.iterations", "1..64"},
		{"task_response", "task_data.challenges.0.data.target_gpu_id", -2, "task_data.challenges[0].data.target_gpu_id", ">= -1"},

		// Commitments.
		{"commitment_cpu", "challenge_id", del, "challenge_id", "required"},
		{"commitment_cpu", "worker_id", "", "worker_id", "required"},
		{"commitment_cpu", "commitments", []any{}, "commitments", "must not be empty"},
		{"commitment_cpu", "commitments", del, "commitments", "required"},
		{"commitment_cpu", "debug_info", "x", "debug_info", "must be an object"},
		{"commitment_cpu", "commitments.0.uuid", "GPU-x", "commitments[0].uuid", `"-1" for sig_ver 0`},
		{"commitment_cpu", "commitments.0.uuid", "", "commitments[0].uuid", "required"},
		{"commitment_cpu", "commitments.0.merkle_root", "xyz", "commitments[0].merkle_root", "must be hex"},
		{"commitment_cpu", "commitments.0.merkle_root", "0x12", "commitments[0].merkle_root", "must be hex"},
		{"commitment_cpu", "commitments.0.merkle_root", del, "commitments[0].merkle_root", "required"},
		{"commitment_cpu", "commitments.0.merkle_root", strings.Repeat("a", MaxHashHexLength+1), "commitments[0].merkle_root", "longer than"},
		{"commitment_cpu", "commitments.0.sig_ver", 2, "commitments[0].sig_ver", "0 or 1"},
		{"commitment_gpu", "commitments.0.sig_val", "", "commitments[0].sig_val", "required for sig_ver 1"},
		{"commitment_gpu", "commitments.0.sig_val", nil, "commitments[0].sig_val", "required for sig_ver 1"},
		{"commitment_gpu", "commitments.0.sig_val", "not*a*sig", "commitments[0].sig_val", "hex or base64"},
		{"commitment_gpu", "commitments.0.sig_val", strings.Repeat("a", MaxSignatureLength+1), "commitments[0].sig_val", "too long"},
		{"commitment_gpu", "commitments.0.uuid", "-1", "commitments[0].uuid", "reserved for CPU"},
		{"commitment_gpu", "commitments", []any{
			map[string]any{"uuid": "GPU-a", "merkle_root": "ab", "sig_ver": 1, "sig_val": "ab"},
			map[string]any{"uuid": "GPU-a", "merkle_root": "cd", "sig_ver": 1, "sig_val": "cd"},
		}, "commitments[1].uuid", "duplicate"},

		// Proof requests.
		{"commitment_response", "proof_requests", []any{}, "proof_requests", "unless auto_verified"},
		{"commitment_response", "proof_requests", del, "proof_requests", "required"},
		{"commitment_response", "proof_requests.0.uuid", "", "proof_requests[0].uuid", "required"},
		{"commitment_response", "proof_requests.0.rows.1", -1, "proof_requests[0].rows[1]", ">= 0"},
		{"commitment_response", "proof_requests.0.rows.0", MaxMatrixSize, "proof_requests[0].rows[0]", "< 65536"},
		{"commitment_response", "proof_requests.0.coordinates.2", []any{1, -3}, "proof_requests[0].coordinates[2][1]", ">= 0"},
		{"commitment_response", "proof_requests.0.coordinates.2", []any{1}, "proof_requests[0].coordinates[2]", "[row, col] pair"},
		{"commitment_response", "proof_requests.0.coordinates.2", []any{1, 2, 3}, "proof_requests[0].coordinates[2]", "too many items"},
		{"commitment_response", "proof_requests.0.coordinates.2", []any{1, 2.5}, "proof_requests[0].coordinates[2][1]", "must be an integer"},
		{"commitment_response", "proof_requests.0.coordinates", []any{}, "", ""},
		{"commitment_response_cpu", "proof_requests.0.rows", []any{}, "proof_requests[0].rows", "rows or coordinates"},
		{"commitment_response_cpu", "proof_requests.0.rows", nil, "proof_requests[0].rows", "rows or coordinates"},
		{"commitment_response_cpu", "proof_requests.0.rows.0", "3", "proof_requests[0].rows[0]", "must be an integer"},

		// Proofs.
		{"proof_data", "challenge_id", "", "challenge_id", "required"},
		{"proof_data", "proofs", []any{}, "proofs", "must not be empty"},
		{"proof_data", "proofs.0.uuid", del, "proofs[0].uuid", "required"},
		{"proof_data", "proofs.0.row_hashes", del, "proofs[0].row_hashes", "required"},
		{"proof_data", "proofs.0.merkle_proofs", del, "proofs[0].merkle_proofs", "required"},
		{"proof_data", "proofs.0.row_hashes.1", "zz", "proofs[0].row_hashes[1]", "must be hex"},
		{"proof_data", "proofs.0.row_hashes", []any{"ab"}, "proofs[0].merkle_proofs", "length differs from row_hashes"},
		{"proof_data", "proofs.0.merkle_proofs.1.leaf_index", -1, "proofs[0].merkle_proofs[1].leaf_index", ">= 0"},
		{"proof_data", "proofs.0.merkle_proofs.1.leaf_index", del, "proofs[0].merkle_proofs[1].leaf_index", "required"},
		{"proof_data", "proofs.0.merkle_proofs.1.leaf_hash", "g", "proofs[0].merkle_proofs[1].leaf_hash", "must be hex"},
		{"proof_data", "proofs.0.merkle_proofs.1.proof_hashes.2", "q", "proofs[0].merkle_proofs[1].proof_hashes[2]", "must be hex"},
		{"proof_data", "proofs.0.merkle_proofs.1.proof_directions", []any{true}, "proofs[0].merkle_proofs[1].proof_directions", "length differs"},
		{"proof_data", "proofs.0.merkle_proofs.1.proof_directions.0", 1, "proofs[0].merkle_proofs[1].proof_directions[0]", "must be a boolean"},
		{"proof_data", "proofs.0.coordinate_values.2", "1.0", "proofs[0].coordinate_values[2]", "must be a number"},
		{"proof_data", "proofs.0.coordinate_values.2", json.RawMessage("1e309"), "proofs[0].coordinate_values[2]", "must be finite"},
		{"proof_data_response", "challenge_status", "done", "challenge_status", "must be queued"},
		{"proof_data_response", "challenge_id", "", "challenge_id", "required"},

		// Handshake, VMGW, errors.
		{"session_init_request", "miner_eph_pub32", "AAEC", "miner_eph_pub32", "32 bytes"},
		{"session_init_request", "miner_eph_pub32", "!!!", "miner_eph_pub32", "standard base64"},
		{"session_init_request", "client_nonce16", "AAECAwQFBgcICQoLDA0ODw", "client_nonce16", "standard base64"},
		{"session_init_request", "client_nonce16", del, "client_nonce16", "required"},
		{"session_init_response", "session_id", "", "session_id", "required"},
		{"session_init_response", "expires_at", del, "expires_at", "required"},
		{"session_init_response", "server_nonce16", "AAAA", "server_nonce16", "16 bytes"},
		{"vmgw_request", "worker_id", "", "worker_id", "required"},
		{"vmgw_response", "enrollment_url", nil, "enrollment_url", "required with a token"},
		{"vmgw_response", "enrollment_url", "ftp://x/y", "enrollment_url", "absolute http(s)"},
		{"vmgw_response", "enrollment_url", "/enroll", "enrollment_url", "absolute http(s)"},
		{"vmgw_response", "token", "", "token", "must not be empty"},
		{"vmgw_response", "try_again_in_sec", 4000, "try_again_in_sec", "0..3600"},
		{"vmgw_response", "code", -1, "code", ">= 0"},
		{"error_response", "error_code", del, "error_code", "required"},
		{"error_response", "error", del, "error", "required"},
		{"error_response", "error_code", 0, "error_code", "> 0"},
	}
	for _, c := range cases {
		b := mutate(t, c.doc, c.path, c.value)
		_, err := decoders[c.doc](b)
		if c.field == "" && c.reason == "" {
			// A mutation that must stay valid.
			if err != nil {
				t.Errorf("%s %s: unexpected %v", c.doc, c.path, err)
			}
			continue
		}
		t.Run(c.doc+"/"+c.path, func(t *testing.T) { assertField(t, err, c.field, c.reason) })
	}
}

func TestUnitListRules(t *testing.T) {
	cpu := map[string]any{"uuid": "-1", "merkle_root": "ab", "sig_ver": 0, "sig_val": ""}
	b := mutate(t, "commitment_gpu", "commitments", []any{
		map[string]any{"uuid": "GPU-1", "merkle_root": "ab", "sig_ver": 1, "sig_val": "ab"}, cpu})
	_, err := DecodeCommitmentData(b)
	assertField(t, err, "commitments[1].uuid", "cannot be mixed")

	// Base64 signatures are accepted as well as hex.
	b = mutate(t, "commitment_gpu", "commitments.0.sig_val", "q83v7w==")
	if _, err := DecodeCommitmentData(b); err != nil {
		t.Errorf("base64 sig_val refused: %v", err)
	}

	// Auto-verified answers may carry no requests.
	r, err := DecodeCommitmentResponse([]byte(`{"proof_requests":[],"auto_verified":true,"message":"nothing to check"}`))
	if err != nil || !*r.AutoVerified || *r.Message != "nothing to check" {
		t.Errorf("%+v %v", r, err)
	}
	if out, _ := Marshal(r); string(out) != `{"auto_verified": true, "message": "nothing to check", "proof_requests": []}` {
		t.Errorf("got %s", out)
	}
	_, err = DecodeCommitmentResponse([]byte(`{"proof_requests":[{"uuid":"g","rows":[1]},{"uuid":"g","rows":[2]}]}`))
	assertField(t, err, "proof_requests[1].uuid", "duplicate")

	_, err = DecodeProofData([]byte(`{"challenge_id":"c","proofs":[` +
		`{"uuid":"g","row_hashes":[],"merkle_proofs":[]},{"uuid":"g","row_hashes":[],"merkle_proofs":[]}]}`))
	assertField(t, err, "proofs[1].uuid", "duplicate")
}

// Values built in Go are held to the same rules before they are sent.
func TestValidateGoValues(t *testing.T) {
	s := SystemInfo{CPUUsage: PyFloat(nan())}
	_, err := Marshal(s)
	assertField(t, err, "cpu_usage", "must be finite")

	s = SystemInfo{CPUInfo: json.RawMessage(`[1]`)}
	assertField(t, s.Validate(), "cpu_info", "must be an object")

	w := WorkerInfo{WorkerID: "w", Status: StatusOnline, Extra: map[string]json.RawMessage{"bad": json.RawMessage("{")}}
	assertField(t, w.Validate(), "bad", "not valid JSON")

	p := ProofResponse{UUID: "g", RowHashes: []string{"ab"}, MerkleProofs: []MerkleProof{{LeafHash: "ab"}}, CoordinateValues: []PyFloat{1, PyFloat(inf())}}
	assertField(t, p.Validate(), "coordinate_values[1]", "must be finite")

	pr := ProofRequest{UUID: "g", Rows: make([]int64, MaxProofRows+1)}
	assertField(t, pr.Validate(), "rows", "too many items")

	h := HeartbeatData{Hotkey: "hk", SchemaVersion: 1, Workers: []WorkerInfo{{WorkerID: "w"}}}
	assertField(t, h.Validate(), "workers[0].status", "online, busy or offline")
}

func nan() float64 { var z float64; return z / z }
func inf() float64 { var z float64; return 1 / z }
