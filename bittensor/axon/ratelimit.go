package axon

import (
	"sync"
	"time"
)

// RateLimiter allows at most Limit events per key in any window of Window. It
// approximates the sliding window from two fixed windows: the previous
// one's count, weighted by how much of it the sliding window still covers,
// plus the current one's. It is safe for concurrent use.
type RateLimiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	max    int
	keys   map[string]*entry
}

type entry struct {
	start      time.Time // of the current fixed window
	prev, curr int
}

// NewRateLimiter returns a limiter of limit events per window for each key,
// remembering at most maxKeys keys.
func NewRateLimiter(limit int, window time.Duration, maxKeys int) *RateLimiter {
	if maxKeys < 1 {
		maxKeys = 1
	}
	return &RateLimiter{limit: limit, window: window, max: maxKeys, keys: map[string]*entry{}}
}

// Allow counts an event for key at now and reports whether it is within
// the limit; refused events are not counted.
func (l *RateLimiter) Allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.keys[key]
	if e == nil {
		if len(l.keys) >= l.max {
			l.sweep(now)
		}
		if len(l.keys) >= l.max {
			// Still full of active keys: forget one of them. It gets a
			// fresh allowance, which is better than unbounded memory or
			// refusing every newcomer.
			for k := range l.keys {
				delete(l.keys, k)
				break
			}
		}
		e = &entry{start: now.Truncate(l.window)}
		l.keys[key] = e
	}
	if cur := now.Truncate(l.window); !cur.Equal(e.start) {
		if cur.Sub(e.start) == l.window {
			e.prev = e.curr
		} else {
			e.prev = 0
		}
		e.curr, e.start = 0, cur
	}
	elapsed := float64(now.Sub(e.start)) / float64(l.window)
	if float64(e.prev)*(1-elapsed)+float64(e.curr) >= float64(l.limit) {
		return false
	}
	e.curr++
	return true
}

// Len is the number of keys remembered.
func (l *RateLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// sweep forgets keys idle for two windows.
func (l *RateLimiter) sweep(now time.Time) {
	for k, e := range l.keys {
		if now.Sub(e.start) >= 2*l.window {
			delete(l.keys, k)
		}
	}
}
