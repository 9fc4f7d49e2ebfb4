package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// ComputeImport writes another validator's history into a compute subnet
// in one transaction (all or nothing), table by table, in batches the
// caller streams. Rows already present are kept as they are and not
// counted, so importing the same history twice changes nothing. On SQLite
// the import holds the write slot until Commit or Rollback.
type ComputeImport struct {
	s      *Store
	netuid uint16
	tx     *sql.Tx
	end    func()
	// rebuild is the statement that builds the dropped bucket index again.
	rebuild string
}

// BeginComputeImport starts an import into netuid.
func (s *Store) BeginComputeImport(ctx context.Context, netuid uint16) (*ComputeImport, error) {
	if s.engine != SQLite {
		tx, end, err := s.beginWrite(ctx)
		if err != nil {
			return nil, err
		}
		return &ComputeImport{s: s, netuid: netuid, tx: tx, end: sync.OnceFunc(end)}, nil
	}
	// An import writes millions of rows into B-trees far larger than the
	// pool's small per-connection cache: its own connection gets a large
	// one while it lasts, and the usual one back before it returns to the
	// pool.
	release, err := s.lockWrites(ctx)
	if err != nil {
		return nil, err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		release()
		return nil, err
	}
	var tx *sql.Tx
	var index string
	if _, err = conn.ExecContext(ctx, "PRAGMA cache_size = -262144"); err == nil {
		tx, err = conn.BeginTx(ctx, nil)
	}
	// The bucket rows come in key order, which their primary key takes as
	// appends, but the index by bucket in random order: it is dropped for
	// the import and built again, sorted once, at its commit (all within
	// the transaction, so a failed import keeps it).
	if err == nil {
		if err = tx.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`, bucketIndex).Scan(&index); err == nil {
			_, err = tx.ExecContext(ctx, "DROP INDEX "+bucketIndex)
		}
	}
	end := func() {
		if tx != nil {
			_ = tx.Rollback() // a no-op after Commit
		}
		_, _ = conn.ExecContext(context.Background(), fmt.Sprintf("PRAGMA cache_size = %d", sqliteCacheKiB))
		conn.Close()
		release()
	}
	if err != nil {
		end()
		return nil, err
	}
	return &ComputeImport{s: s, netuid: netuid, tx: tx, end: sync.OnceFunc(end), rebuild: index}, nil
}

// bucketIndex is the index of compute_heartbeat_buckets by bucket
// (migration 0008).
const bucketIndex = "compute_heartbeat_buckets_bucket"

// Commit makes the import visible.
func (im *ComputeImport) Commit() error {
	defer im.end()
	if im.rebuild != "" {
		if _, err := im.tx.Exec(im.rebuild); err != nil {
			return im.s.observe(fmt.Errorf("rebuild %s: %w", bucketIndex, err))
		}
	}
	return im.s.observe(im.tx.Commit())
}

// Rollback discards the import; it is a no-op after Commit.
func (im *ComputeImport) Rollback() { im.end() }

func (im *ComputeImport) insert(ctx context.Context, table, cols, conflict string, rows [][]any) (int64, error) {
	n, err := InsertValues(ctx, im.tx, im.s.engine, "INSERT INTO "+table+" ("+cols+")", "ON CONFLICT ("+conflict+") DO NOTHING", rows)
	if err != nil {
		return n, fmt.Errorf("import into %s: %w", table, err)
	}
	return n, nil
}

// ImportedMiner is a miner as another validator knew it.
type ImportedMiner struct {
	Hotkey                   string
	FirstSeen, LastHeartbeat time.Time
	Version                  string
}

// Miners imports miners.
func (im *ComputeImport) Miners(ctx context.Context, ms []ImportedMiner) (int64, error) {
	rows := make([][]any, len(ms))
	for i, m := range ms {
		rows[i] = []any{im.netuid, m.Hotkey, m.FirstSeen.UTC(), m.LastHeartbeat.UTC(), m.Version}
	}
	return im.insert(ctx, "compute_miners", "netuid, hotkey, first_seen, last_heartbeat, miner_version", "netuid, hotkey", rows)
}

// ImportedWorker is a worker with its lease score and counters.
type ImportedWorker struct {
	Hotkey, WorkerID, Name, Version string
	Capabilities                    []string
	Status, PublicIP                string
	LeaseScore                      float64
	FirstSeen, LastHeartbeat        time.Time
	DeletedAt                       *time.Time
	TasksCompleted, TasksFailed     int64
	AvgTaskTimeMS                   float64
}

// Workers imports workers.
func (im *ComputeImport) Workers(ctx context.Context, ws []ImportedWorker) (int64, error) {
	rows := make([][]any, len(ws))
	for i, w := range ws {
		caps, _ := json.Marshal(nonNilStrings(w.Capabilities))
		var deleted any
		if w.DeletedAt != nil {
			deleted = w.DeletedAt.UTC()
		}
		rows[i] = []any{im.netuid, w.Hotkey, w.WorkerID, w.Name, w.Version, string(caps), w.Status, w.PublicIP, w.LeaseScore,
			w.FirstSeen.UTC(), w.LastHeartbeat.UTC(), deleted, w.TasksCompleted, w.TasksFailed, w.AvgTaskTimeMS}
	}
	return im.insert(ctx, "compute_workers", `netuid, hotkey, worker_id, worker_name, worker_version, capabilities, status, public_ip, lease_score,
		first_seen, last_heartbeat, deleted_at, tasks_completed, tasks_failed, avg_task_time_ms`, "netuid, hotkey, worker_id", rows)
}

// ImportedGPU is a GPU's last report.
type ImportedGPU struct {
	Hotkey, WorkerID, UUID, Model string
	LastSeen                      time.Time
}

// GPUs imports GPU reports.
func (im *ComputeImport) GPUs(ctx context.Context, gs []ImportedGPU) (int64, error) {
	rows := make([][]any, len(gs))
	for i, g := range gs {
		rows[i] = []any{im.netuid, g.Hotkey, g.WorkerID, g.UUID, g.Model, g.LastSeen.UTC()}
	}
	return im.insert(ctx, "compute_gpus", "netuid, hotkey, worker_id, uuid, model, last_seen", "netuid, hotkey, worker_id, uuid", rows)
}

// Buckets imports heartbeat buckets.
func (im *ComputeImport) Buckets(ctx context.Context, bs []ComputeBucketRow) (int64, error) {
	rows := make([][]any, len(bs))
	for i, b := range bs {
		us, _ := json.Marshal(nonNilStrings(b.GPUs))
		rows[i] = []any{im.netuid, b.Hotkey, b.WorkerID, b.Bucket, b.LatestAt.UTC(), string(us)}
	}
	return im.insert(ctx, "compute_heartbeat_buckets", "netuid, hotkey, worker_id, bucket, latest_at, gpu_uuids", "netuid, hotkey, worker_id, bucket", rows)
}

// IPRuns imports runs of public IPs.
func (im *ComputeImport) IPRuns(ctx context.Context, rs []ComputeIPRun) (int64, error) {
	rows := make([][]any, len(rs))
	for i, r := range rs {
		rows[i] = []any{im.netuid, r.Hotkey, r.WorkerID, r.IP, r.FirstAt.UTC(), r.LastAt.UTC()}
	}
	return im.insert(ctx, "compute_ip_runs", "netuid, hotkey, worker_id, ip, first_at, last_at", "netuid, hotkey, worker_id, first_at", rows)
}

// Rings merges availability rings into the subnet's: a bucket set in
// either is set. It returns how many rings it wrote (new or changed).
func (im *ComputeImport) Rings(ctx context.Context, rings []ComputeRing) (int64, error) {
	if len(rings) == 0 {
		return 0, nil
	}
	type key struct{ hotkey, kind, subject string }
	have := map[key]BucketRing{}
	hotkeys := map[string]bool{}
	for _, r := range rings {
		if r.Kind != RingWorker && r.Kind != RingGPU {
			return 0, fmt.Errorf("ring kind %q: want %s or %s", r.Kind, RingWorker, RingGPU)
		}
		hotkeys[r.Hotkey] = true
	}
	for hk := range hotkeys {
		rows, err := im.tx.QueryContext(ctx, im.s.Rebind(`SELECT kind, subject, newest, bits FROM compute_availability WHERE netuid = ? AND hotkey = ?`), im.netuid, hk)
		if err != nil {
			return 0, err
		}
		for rows.Next() {
			k := key{hotkey: hk}
			var newest int64
			var bits []byte
			if err := rows.Scan(&k.kind, &k.subject, &newest, &bits); err != nil {
				rows.Close()
				return 0, err
			}
			r, err := decodeRing(newest, bits)
			if err != nil {
				rows.Close()
				return 0, err
			}
			have[k] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
	}
	var out [][]any
	for _, r := range rings {
		merged := r.Ring
		if old, ok := have[key{r.Hotkey, r.Kind, r.Subject}]; ok {
			newer, other := old, r.Ring
			if other.Newest > newer.Newest {
				newer, other = other, newer
			}
			merged = newer
			for b := other.Newest - RingBuckets + 1; b <= other.Newest; b++ {
				if other.Has(b) {
					merged.Add(b)
				}
			}
			if merged == old {
				continue
			}
		}
		out = append(out, []any{im.netuid, r.Hotkey, r.Kind, r.Subject, merged.Newest, merged.encode()})
	}
	if err := im.s.insertRows(ctx, im.tx, `INSERT INTO compute_availability (netuid, hotkey, kind, subject, newest, bits)`,
		`ON CONFLICT (netuid, hotkey, kind, subject) DO UPDATE SET newest = excluded.newest, bits = excluded.bits`, out); err != nil {
		return 0, fmt.Errorf("import into compute_availability: %w", err)
	}
	return int64(len(out)), nil
}

// ImportedChallenge is a finished challenge (verified or failed).
type ImportedChallenge struct {
	ID, Hotkey, WorkerID, Kind, Status        string
	Data, Commitments, Targets, DebugInfo     json.RawMessage
	CreatedAt                                 time.Time
	SentAt, ExpiresAt, ComputedAt, VerifiedAt *time.Time
	ComputationTimeMS, VerificationTimeMS     *float64
	SuccessCount                              int
	IsSuccess                                 bool
	VerificationNotes                         string
}

// Challenges imports finished challenges.
func (im *ComputeImport) Challenges(ctx context.Context, cs []ImportedChallenge) (int64, error) {
	rows := make([][]any, len(cs))
	opt := func(t *time.Time) any {
		if t == nil {
			return nil
		}
		return t.UTC()
	}
	optF := func(f *float64) any {
		if f == nil {
			return nil
		}
		return *f
	}
	raw := func(b json.RawMessage, def string) string {
		if len(b) == 0 {
			return def
		}
		return string(b)
	}
	for i, c := range cs {
		rows[i] = []any{im.netuid, c.ID, c.Hotkey, c.WorkerID, c.Kind, raw(c.Data, "{}"), c.Status, c.CreatedAt.UTC(), opt(c.SentAt), opt(c.ExpiresAt),
			opt(c.ComputedAt), optF(c.ComputationTimeMS), raw(c.Commitments, "{}"), raw(c.Targets, "{}"), raw(c.DebugInfo, "{}"), opt(c.VerifiedAt),
			c.SuccessCount, c.IsSuccess, c.VerificationNotes, optF(c.VerificationTimeMS)}
	}
	return im.insert(ctx, "compute_challenges", `netuid, challenge_id, hotkey, worker_id, kind, data, status, created_at, sent_at, expires_at,
		computed_at, computation_time_ms, commitments, targets, debug_info, verified_at, success_count, is_success, verification_notes, verification_time_ms`,
		"netuid, challenge_id", rows)
}

// WeightPass imports a weight pass made at at, unless the subnet has one
// made then already.
func (im *ComputeImport) WeightPass(ctx context.Context, at time.Time, miners json.RawMessage) (int64, error) {
	var n int
	if err := im.tx.QueryRowContext(ctx, im.s.Rebind(`SELECT COUNT(*) FROM compute_weight_passes WHERE netuid = ? AND at = ?`), im.netuid, at.UTC()).Scan(&n); err != nil {
		return 0, err
	}
	if n > 0 {
		return 0, nil
	}
	if _, err := im.tx.ExecContext(ctx, im.s.Rebind(`INSERT INTO compute_weight_passes (netuid, at, miners) VALUES (?, ?, ?)`), im.netuid, at.UTC(), string(miners)); err != nil {
		return 0, fmt.Errorf("import into compute_weight_passes: %w", err)
	}
	return 1, nil
}
