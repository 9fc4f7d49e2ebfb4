package miner

import (
	"sync"
	"time"

	"github.com/vigil-validator/vigil/internal/computeproto"
)

// heartbeatQueue holds worker heartbeats between the miner's own, as the
// reference does: at most max entries (the oldest tenth dropped when
// full), none older than maxAge, one per worker when drained (the newest).
type heartbeatQueue struct {
	max    int
	maxAge time.Duration

	mu      sync.Mutex
	entries []queued
	dropped int
}

type queued struct {
	at     time.Time
	worker computeproto.WorkerInfo
}

func (q *heartbeatQueue) push(w computeproto.WorkerInfo, now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.entries) >= q.max {
		cut := max(1, q.max/10)
		q.entries = append(q.entries[:0], q.entries[cut:]...)
		q.dropped += cut
	}
	q.entries = append(q.entries, queued{now, w})
}

// drain returns the newest heartbeat of each worker still fresh, in the
// order workers first appear, and empties the queue.
func (q *heartbeatQueue) drain(now time.Time) []computeproto.WorkerInfo {
	q.mu.Lock()
	entries := q.entries
	q.entries = nil
	q.mu.Unlock()
	newest := map[string]int{}
	var order []string
	for i, e := range entries {
		if now.Sub(e.at) > q.maxAge {
			continue
		}
		if _, seen := newest[e.worker.WorkerID]; !seen {
			order = append(order, e.worker.WorkerID)
		}
		newest[e.worker.WorkerID] = i
	}
	out := make([]computeproto.WorkerInfo, 0, len(order))
	for _, id := range order {
		out = append(out, entries[newest[id]].worker)
	}
	return out
}

func (q *heartbeatQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.entries)
}
