package computeproto

import (
	"encoding/json"
	"time"
)

// Task request and response kinds.
const (
	RequestTypeChallenge = "challenge"

	TaskTypeChallengeBatch = "compute_challenge_batch"
	TaskTypeNoTask         = "no_task"
)

// TaskRequest is the miner's poll for work (TASK_V1 request).
type TaskRequest struct {
	Hotkey        string  `json:"hotkey"`
	RequestType   string  `json:"request_type"`
	Timestamp     PyFloat `json:"timestamp"` // 0 when the peer omitted it
	SchemaVersion int64   `json:"schema_version"`

	Extra map[string]json.RawMessage `json:"-"`
}

// NewTaskRequest returns a poll with the model defaults.
func NewTaskRequest(hotkey string, now time.Time) TaskRequest {
	return TaskRequest{Hotkey: hotkey, RequestType: DefaultRequestType, Timestamp: epoch(now), SchemaVersion: DefaultSchemaVersion}
}

// DecodeTaskRequest decodes and validates a TASK_V1 request.
func DecodeTaskRequest(b []byte) (TaskRequest, error) {
	var r TaskRequest
	err := decodeDoc(b, MaxSmallPayloadSize, &r)
	return r, err
}

func (r *TaskRequest) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*r = TaskRequest{SchemaVersion: DefaultSchemaVersion}
	f.str("hotkey", &r.Hotkey, true)
	f.str("request_type", &r.RequestType, true) // no default upstream
	f.float("timestamp", &r.Timestamp, false)
	f.int("schema_version", &r.SchemaVersion, false)
	r.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *TaskRequest) UnmarshalJSON(b []byte) error { return unmarshalModel(b, r) }

// MarshalJSON implements json.Marshaler.
func (r TaskRequest) MarshalJSON() ([]byte, error) {
	type wire TaskRequest
	return withExtra(wire(r), r.Extra)
}

// Validate checks the poll.
func (r TaskRequest) Validate() error {
	if err := checkID("hotkey", r.Hotkey); err != nil {
		return err
	}
	if r.RequestType != RequestTypeChallenge {
		return invalid("request_type", "must be challenge")
	}
	if err := checkFinite("timestamp", r.Timestamp, true); err != nil {
		return err
	}
	if err := checkSchema(r.SchemaVersion); err != nil {
		return err
	}
	return checkExtra("", r.Extra)
}

// ChallengeData is the parameter map of a challenge, as the validator
// stores it. Keys other than the ones the worker computes from are plain
// dict entries upstream: empty ones are omitted, unknown ones kept.
type ChallengeData struct {
	ChallengeType string `json:"challenge_type,omitempty"`
	MatrixSize    int64  `json:"matrix_size"`
	Seed          string `json:"seed"` // hex
	Iterations    int64  `json:"iterations"`
	Mode          *int64 `json:"mode,omitempty"`          // GPU only
	TargetGPUID   *int64 `json:"target_gpu_id,omitempty"` // GPU only, -1 = all
	ChallengeID   string `json:"challenge_id,omitempty"`
	WorkerID      string `json:"worker_id,omitempty"`
	MinerHotkey   string `json:"miner_hotkey,omitempty"`
	RoundID       string `json:"round_id,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
}

func (d *ChallengeData) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*d = ChallengeData{Iterations: DefaultIterations}
	f.nullStr("challenge_type", &d.ChallengeType)
	f.int("matrix_size", &d.MatrixSize, true)
	f.str("seed", &d.Seed, true)
	f.int("iterations", &d.Iterations, false)
	f.optInt("mode", &d.Mode)
	f.optInt("target_gpu_id", &d.TargetGPUID)
	f.nullStr("challenge_id", &d.ChallengeID)
	f.nullStr("worker_id", &d.WorkerID)
	f.nullStr("miner_hotkey", &d.MinerHotkey)
	f.nullStr("round_id", &d.RoundID)
	d.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *ChallengeData) UnmarshalJSON(b []byte) error { return unmarshalModel(b, d) }

// MarshalJSON implements json.Marshaler.
func (d ChallengeData) MarshalJSON() ([]byte, error) {
	type wire ChallengeData
	return withExtra(wire(d), d.Extra)
}

// Validate checks the parameters a worker will compute from. The seed's
// first 4 bytes seed the CPU generator, so it needs at least 8 hex digits;
// sizes and iterations are bounded so a hostile validator cannot make a
// worker run unboundedly.
func (d ChallengeData) Validate() error {
	if d.ChallengeType != "" && !validChallengeType(d.ChallengeType) {
		return invalid("challenge_type", "must be cpu_matrix or gpu_matrix")
	}
	if d.MatrixSize < 1 || d.MatrixSize > MaxMatrixSize {
		return invalid("matrix_size", "must be in 1..65536")
	}
	if err := checkHash("seed", d.Seed); err != nil {
		return err
	}
	if len(d.Seed) < 8 || len(d.Seed)%2 != 0 {
		return invalid("seed", "must be an even number (>= 8) of hex digits")
	}
	if d.Iterations < 1 || d.Iterations > MaxChallengeIters {
		return invalid("iterations", "must be in 1..64")
	}
	if d.TargetGPUID != nil && *d.TargetGPUID < -1 {
		return invalid("target_gpu_id", "must be >= -1")
	}
	return checkExtra("", d.Extra)
}

// ComputeChallenge is one challenge handed to a miner.
type ComputeChallenge struct {
	ChallengeID    string        `json:"challenge_id"`
	ChallengeType  string        `json:"challenge_type"`
	Data           ChallengeData `json:"data"`
	Timeout        int64         `json:"timeout"` // seconds
	TargetWorkerID *string       `json:"target_worker_id"`

	Extra map[string]json.RawMessage `json:"-"`
}

// DecodeComputeChallenge decodes and validates a standalone challenge.
func DecodeComputeChallenge(b []byte) (ComputeChallenge, error) {
	var c ComputeChallenge
	err := decodeDoc(b, MaxTaskResponseSize, &c)
	return c, err
}

func (c *ComputeChallenge) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*c = ComputeChallenge{ChallengeType: DefaultChallengeType, Timeout: DefaultChallengeTimeout}
	f.str("challenge_id", &c.ChallengeID, false) // emptiness is checked in Validate
	f.str("challenge_type", &c.ChallengeType, false)
	f.value("data", true, false, c.Data.decode)
	f.int("timeout", &c.Timeout, false)
	f.optStr("target_worker_id", &c.TargetWorkerID)
	if c.TargetWorkerID != nil && *c.TargetWorkerID == "" {
		c.TargetWorkerID = nil // upstream treats "" like None: no target
	}
	c.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *ComputeChallenge) UnmarshalJSON(b []byte) error { return unmarshalModel(b, c) }

// MarshalJSON implements json.Marshaler.
func (c ComputeChallenge) MarshalJSON() ([]byte, error) {
	type wire ComputeChallenge
	return withExtra(wire(c), c.Extra)
}

// Validate checks the challenge. Data is required here although the model
// defaults it to {}: a challenge without a seed and size cannot be run.
func (c ComputeChallenge) Validate() error {
	if err := checkID("challenge_id", c.ChallengeID); err != nil {
		return err
	}
	if !validChallengeType(c.ChallengeType) {
		return invalid("challenge_type", "must be cpu_matrix or gpu_matrix")
	}
	if err := c.Data.Validate(); err != nil {
		return within("data", err)
	}
	if c.Data.ChallengeType != "" && c.Data.ChallengeType != c.ChallengeType {
		return invalid("data.challenge_type", "differs from challenge_type")
	}
	if c.Timeout < MinChallengeTimeout || c.Timeout > MaxChallengeTimeout {
		return invalid("timeout", "must be in 1..300")
	}
	if c.TargetWorkerID != nil {
		if err := checkID("target_worker_id", *c.TargetWorkerID); err != nil {
			return err
		}
	}
	return checkExtra("", c.Extra)
}

// TaskData is the task_data map of a challenge batch.
type TaskData struct {
	Challenges []ComputeChallenge `json:"challenges"`

	Extra map[string]json.RawMessage `json:"-"`
}

func (t *TaskData) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*t = TaskData{}
	f.value("challenges", true, false, func(v []byte) (err error) {
		t.Challenges, err = decodeModels[ComputeChallenge](v, MaxChallengesPerTask)
		return
	})
	t.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *TaskData) UnmarshalJSON(b []byte) error { return unmarshalModel(b, t) }

// MarshalJSON implements json.Marshaler.
func (t TaskData) MarshalJSON() ([]byte, error) {
	type wire TaskData
	w := wire(t)
	w.Challenges = nonNil(w.Challenges)
	return withExtra(w, t.Extra)
}

// Validate checks every challenge; ids must be unique within a batch.
func (t TaskData) Validate() error {
	if err := checkCount("challenges", len(t.Challenges), MaxChallengesPerTask); err != nil {
		return err
	}
	seen := make(map[string]bool, len(t.Challenges))
	for i, c := range t.Challenges {
		p := "challenges" + index(i)
		if err := c.Validate(); err != nil {
			return within(p, err)
		}
		if seen[c.ChallengeID] {
			return invalid(p+".challenge_id", "duplicate")
		}
		seen[c.ChallengeID] = true
	}
	return checkExtra("", t.Extra)
}

// TaskResponse answers a poll (TASK_V1 response). TaskData is nil for
// no_task and written as null, as the validator does.
type TaskResponse struct {
	TaskType      string    `json:"task_type"`
	TaskData      *TaskData `json:"task_data"`
	Timestamp     PyFloat   `json:"timestamp"` // 0 when the peer omitted it
	SchemaVersion int64     `json:"schema_version"`

	Extra map[string]json.RawMessage `json:"-"`
}

// NewTaskResponse returns a batch of challenges, or no_task when there are
// none.
func NewTaskResponse(challenges []ComputeChallenge, now time.Time) TaskResponse {
	r := TaskResponse{TaskType: TaskTypeNoTask, Timestamp: epoch(now), SchemaVersion: DefaultSchemaVersion}
	if len(challenges) > 0 {
		r.TaskType = TaskTypeChallengeBatch
		r.TaskData = &TaskData{Challenges: challenges}
	}
	return r
}

// DecodeTaskResponse decodes and validates a TASK_V1 response.
func DecodeTaskResponse(b []byte) (TaskResponse, error) {
	var r TaskResponse
	err := decodeDoc(b, MaxTaskResponseSize, &r)
	return r, err
}

func (r *TaskResponse) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*r = TaskResponse{SchemaVersion: DefaultSchemaVersion}
	f.str("task_type", &r.TaskType, true)
	f.value("task_data", false, true, func(v []byte) error {
		r.TaskData = new(TaskData)
		return r.TaskData.decode(v)
	})
	f.float("timestamp", &r.Timestamp, false)
	f.int("schema_version", &r.SchemaVersion, false)
	r.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *TaskResponse) UnmarshalJSON(b []byte) error { return unmarshalModel(b, r) }

// MarshalJSON implements json.Marshaler.
func (r TaskResponse) MarshalJSON() ([]byte, error) {
	type wire TaskResponse
	return withExtra(wire(r), r.Extra)
}

// Validate checks that the task type and its data agree: a batch carries
// at least one challenge, no_task carries none.
func (r TaskResponse) Validate() error {
	switch r.TaskType {
	case TaskTypeChallengeBatch:
		if r.TaskData == nil {
			return invalid("task_data", "required for compute_challenge_batch")
		}
		if len(r.TaskData.Challenges) == 0 {
			return invalid("task_data.challenges", "must not be empty")
		}
	case TaskTypeNoTask:
		if r.TaskData != nil && len(r.TaskData.Challenges) > 0 {
			return invalid("task_data.challenges", "must be empty for no_task")
		}
	default:
		return invalid("task_type", "must be compute_challenge_batch or no_task")
	}
	if r.TaskData != nil {
		if err := r.TaskData.Validate(); err != nil {
			return within("task_data", err)
		}
	}
	if err := checkFinite("timestamp", r.Timestamp, true); err != nil {
		return err
	}
	if err := checkSchema(r.SchemaVersion); err != nil {
		return err
	}
	return checkExtra("", r.Extra)
}
