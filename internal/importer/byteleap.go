package importer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-validator/vigil/internal/mechanism/compute/scoring"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/registry"
	"github.com/vigil-validator/vigil/internal/store"
)

// ByteLeapRevisions are the compute validator schema's alembic revisions,
// oldest first: their tables and columns are the same, the later ones add
// indexes and widen a column.
var ByteLeapRevisions = []string{"a4e37089d772", "6a8c3a21b2f1", "3b7f9d12c8ab"}

// ByteLeapOptions shape a compute validator's import.
type ByteLeapOptions struct {
	Netuid uint16
	// At ends the windows imported; zero means the source's newest
	// heartbeat (for the heartbeats) and newest challenge (for the
	// challenges), so that a copy taken at any time imports whole.
	At time.Time
	// AvailabilityHours and RankingWindow are the subnet's windows: the
	// heartbeats of the first and the challenges of the second (each with
	// a bucket's margin) are imported.
	AvailabilityHours int
	RankingWindow     time.Duration
	// DryRun reads and checks everything and writes nothing.
	DryRun bool
	// Batch is how many rows go to the store at once (default 5000).
	Batch int
}

// batch collects rows and hands them on in batches, to the writer.
type batch[T any] struct {
	rows  []T
	size  int
	flush func([]T) (int64, error)
	count *Count
	b     *byteleap
}

func (b *batch[T]) add(ctx context.Context, r T) error {
	b.rows = append(b.rows, r)
	if len(b.rows) >= b.size {
		return b.done(ctx)
	}
	return nil
}

func (b *batch[T]) done(ctx context.Context) error {
	if len(b.rows) == 0 {
		return nil
	}
	rows := b.rows
	b.rows = make([]T, 0, b.size) // the writer owns rows now
	return b.b.write(ctx, func() error {
		n, err := b.flush(rows)
		if err != nil {
			return err
		}
		b.count.Written += n
		b.count.Present += int64(len(rows)) - n
		return nil
	})
}

func newBatch[T any](b *byteleap, c *Count, flush func([]T) (int64, error)) *batch[T] {
	return &batch[T]{size: b.opts.Batch, flush: flush, count: c, b: b}
}

// write runs a write on the store: at once, or in the writer while a
// pipeline runs.
func (b *byteleap) write(ctx context.Context, job func() error) error {
	if b.jobs == nil {
		return job()
	}
	select {
	case b.jobs <- job:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pipeline runs read (which reads the source and hands its writes to
// write) beside a writer that runs them in order: the source's engine and
// the store's each get a core.
func (b *byteleap) pipeline(ctx context.Context, read func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b.jobs = make(chan func() error, 4)
	var readErr error
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		readErr = read(ctx)
		close(b.jobs)
	}()
	var writeErr error
	for job := range b.jobs {
		if writeErr == nil {
			if writeErr = job(); writeErr != nil {
				cancel()
			}
		}
	}
	<-finished
	b.jobs = nil
	if writeErr != nil {
		return writeErr
	}
	return readErr
}

// ImportByteLeap imports a compute validator's database into netuid's
// history in dst.
func ImportByteLeap(ctx context.Context, src *Source, dst *store.Store, opts ByteLeapOptions) (*Summary, error) {
	began := time.Now()
	if opts.AvailabilityHours <= 0 {
		opts.AvailabilityHours = 169
	}
	if opts.RankingWindow <= 0 {
		opts.RankingWindow = 180 * time.Minute
	}
	if opts.Batch <= 0 {
		opts.Batch = 5000
	}
	rev, err := src.revision(ctx, ByteLeapRevisions...)
	if err != nil {
		return nil, err
	}
	for table, cols := range map[string][]string{
		"miner_info":         {"id", "hotkey", "miner_version", "is_online", "last_heartbeat", "created_at", "deleted_at"},
		"worker_info":        {"id", "hotkey", "worker_id", "worker_name", "worker_version", "capabilities", "is_online", "last_heartbeat", "created_at", "deleted_at", "tasks_completed", "tasks_failed", "avg_task_time_ms", "lease_score"},
		"gpu_inventory":      {"id", "gpu_uuid", "hotkey", "worker_id", "gpu_model", "last_seen_at", "deleted_at"},
		"heartbeat_records":  {"id", "hotkey", "worker_id", "gpu_utilization", "public_ip", "created_at", "deleted_at"},
		"compute_challenges": {"id", "challenge_id", "hotkey", "worker_id", "challenge_type", "challenge_data", "sent_at", "expires_at", "computation_time_ms", "computed_at", "merkle_commitments", "verification_targets", "debug_info", "challenge_status", "verification_result", "verification_notes", "verification_time_ms", "verified_at", "is_success", "success_count", "created_at", "deleted_at"},
		"network_weights":    {"id", "hotkey", "weight_value", "challenge_score", "availability_score", "lease_score", "created_at", "deleted_at"},
	} {
		if err := src.requireColumns(ctx, table, cols...); err != nil {
			return nil, err
		}
	}
	sum := &Summary{Source: src.String(), Revision: rev, Netuid: opts.Netuid, DryRun: opts.DryRun}
	im, err := dst.BeginComputeImport(ctx, opts.Netuid)
	if err != nil {
		return nil, err
	}
	defer im.Rollback()
	b := &byteleap{src: src, im: im, opts: opts, sum: sum, workerIP: map[[2]string]string{}}
	for _, step := range []func(context.Context) error{b.miners, b.heartbeats, b.workers, b.gpus, b.challenges} {
		if err := b.pipeline(ctx, step); err != nil {
			return nil, err
		}
	}
	if err := b.weights(ctx); err != nil {
		return nil, err
	}
	if !opts.DryRun {
		if err := im.Commit(); err != nil {
			return nil, err
		}
	}
	sum.Took = time.Since(began).Round(time.Millisecond).String()
	return sum, nil
}

type byteleap struct {
	src      *Source
	im       *store.ComputeImport
	opts     ByteLeapOptions
	sum      *Summary
	workerIP map[[2]string]string // each worker's newest public IP
	hotkeys  map[string]error
	jobs     chan func() error // the writer's, while a pipeline runs
}

// hotkey checks a hotkey once.
func (b *byteleap) hotkey(hk string) error {
	if b.hotkeys == nil {
		b.hotkeys = map[string]error{}
	}
	err, ok := b.hotkeys[hk]
	if !ok {
		_, err = registry.CanonicalHotkey(hk)
		b.hotkeys[hk] = err
	}
	return err
}

// newest is the newest created_at of table's live rows, or zero.
func (b *byteleap) newest(ctx context.Context, table string) (time.Time, error) {
	if !b.opts.At.IsZero() {
		return b.opts.At.UTC(), nil
	}
	var v any
	if err := b.src.db.QueryRowContext(ctx, "SELECT MAX(created_at) FROM "+table+" WHERE deleted_at IS NULL").Scan(&v); err != nil {
		return time.Time{}, fmt.Errorf("table %s: %w", table, err)
	}
	t, _, err := parseTime(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("table %s: newest created_at: %w", table, err)
	}
	return t, nil
}

func (b *byteleap) each(ctx context.Context, table, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := b.src.db.QueryContext(ctx, b.src.rebind(query), args...)
	if err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	return nil
}

func rowErr(table string, id int64, format string, a ...any) error {
	return &RowError{Table: table, Row: "id " + strconv.FormatInt(id, 10), Err: fmt.Errorf(format, a...)}
}

func (b *byteleap) miners(ctx context.Context) error {
	c := b.sum.table("miner_info", "compute_miners")
	out := newBatch(b, c, func(ms []store.ImportedMiner) (int64, error) { return b.im.Miners(ctx, ms) })
	err := b.each(ctx, "miner_info", `SELECT id, hotkey, miner_version, last_heartbeat, created_at, deleted_at FROM miner_info ORDER BY id`, nil,
		func(r *sql.Rows) error {
			var id int64
			var hk string
			var version sql.NullString
			var last, created, deleted any
			if err := r.Scan(&id, &hk, &version, &last, &created, &deleted); err != nil {
				return fmt.Errorf("read miner_info: %w", err)
			}
			c.Read++
			if deleted != nil {
				c.skip("soft-deleted")
				return nil
			}
			if err := b.hotkey(hk); err != nil {
				return rowErr("miner_info", id, "%v", err)
			}
			first, ok, err := parseTime(created)
			if err != nil || !ok {
				return rowErr("miner_info", id, "created_at: %v", orMissing(err))
			}
			lh, ok, err := parseTime(last)
			if err != nil {
				return rowErr("miner_info", id, "last_heartbeat: %v", err)
			}
			if !ok {
				lh = first // never heard from: offline
			}
			return out.add(ctx, store.ImportedMiner{Hotkey: hk, FirstSeen: first, LastHeartbeat: lh, Version: version.String})
		})
	if err != nil {
		return err
	}
	return out.done(ctx)
}

func orMissing(err error) error {
	if err == nil {
		return errors.New("missing")
	}
	return err
}

// gpuUUIDs reads the uuids of a heartbeat's NVML list: each entry's uuid,
// gpu_uuid or id, the first that is a non-empty string.
func gpuUUIDs(raw string, into []string) ([]string, error) {
	if raw == "" || raw == "null" || raw == "[]" {
		return into, nil
	}
	var list []struct {
		UUID    any `json:"uuid"`
		GPUUUID any `json:"gpu_uuid"`
		ID      any `json:"id"`
	}
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		return into, fmt.Errorf("gpu_utilization is not a list of objects: %v", err)
	}
	for _, g := range list {
		for _, v := range []any{g.UUID, g.GPUUUID, g.ID} {
			if s, ok := v.(string); ok && s != "" {
				into = append(into, s)
				break
			}
		}
	}
	return into, nil
}

// heartbeats turns the heartbeat records of the availability window into
// vigil's buckets, rings and IP runs, a worker at a time (the records come
// ordered by hotkey, worker and time) and a miner's GPU rings at a time.
func (b *byteleap) heartbeats(ctx context.Context) error {
	c := b.sum.table("heartbeat_records", "compute_heartbeat_buckets")
	ipc := &Count{Table: "(IP runs)", Into: "compute_ip_runs"}
	ringc := &Count{Table: "(availability)", Into: "compute_availability"}
	defer func() { b.sum.Tables = append(b.sum.Tables, ipc, ringc) }()
	anchor, err := b.newest(ctx, "heartbeat_records")
	if err != nil {
		return err
	}
	if anchor.IsZero() {
		return nil
	}
	start := anchor.Add(-time.Duration(b.opts.AvailabilityHours)*time.Hour - 5*time.Minute)
	c.Comments = append(c.Comments, fmt.Sprintf("the %d hours before %s", b.opts.AvailabilityHours, anchor.Format(time.RFC3339)))
	buckets := newBatch(b, c, func(rs []store.ComputeBucketRow) (int64, error) { return b.im.Buckets(ctx, rs) })
	runs := newBatch(b, ipc, func(rs []store.ComputeIPRun) (int64, error) { return b.im.IPRuns(ctx, rs) })
	var (
		hotkey, worker string
		bucket         *store.ComputeBucketRow
		run            *store.ComputeIPRun
		workerRings    []store.ComputeRing
		gpuRings       = map[string]*store.BucketRing{}
		ring           store.BucketRing
		lastIP         string
		uuids          []string
	)
	// endBucket hands on the worker's current bucket, its GPUs once each.
	endBucket := func() error {
		if bucket == nil {
			return nil
		}
		slices.Sort(bucket.GPUs)
		bucket.GPUs = slices.Compact(bucket.GPUs)
		err := buckets.add(ctx, *bucket)
		bucket = nil
		return err
	}
	addRun := func() error {
		ipc.Read++
		return runs.add(ctx, *run)
	}
	endWorker := func() error {
		if worker == "" {
			return nil
		}
		if err := endBucket(); err != nil {
			return err
		}
		if run != nil {
			if err := addRun(); err != nil {
				return err
			}
			run = nil
		}
		workerRings = append(workerRings, store.ComputeRing{Hotkey: hotkey, Kind: store.RingWorker, Subject: worker, Ring: ring})
		ring = store.BucketRing{}
		if lastIP != "" {
			b.workerIP[[2]string{hotkey, worker}] = lastIP
		}
		lastIP = ""
		worker = ""
		return nil
	}
	endMiner := func() error {
		if err := endWorker(); err != nil {
			return err
		}
		rings := workerRings
		for u, r := range gpuRings {
			rings = append(rings, store.ComputeRing{Hotkey: hotkey, Kind: store.RingGPU, Subject: u, Ring: *r})
		}
		ringc.Read += int64(len(rings))
		workerRings, gpuRings = nil, map[string]*store.BucketRing{}
		return b.write(ctx, func() error {
			n, err := b.im.Rings(ctx, rings)
			if err != nil {
				return err
			}
			ringc.Written += n
			ringc.Present += int64(len(rings)) - n
			return nil
		})
	}
	err = b.each(ctx, "heartbeat_records", `SELECT id, hotkey, worker_id, created_at, gpu_utilization, public_ip FROM heartbeat_records
		WHERE deleted_at IS NULL AND created_at >= ? ORDER BY hotkey, worker_id, created_at`, []any{b.src.since(start)}, func(r *sql.Rows) error {
		var id int64
		var hk string
		var wid, ip sql.NullString
		var created, gpus any
		if err := r.Scan(&id, &hk, &wid, &created, &gpus, &ip); err != nil {
			return fmt.Errorf("read heartbeat_records: %w", err)
		}
		c.Read++
		at, ok, err := parseTime(created)
		if err != nil || !ok {
			return rowErr("heartbeat_records", id, "created_at: %v", orMissing(err))
		}
		if at.Before(start) {
			c.Read--
			return nil
		}
		if !wid.Valid || wid.String == "" {
			c.skip("no worker id")
			return nil
		}
		if hk != hotkey {
			if hotkey != "" {
				if err := endMiner(); err != nil {
					return err
				}
			}
			if err := b.hotkey(hk); err != nil {
				return rowErr("heartbeat_records", id, "%v", err)
			}
			hotkey = hk
		}
		if wid.String != worker {
			if err := endWorker(); err != nil {
				return err
			}
			worker = wid.String
		}
		raw, _ := text(gpus)
		if uuids, err = gpuUUIDs(raw, uuids[:0]); err != nil {
			return rowErr("heartbeat_records", id, "%v", err)
		}
		bk := store.ComputeBucket(at)
		if bucket != nil && bucket.Bucket != bk {
			if err := endBucket(); err != nil {
				return err
			}
		}
		if bucket == nil {
			bucket = &store.ComputeBucketRow{Hotkey: hk, WorkerID: worker, Bucket: bk}
		}
		if at.After(bucket.LatestAt) {
			bucket.LatestAt = at
		}
		bucket.GPUs = append(bucket.GPUs, uuids...)
		ring.Add(bk)
		for _, u := range uuids {
			g := gpuRings[u]
			if g == nil {
				g = &store.BucketRing{}
				gpuRings[u] = g
			}
			g.Add(bk)
		}
		if ip.Valid && ip.String != "" {
			lastIP = ip.String
			if run != nil && run.IP != ip.String {
				if err := addRun(); err != nil {
					return err
				}
				run = nil
			}
			if run == nil {
				run = &store.ComputeIPRun{Hotkey: hk, WorkerID: worker, IP: ip.String, FirstAt: at}
			}
			run.LastAt = at
		}
		return nil
	})
	if err != nil {
		return err
	}
	if hotkey != "" {
		if err := endMiner(); err != nil {
			return err
		}
	}
	if err := buckets.done(ctx); err != nil {
		return err
	}
	return runs.done(ctx)
}

func (b *byteleap) workers(ctx context.Context) error {
	c := b.sum.table("worker_info", "compute_workers")
	out := newBatch(b, c, func(ws []store.ImportedWorker) (int64, error) { return b.im.Workers(ctx, ws) })
	err := b.each(ctx, "worker_info", `SELECT id, hotkey, worker_id, worker_name, worker_version, capabilities, is_online, last_heartbeat, created_at,
		deleted_at, tasks_completed, tasks_failed, avg_task_time_ms, lease_score FROM worker_info ORDER BY id`, nil, func(r *sql.Rows) error {
		var (
			id                  int64
			hk, wid             string
			name, version       sql.NullString
			online              sql.NullBool
			caps, last, created any
			deleted             any
			completed, failed   sql.NullInt64
			avgMS, lease        sql.NullFloat64
		)
		if err := r.Scan(&id, &hk, &wid, &name, &version, &caps, &online, &last, &created, &deleted, &completed, &failed, &avgMS, &lease); err != nil {
			return fmt.Errorf("read worker_info: %w", err)
		}
		c.Read++
		if err := b.hotkey(hk); err != nil {
			return rowErr("worker_info", id, "%v", err)
		}
		if wid == "" {
			return rowErr("worker_info", id, "no worker_id")
		}
		w := store.ImportedWorker{Hotkey: hk, WorkerID: wid, Name: name.String, Version: version.String, Status: "offline",
			PublicIP: b.workerIP[[2]string{hk, wid}], TasksCompleted: completed.Int64, TasksFailed: failed.Int64, AvgTaskTimeMS: avgMS.Float64}
		if online.Bool {
			w.Status = "online"
		}
		if raw, ok := text(caps); ok && raw != "null" {
			if err := json.Unmarshal([]byte(raw), &w.Capabilities); err != nil {
				return rowErr("worker_info", id, "capabilities is not a list of strings: %v", err)
			}
		}
		if lease.Valid {
			if math.IsNaN(lease.Float64) || lease.Float64 < 0 || lease.Float64 > 1 {
				return rowErr("worker_info", id, "lease_score %v of worker %s is outside [0, 1]", lease.Float64, wid)
			}
			w.LeaseScore = lease.Float64
		}
		var ok bool
		var err error
		if w.FirstSeen, ok, err = parseTime(created); err != nil || !ok {
			return rowErr("worker_info", id, "created_at: %v", orMissing(err))
		}
		if w.LastHeartbeat, ok, err = parseTime(last); err != nil {
			return rowErr("worker_info", id, "last_heartbeat: %v", err)
		} else if !ok {
			w.LastHeartbeat = w.FirstSeen
		}
		if t, ok, err := parseTime(deleted); err != nil {
			return rowErr("worker_info", id, "deleted_at: %v", err)
		} else if ok {
			w.DeletedAt = &t
		}
		return out.add(ctx, w)
	})
	if err != nil {
		return err
	}
	return out.done(ctx)
}

func (b *byteleap) gpus(ctx context.Context) error {
	c := b.sum.table("gpu_inventory", "compute_gpus")
	out := newBatch(b, c, func(gs []store.ImportedGPU) (int64, error) { return b.im.GPUs(ctx, gs) })
	err := b.each(ctx, "gpu_inventory", `SELECT id, gpu_uuid, hotkey, worker_id, gpu_model, last_seen_at, deleted_at FROM gpu_inventory ORDER BY id`, nil,
		func(r *sql.Rows) error {
			var id int64
			var uuid, hk string
			var wid, model sql.NullString
			var seen, deleted any
			if err := r.Scan(&id, &uuid, &hk, &wid, &model, &seen, &deleted); err != nil {
				return fmt.Errorf("read gpu_inventory: %w", err)
			}
			c.Read++
			switch {
			case deleted != nil:
				c.skip("soft-deleted")
				return nil
			case uuid == "" || uuid == "-1":
				c.skip("no GPU uuid")
				return nil
			}
			if err := b.hotkey(hk); err != nil {
				return rowErr("gpu_inventory", id, "%v", err)
			}
			at, ok, err := parseTime(seen)
			if err != nil {
				return rowErr("gpu_inventory", id, "last_seen_at: %v", err)
			}
			if !ok {
				c.skip("never seen (no last_seen_at): owns nothing")
				return nil
			}
			return out.add(ctx, store.ImportedGPU{Hotkey: hk, WorkerID: wid.String, UUID: uuid, Model: model.String, LastSeen: at})
		})
	if err != nil {
		return err
	}
	return out.done(ctx)
}

func (b *byteleap) challenges(ctx context.Context) error {
	c := b.sum.table("compute_challenges", "compute_challenges")
	anchor, err := b.newest(ctx, "compute_challenges")
	if err != nil || anchor.IsZero() {
		return err
	}
	start := anchor.Add(-b.opts.RankingWindow - 5*time.Minute)
	c.Comments = append(c.Comments, fmt.Sprintf("the %s before %s", b.opts.RankingWindow, anchor.Format(time.RFC3339)))
	out := newBatch(b, c, func(cs []store.ImportedChallenge) (int64, error) { return b.im.Challenges(ctx, cs) })
	const table = "compute_challenges"
	err = b.each(ctx, table, `SELECT id, challenge_id, hotkey, worker_id, challenge_type, challenge_data, sent_at, expires_at, computation_time_ms,
		computed_at, merkle_commitments, verification_targets, debug_info, challenge_status, verification_result, verification_notes,
		verification_time_ms, verified_at, is_success, success_count, created_at FROM compute_challenges
		WHERE deleted_at IS NULL AND created_at >= ? ORDER BY created_at, id`, []any{b.src.since(start)}, func(r *sql.Rows) error {
		var (
			id                                int64
			cid, hk, kind, status             string
			wid, notes                        sql.NullString
			data, com, targets, debug         any
			sent, expires, computed, verified any
			created                           any
			ms, verifyMS                      sql.NullFloat64
			result, success                   sql.NullBool
			count                             sql.NullInt64
		)
		if err := r.Scan(&id, &cid, &hk, &wid, &kind, &data, &sent, &expires, &ms, &computed, &com, &targets, &debug, &status, &result, &notes,
			&verifyMS, &verified, &success, &count, &created); err != nil {
			return fmt.Errorf("read compute_challenges: %w", err)
		}
		at, ok, err := parseTime(created)
		if err != nil || !ok {
			return rowErr(table, id, "created_at: %v", orMissing(err))
		}
		if at.Before(start) {
			return nil
		}
		c.Read++
		switch status {
		case "verified", "failed":
		case "created", "sent", "committed", "verifying":
			c.skip("in flight (" + status + "): its worker gets a new challenge")
			return nil
		default:
			return rowErr(table, id, "challenge_status %q is not a state of the challenge machine", status)
		}
		if err := b.hotkey(hk); err != nil {
			return rowErr(table, id, "%v", err)
		}
		if kind != "cpu_matrix" && kind != "gpu_matrix" {
			return rowErr(table, id, "challenge_type %q: want cpu_matrix or gpu_matrix", kind)
		}
		ch := store.ImportedChallenge{ID: cid, Hotkey: hk, WorkerID: wid.String, Kind: kind, Status: status, CreatedAt: at,
			SuccessCount: int(count.Int64), IsSuccess: success.Bool, VerificationNotes: notes.String}
		if status == "verified" && !(result.Valid && result.Bool) {
			// The reference scores a verified challenge only with a true
			// verification result: without one it counts nowhere, which is
			// what a failed one does here.
			ch.Status, ch.IsSuccess = "failed", false
			c.Comments = appendOnce(c.Comments, "verified without a verification result: imported as failed (the reference's scoring counts them nowhere)")
		}
		if ms.Valid {
			ch.ComputationTimeMS = &ms.Float64
		}
		if verifyMS.Valid {
			ch.VerificationTimeMS = &verifyMS.Float64
		}
		for _, f := range []struct {
			name string
			v    any
			into *json.RawMessage
		}{{"challenge_data", data, &ch.Data}, {"merkle_commitments", com, &ch.Commitments}, {"verification_targets", targets, &ch.Targets},
			{"debug_info", debug, &ch.DebugInfo}} {
			raw, ok := text(f.v)
			if !ok || raw == "null" {
				continue
			}
			if !json.Valid([]byte(raw)) {
				return rowErr(table, id, "%s is not JSON", f.name)
			}
			*f.into = json.RawMessage(raw)
		}
		if len(ch.Commitments) > 0 {
			var roots map[string]json.RawMessage
			if err := json.Unmarshal(ch.Commitments, &roots); err != nil {
				return rowErr(table, id, "merkle_commitments is not an object of uuid → root: %v", err)
			}
		}
		for _, t := range []struct {
			name string
			v    any
			into **time.Time
		}{{"sent_at", sent, &ch.SentAt}, {"expires_at", expires, &ch.ExpiresAt}, {"computed_at", computed, &ch.ComputedAt}, {"verified_at", verified, &ch.VerifiedAt}} {
			tt, ok, err := parseTime(t.v)
			if err != nil {
				return rowErr(table, id, "%s: %v", t.name, err)
			}
			if ok {
				*t.into = &tt
			}
		}
		return out.add(ctx, ch)
	})
	if err != nil {
		return err
	}
	return out.done(ctx)
}

func appendOnce(xs []string, s string) []string {
	if slices.Contains(xs, s) {
		return xs
	}
	return append(xs, s)
}

// weights imports the newest weight pass: the rows written within a
// minute of the newest, each hotkey's newest.
func (b *byteleap) weights(ctx context.Context) error {
	c := b.sum.table("network_weights", "compute_weight_passes")
	var v any
	if err := b.src.db.QueryRowContext(ctx, "SELECT MAX(created_at) FROM network_weights WHERE deleted_at IS NULL").Scan(&v); err != nil {
		return fmt.Errorf("table network_weights: %w", err)
	}
	newest, ok, err := parseTime(v)
	if err != nil || !ok {
		return err
	}
	from := newest.Add(-time.Minute)
	byHotkey := map[string]scoring.MinerScore{}
	err = b.each(ctx, "network_weights", `SELECT id, hotkey, weight_value, challenge_score, availability_score, lease_score, created_at
		FROM network_weights WHERE deleted_at IS NULL AND created_at >= ? ORDER BY created_at, id`, []any{b.src.since(from)}, func(r *sql.Rows) error {
		var id int64
		var hk string
		var w float64
		var ch, av, le sql.NullFloat64
		var created any
		if err := r.Scan(&id, &hk, &w, &ch, &av, &le, &created); err != nil {
			return fmt.Errorf("read network_weights: %w", err)
		}
		at, _, err := parseTime(created)
		if err != nil {
			return rowErr("network_weights", id, "created_at: %v", err)
		}
		if at.Before(from) {
			return nil
		}
		c.Read++
		if err := b.hotkey(hk); err != nil {
			return rowErr("network_weights", id, "%v", err)
		}
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return rowErr("network_weights", id, "weight_value %v is not finite", w)
		}
		byHotkey[hk] = scoring.MinerScore{Hotkey: hk, Online: w > 0, Challenge: ch.Float64, Lease: le.Float64, Availability: av.Float64, Score: w, Weight: w}
		return nil
	})
	if err != nil {
		return err
	}
	miners := make([]scoring.MinerScore, 0, len(byHotkey))
	for _, m := range byHotkey {
		miners = append(miners, m)
	}
	slices.SortFunc(miners, func(a, b scoring.MinerScore) int { return strings.Compare(a.Hotkey, b.Hotkey) })
	raw, _ := json.Marshal(miners)
	n, err := b.im.WeightPass(ctx, newest, raw)
	if err != nil {
		return err
	}
	c.Written, c.Present = n, 1-n
	c.Comments = append(c.Comments, fmt.Sprintf("the pass of %s: %d miners (uids are the metagraph's at the next pass)", newest.Format(time.RFC3339), len(miners)))
	return nil
}
