package axon

import (
	"sync"
	"time"
)

// nonceStore remembers the last accepted nonce of each (hotkey, uuid)
// endpoint. When full it forgets endpoints whose last nonce is older than
// the freshness window: a replay of any nonce they sent would fail the
// first-nonce age check anyway, so forgetting them opens no hole.
type nonceStore struct {
	mu   sync.Mutex
	max  int
	last map[string]int64
}

func newNonceStore(max int) *nonceStore {
	return &nonceStore{max: max, last: make(map[string]int64)}
}

// check accepts nonce for endpoint and records it, or says why not.
// oldest is the least first nonce the freshness rule accepts; modern
// dendrites must meet it, older ones only need increasing nonces.
func (s *nonceStore) check(endpoint string, nonce int64, modern bool, oldest int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	last, seen := s.last[endpoint]
	switch {
	case seen && nonce <= last:
		return "Nonce is too old, a newer one was last processed"
	case !seen && modern && nonce <= oldest:
		return "Nonce is too old. Allowed delta exceeded"
	}
	if !seen && len(s.last) >= s.max {
		for k, v := range s.last {
			if v <= oldest {
				delete(s.last, k)
			}
		}
		if len(s.last) >= s.max {
			return "too many recent callers; try again shortly"
		}
	}
	s.last[endpoint] = nonce
	return ""
}

// rateLimiter is a sliding-window counter per hotkey: the previous fixed
// window's count, weighted by how much of it the sliding window still
// covers, plus the current one's.
type rateLimiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	max    int
	hot    map[string]*rateEntry
}

type rateEntry struct {
	start      time.Time // of the current fixed window
	prev, curr int
}

func newRateLimiter(limit int, window time.Duration, max int) *rateLimiter {
	return &rateLimiter{limit: limit, window: window, max: max, hot: map[string]*rateEntry{}}
}

func (l *rateLimiter) allow(hotkey string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.hot[hotkey]
	if e == nil {
		if len(l.hot) >= l.max {
			l.sweep(now)
		}
		e = &rateEntry{start: now.Truncate(l.window)}
		l.hot[hotkey] = e
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

// sweep forgets hotkeys idle for two windows.
func (l *rateLimiter) sweep(now time.Time) {
	for k, e := range l.hot {
		if now.Sub(e.start) >= 2*l.window {
			delete(l.hot, k)
		}
	}
}
