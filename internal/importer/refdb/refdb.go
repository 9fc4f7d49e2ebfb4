// Package refdb builds reference validators' databases: the compute
// (SN128) validator's and the Kaspa (SN16) validator's, on SQLite or
// PostgreSQL, from their schemas as their specifications give them, and
// fills them with scenarios that exercise every rule of the compute
// subnet's scoring. vigil's importers are tested against them, and an
// operator can build one to try 'vigil import' on (cmd/refdb).
package refdb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/internal/store"
)

//go:embed byteleap.sql
var byteleapDDL string

//go:embed hashtensor.sql
var hashtensorDDL string

// ByteLeapHead is the compute validator schema's newest alembic revision.
const ByteLeapHead = "3b7f9d12c8ab"

// Engine is "sqlite" or "postgres".
type Engine string

// The engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// ByteLeapSchema is the compute validator's DDL for engine.
func ByteLeapSchema(engine Engine) string {
	id, ts := "INTEGER PRIMARY KEY AUTOINCREMENT", "DATETIME"
	if engine == Postgres {
		id, ts = "SERIAL PRIMARY KEY", "TIMESTAMP WITHOUT TIME ZONE"
	}
	return strings.NewReplacer("{{ID}}", id, "{{TS}}", ts, "{{JSON}}", "JSON").Replace(byteleapDDL)
}

// HashtensorSchema is the Kaspa validator's DDL (SQLite).
func HashtensorSchema() string { return hashtensorDDL }

// Hotkey is a stable SS58 hotkey named by name.
func Hotkey(name string) string {
	h := sha256.Sum256([]byte("refdb/" + name))
	s, err := keys.SS58Encode(h[:], keys.SS58PrefixBittensor)
	if err != nil {
		panic(err) // 32 bytes always encode
	}
	return s
}

// Miner is a miner_info row.
type Miner struct {
	Hotkey        string
	Online        bool
	LastHeartbeat time.Time
	Version       string
}

// Worker is a worker_info row.
type Worker struct {
	Hotkey, WorkerID string
	Online           bool
	LeaseScore       *float64
	LastHeartbeat    time.Time
	Deleted          bool
	Capabilities     []string
}

// GPU is a gpu_inventory row.
type GPU struct {
	UUID, Hotkey, WorkerID, Model string
	LastSeen                      *time.Time
}

// Heartbeat is a heartbeat_records row. Key names the uuid's key in the
// NVML list (uuid, gpu_uuid or id; uuid when empty).
type Heartbeat struct {
	Hotkey, WorkerID string
	At               time.Time
	GPUs             []string
	Key              string
	IP               *string
	Deleted          bool
}

// Challenge is a compute_challenges row.
type Challenge struct {
	ID, Hotkey, WorkerID string
	Type, Status         string
	CreatedAt            time.Time
	ComputationTimeMS    *float64
	SuccessCount         *int
	IsSuccess            *bool
	VerificationResult   *bool
	Commitments          map[string]string
	Deleted              bool
}

// Weight is a network_weights row.
type Weight struct {
	Hotkey                                string
	Value, Challenge, Availability, Lease float64
	At                                    time.Time
}

// ByteLeap is a compute validator's database.
type ByteLeap struct {
	Revision   string // default ByteLeapHead
	Miners     []Miner
	Workers    []Worker
	GPUs       []GPU
	Heartbeats []Heartbeat
	Challenges []Challenge
	Weights    []Weight
}

// timeArg is how the reference's SQLAlchemy stores a naive UTC time.
func timeArg(engine Engine, t time.Time) any {
	if engine == SQLite {
		return t.UTC().Format("2006-01-02 15:04:05.000000")
	}
	return t.UTC()
}

func optTime(engine Engine, t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return timeArg(engine, *t)
}

func jsonArg(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Create makes the compute validator's schema on db, empty but for its
// alembic revision.
func Create(ctx context.Context, db *sql.DB, engine Engine, revision string) error {
	if revision == "" {
		revision = ByteLeapHead
	}
	if _, err := db.ExecContext(ctx, ByteLeapSchema(engine)); err != nil {
		return fmt.Errorf("create the reference schema: %w", err)
	}
	_, err := db.ExecContext(ctx, rebind(engine, "INSERT INTO alembic_version (version_num) VALUES (?)"), revision)
	return err
}

func rebind(engine Engine, q string) string { return store.Rebind(store.Engine(engine), q) }

// Write creates the schema on db and inserts the rows, in one transaction.
func (d *ByteLeap) Write(ctx context.Context, db *sql.DB, engine Engine) error {
	if err := Create(ctx, db, engine, d.Revision); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, rebind(engine, q), args...)
		return err
	}
	ts := func(t time.Time) any { return timeArg(engine, t) }
	created := func(t time.Time) time.Time {
		if t.IsZero() {
			return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		}
		return t.Add(-240 * time.Hour)
	}
	for _, m := range d.Miners {
		if err := exec(`INSERT INTO miner_info (hotkey, miner_version, is_online, last_heartbeat, created_at) VALUES (?, ?, ?, ?, ?)`,
			m.Hotkey, m.Version, m.Online, ts(m.LastHeartbeat), ts(created(m.LastHeartbeat))); err != nil {
			return fmt.Errorf("miner %s: %w", m.Hotkey, err)
		}
	}
	for _, w := range d.Workers {
		var lease any
		if w.LeaseScore != nil {
			lease = *w.LeaseScore
		}
		var deleted any
		if w.Deleted {
			deleted = ts(w.LastHeartbeat.Add(time.Minute))
		}
		caps := w.Capabilities
		if caps == nil {
			caps = []string{"cpu_matrix", "gpu_matrix"}
		}
		if err := exec(`INSERT INTO worker_info (worker_id, hotkey, worker_name, worker_version, capabilities, is_online, last_heartbeat,
			tasks_completed, tasks_failed, avg_task_time_ms, lease_score, created_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			w.WorkerID, w.Hotkey, "worker-"+w.WorkerID, "0.0.5", jsonArg(caps), w.Online, ts(w.LastHeartbeat), 3, 1, 1234.5, lease,
			ts(created(w.LastHeartbeat)), deleted); err != nil {
			return fmt.Errorf("worker %s/%s: %w", w.Hotkey, w.WorkerID, err)
		}
	}
	for _, g := range d.GPUs {
		if err := exec(`INSERT INTO gpu_inventory (gpu_uuid, hotkey, worker_id, gpu_model, gpu_memory_total, last_seen_at, created_at, is_active)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, g.UUID, g.Hotkey, g.WorkerID, g.Model, 81559, optTime(engine, g.LastSeen),
			ts(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)), true); err != nil {
			return fmt.Errorf("GPU %s: %w", g.UUID, err)
		}
	}
	for _, h := range d.Heartbeats {
		key := h.Key
		if key == "" {
			key = "uuid"
		}
		nvml := make([]map[string]any, 0, len(h.GPUs))
		for _, u := range h.GPUs {
			nvml = append(nvml, map[string]any{key: u, "name": "NVIDIA H100 80GB HBM3", "utilization": 97})
		}
		var ip, deleted any
		if h.IP != nil {
			ip = *h.IP
		}
		if h.Deleted {
			deleted = ts(h.At.Add(time.Second))
		}
		if err := exec(`INSERT INTO heartbeat_records (hotkey, worker_id, cpu_usage, memory_usage, gpu_utilization, public_ip, created_at, deleted_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, h.Hotkey, h.WorkerID, 12.5, 40.25, jsonArg(nvml), ip, ts(h.At), deleted); err != nil {
			return fmt.Errorf("heartbeat %s/%s: %w", h.Hotkey, h.WorkerID, err)
		}
	}
	for _, c := range d.Challenges {
		var ms, count, success, result, deleted any
		if c.ComputationTimeMS != nil {
			ms = *c.ComputationTimeMS
		}
		if c.SuccessCount != nil {
			count = *c.SuccessCount
		}
		if c.IsSuccess != nil {
			success = *c.IsSuccess
		}
		if c.VerificationResult != nil {
			result = *c.VerificationResult
		}
		if c.Deleted {
			deleted = ts(c.CreatedAt.Add(time.Minute))
		}
		typ := c.Type
		if typ == "" {
			typ = "cpu_matrix"
			for u := range c.Commitments {
				if u != "-1" {
					typ = "gpu_matrix"
				}
			}
		}
		commitments := any(nil)
		if c.Commitments != nil {
			commitments = jsonArg(c.Commitments)
		}
		var verified any
		if c.Status == "verified" || c.Status == "failed" {
			verified = ts(c.CreatedAt.Add(90 * time.Second))
		}
		if err := exec(`INSERT INTO compute_challenges (challenge_id, hotkey, worker_id, challenge_type, challenge_data, sent_at, computation_time_ms,
			computed_at, merkle_commitments, verification_targets, challenge_status, verification_result, verified_at, is_success, success_count,
			created_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Hotkey, c.WorkerID, typ, jsonArg(map[string]any{"challenge_id": c.ID, "seed": c.ID}), ts(c.CreatedAt.Add(20*time.Second)), ms,
			ts(c.CreatedAt.Add(60*time.Second)), commitments, `[[3,7],[11,null]]`, c.Status, result, verified, success, count,
			ts(c.CreatedAt), deleted); err != nil {
			return fmt.Errorf("challenge %s: %w", c.ID, err)
		}
	}
	for _, w := range d.Weights {
		if err := exec(`INSERT INTO network_weights (hotkey, weight_value, calculation_remark, challenge_score, availability_score, lease_score,
			is_applied, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, w.Hotkey, w.Value, "[]", w.Challenge, w.Availability, w.Lease, true,
			ts(w.At)); err != nil {
			return fmt.Errorf("weight %s: %w", w.Hotkey, err)
		}
	}
	return tx.Commit()
}

// Registration is a hotkey_worker row.
type Registration struct {
	Worker, Hotkey   string
	RegistrationTime float64
	Signature        string
	Unbind           string // the unbind signature, "" while bound
}

// WriteHashtensor creates the Kaspa validator's schema on db and inserts
// the registrations.
func WriteHashtensor(ctx context.Context, db *sql.DB, regs []Registration) error {
	if _, err := db.ExecContext(ctx, hashtensorDDL); err != nil {
		return fmt.Errorf("create the reference schema: %w", err)
	}
	for _, r := range regs {
		var unbind any
		if r.Unbind != "" {
			unbind = r.Unbind
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO hotkey_worker (worker, hotkey, registration_time, signature, registration_time_int, unbind_signature)
			VALUES (?, ?, ?, ?, ?, ?)`, r.Worker, r.Hotkey, r.RegistrationTime, r.Signature, int64(r.RegistrationTime*1e6), unbind); err != nil {
			return fmt.Errorf("registration %s: %w", r.Worker, err)
		}
	}
	return nil
}
