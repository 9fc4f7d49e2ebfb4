package registry

import (
	"context"
	"sync"
	"time"

	"github.com/vigil-validator/vigil/internal/store"
)

// maxBatch caps the registrations committed in one transaction.
const maxBatch = 256

// batcher commits concurrent registrations together: one transaction per
// group instead of one per request, which is what the database can
// sustain under a crowd of miners. The request that finds no commit in
// progress leads: it commits what is queued, round after round, and after
// a few rounds hands the lead to the next waiter so that its own answer is
// not held back.
type batcher struct {
	store     Store
	maxActive int
	eventKind string

	mu      sync.Mutex
	pending []*addReq
	busy    bool
}

type addReq struct {
	m    *store.KaspaMapping
	done chan addResult
}

type addResult struct {
	err  error
	lead bool // the caller takes over committing
}

// add queues m and returns its outcome. It takes no context: once queued,
// a registration is committed or refused with its batch.
func (b *batcher) add(m *store.KaspaMapping) error {
	r := &addReq{m: m, done: make(chan addResult, 1)}
	b.mu.Lock()
	b.pending = append(b.pending, r)
	if !b.busy {
		b.busy = true
		b.mu.Unlock()
		b.lead()
	} else {
		b.mu.Unlock()
	}
	for {
		res := <-r.done
		if !res.lead {
			return res.err
		}
		b.lead()
	}
}

// lead commits queued requests; b.busy is held by the caller.
func (b *batcher) lead() {
	for round := 0; ; round++ {
		b.mu.Lock()
		if len(b.pending) == 0 {
			b.busy = false
			b.mu.Unlock()
			return
		}
		if round == 4 {
			// Hand over: the first waiter leads from here.
			next := b.pending[0]
			b.mu.Unlock()
			next.done <- addResult{lead: true}
			return
		}
		n := min(len(b.pending), maxBatch)
		batch := b.pending[:n:n]
		b.pending = append([]*addReq(nil), b.pending[n:]...)
		b.mu.Unlock()
		ms := make([]*store.KaspaMapping, len(batch))
		for i, r := range batch {
			ms[i] = r.m
		}
		// The batch carries many requests; it runs on its own deadline.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		errs := b.store.AddKaspaMappings(ctx, ms, b.maxActive, b.eventKind)
		cancel()
		for i, r := range batch {
			r.done <- addResult{err: errs[i]}
		}
	}
}
