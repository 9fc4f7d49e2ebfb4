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
	// swept is when a full store was last scanned (Unix ns): a full store
	// is scanned at most once a second, so that a flood of new endpoints
	// cannot make every request walk the whole map.
	swept int64
}

func newNonceStore(max int) *nonceStore {
	return &nonceStore{max: max, last: make(map[string]int64)}
}

// check accepts nonce for endpoint and records it, or says why not.
// oldest is the least first nonce the freshness rule accepts; modern
// dendrites must meet it, older ones only need increasing nonces. now is
// the clock in Unix ns.
func (s *nonceStore) check(endpoint string, nonce int64, modern bool, oldest, now int64) string {
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
		if now-s.swept >= int64(time.Second) {
			s.swept = now
			for k, v := range s.last {
				if v <= oldest {
					delete(s.last, k)
				}
			}
		}
		if len(s.last) >= s.max {
			return "too many recent callers; try again shortly"
		}
	}
	s.last[endpoint] = nonce
	return ""
}
