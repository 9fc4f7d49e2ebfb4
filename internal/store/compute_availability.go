package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
	"strings"
	"time"
)

// RingBuckets is a BucketRing's span: more than the 2029 buckets a
// 169-hour window touches.
const RingBuckets = 2048

// BucketRing is a set of 5-minute buckets within the last RingBuckets of
// the newest one; bucket b is bit b % RingBuckets.
type BucketRing struct {
	Words  [RingBuckets / 64]uint64
	Newest int64
}

// Add sets bucket b, moving the ring forward (and clearing what it passes)
// when b is newer; a bucket older than the ring holds is ignored. It
// reports whether the ring changed.
func (r *BucketRing) Add(b int64) bool {
	switch {
	case r.Newest == 0 && r.Words == [RingBuckets / 64]uint64{}:
		r.Newest = b
	case b > r.Newest:
		if b-r.Newest >= RingBuckets {
			r.Words = [RingBuckets / 64]uint64{}
		} else {
			for x := r.Newest + 1; x <= b; x++ {
				r.Words[(x%RingBuckets)/64] &^= 1 << (x % 64)
			}
		}
		r.Newest = b
	case b <= r.Newest-RingBuckets:
		return false
	}
	w, bit := &r.Words[(b%RingBuckets)/64], uint64(1)<<(b%64)
	changed := *w&bit == 0 // a new bucket is clear, so moving forward changes it
	*w |= bit
	return changed
}

// Has reports whether bucket b is set.
func (r *BucketRing) Has(b int64) bool {
	if b > r.Newest || b <= r.Newest-RingBuckets {
		return false
	}
	return r.Words[(b%RingBuckets)/64]&(1<<(b%64)) != 0
}

// Count is how many buckets in [from, to) are set, a word at a time.
func (r *BucketRing) Count(from, to int64) int {
	from, to = max(from, r.Newest-RingBuckets+1, 0), min(to, r.Newest+1)
	n := 0
	for x := from; x < to; {
		pos := x % RingBuckets
		off := uint(pos % 64)
		span := min(int64(64-off), to-x)
		mask := ^uint64(0)
		if span < 64 {
			mask = (uint64(1)<<uint(span) - 1) << off
		}
		n += bits.OnesCount64(r.Words[pos/64] & mask)
		x += span
	}
	return n
}

func (r *BucketRing) encode() []byte {
	out := make([]byte, 8*len(r.Words))
	for i, w := range r.Words {
		binary.LittleEndian.PutUint64(out[8*i:], w)
	}
	return out
}

func decodeRing(newest int64, b []byte) (BucketRing, error) {
	r := BucketRing{Newest: newest}
	if len(b) != 8*len(r.Words) {
		return r, fmt.Errorf("availability ring of %d bytes, want %d", len(b), 8*len(r.Words))
	}
	for i := range r.Words {
		r.Words[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return r, nil
}

// The kinds of availability ring.
const (
	RingWorker = "worker" // a worker's heartbeats
	RingGPU    = "gpu"    // a miner's reports of one GPU uuid
)

// ComputeRing is one stored availability ring.
type ComputeRing struct {
	Hotkey, Kind, Subject string
	Ring                  BucketRing
}

// markAvailability sets bucket in the miner's rings of the given workers
// and GPU uuids, writing only the rings that changed: within a bucket a
// heartbeat reads its rings and writes nothing.
func (s *Store) markAvailability(ctx context.Context, tx *sql.Tx, netuid uint16, hotkey string, bucket int64, workers, gpus []string) error {
	type key struct{ kind, subject string }
	want := make([]key, 0, len(workers)+len(gpus))
	for _, w := range workers {
		want = append(want, key{RingWorker, w})
	}
	for _, u := range gpus {
		want = append(want, key{RingGPU, u})
	}
	rings := make(map[key]*BucketRing, len(want))
	// Named one by one, so that each lookup is by the primary key.
	for start := 0; start < len(want); start += 400 {
		chunk := want[start:min(start+400, len(want))]
		args := []any{netuid, hotkey}
		var cond []string
		for _, k := range chunk {
			cond = append(cond, "(kind = ? AND subject = ?)")
			args = append(args, k.kind, k.subject)
		}
		rows, err := tx.QueryContext(ctx, s.Rebind(`SELECT kind, subject, newest, bits FROM compute_availability WHERE netuid = ? AND hotkey = ? AND (`+
			strings.Join(cond, " OR ")+`)`), args...)
		if err != nil {
			return fmt.Errorf("read availability: %w", err)
		}
		for rows.Next() {
			var k key
			var newest int64
			var bits []byte
			if err := rows.Scan(&k.kind, &k.subject, &newest, &bits); err != nil {
				rows.Close()
				return fmt.Errorf("read availability: %w", err)
			}
			r, err := decodeRing(newest, bits)
			if err != nil {
				rows.Close()
				return err
			}
			rings[k] = &r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read availability: %w", err)
		}
	}
	var out [][]any
	for _, k := range want {
		r := rings[k]
		if r == nil {
			r = &BucketRing{}
			rings[k] = r
		}
		if r.Add(bucket) {
			out = append(out, []any{netuid, hotkey, k.kind, k.subject, r.Newest, r.encode()})
		}
	}
	if err := s.insertRows(ctx, tx, `INSERT INTO compute_availability (netuid, hotkey, kind, subject, newest, bits)`,
		`ON CONFLICT (netuid, hotkey, kind, subject) DO UPDATE SET newest = excluded.newest, bits = excluded.bits`, out); err != nil {
		return fmt.Errorf("record availability: %w", err)
	}
	return nil
}

// RebuildComputeAvailability builds the subnet's rings from its bucket
// rows when it has bucket rows and no ring (a database from before the
// rings); it reports how many rings it wrote.
func (s *Store) RebuildComputeAvailability(ctx context.Context, netuid uint16) (int, error) {
	var rings, buckets int
	if err := s.db.QueryRowContext(ctx, s.Rebind(`SELECT (SELECT COUNT(*) FROM compute_availability WHERE netuid = ?),
		(SELECT COUNT(*) FROM compute_heartbeat_buckets WHERE netuid = ?)`), netuid, netuid).Scan(&rings, &buckets); err != nil {
		return 0, err
	}
	if rings > 0 || buckets == 0 {
		return 0, nil
	}
	type key struct{ hotkey, kind, subject string }
	built := map[key]*BucketRing{}
	rows, err := s.db.QueryContext(ctx, s.Rebind(`SELECT hotkey, worker_id, bucket, gpu_uuids FROM compute_heartbeat_buckets WHERE netuid = ?
		ORDER BY bucket`), netuid)
	if err != nil {
		return 0, err
	}
	add := func(k key, b int64) {
		r := built[k]
		if r == nil {
			r = &BucketRing{}
			built[k] = r
		}
		r.Add(b)
	}
	for rows.Next() {
		var hotkey, worker, raw string
		var b int64
		if err := rows.Scan(&hotkey, &worker, &b, &raw); err != nil {
			rows.Close()
			return 0, err
		}
		add(key{hotkey, RingWorker, worker}, b)
		for _, u := range parseUUIDs(raw) {
			add(key{hotkey, RingGPU, u}, b)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	tx, end, err := s.beginWrite(ctx)
	if err != nil {
		return 0, err
	}
	defer end()
	out := make([][]any, 0, len(built))
	for k, r := range built {
		out = append(out, []any{netuid, k.hotkey, k.kind, k.subject, r.Newest, r.encode()})
	}
	if err := s.insertRows(ctx, tx, `INSERT INTO compute_availability (netuid, hotkey, kind, subject, newest, bits)`, "", out); err != nil {
		return 0, err
	}
	return len(out), tx.Commit()
}

func parseUUIDs(raw string) []string {
	var us []string
	_ = json.Unmarshal([]byte(raw), &us)
	return us
}

// ComputeRetention says what a compute subnet's history keeps.
type ComputeRetention struct {
	// AvailabilityStart is the availability window's start: bucket rows
	// before its bucket, IP runs ended and rings ended before it go.
	AvailabilityStart time.Time
	// Before is when finished challenges (verified or failed) and weight
	// passes become old enough to go.
	Before time.Time
}

// PruneCompute deletes what the subnet's scoring no longer reads, in
// batches so that no statement holds SQLite's write lock for long; it
// returns the rows deleted per table.
func (s *Store) PruneCompute(ctx context.Context, netuid uint16, r ComputeRetention) (map[string]int64, error) {
	first := ComputeBucket(r.AvailabilityStart)
	out := map[string]int64{}
	for _, q := range []struct {
		table, key, where string
		arg               any
	}{
		{"compute_heartbeat_buckets", "hotkey, worker_id, bucket", "bucket < ?", first},
		{"compute_availability", "hotkey, kind, subject", "newest < ?", first},
		{"compute_ip_runs", "hotkey, worker_id, first_at", "last_at < ?", r.AvailabilityStart.UTC()},
		{"compute_challenges", "challenge_id", "status IN ('verified', 'failed') AND created_at < ?", r.Before.UTC()},
		{"compute_weight_passes", "id", "at < ?", r.Before.UTC()},
	} {
		for {
			// Row values name each row by its key, in both engines.
			res, err := s.exec(ctx, s.Rebind(`DELETE FROM `+q.table+` WHERE netuid = ? AND (`+q.key+`) IN
				(SELECT `+q.key+` FROM `+q.table+` WHERE netuid = ? AND `+q.where+` LIMIT ?)`), netuid, netuid, q.arg, sweepBatch)
			if err != nil {
				return out, fmt.Errorf("prune %s: %w", q.table, err)
			}
			n, _ := res.RowsAffected()
			out[q.table] += n
			if n < sweepBatch {
				break
			}
		}
	}
	return out, nil
}

// PutComputeRings stores rings as they are, replacing any of the same
// subject (an import, or a benchmark's history).
func (s *Store) PutComputeRings(ctx context.Context, netuid uint16, rings []ComputeRing) error {
	tx, end, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer end()
	rows := make([][]any, len(rings))
	for i, r := range rings {
		if r.Kind != RingWorker && r.Kind != RingGPU {
			return fmt.Errorf("ring kind %q: want %s or %s", r.Kind, RingWorker, RingGPU)
		}
		rows[i] = []any{netuid, r.Hotkey, r.Kind, r.Subject, r.Ring.Newest, r.Ring.encode()}
	}
	if err := s.insertRows(ctx, tx, `INSERT INTO compute_availability (netuid, hotkey, kind, subject, newest, bits)`,
		`ON CONFLICT (netuid, hotkey, kind, subject) DO UPDATE SET newest = excluded.newest, bits = excluded.bits`, rows); err != nil {
		return err
	}
	return tx.Commit()
}
