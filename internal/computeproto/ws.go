package computeproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// The worker hub: the WebSocket between a miner and its workers. Every
// message is a JSON object with a "type"; the models are the reference
// miner's (neurons/miner/services/message_models.py and what its worker
// sends), unknown members kept.

// Worker-hub message types.
const (
	WSRegister        = "register"
	WSRegistrationAck = "registration_ack"
	WSHeartbeat       = "heartbeat"
	WSHeartbeatAck    = "heartbeat_ack"
	WSTaskAssignment  = "task_assignment"
	WSTaskResult      = "task_result"
	WSProofRequest    = "proof_request"
	WSProofResponse   = "proof_response"
)

// Close codes of the worker hub, as the reference miner uses them.
const (
	CloseInvalidRegistration = 4000
	CloseMissingWorkerID     = 4001
	CloseMissingVersion      = 4002
	CloseReplaced            = 1001 // "going away": a newer connection took the worker id
)

// MaxWSMessage is the largest worker-hub message, either way.
const MaxWSMessage = 16 << 20

// MessageType reads a worker-hub message's type without decoding the rest.
func MessageType(b []byte) (string, error) {
	if err := checkJSON(b); err != nil {
		return "", err
	}
	f, err := readObject(bytes.TrimSpace(b))
	if err != nil {
		return "", err
	}
	var t string
	f.str("type", &t, true)
	return t, f.err
}

// Registration is a worker's first message.
type Registration struct {
	Type          string      `json:"type"`
	WorkerID      string      `json:"worker_id"`
	WorkerName    *string     `json:"worker_name"`
	WorkerVersion string      `json:"worker_version"`
	Capabilities  []string    `json:"capabilities"`
	SystemInfo    *SystemInfo `json:"system_info"`

	Extra map[string]json.RawMessage `json:"-"`
}

// DecodeRegistration decodes a register message and returns the close code
// the hub answers a bad one with: 4001 for a missing or blank worker_id,
// 4002 for a missing or blank worker_version, 4000 for anything else.
func DecodeRegistration(b []byte) (Registration, int, error) {
	var r Registration
	if err := decodeDoc(b, MaxWSMessage, &r); err != nil {
		code := CloseInvalidRegistration
		var ve *ValidationError
		if asValidation(err, &ve) {
			switch {
			case strings.HasPrefix(ve.Field, "worker_id"):
				code = CloseMissingWorkerID
			case strings.HasPrefix(ve.Field, "worker_version"):
				code = CloseMissingVersion
			}
		}
		return r, code, err
	}
	return r, 0, nil
}

func (r *Registration) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*r = Registration{}
	f.str("type", &r.Type, true)
	f.str("worker_id", &r.WorkerID, false)
	f.optStr("worker_name", &r.WorkerName)
	f.str("worker_version", &r.WorkerVersion, false)
	f.value("capabilities", false, true, func(v []byte) (err error) {
		r.Capabilities, err = decodeList(v, MaxCapabilities, strElem)
		return
	})
	f.value("system_info", false, true, func(v []byte) error {
		r.SystemInfo = new(SystemInfo)
		return r.SystemInfo.decode(v)
	})
	r.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *Registration) UnmarshalJSON(b []byte) error { return unmarshalModel(b, r) }

// MarshalJSON implements json.Marshaler.
func (r Registration) MarshalJSON() ([]byte, error) {
	type wire Registration
	w := wire(r)
	w.Capabilities = nonNil(w.Capabilities)
	return withExtra(w, r.Extra)
}

// Validate checks the registration in the order of its close codes.
func (r Registration) Validate() error {
	if r.Type != WSRegister {
		return invalid("type", "must be register")
	}
	if err := checkID("worker_id", r.WorkerID); err != nil {
		return err
	}
	if strings.TrimSpace(r.WorkerVersion) == "" || len(r.WorkerVersion) > MaxIDLength {
		return invalid("worker_version", "required, at most 256 characters")
	}
	if err := checkCapabilities(r.Capabilities); err != nil {
		return err
	}
	if r.SystemInfo != nil {
		if err := r.SystemInfo.Validate(); err != nil {
			return within("system_info", err)
		}
	}
	return checkExtra("", r.Extra)
}

func checkCapabilities(cs []string) error {
	if err := checkCount("capabilities", len(cs), MaxCapabilities); err != nil {
		return err
	}
	for i, c := range cs {
		if len(c) > MaxIDLength {
			return invalid("capabilities"+index(i), "too long")
		}
	}
	return nil
}

// WorkerHeartbeat is a worker's periodic report.
type WorkerHeartbeat struct {
	Type string              `json:"type"`
	Data WorkerHeartbeatData `json:"data"`

	Extra map[string]json.RawMessage `json:"-"`
}

// WorkerHeartbeatData is a heartbeat's body; absent members leave what the
// hub knows unchanged.
type WorkerHeartbeatData struct {
	Status       string          `json:"status,omitempty"`
	ActiveTasks  int64           `json:"active_tasks"`
	SystemInfo   *SystemInfo     `json:"system_info,omitempty"`
	GPUInfo      json.RawMessage `json:"gpu_info,omitempty"`
	Capabilities []string        `json:"capabilities,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
}

// DecodeWorkerHeartbeat decodes and validates a heartbeat message.
func DecodeWorkerHeartbeat(b []byte) (WorkerHeartbeat, error) {
	var h WorkerHeartbeat
	err := decodeDoc(b, MaxWSMessage, &h)
	return h, err
}

func (h *WorkerHeartbeat) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*h = WorkerHeartbeat{}
	f.str("type", &h.Type, true)
	f.value("data", false, true, h.Data.decode)
	h.Extra, err = f.done()
	return err
}

func (d *WorkerHeartbeatData) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*d = WorkerHeartbeatData{}
	f.nullStr("status", &d.Status)
	f.value("active_tasks", false, true, func(v []byte) (err error) { d.ActiveTasks, err = parseInt(v); return })
	f.value("system_info", false, true, func(v []byte) error {
		d.SystemInfo = new(SystemInfo)
		return d.SystemInfo.decode(v)
	})
	f.object("gpu_info", &d.GPUInfo, true)
	f.value("capabilities", false, true, func(v []byte) (err error) {
		d.Capabilities, err = decodeList(v, MaxCapabilities, strElem)
		if err == nil && d.Capabilities == nil {
			d.Capabilities = []string{}
		}
		return
	})
	d.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (h *WorkerHeartbeat) UnmarshalJSON(b []byte) error { return unmarshalModel(b, h) }

// MarshalJSON implements json.Marshaler.
func (h WorkerHeartbeat) MarshalJSON() ([]byte, error) {
	type wire WorkerHeartbeat
	return withExtra(wire(h), h.Extra)
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *WorkerHeartbeatData) UnmarshalJSON(b []byte) error { return unmarshalModel(b, d) }

// MarshalJSON implements json.Marshaler.
func (d WorkerHeartbeatData) MarshalJSON() ([]byte, error) {
	type wire WorkerHeartbeatData
	return withExtra(wire(d), d.Extra)
}

// Validate checks the heartbeat.
func (h WorkerHeartbeat) Validate() error {
	if h.Type != WSHeartbeat {
		return invalid("type", "must be heartbeat")
	}
	return within("data", h.Data.Validate())
}

// Validate checks the heartbeat's body.
func (d WorkerHeartbeatData) Validate() error {
	if d.Status != "" && !validStatus(d.Status) {
		return invalid("status", "must be online, busy or offline")
	}
	if err := checkNonNegative("active_tasks", d.ActiveTasks); err != nil {
		return err
	}
	if d.SystemInfo != nil {
		if err := d.SystemInfo.Validate(); err != nil {
			return within("system_info", err)
		}
	}
	if err := checkObject("gpu_info", d.GPUInfo, true); err != nil {
		return err
	}
	if err := checkCapabilities(d.Capabilities); err != nil {
		return err
	}
	return checkExtra("", d.Extra)
}

// TaskResult is a worker's answer to a task: the commitments of a computed
// challenge, or why it failed.
type TaskResult struct {
	Type      string         `json:"type"`
	WorkerID  string         `json:"worker_id"`
	TaskID    string         `json:"task_id"`
	Timestamp PyFloat        `json:"timestamp"`
	Data      TaskResultData `json:"data"`

	Extra map[string]json.RawMessage `json:"-"`
}

// TaskResultData is the plugin's answer. A worker whose plugin raised
// sends only {"error": ...}: Success and ErrorCode are then absent, which
// reads as a failure.
type TaskResultData struct {
	Success      *bool            `json:"success,omitempty"`
	ErrorCode    *int64           `json:"error_code,omitempty"`
	Result       *ChallengeResult `json:"result,omitempty"`
	Error        string           `json:"error,omitempty"`
	ErrorMessage string           `json:"error_message,omitempty"`
	Timestamps   map[string]int64 `json:"timestamps,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
}

// Succeeded is the reference miner's test: success true and error_code 0
// (or absent).
func (d TaskResultData) Succeeded() bool {
	return d.Success != nil && *d.Success && (d.ErrorCode == nil || *d.ErrorCode == 0)
}

// ChallengeResult is a computed challenge as a worker reports it.
type ChallengeResult struct {
	ComputationTimeMS PyFloat      `json:"computation_time_ms"`
	MatrixSize        int64        `json:"matrix_size"`
	Commitments       []Commitment `json:"commitments"`

	Extra map[string]json.RawMessage `json:"-"`
}

// MaxTimestamps bounds a debug timestamp map.
const MaxTimestamps = 32

// DecodeTaskResult decodes and validates a task_result message.
func DecodeTaskResult(b []byte) (TaskResult, error) {
	var r TaskResult
	err := decodeDoc(b, MaxWSMessage, &r)
	return r, err
}

func (r *TaskResult) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*r = TaskResult{}
	f.str("type", &r.Type, true)
	f.str("worker_id", &r.WorkerID, false)
	f.str("task_id", &r.TaskID, true)
	f.value("timestamp", false, true, func(v []byte) (err error) { r.Timestamp, err = parseFloat(v); return })
	f.value("data", true, false, r.Data.decode)
	r.Extra, err = f.done()
	return err
}

func (d *TaskResultData) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*d = TaskResultData{}
	f.optBool("success", &d.Success)
	f.optInt("error_code", &d.ErrorCode)
	f.value("result", false, true, func(v []byte) error {
		d.Result = new(ChallengeResult)
		return d.Result.decode(v)
	})
	f.nullStr("error", &d.Error)
	f.nullStr("error_message", &d.ErrorMessage)
	f.value("timestamps", false, true, func(v []byte) error {
		return decodeTimestamps(v, &d.Timestamps)
	})
	d.Extra, err = f.done()
	return err
}

func decodeTimestamps(v []byte, dst *map[string]int64) error {
	f, err := readObject(v)
	if err != nil {
		return err
	}
	if len(f.m) > MaxTimestamps {
		return invalid("", tooMany(len(f.m), MaxTimestamps))
	}
	out := make(map[string]int64, len(f.m))
	for k, raw := range f.m {
		n, err := parseInt(raw)
		if err != nil {
			return within(k, err)
		}
		out[k] = n
	}
	*dst = out
	return nil
}

func (c *ChallengeResult) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*c = ChallengeResult{}
	f.value("computation_time_ms", false, true, func(v []byte) (err error) { c.ComputationTimeMS, err = parseFloat(v); return })
	f.value("matrix_size", false, true, func(v []byte) (err error) { c.MatrixSize, err = parseInt(v); return })
	f.value("commitments", false, true, func(v []byte) (err error) {
		c.Commitments, err = decodeModels[Commitment](v, MaxCommitments)
		return
	})
	c.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *TaskResult) UnmarshalJSON(b []byte) error { return unmarshalModel(b, r) }

// MarshalJSON implements json.Marshaler.
func (r TaskResult) MarshalJSON() ([]byte, error) {
	type wire TaskResult
	return withExtra(wire(r), r.Extra)
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *TaskResultData) UnmarshalJSON(b []byte) error { return unmarshalModel(b, d) }

// MarshalJSON implements json.Marshaler.
func (d TaskResultData) MarshalJSON() ([]byte, error) {
	type wire TaskResultData
	return withExtra(wire(d), d.Extra)
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *ChallengeResult) UnmarshalJSON(b []byte) error { return unmarshalModel(b, c) }

// MarshalJSON implements json.Marshaler.
func (c ChallengeResult) MarshalJSON() ([]byte, error) {
	type wire ChallengeResult
	w := wire(c)
	w.Commitments = nonNil(w.Commitments)
	return withExtra(w, c.Extra)
}

// Validate checks the task result.
func (r TaskResult) Validate() error {
	if r.Type != WSTaskResult {
		return invalid("type", "must be task_result")
	}
	if err := checkID("task_id", r.TaskID); err != nil {
		return err
	}
	if len(r.WorkerID) > MaxIDLength {
		return invalid("worker_id", "too long")
	}
	if err := checkFinite("timestamp", r.Timestamp, true); err != nil {
		return err
	}
	return within("data", r.Data.Validate())
}

// Validate checks the result's body.
func (d TaskResultData) Validate() error {
	if len(d.Error) > 4096 || len(d.ErrorMessage) > 4096 {
		return invalid("error", "longer than 4096 bytes")
	}
	if d.Result != nil {
		if err := d.Result.Validate(); err != nil {
			return within("result", err)
		}
	}
	return checkExtra("", d.Extra)
}

// Validate checks a computed challenge's report.
func (c ChallengeResult) Validate() error {
	if err := checkFinite("computation_time_ms", c.ComputationTimeMS, true); err != nil {
		return err
	}
	if err := checkNonNegative("matrix_size", c.MatrixSize); err != nil {
		return err
	}
	for i, cm := range c.Commitments {
		if err := cm.Validate(); err != nil {
			return within("commitments"+index(i), err)
		}
	}
	return checkExtra("", c.Extra)
}

// TaskAssignment hands a worker a challenge.
type TaskAssignment struct {
	Type string             `json:"type"`
	Data TaskAssignmentData `json:"data"`

	Extra map[string]json.RawMessage `json:"-"`
}

// TaskAssignmentData is the task: the challenge as the validator sent it,
// and which validator it came from (the worker keeps one result per
// validator).
type TaskAssignmentData struct {
	TaskID          string        `json:"task_id"`
	TaskType        string        `json:"task_type"`
	ChallengeID     string        `json:"challenge_id"`
	Data            ChallengeData `json:"data"`
	Timeout         int64         `json:"timeout"`
	ValidatorHotkey string        `json:"validator_hotkey"`

	Extra map[string]json.RawMessage `json:"-"`
}

// DecodeTaskAssignment decodes and validates a task_assignment message.
func DecodeTaskAssignment(b []byte) (TaskAssignment, error) {
	var a TaskAssignment
	err := decodeDoc(b, MaxWSMessage, &a)
	return a, err
}

func (a *TaskAssignment) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*a = TaskAssignment{}
	f.str("type", &a.Type, true)
	f.value("data", true, false, a.Data.decode)
	a.Extra, err = f.done()
	return err
}

func (d *TaskAssignmentData) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*d = TaskAssignmentData{Timeout: DefaultChallengeTimeout}
	f.str("task_id", &d.TaskID, true)
	f.str("task_type", &d.TaskType, true)
	f.nullStr("challenge_id", &d.ChallengeID)
	f.value("data", true, false, d.Data.decode)
	f.int("timeout", &d.Timeout, false)
	f.nullStr("validator_hotkey", &d.ValidatorHotkey)
	d.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (a *TaskAssignment) UnmarshalJSON(b []byte) error { return unmarshalModel(b, a) }

// MarshalJSON implements json.Marshaler.
func (a TaskAssignment) MarshalJSON() ([]byte, error) {
	type wire TaskAssignment
	return withExtra(wire(a), a.Extra)
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *TaskAssignmentData) UnmarshalJSON(b []byte) error { return unmarshalModel(b, d) }

// MarshalJSON implements json.Marshaler.
func (d TaskAssignmentData) MarshalJSON() ([]byte, error) {
	type wire TaskAssignmentData
	return withExtra(wire(d), d.Extra)
}

// Validate checks the assignment.
func (a TaskAssignment) Validate() error {
	if a.Type != WSTaskAssignment {
		return invalid("type", "must be task_assignment")
	}
	if err := a.Data.Validate(); err != nil {
		return within("data", err)
	}
	return checkExtra("", a.Extra)
}

// Validate checks the task.
func (d TaskAssignmentData) Validate() error {
	if err := checkID("task_id", d.TaskID); err != nil {
		return err
	}
	if !validChallengeType(d.TaskType) {
		return invalid("task_type", "must be cpu_matrix or gpu_matrix")
	}
	if len(d.ChallengeID) > MaxIDLength || len(d.ValidatorHotkey) > MaxIDLength {
		return invalid("", "challenge_id or validator_hotkey too long")
	}
	if d.Timeout < MinChallengeTimeout || d.Timeout > MaxChallengeTimeout {
		return invalid("timeout", "must be in 1..300")
	}
	if err := d.Data.Validate(); err != nil {
		return within("data", err)
	}
	return checkExtra("", d.Extra)
}

// ProofRequestMessage asks a worker for the proofs of its last result for
// a validator.
type ProofRequestMessage struct {
	Type      string           `json:"type"`
	MessageID string           `json:"message_id"`
	Data      ProofRequestBody `json:"data"`

	Extra map[string]json.RawMessage `json:"-"`
}

// ProofRequestBody is what the validator asked, per committed unit.
type ProofRequestBody struct {
	ValidatorHotkey string         `json:"validator_hotkey"`
	ChallengeID     string         `json:"challenge_id"`
	Requests        []ProofRequest `json:"requests"`

	Extra map[string]json.RawMessage `json:"-"`
}

// DecodeProofRequestMessage decodes and validates a proof_request message.
func DecodeProofRequestMessage(b []byte) (ProofRequestMessage, error) {
	var m ProofRequestMessage
	err := decodeDoc(b, MaxWSMessage, &m)
	return m, err
}

func (m *ProofRequestMessage) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*m = ProofRequestMessage{}
	f.str("type", &m.Type, true)
	f.str("message_id", &m.MessageID, true)
	f.value("data", true, false, m.Data.decode)
	m.Extra, err = f.done()
	return err
}

func (d *ProofRequestBody) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*d = ProofRequestBody{}
	f.str("validator_hotkey", &d.ValidatorHotkey, true)
	f.nullStr("challenge_id", &d.ChallengeID)
	f.value("requests", true, false, func(v []byte) (err error) {
		d.Requests, err = decodeModels[ProofRequest](v, MaxProofRequests)
		return
	})
	d.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (m *ProofRequestMessage) UnmarshalJSON(b []byte) error { return unmarshalModel(b, m) }

// MarshalJSON implements json.Marshaler.
func (m ProofRequestMessage) MarshalJSON() ([]byte, error) {
	type wire ProofRequestMessage
	return withExtra(wire(m), m.Extra)
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *ProofRequestBody) UnmarshalJSON(b []byte) error { return unmarshalModel(b, d) }

// MarshalJSON implements json.Marshaler.
func (d ProofRequestBody) MarshalJSON() ([]byte, error) {
	type wire ProofRequestBody
	w := wire(d)
	w.Requests = nonNil(w.Requests)
	return withExtra(w, d.Extra)
}

// Validate checks the proof request.
func (m ProofRequestMessage) Validate() error {
	if m.Type != WSProofRequest {
		return invalid("type", "must be proof_request")
	}
	if err := checkID("message_id", m.MessageID); err != nil {
		return err
	}
	if err := m.Data.Validate(); err != nil {
		return within("data", err)
	}
	return checkExtra("", m.Extra)
}

// Validate checks what was asked.
func (d ProofRequestBody) Validate() error {
	if err := checkID("validator_hotkey", d.ValidatorHotkey); err != nil {
		return err
	}
	if len(d.ChallengeID) > MaxIDLength {
		return invalid("challenge_id", "too long")
	}
	if len(d.Requests) == 0 {
		return invalid("requests", "must not be empty")
	}
	for i, r := range d.Requests {
		if err := r.Validate(); err != nil {
			return within("requests"+index(i), err)
		}
	}
	return checkExtra("", d.Extra)
}

// ProofResponseMessage is a worker's answer to a proof_request.
type ProofResponseMessage struct {
	Type      string            `json:"type"`
	MessageID string            `json:"message_id"`
	Data      ProofResponseBody `json:"data"`

	Extra map[string]json.RawMessage `json:"-"`
}

// ProofResponseBody holds the proofs, or why there are none; Debug carries
// the worker's phase-2 timestamps.
type ProofResponseBody struct {
	Success bool            `json:"success"`
	Proofs  []ProofResponse `json:"proofs,omitempty"`
	Error   string          `json:"error,omitempty"`
	Debug   json.RawMessage `json:"debug,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
}

// Phase2Timestamps reads debug.phase2_timestamps, nil when absent or
// malformed.
func (d ProofResponseBody) Phase2Timestamps() map[string]int64 {
	if d.Debug == nil {
		return nil
	}
	f, err := readObject(bytes.TrimSpace(d.Debug))
	if err != nil {
		return nil
	}
	var ts map[string]int64
	f.value("phase2_timestamps", false, true, func(v []byte) error { return decodeTimestamps(v, &ts) })
	if f.err != nil {
		return nil
	}
	return ts
}

// DecodeProofResponseMessage decodes and validates a proof_response
// message.
func DecodeProofResponseMessage(b []byte) (ProofResponseMessage, error) {
	var m ProofResponseMessage
	err := decodeDoc(b, MaxWSMessage, &m)
	return m, err
}

func (m *ProofResponseMessage) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*m = ProofResponseMessage{}
	f.str("type", &m.Type, true)
	f.nullStr("message_id", &m.MessageID)
	f.value("data", true, false, m.Data.decode)
	m.Extra, err = f.done()
	return err
}

func (d *ProofResponseBody) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*d = ProofResponseBody{}
	f.value("success", false, true, func(v []byte) (err error) { d.Success, err = parseBool(v); return })
	f.value("proofs", false, true, func(v []byte) (err error) {
		d.Proofs, err = decodeModels[ProofResponse](v, MaxProofs)
		return
	})
	f.nullStr("error", &d.Error)
	f.object("debug", &d.Debug, true)
	d.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (m *ProofResponseMessage) UnmarshalJSON(b []byte) error { return unmarshalModel(b, m) }

// MarshalJSON implements json.Marshaler.
func (m ProofResponseMessage) MarshalJSON() ([]byte, error) {
	type wire ProofResponseMessage
	return withExtra(wire(m), m.Extra)
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *ProofResponseBody) UnmarshalJSON(b []byte) error { return unmarshalModel(b, d) }

// MarshalJSON implements json.Marshaler.
func (d ProofResponseBody) MarshalJSON() ([]byte, error) {
	type wire ProofResponseBody
	return withExtra(wire(d), d.Extra)
}

// Validate checks the proof response.
func (m ProofResponseMessage) Validate() error {
	if m.Type != WSProofResponse {
		return invalid("type", "must be proof_response")
	}
	if len(m.MessageID) > MaxIDLength {
		return invalid("message_id", "too long")
	}
	if err := m.Data.Validate(); err != nil {
		return within("data", err)
	}
	return checkExtra("", m.Extra)
}

// Validate checks the proofs' shapes.
func (d ProofResponseBody) Validate() error {
	if len(d.Error) > 4096 {
		return invalid("error", "longer than 4096 bytes")
	}
	for i, p := range d.Proofs {
		if err := p.Validate(); err != nil {
			return within("proofs"+index(i), err)
		}
	}
	if err := checkObject("debug", d.Debug, true); err != nil {
		return err
	}
	return checkExtra("", d.Extra)
}

func asValidation(err error, dst **ValidationError) bool { return errors.As(err, dst) }
