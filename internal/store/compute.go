package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// The compute mechanism's tables (migration 0007): what miners' heartbeats
// say of them and their workers, and the challenges.

// ErrComputeState is returned when a challenge is not in the state an
// operation needs (a second commitment, a proof for an expired one).
var ErrComputeState = errors.New("challenge is not in the required state")

// ComputeGPU is a GPU a worker reported.
type ComputeGPU struct{ UUID, Model string }

// ComputeWorkerBeat is one worker in a miner's heartbeat.
type ComputeWorkerBeat struct {
	WorkerID, Name, Version string
	Capabilities            []string
	Status                  string
	SystemInfo              json.RawMessage
	PublicIP                string
	GPUs                    []ComputeGPU
}

// ComputeBucket is the 5-minute bucket of t.
func ComputeBucket(t time.Time) int64 { return int64(math.Floor(float64(t.UnixNano()) / 1e9 / 300)) }

// RecordComputeHeartbeat stores a miner's heartbeat in one transaction:
// the miner, each worker's row, its GPUs, its bucket and its IP run. Each
// table takes one multi-row statement for all the workers, so a heartbeat
// of 100 workers costs a handful of statements, not hundreds.
func (s *Store) RecordComputeHeartbeat(ctx context.Context, netuid uint16, hotkey, minerVersion string, workers []ComputeWorkerBeat) error {
	now := s.now()
	tx, end, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer end()
	if _, err := tx.ExecContext(ctx, s.Rebind(`INSERT INTO compute_miners (netuid, hotkey, first_seen, last_heartbeat, miner_version)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (netuid, hotkey) DO UPDATE SET last_heartbeat = excluded.last_heartbeat, miner_version = excluded.miner_version`),
		netuid, hotkey, now, now, minerVersion); err != nil {
		return fmt.Errorf("record miner %s: %w", hotkey, err)
	}
	if len(workers) == 0 {
		return tx.Commit()
	}
	// A worker id repeated in one heartbeat counts once, as its last entry.
	last := map[string]int{}
	for i, w := range workers {
		last[w.WorkerID] = i
	}
	var workerRows, gpuRows [][]any
	uuids := map[string][]string{}
	for i, w := range workers {
		if last[w.WorkerID] != i {
			continue
		}
		caps, _ := json.Marshal(nonNilStrings(w.Capabilities))
		info := w.SystemInfo
		if len(info) == 0 {
			info = json.RawMessage("{}")
		}
		workerRows = append(workerRows, []any{netuid, hotkey, w.WorkerID, w.Name, w.Version, string(caps), w.Status, string(info), w.PublicIP, now, now})
		seen := map[string]bool{}
		for _, g := range w.GPUs {
			if g.UUID == "" || g.UUID == "-1" || seen[g.UUID] {
				continue
			}
			seen[g.UUID] = true
			uuids[w.WorkerID] = append(uuids[w.WorkerID], g.UUID)
			gpuRows = append(gpuRows, []any{netuid, hotkey, w.WorkerID, g.UUID, g.Model, now})
		}
	}
	if err := s.insertRows(ctx, tx, `INSERT INTO compute_workers
		(netuid, hotkey, worker_id, worker_name, worker_version, capabilities, status, system_info, public_ip, first_seen, last_heartbeat)`,
		`ON CONFLICT (netuid, hotkey, worker_id) DO UPDATE SET worker_name = excluded.worker_name, worker_version = excluded.worker_version,
		capabilities = excluded.capabilities, status = excluded.status, system_info = excluded.system_info, public_ip = excluded.public_ip,
		last_heartbeat = excluded.last_heartbeat`, workerRows); err != nil {
		return fmt.Errorf("record workers: %w", err)
	}
	if err := s.insertRows(ctx, tx, `INSERT INTO compute_gpus (netuid, hotkey, worker_id, uuid, model, last_seen)`,
		`ON CONFLICT (netuid, hotkey, worker_id, uuid) DO UPDATE SET model = excluded.model, last_seen = excluded.last_seen`, gpuRows); err != nil {
		return fmt.Errorf("record GPUs: %w", err)
	}
	bucket := ComputeBucket(now)
	if err := s.recordBuckets(ctx, tx, netuid, hotkey, bucket, now, workerRows, uuids); err != nil {
		return err
	}
	ids := make([]string, len(workerRows))
	var gpus []string
	for i, r := range workerRows {
		ids[i] = r[2].(string)
		gpus = append(gpus, uuids[ids[i]]...)
	}
	slices.Sort(gpus)
	if err := s.markAvailability(ctx, tx, netuid, hotkey, bucket, ids, slices.Compact(gpus)); err != nil {
		return err
	}
	if err := s.recordIPs(ctx, tx, netuid, hotkey, now, workerRows); err != nil {
		return err
	}
	return tx.Commit()
}

// maxInsertParams bounds one statement's parameters, under SQLite's and
// PostgreSQL's limits.
const maxInsertParams = 30000

// insertRows runs head VALUES (…), (…) … tail over rows in tx (see
// InsertValues).
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, head, tail string, rows [][]any) error {
	_, err := InsertValues(ctx, tx, s.engine, head, tail, rows)
	return err
}

// Execer runs a statement: a *sql.DB, *sql.Conn or *sql.Tx.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// InsertValues runs head VALUES (…), (…) … tail over rows, in as few
// statements as the parameter limit allows, with engine's placeholders,
// and returns the rows they affected.
func InsertValues(ctx context.Context, ex Execer, engine Engine, head, tail string, rows [][]any) (int64, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	cols := len(rows[0])
	per := max(1, maxInsertParams/cols)
	tuple := "(?" + strings.Repeat(", ?", cols-1) + ")"
	var affected int64
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		var b strings.Builder
		b.WriteString(head)
		b.WriteString(" VALUES ")
		args := make([]any, 0, len(chunk)*cols)
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tuple)
			args = append(args, r...)
		}
		b.WriteString(" ")
		b.WriteString(tail)
		res, err := ex.ExecContext(ctx, Rebind(engine, b.String()), args...)
		if err != nil {
			return affected, err
		}
		n, _ := res.RowsAffected()
		affected += n
	}
	return affected, nil
}

func nonNilStrings(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// recordBuckets marks the workers' bucket, with the union of the GPUs
// reported in it.
func (s *Store) recordBuckets(ctx context.Context, tx *sql.Tx, netuid uint16, hotkey string, bucket int64, now time.Time, workerRows [][]any, uuids map[string][]string) error {
	// The workers are named so that each lookup is by the primary key:
	// the (netuid, bucket) index would walk every worker of the bucket.
	args := []any{netuid, hotkey, bucket}
	for _, r := range workerRows {
		args = append(args, r[2])
	}
	rows, err := tx.QueryContext(ctx, s.Rebind(`SELECT worker_id, gpu_uuids FROM compute_heartbeat_buckets WHERE netuid = ? AND hotkey = ? AND bucket = ?
		AND worker_id IN (?`+strings.Repeat(", ?", len(workerRows)-1)+`)`), args...)
	if err != nil {
		return fmt.Errorf("read buckets: %w", err)
	}
	have := map[string][]string{}
	for rows.Next() {
		var worker, raw string
		if err := rows.Scan(&worker, &raw); err != nil {
			rows.Close()
			return fmt.Errorf("read buckets: %w", err)
		}
		var us []string
		_ = json.Unmarshal([]byte(raw), &us)
		have[worker] = us
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read buckets: %w", err)
	}
	out := make([][]any, 0, len(workerRows))
	for _, r := range workerRows {
		worker := r[2].(string)
		us := append(append([]string{}, uuids[worker]...), have[worker]...)
		slices.Sort(us)
		b, _ := json.Marshal(nonNilStrings(slices.Compact(us)))
		out = append(out, []any{netuid, hotkey, worker, bucket, now, string(b)})
	}
	if err := s.insertRows(ctx, tx, `INSERT INTO compute_heartbeat_buckets (netuid, hotkey, worker_id, bucket, latest_at, gpu_uuids)`,
		`ON CONFLICT (netuid, hotkey, worker_id, bucket) DO UPDATE SET latest_at = excluded.latest_at, gpu_uuids = excluded.gpu_uuids`, out); err != nil {
		return fmt.Errorf("record buckets: %w", err)
	}
	return nil
}

// recordIPs extends each worker's current IP run, or starts a new one when
// its IP changed; empty IPs are skipped, as the reference skips them.
func (s *Store) recordIPs(ctx context.Context, tx *sql.Tx, netuid uint16, hotkey string, now time.Time, workerRows [][]any) error {
	ips := map[string]string{}
	for _, r := range workerRows {
		if ip := r[8].(string); ip != "" {
			ips[r[2].(string)] = ip
		}
	}
	if len(ips) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, s.Rebind(`SELECT r.worker_id, r.ip, r.first_at FROM compute_ip_runs r WHERE r.netuid = ? AND r.hotkey = ?
		AND r.first_at = (SELECT MAX(x.first_at) FROM compute_ip_runs x WHERE x.netuid = r.netuid AND x.hotkey = r.hotkey AND x.worker_id = r.worker_id)`),
		netuid, hotkey)
	if err != nil {
		return fmt.Errorf("read IP runs: %w", err)
	}
	type run struct {
		ip    string
		first time.Time
	}
	current := map[string]run{}
	for rows.Next() {
		var worker string
		var r run
		if err := rows.Scan(&worker, &r.ip, &r.first); err != nil {
			rows.Close()
			return fmt.Errorf("read IP runs: %w", err)
		}
		current[worker] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read IP runs: %w", err)
	}
	out := make([][]any, 0, len(ips))
	for _, r := range workerRows {
		worker := r[2].(string)
		ip, ok := ips[worker]
		if !ok {
			continue
		}
		first := now
		if c, ok := current[worker]; ok && c.ip == ip {
			first = c.first
		}
		out = append(out, []any{netuid, hotkey, worker, ip, first, now})
	}
	if err := s.insertRows(ctx, tx, `INSERT INTO compute_ip_runs (netuid, hotkey, worker_id, ip, first_at, last_at)`,
		`ON CONFLICT (netuid, hotkey, worker_id, first_at) DO UPDATE SET last_at = excluded.last_at`, out); err != nil {
		return fmt.Errorf("record IP runs: %w", err)
	}
	return nil
}

// ComputeWorkerGPUs are the uuids a worker has reported.
func (s *Store) ComputeWorkerGPUs(ctx context.Context, netuid uint16, hotkey, worker string) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, s.Rebind(`SELECT uuid, model FROM compute_gpus WHERE netuid = ? AND hotkey = ? AND worker_id = ?`), netuid, hotkey, worker)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var u, m string
		if err := rows.Scan(&u, &m); err != nil {
			return nil, err
		}
		out[u] = m
	}
	return out, rows.Err()
}

// ComputeChallenge is a stored challenge.
type ComputeChallenge struct {
	Netuid            uint16
	ID                string
	Hotkey, WorkerID  string
	Kind              string
	Data              json.RawMessage // challenge_data as sent
	Status            string
	CreatedAt         time.Time
	SentAt, ExpiresAt time.Time // zero when unset
	ComputedAt        time.Time
	ComputationTimeMS *float64
	Commitments       map[string]string
	Targets           json.RawMessage
	Proof             json.RawMessage // while verifying
	VerifiedAt        time.Time
	SuccessCount      int
	IsSuccess         bool
	Notes             string
}

const computeChallengeColumns = `netuid, challenge_id, hotkey, worker_id, kind, data, status, created_at, sent_at, expires_at, computed_at,
	computation_time_ms, commitments, targets, proof, verified_at, success_count, is_success, verification_notes`

func scanComputeChallenge(sc interface{ Scan(...any) error }) (ComputeChallenge, error) {
	var c ComputeChallenge
	var data, commitments, targets string
	var proof sql.NullString
	var sent, expires, computed, verified sql.NullTime
	var ms sql.NullFloat64
	err := sc.Scan(&c.Netuid, &c.ID, &c.Hotkey, &c.WorkerID, &c.Kind, &data, &c.Status, &c.CreatedAt, &sent, &expires, &computed,
		&ms, &commitments, &targets, &proof, &verified, &c.SuccessCount, &c.IsSuccess, &c.Notes)
	if err != nil {
		return c, err
	}
	c.Data, c.Targets = json.RawMessage(data), json.RawMessage(targets)
	if proof.Valid {
		c.Proof = json.RawMessage(proof.String)
	}
	if ms.Valid {
		c.ComputationTimeMS = &ms.Float64
	}
	c.SentAt, c.ExpiresAt, c.ComputedAt, c.VerifiedAt = sent.Time.UTC(), expires.Time.UTC(), computed.Time.UTC(), verified.Time.UTC()
	c.CreatedAt = c.CreatedAt.UTC()
	if err := json.Unmarshal([]byte(commitments), &c.Commitments); err != nil {
		return c, fmt.Errorf("challenge %s: commitments: %w", c.ID, err)
	}
	return c, nil
}

// CreateComputeChallenges stores new challenges, created.
func (s *Store) CreateComputeChallenges(ctx context.Context, cs []ComputeChallenge) error {
	now := s.now()
	tx, end, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer end()
	rows := make([][]any, len(cs))
	for i, c := range cs {
		rows[i] = []any{c.Netuid, c.ID, c.Hotkey, c.WorkerID, c.Kind, string(c.Data), "created", now}
	}
	if err := s.insertRows(ctx, tx, `INSERT INTO compute_challenges (netuid, challenge_id, hotkey, worker_id, kind, data, status, created_at)`, "", rows); err != nil {
		return fmt.Errorf("create challenges: %w", err)
	}
	return tx.Commit()
}

// PullComputeChallenges hands a miner its created challenges: they become
// sent, expiring after timeout.
func (s *Store) PullComputeChallenges(ctx context.Context, netuid uint16, hotkey string, timeout time.Duration) ([]ComputeChallenge, error) {
	now := s.now()
	tx, end, err := s.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	rows, err := tx.QueryContext(ctx, s.Rebind(`SELECT `+computeChallengeColumns+` FROM compute_challenges
		WHERE netuid = ? AND hotkey = ? AND status = 'created' ORDER BY created_at, challenge_id`), netuid, hotkey)
	if err != nil {
		return nil, err
	}
	var out []ComputeChallenge
	for rows.Next() {
		c, err := scanComputeChallenge(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if _, err := tx.ExecContext(ctx, s.Rebind(`UPDATE compute_challenges SET status = 'sent', sent_at = ?, expires_at = ?
			WHERE netuid = ? AND challenge_id = ? AND status = 'created'`), now, now.Add(timeout), netuid, out[i].ID); err != nil {
			return nil, err
		}
		out[i].Status, out[i].SentAt, out[i].ExpiresAt = "sent", now, now.Add(timeout)
	}
	return out, tx.Commit()
}

// GetComputeChallenge reads a challenge of a miner.
func (s *Store) GetComputeChallenge(ctx context.Context, netuid uint16, id, hotkey string) (ComputeChallenge, error) {
	c, err := scanComputeChallenge(s.db.QueryRowContext(ctx, s.Rebind(`SELECT `+computeChallengeColumns+` FROM compute_challenges
		WHERE netuid = ? AND challenge_id = ? AND hotkey = ?`), netuid, id, hotkey))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("challenge %s: %w", id, ErrNotFound)
	}
	return c, err
}

func (s *Store) transition(ctx context.Context, netuid uint16, id string, from []string, set string, args ...any) error {
	q := `UPDATE compute_challenges SET ` + set + ` WHERE netuid = ? AND challenge_id = ? AND status IN (?` + repeat(", ?", len(from)-1) + `)`
	all := append(args, netuid, id)
	for _, f := range from {
		all = append(all, f)
	}
	res, err := s.exec(ctx, s.Rebind(q), all...)
	if err != nil {
		return fmt.Errorf("challenge %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("challenge %s: %w", id, ErrComputeState)
	}
	return nil
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

// CommitComputeChallenge records a commitment: created or sent →
// committed, with its roots, targets and time.
func (s *Store) CommitComputeChallenge(ctx context.Context, netuid uint16, id string, roots map[string]string, targets json.RawMessage, computationMS *float64) error {
	r, _ := json.Marshal(roots)
	var ms sql.NullFloat64
	if computationMS != nil {
		ms = sql.NullFloat64{Float64: *computationMS, Valid: true}
	}
	return s.transition(ctx, netuid, id, []string{"created", "sent"},
		`status = 'committed', commitments = ?, targets = ?, computed_at = ?, computation_time_ms = ?`, string(r), string(targets), s.now(), ms)
}

// QueueComputeProof stores a committed challenge's proof for verification:
// committed → verifying.
func (s *Store) QueueComputeProof(ctx context.Context, netuid uint16, id string, proof, debug json.RawMessage) error {
	if len(debug) == 0 {
		debug = json.RawMessage("{}")
	}
	return s.transition(ctx, netuid, id, []string{"committed"}, `status = 'verifying', proof = ?, debug_info = ?`, string(proof), string(debug))
}

// FailComputeChallenge ends a challenge not yet decided as failed.
func (s *Store) FailComputeChallenge(ctx context.Context, netuid uint16, id, notes string) error {
	return s.transition(ctx, netuid, id, []string{"created", "sent", "committed", "verifying"},
		`status = 'failed', verification_notes = ?, verified_at = ?, proof = NULL`, notes, s.now())
}

// ComputeVerifications are the challenges waiting for verification, the
// oldest first.
func (s *Store) ComputeVerifications(ctx context.Context, netuid uint16, limit int) ([]ComputeChallenge, error) {
	rows, err := s.db.QueryContext(ctx, s.Rebind(`SELECT `+computeChallengeColumns+` FROM compute_challenges
		WHERE netuid = ? AND status = 'verifying' ORDER BY created_at, challenge_id LIMIT ?`), netuid, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ComputeChallenge
	for rows.Next() {
		c, err := scanComputeChallenge(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// FinishComputeVerification decides a verifying challenge, forgets its
// proof, and updates its worker's task statistics (an average over its
// last 100 tasks, as the reference keeps it).
func (s *Store) FinishComputeVerification(ctx context.Context, netuid uint16, id string, success bool, successCount int, notes string, took time.Duration) error {
	now := s.now()
	tx, end, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer end()
	status := "failed"
	if success {
		status = "verified"
	}
	var hotkey, worker string
	var ms sql.NullFloat64
	if err := tx.QueryRowContext(ctx, s.Rebind(`SELECT hotkey, worker_id, computation_time_ms FROM compute_challenges
		WHERE netuid = ? AND challenge_id = ? AND status = 'verifying'`), netuid, id).Scan(&hotkey, &worker, &ms); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("challenge %s: %w", id, ErrComputeState)
		}
		return err
	}
	if _, err := tx.ExecContext(ctx, s.Rebind(`UPDATE compute_challenges SET status = ?, is_success = ?, success_count = ?, verification_notes = ?,
		verified_at = ?, verification_time_ms = ?, proof = NULL WHERE netuid = ? AND challenge_id = ?`),
		status, success, successCount, notes, now, float64(took.Microseconds())/1000, netuid, id); err != nil {
		return err
	}
	var done, failed int64
	var avg float64
	err = tx.QueryRowContext(ctx, s.Rebind(`SELECT tasks_completed, tasks_failed, avg_task_time_ms FROM compute_workers WHERE netuid = ? AND hotkey = ? AND worker_id = ?`),
		netuid, hotkey, worker).Scan(&done, &failed, &avg)
	if err == nil {
		if success {
			done++
			if ms.Valid {
				alpha := 1 / math.Min(float64(done+failed), 100)
				avg = avg*(1-alpha) + ms.Float64*alpha
			}
		} else {
			failed++
		}
		if _, err := tx.ExecContext(ctx, s.Rebind(`UPDATE compute_workers SET tasks_completed = ?, tasks_failed = ?, avg_task_time_ms = ?
			WHERE netuid = ? AND hotkey = ? AND worker_id = ?`), done, failed, avg, netuid, hotkey, worker); err != nil {
			return err
		}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return tx.Commit()
}

// SweepComputeChallenges fails what can no longer complete: sent ones past
// their expiry, created ones never pulled within unpulled (the reference
// lets them block a worker forever), and committed or verifying ones whose
// commitment is older than stale (a proof that never came, a verifier that
// never finished). It returns how many it failed, by reason.
// sweepBatch is how many challenges one sweep statement fails.
const sweepBatch = 500

func (s *Store) SweepComputeChallenges(ctx context.Context, netuid uint16, unpulled, stale time.Duration) (map[string]int64, error) {
	now := s.now()
	out := map[string]int64{}
	for _, q := range []struct {
		reason, where string
		at            time.Time
	}{
		{"expired", `status = 'sent' AND expires_at < ?`, now},
		{"never pulled", `status = 'created' AND created_at < ?`, now.Add(-unpulled)},
		{"stale", `status IN ('committed', 'verifying') AND computed_at < ?`, now.Add(-stale)},
	} {
		// In batches: one statement over a whole round of a large subnet
		// would hold SQLite's write lock, and every heartbeat, for seconds.
		for {
			res, err := s.exec(ctx, s.Rebind(`UPDATE compute_challenges SET status = 'failed', verification_notes = ?, verified_at = ?, proof = NULL
				WHERE netuid = ? AND challenge_id IN (SELECT challenge_id FROM compute_challenges WHERE netuid = ? AND `+q.where+` LIMIT ?)`),
				q.reason, now, netuid, netuid, q.at, sweepBatch)
			if err != nil {
				return out, err
			}
			n, _ := res.RowsAffected()
			out[q.reason] += n
			if n < sweepBatch {
				break
			}
		}
	}
	return out, nil
}

// SetComputeLeases stores lease scores MeshHub published, for known
// workers only; it returns how many rows it updated.
func (s *Store) SetComputeLeases(ctx context.Context, netuid uint16, leases map[[2]string]float64, replace bool) (int64, error) {
	tx, end, err := s.beginWrite(ctx)
	if err != nil {
		return 0, err
	}
	defer end()
	if replace {
		if _, err := tx.ExecContext(ctx, s.Rebind(`UPDATE compute_workers SET lease_score = 0 WHERE netuid = ? AND lease_score > 0`), netuid); err != nil {
			return 0, err
		}
	}
	keys := make([][2]string, 0, len(leases))
	for k := range leases {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+"\x00"+keys[i][1] < keys[j][0]+"\x00"+keys[j][1] })
	var total int64
	for _, k := range keys {
		res, err := tx.ExecContext(ctx, s.Rebind(`UPDATE compute_workers SET lease_score = ? WHERE netuid = ? AND hotkey = ? AND worker_id = ?`),
			leases[k], netuid, k[0], k[1])
		if err != nil {
			return 0, err
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, tx.Commit()
}

// ComputeScoringRows are the rows a weight pass reads.
type ComputeScoringRows struct {
	Owners []ComputeGPUOwner
	// Workers are the leased workers (lease_score > 0); WorkerCounts
	// every miner's workers not deleted.
	Workers      []ComputeWorkerLease
	WorkerCounts map[string]int
	Miners       []ComputeMinerRow
}

// ComputeScoredChallenge is a verified challenge in the ranking window.
type ComputeScoredChallenge struct {
	Hotkey, WorkerID  string
	IsSuccess         bool
	ComputationTimeMS *float64
	SuccessCount      int
	Units             []string // committed uuids
}

// ComputeGPUOwner is a GPU's report by a miner: the reports a pass reads
// are those within its ranking window, oldest first.
type ComputeGPUOwner struct {
	UUID, Hotkey string
}

// ComputeBucketRow is a worker's heartbeats in one 5-minute bucket.
type ComputeBucketRow struct {
	Hotkey, WorkerID string
	Bucket           int64
	LatestAt         time.Time
	GPUs             []string
}

// ComputeIPRun is a run of one public IP.
type ComputeIPRun struct {
	Hotkey, WorkerID string
	IP               string
	FirstAt, LastAt  time.Time
}

// ComputeWorkerLease is a worker's lease score.
type ComputeWorkerLease struct {
	Hotkey     string
	LeaseScore float64
	Deleted    bool
}

// ComputeMinerRow is a miner that has heartbeated.
type ComputeMinerRow struct {
	Hotkey        string
	LastHeartbeat time.Time
}

// ComputeScoringRows reads what a weight pass needs besides the
// challenges (ComputeScoredChallenges) and each miner's activity
// (ComputeMinerActivity): GPU reports since rankingStart, oldest first,
// the leased workers and every miner's worker count (of the workers heard
// from since leaseSince, when it is set), and every miner.
func (s *Store) ComputeScoringRows(ctx context.Context, netuid uint16, rankingStart, leaseSince time.Time) (ComputeScoringRows, error) {
	var out ComputeScoringRows
	q := func(query string, args []any, scan func(*sql.Rows) error) error {
		return s.eachRow(ctx, query, args, scan)
	}
	var err error
	if err == nil {
		// Oldest report first: a later one of the same uuid supersedes it.
		err = q(`SELECT uuid, hotkey FROM compute_gpus WHERE netuid = ? AND last_seen >= ? ORDER BY last_seen`,
			[]any{netuid, rankingStart.UTC()}, func(r *sql.Rows) error {
				var o ComputeGPUOwner
				if err := r.Scan(&o.UUID, &o.Hotkey); err != nil {
					return err
				}
				out.Owners = append(out.Owners, o)
				return nil
			})
	}
	// With a leaseSince, only the workers heard from since then count.
	recent, recentArgs := "", []any{netuid}
	if !leaseSince.IsZero() {
		recent, recentArgs = " AND last_heartbeat >= ?", []any{netuid, leaseSince.UTC()}
	}
	if err == nil {
		// Only the leased workers, and every miner's count: the zeros of
		// the others add nothing to a lease sum but their number.
		err = q(`SELECT hotkey, lease_score, deleted_at IS NOT NULL FROM compute_workers WHERE netuid = ? AND lease_score > 0`+recent+`
			ORDER BY hotkey, lease_score DESC`, recentArgs, func(r *sql.Rows) error {
			var w ComputeWorkerLease
			if err := r.Scan(&w.Hotkey, &w.LeaseScore, &w.Deleted); err != nil {
				return err
			}
			out.Workers = append(out.Workers, w)
			return nil
		})
	}
	if err == nil {
		out.WorkerCounts = map[string]int{}
		err = q(`SELECT hotkey, COUNT(*) FROM compute_workers WHERE netuid = ? AND deleted_at IS NULL`+recent+` GROUP BY hotkey`, recentArgs,
			func(r *sql.Rows) error {
				var hk string
				var n int
				if err := r.Scan(&hk, &n); err != nil {
					return err
				}
				out.WorkerCounts[hk] = n
				return nil
			})
	}
	if err == nil {
		err = q(`SELECT hotkey, last_heartbeat FROM compute_miners WHERE netuid = ? ORDER BY hotkey`, []any{netuid}, func(r *sql.Rows) error {
			var m ComputeMinerRow
			if err := r.Scan(&m.Hotkey, &m.LastHeartbeat); err != nil {
				return err
			}
			m.LastHeartbeat = m.LastHeartbeat.UTC()
			out.Miners = append(out.Miners, m)
			return nil
		})
	}
	return out, err
}

// asTime reads an aggregate's timestamp, which SQLite hands back as text.
func asTime(v any) (time.Time, error) {
	switch t := v.(type) {
	case time.Time:
		return t.UTC(), nil
	case string:
		for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999"} {
			if p, err := time.Parse(layout, t); err == nil {
				return p.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("unreadable time %q", t)
	}
	return time.Time{}, fmt.Errorf("unreadable time %T", v)
}

// SaveComputeWeightPass stores a weight pass's miners (their uids, scores,
// weights and factors, as JSON).
func (s *Store) SaveComputeWeightPass(ctx context.Context, netuid uint16, miners json.RawMessage) error {
	_, err := s.exec(ctx, s.Rebind(`INSERT INTO compute_weight_passes (netuid, at, miners) VALUES (?, ?, ?)`), netuid, s.now(), string(miners))
	return err
}

// ComputeIssuanceWorker is what challenge issuance reads of a worker.
type ComputeIssuanceWorker struct {
	Hotkey, WorkerID string
	LastHeartbeat    time.Time
	LeaseScore       float64
	Capabilities     []string
	Deleted          bool
	Pending          bool     // a challenge created, sent, committed or verifying
	GPUModels        []string // of its reported GPUs
}

// ComputeIssuanceWorkers streams the workers of the miners heard from
// since minersSince to fn, one miner at a time in hotkey order (workers
// in id order), so that a large subnet is never held whole: with each
// worker's lease, capabilities, whether it has a challenge open, and its
// GPUs' models.
func (s *Store) ComputeIssuanceWorkers(ctx context.Context, netuid uint16, minersSince time.Time, fn func(hotkey string, workers []ComputeIssuanceWorker) error) error {
	rows, err := s.db.QueryContext(ctx, s.Rebind(`SELECT w.hotkey, w.worker_id, w.last_heartbeat, w.lease_score, w.capabilities, w.deleted_at IS NOT NULL,
		EXISTS (SELECT 1 FROM compute_challenges c WHERE c.netuid = w.netuid AND c.hotkey = w.hotkey AND c.worker_id = w.worker_id
			AND c.status IN ('created', 'sent', 'committed', 'verifying'))
		FROM compute_workers w JOIN compute_miners m ON m.netuid = w.netuid AND m.hotkey = w.hotkey
		WHERE w.netuid = ? AND m.last_heartbeat >= ? ORDER BY w.hotkey, w.worker_id`), netuid, minersSince.UTC())
	if err != nil {
		return err
	}
	defer rows.Close()
	var batch []ComputeIssuanceWorker
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		models, err := s.minerGPUModels(ctx, netuid, batch[0].Hotkey)
		if err != nil {
			return err
		}
		for i := range batch {
			batch[i].GPUModels = models[batch[i].WorkerID]
		}
		err = fn(batch[0].Hotkey, batch)
		batch = nil
		return err
	}
	for rows.Next() {
		var w ComputeIssuanceWorker
		var caps string
		if err := rows.Scan(&w.Hotkey, &w.WorkerID, &w.LastHeartbeat, &w.LeaseScore, &caps, &w.Deleted, &w.Pending); err != nil {
			return err
		}
		w.LastHeartbeat = w.LastHeartbeat.UTC()
		if err := json.Unmarshal([]byte(caps), &w.Capabilities); err != nil {
			return err
		}
		if len(batch) > 0 && batch[0].Hotkey != w.Hotkey {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, w)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return flush()
}

// minerGPUModels are the models of a miner's workers' GPUs, sorted per
// worker.
func (s *Store) minerGPUModels(ctx context.Context, netuid uint16, hotkey string) (map[string][]string, error) {
	rows, err := s.db.QueryContext(ctx, s.Rebind(`SELECT worker_id, model FROM compute_gpus WHERE netuid = ? AND hotkey = ?`), netuid, hotkey)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var worker, model string
		if err := rows.Scan(&worker, &model); err != nil {
			return nil, err
		}
		out[worker] = append(out[worker], model)
	}
	for _, ms := range out {
		sort.Strings(ms)
	}
	return out, rows.Err()
}

// ComputeMinerTally is a miner's activity since a time, as a dashboard
// shows it: its workers heard from, its challenges verified (successes)
// and failed (failures and failed verifications), and the successes' mean
// computation time.
type ComputeMinerTally struct {
	Workers, Verified, Failed int
	MeanMS                    float64
}

// ComputeMinerTallies tallies every miner heard from or challenged since
// since, by hotkey.
func (s *Store) ComputeMinerTallies(ctx context.Context, netuid uint16, since time.Time) (map[string]ComputeMinerTally, error) {
	out := map[string]ComputeMinerTally{}
	rows, err := s.db.QueryContext(ctx, s.Rebind(`SELECT hotkey, COUNT(*) FROM compute_workers WHERE netuid = ? AND last_heartbeat >= ? GROUP BY hotkey`),
		netuid, since.UTC())
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var hk string
		var n int
		if err := rows.Scan(&hk, &n); err != nil {
			rows.Close()
			return nil, err
		}
		t := out[hk]
		t.Workers = n
		out[hk] = t
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.db.QueryContext(ctx, s.Rebind(`SELECT hotkey,
		SUM(CASE WHEN status = 'verified' AND is_success THEN 1 ELSE 0 END),
		SUM(CASE WHEN status = 'failed' OR (status = 'verified' AND NOT is_success) THEN 1 ELSE 0 END),
		AVG(CASE WHEN status = 'verified' AND is_success THEN computation_time_ms END)
		FROM compute_challenges WHERE netuid = ? AND created_at >= ? GROUP BY hotkey`), netuid, since.UTC())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var hk string
		var ok, failed int
		var mean sql.NullFloat64
		if err := rows.Scan(&hk, &ok, &failed, &mean); err != nil {
			return nil, err
		}
		t := out[hk]
		t.Verified, t.Failed, t.MeanMS = ok, failed, mean.Float64
		out[hk] = t
	}
	return out, rows.Err()
}

// LatestComputeWeightPass returns the newest weight pass's time and miners
// (as SaveComputeWeightPass stored them); a zero time when there is none.
func (s *Store) LatestComputeWeightPass(ctx context.Context, netuid uint16) (time.Time, json.RawMessage, error) {
	var at any
	var miners string
	err := s.db.QueryRowContext(ctx, s.Rebind(`SELECT at, miners FROM compute_weight_passes WHERE netuid = ? ORDER BY at DESC, id DESC LIMIT 1`), netuid).
		Scan(&at, &miners)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil, nil
	}
	if err != nil {
		return time.Time{}, nil, err
	}
	t, err := asTime(at)
	return t, json.RawMessage(miners), err
}

// ComputeScoredChallenges streams the subnet's verified challenges created
// since since to fn, newest first: every worker's come in the order a pass
// sums its times in (a worker has one challenge a round, so its own never
// tie), without the window held in memory. CreatedAt is left zero: the
// window is the query's, and reading 45 rounds of a large subnet is
// cheaper without parsing a time a row.
func (s *Store) ComputeScoredChallenges(ctx context.Context, netuid uint16, since time.Time, fn func(ComputeScoredChallenge) error) error {
	rows, err := s.db.QueryContext(ctx, s.Rebind(`SELECT hotkey, worker_id, is_success, computation_time_ms, success_count, commitments
		FROM compute_challenges WHERE netuid = ? AND status = 'verified' AND created_at >= ? ORDER BY created_at DESC`), netuid, since.UTC())
	if err != nil {
		return err
	}
	defer rows.Close()
	// Hotkeys and worker ids repeat every round: one string each.
	names := map[string]string{}
	intern := func(b []byte) string {
		if v, ok := names[string(b)]; ok {
			return v
		}
		v := string(b)
		names[v] = v
		return v
	}
	var hotkey, worker, commitments sql.RawBytes
	for rows.Next() {
		var c ComputeScoredChallenge
		var ms sql.NullFloat64
		if err := rows.Scan(&hotkey, &worker, &c.IsSuccess, &ms, &c.SuccessCount, &commitments); err != nil {
			return err
		}
		c.Hotkey, c.WorkerID = intern(hotkey), intern(worker)
		if ms.Valid {
			c.ComputationTimeMS = &ms.Float64
		}
		if c.Units, err = commitmentUnits(commitments, intern); err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return rows.Err()
}

// commitmentUnits returns the sorted keys of a commitments object ({"uuid":
// "root", …}, as CommitComputeChallenge writes it), reading plain keys
// directly and anything else through encoding/json.
func commitmentUnits(b []byte, intern func([]byte) string) ([]string, error) {
	var out []string
	i := 0
	skip := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
			i++
		}
	}
	str := func() ([]byte, bool) {
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		start := i + 1
		for j := start; j < len(b); j++ {
			switch b[j] {
			case '\\':
				return nil, false
			case '"':
				i = j + 1
				return b[start:j], true
			}
		}
		return nil, false
	}
	fast := func() bool {
		skip()
		if i >= len(b) || b[i] != '{' {
			return false
		}
		i++
		skip()
		if i < len(b) && b[i] == '}' {
			i++
			skip()
			return i == len(b)
		}
		for {
			skip()
			k, ok := str()
			if !ok {
				return false
			}
			skip()
			if i >= len(b) || b[i] != ':' {
				return false
			}
			i++
			skip()
			if _, ok := str(); !ok {
				return false
			}
			out = append(out, intern(k))
			skip()
			if i < len(b) && b[i] == ',' {
				i++
				continue
			}
			if i < len(b) && b[i] == '}' {
				i++
				skip()
				return i == len(b)
			}
			return false
		}
	}
	if !fast() {
		var roots map[string]json.RawMessage
		if err := json.Unmarshal(b, &roots); err != nil {
			return nil, fmt.Errorf("commitments: %w", err)
		}
		out = out[:0]
		for u := range roots {
			out = append(out, u)
		}
	}
	sort.Strings(out)
	return slices.Compact(out), nil
}

// ComputeActivityRows are one miner's heartbeat history as a pass reads
// it: its rings, the rows of the availability window's first bucket, and
// its IP runs from that bucket on.
type ComputeActivityRows struct {
	Rings  []ComputeRing
	Edge   []ComputeBucketRow
	IPRuns []ComputeIPRun
}

// ComputeMinerActivity reads one miner's activity for a pass whose
// availability window starts at availabilityStart.
func (s *Store) ComputeMinerActivity(ctx context.Context, netuid uint16, hotkey string, availabilityStart time.Time) (ComputeActivityRows, error) {
	var out ComputeActivityRows
	q := func(query string, args []any, scan func(*sql.Rows) error) error {
		return s.eachRow(ctx, query, args, scan)
	}
	first := ComputeBucket(availabilityStart)
	err := q(`SELECT kind, subject, newest, bits FROM compute_availability WHERE netuid = ? AND hotkey = ? AND newest >= ? ORDER BY kind, subject`,
		[]any{netuid, hotkey, first}, func(r *sql.Rows) error {
			c := ComputeRing{Hotkey: hotkey}
			err := scanRing(r, &c.Kind, &c)
			out.Rings = append(out.Rings, c)
			return err
		})
	if err == nil {
		// Only the window's first bucket: the rest is in the rings.
		err = q(`SELECT hotkey, worker_id, bucket, latest_at, gpu_uuids FROM compute_heartbeat_buckets WHERE netuid = ? AND bucket = ? AND hotkey = ?
			ORDER BY worker_id`, []any{netuid, ComputeBucket(availabilityStart), hotkey}, func(r *sql.Rows) error {
			var b ComputeBucketRow
			var gpus string
			if err := r.Scan(&b.Hotkey, &b.WorkerID, &b.Bucket, &b.LatestAt, &gpus); err != nil {
				return err
			}
			b.LatestAt = b.LatestAt.UTC()
			out.Edge = append(out.Edge, b)
			return json.Unmarshal([]byte(gpus), &out.Edge[len(out.Edge)-1].GPUs)
		})
	}
	if err == nil {
		err = q(`SELECT hotkey, worker_id, ip, first_at, last_at FROM compute_ip_runs WHERE netuid = ? AND hotkey = ? AND last_at >= ?
			ORDER BY worker_id, first_at`, []any{netuid, hotkey, availabilityStart.UTC()}, func(r *sql.Rows) error {
			var run ComputeIPRun
			if err := r.Scan(&run.Hotkey, &run.WorkerID, &run.IP, &run.FirstAt, &run.LastAt); err != nil {
				return err
			}
			run.FirstAt, run.LastAt = run.FirstAt.UTC(), run.LastAt.UTC()
			out.IPRuns = append(out.IPRuns, run)
			return nil
		})
	}
	return out, err
}

// eachRow runs query and hands each row to scan.
func (s *Store) eachRow(ctx context.Context, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := s.db.QueryContext(ctx, s.Rebind(query), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
