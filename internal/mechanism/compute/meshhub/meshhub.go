// Package meshhub is the validator's link to MeshHub, the reference
// subnet's lease service: an encrypted WebSocket session (the compute
// subnet's handshake and records, the validator as client), heartbeats,
// resource reports (full, then deltas, in chunks), score reports, and the
// lease scores MeshHub publishes — the only source of lease scores, range
// checked here. Sim is a MeshHub for tests and the demo.
package meshhub

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Message types.
const (
	TypeSessionInit         = "MESH_SESSION_INIT_V1"
	TypeSessionInitResponse = "MESH_SESSION_INIT_RESPONSE_V1"
	TypeError               = "MESH_ERROR_V1"
	TypeHeartbeat           = "MESH_HEARTBEAT_V1"
	TypeResourceReport      = "MESH_RESOURCE_REPORT_V1"
	TypeScoreReport         = "MESH_SCORE_REPORT_V1"
	TypeAck                 = "MESH_ACK_V1"
	TypeLeasePublish        = "MESH_LEASE_PUBLISH_V1"
	TypeConfigUpdate        = "MESH_CONFIG_UPDATE_V1"
	TypeTaskPublish         = "MESH_TASK_PUBLISH_V1"
)

// MaxFrame is the largest frame either side takes (the reference's 10 MiB).
const MaxFrame = 10 << 20

// ReportChunk is the most workers one resource report carries.
const ReportChunk = 50

// frame is every message on the socket.
type frame struct {
	Type      string          `json:"type"`
	Timestamp int64           `json:"timestamp"` // ms
	Data      json.RawMessage `json:"data,omitempty"`
	Encrypted *envelope       `json:"encrypted,omitempty"`
}

// envelope is an encrypted record as MeshHub frames it.
type envelope struct {
	Version     string `json:"version"`
	SessionID   string `json:"sessionId"`
	Sequence    uint64 `json:"sequence"`
	Ciphertext  string `json:"ciphertext"`
	Sender      string `json:"sender"`
	Recipient   string `json:"recipient"`
	MessageType string `json:"messageType"`
}

type sessionInit struct {
	ValidatorHotkey string   `json:"validatorHotkey"`
	AccessToken     string   `json:"accessToken"`
	ClientVersion   string   `json:"clientVersion"`
	Capabilities    []string `json:"capabilities"`
	ClientPublicKey string   `json:"clientPublicKey"`
	ClientNonce     string   `json:"clientNonce"`
}

type sessionInitResponse struct {
	SessionID                   string `json:"sessionId"`
	ValidatorEphemeralPublicKey string `json:"validatorEphemeralPublicKey"`
	ServerNonce                 string `json:"serverNonce"`
	ServerHotkey                string `json:"serverHotkey"`
}

type errorData struct {
	Code    int    `json:"code"`
	Message string `json:"message,omitempty"`
}

// Error codes MeshHub sends: these clear the session before reconnecting.
const (
	CodeBadAuth         = 4001
	CodeSessionRequired = 4002
	CodeSessionUnknown  = 4011
	CodeSequence        = 4020
)

// Heartbeat is MESH_HEARTBEAT_V1's body.
type Heartbeat struct {
	Version    string     `json:"version"`
	Statistics Statistics `json:"statistics"`
}

// Statistics is the validator's state in a heartbeat.
type Statistics struct {
	UptimeMS             int64   `json:"uptime"`
	ActiveWorkers        int     `json:"activeWorkers"`
	ActiveMiners         int     `json:"activeMiners"`
	TotalTasks           int64   `json:"totalTasks"`
	SuccessRate          float64 `json:"successRate"`
	PendingVerifications int     `json:"pendingVerifications"`
}

// ResourceWorker is one worker in a resource report.
type ResourceWorker struct {
	WorkerKey    string          `json:"workerKey"` // "<hotkey>:<worker_id>"
	WorkerID     string          `json:"workerId"`
	WorkerName   string          `json:"workerName"`
	Status       string          `json:"status"`
	Version      string          `json:"version"`
	Capabilities []string        `json:"capabilities"`
	LeaseScore   float64         `json:"leaseScore"`
	LastSeenAt   string          `json:"lastSeenAt"`
	Stats        json.RawMessage `json:"stats,omitempty"`
	UptimeSecs   int64           `json:"uptimeSeconds"`
	Network      json.RawMessage `json:"network,omitempty"`
	OSInfo       json.RawMessage `json:"os_info,omitempty"`
	Hardware     json.RawMessage `json:"hardware,omitempty"`
}

// ResourceMiner is one miner and its workers.
type ResourceMiner struct {
	Hotkey  string           `json:"hotkey"`
	Status  string           `json:"status"` // ACTIVE or OFFLINE
	Version string           `json:"version"`
	Workers []ResourceWorker `json:"workers"`
}

// ResourceReport is MESH_RESOURCE_REPORT_V1's body.
type ResourceReport struct {
	Miners []ResourceMiner `json:"miners"`
	Mode   string          `json:"mode"` // full or delta
	Since  string          `json:"since,omitempty"`
}

// MinerWeight is one miner's weight in a score report.
type MinerWeight struct {
	Hotkey string  `json:"hotkey"`
	Weight float64 `json:"weight"`
}

// WorkerScore is one worker's lease score, as MeshHub publishes them.
type WorkerScore struct {
	WorkerKey string  `json:"workerKey"`
	Score     float64 `json:"score"`
}

// LeasePublish is MESH_LEASE_PUBLISH_V1's body.
type LeasePublish struct {
	WorkerScores []WorkerScore `json:"workerScores"`
}

// Ack is MESH_ACK_V1's body.
type Ack struct {
	MessageID   string          `json:"messageId"`
	MessageType string          `json:"messageType"`
	Status      string          `json:"status"` // accepted or failed
	Metadata    json.RawMessage `json:"metadata,omitempty"`
}

// Lease is a published lease score, checked.
type Lease struct {
	Hotkey, WorkerID string
	Score            float64
}

// ErrLease is wrapped by the reasons a published lease is refused.
var ErrLease = errors.New("bad lease score")

// MaxLeases bounds one publication.
const MaxLeases = 100_000

// CheckLeases validates a publication: "<hotkey>:<worker_id>" keys and
// scores in [0, 1] (the reference takes any number).
func CheckLeases(p LeasePublish) ([]Lease, error) {
	if len(p.WorkerScores) > MaxLeases {
		return nil, fmt.Errorf("%w: %d scores (at most %d)", ErrLease, len(p.WorkerScores), MaxLeases)
	}
	out := make([]Lease, 0, len(p.WorkerScores))
	for i, w := range p.WorkerScores {
		hotkey, worker, ok := strings.Cut(w.WorkerKey, ":")
		if !ok || hotkey == "" || worker == "" || len(w.WorkerKey) > 512 {
			return nil, fmt.Errorf("%w: workerScores[%d]: key %q is not <hotkey>:<worker_id>", ErrLease, i, w.WorkerKey)
		}
		if !(w.Score >= 0 && w.Score <= 1) {
			return nil, fmt.Errorf("%w: workerScores[%d]: score %v outside [0, 1]", ErrLease, i, w.Score)
		}
		out = append(out, Lease{Hotkey: hotkey, WorkerID: worker, Score: w.Score})
	}
	return out, nil
}

// ConfigRoots are the only roots a config update may change, as the
// reference accepts them.
var ConfigRoots = []string{"validation", "weight_management"}

// CheckConfigUpdate returns an update's payload roots, refusing any other.
func CheckConfigUpdate(raw json.RawMessage) (map[string]json.RawMessage, error) {
	var body struct {
		Payload map[string]json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.Payload == nil {
		return nil, errors.New("config update without a payload object")
	}
	for k := range body.Payload {
		if k != ConfigRoots[0] && k != ConfigRoots[1] {
			return nil, fmt.Errorf("config update: root %q is not one of %v", k, ConfigRoots)
		}
	}
	return body.Payload, nil
}

func nowMS() int64 { return time.Now().UnixMilli() }
