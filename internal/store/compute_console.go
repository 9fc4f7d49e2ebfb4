package store

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"
)

// ComputeOutcome is a decided challenge as the console lists it.
type ComputeOutcome struct {
	ID, Hotkey, WorkerID, Kind, Status string
	CreatedAt, VerifiedAt              time.Time
	ComputationTimeMS                  *float64
	SuccessCount                       int
	IsSuccess                          bool
	Notes                              string
}

// ComputeRecentOutcomes are the newest verified and failed challenges,
// newest first: of one miner (a walk of its index by time), or of the
// subnet when hotkey is "" (each status read newest first from its
// index, the two merged).
func (s *Store) ComputeRecentOutcomes(ctx context.Context, netuid uint16, hotkey string, limit int) ([]ComputeOutcome, error) {
	var out []ComputeOutcome
	scan := func(r *sql.Rows) error {
		var o ComputeOutcome
		var verified sql.NullTime
		var ms sql.NullFloat64
		if err := r.Scan(&o.ID, &o.Hotkey, &o.WorkerID, &o.Kind, &o.Status, &o.CreatedAt, &verified, &ms, &o.SuccessCount,
			&o.IsSuccess, &o.Notes); err != nil {
			return err
		}
		o.CreatedAt, o.VerifiedAt = o.CreatedAt.UTC(), verified.Time.UTC()
		if ms.Valid {
			o.ComputationTimeMS = &ms.Float64
		}
		out = append(out, o)
		return nil
	}
	const cols = `SELECT challenge_id, hotkey, worker_id, kind, status, created_at, verified_at, computation_time_ms,
		success_count, is_success, verification_notes FROM compute_challenges WHERE `
	if hotkey != "" {
		err := s.eachRow(ctx, cols+`netuid = ? AND hotkey = ? AND status IN ('verified', 'failed') ORDER BY created_at DESC LIMIT ?`,
			[]any{netuid, hotkey, limit}, scan)
		return out, err
	}
	for _, status := range []string{"verified", "failed"} {
		if err := s.eachRow(ctx, cols+`netuid = ? AND status = ? ORDER BY created_at DESC LIMIT ?`, []any{netuid, status, limit}, scan); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(out, func(a, b ComputeOutcome) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out[:min(limit, len(out))], nil
}

// ComputeFailedSince counts each miner's failed challenges created since
// since (an index range: failures are few).
func (s *Store) ComputeFailedSince(ctx context.Context, netuid uint16, since time.Time) (map[string]int, error) {
	out := map[string]int{}
	err := s.eachRow(ctx, `SELECT hotkey, COUNT(*) FROM compute_challenges WHERE netuid = ? AND status = 'failed' AND created_at >= ? GROUP BY hotkey`,
		[]any{netuid, since.UTC()}, func(r *sql.Rows) error {
			var hk string
			var n int
			if err := r.Scan(&hk, &n); err != nil {
				return err
			}
			out[hk] = n
			return nil
		})
	return out, err
}

// ComputeWorkerInfo is a worker as its heartbeats and MeshHub describe it.
type ComputeWorkerInfo struct {
	WorkerID, Name, Version, Status string
	Lease                           float64
	FirstSeen, LastHeartbeat        time.Time
	Deleted                         bool
	TasksCompleted, TasksFailed     int64
}

// ComputeWorkersOf lists one miner's workers by id.
func (s *Store) ComputeWorkersOf(ctx context.Context, netuid uint16, hotkey string) ([]ComputeWorkerInfo, error) {
	var out []ComputeWorkerInfo
	err := s.eachRow(ctx, `SELECT worker_id, worker_name, worker_version, status, lease_score, first_seen, last_heartbeat, deleted_at IS NOT NULL,
		tasks_completed, tasks_failed FROM compute_workers WHERE netuid = ? AND hotkey = ? ORDER BY worker_id`, []any{netuid, hotkey},
		func(r *sql.Rows) error {
			var w ComputeWorkerInfo
			if err := r.Scan(&w.WorkerID, &w.Name, &w.Version, &w.Status, &w.Lease, &w.FirstSeen, &w.LastHeartbeat, &w.Deleted,
				&w.TasksCompleted, &w.TasksFailed); err != nil {
				return err
			}
			w.FirstSeen, w.LastHeartbeat = w.FirstSeen.UTC(), w.LastHeartbeat.UTC()
			out = append(out, w)
			return nil
		})
	return out, err
}

// ComputeWorkerRings reads the worker availability rings of the given
// miners that reach bucket first or later, ordered by miner and worker.
func (s *Store) ComputeWorkerRings(ctx context.Context, netuid uint16, hotkeys []string, first int64) ([]ComputeRing, error) {
	var out []ComputeRing
	for start := 0; start < len(hotkeys); start += 400 {
		chunk := hotkeys[start:min(start+400, len(hotkeys))]
		args := []any{netuid, RingWorker, first}
		for _, h := range chunk {
			args = append(args, h)
		}
		err := s.eachRow(ctx, `SELECT hotkey, subject, newest, bits FROM compute_availability WHERE netuid = ? AND kind = ? AND newest >= ?
			AND hotkey IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args, func(r *sql.Rows) error {
			c := ComputeRing{Kind: RingWorker}
			err := scanRing(r, &c.Hotkey, &c)
			out = append(out, c)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b ComputeRing) int {
		return cmp.Or(cmp.Compare(a.Hotkey, b.Hotkey), cmp.Compare(a.Subject, b.Subject))
	})
	return out, nil
}

// scanRing reads a row of (a key column, subject, newest, bits) into c,
// the key column into *key.
func scanRing(r *sql.Rows, key *string, c *ComputeRing) error {
	var newest int64
	var bits []byte
	if err := r.Scan(key, &c.Subject, &newest, &bits); err != nil {
		return err
	}
	var err error
	c.Ring, err = decodeRing(newest, bits)
	return err
}
