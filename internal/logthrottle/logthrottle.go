// Package logthrottle keeps a failure that repeats from filling the log: the
// first occurrence of a key is logged, repeats are counted and logged at
// growing intervals (doubling up to a cap) with how many were held back, and
// a success resets the key so the next failure is reported at once.
package logthrottle

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/vigil-validator/vigil/internal/clock"
)

// Defaults of New.
const (
	DefaultFirst = time.Second
	DefaultMax   = 5 * time.Minute
	maxKeys      = 1024
)

// Logger wraps a slog.Logger with per-key backoff.
type Logger struct {
	log   *slog.Logger
	clock clock.Clock
	first time.Duration
	max   time.Duration

	mu   sync.Mutex
	keys map[string]*state
}

type state struct {
	next       time.Time
	interval   time.Duration
	suppressed int
}

// New returns a Logger: after a key is logged, repeats are held back for
// first, then twice that, and so on up to max. Zero durations mean the
// defaults; a nil clock means the real one.
func New(log *slog.Logger, clk clock.Clock, first, max time.Duration) *Logger {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if clk == nil {
		clk = clock.Real()
	}
	if first <= 0 {
		first = DefaultFirst
	}
	if max < first {
		max = DefaultMax
		if max < first {
			max = first
		}
	}
	return &Logger{log: log, clock: clk, first: first, max: max, keys: map[string]*state{}}
}

// Warn logs msg at warning level unless key was logged within its current
// interval; a line that follows held-back repeats says how many
// ("suppressed") and when the next may come ("next_in").
func (l *Logger) Warn(key, msg string, args ...any) { l.logAt(slog.LevelWarn, key, msg, args...) }

// Error is Warn at error level.
func (l *Logger) Error(key, msg string, args ...any) { l.logAt(slog.LevelError, key, msg, args...) }

func (l *Logger) logAt(level slog.Level, key, msg string, args ...any) {
	now := l.clock.Now()
	l.mu.Lock()
	st, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= maxKeys {
			// Keys come from code, not peers, so this bounds a bug only:
			// forget everything rather than grow.
			clear(l.keys)
		}
		st = &state{}
		l.keys[key] = st
	}
	if now.Before(st.next) {
		st.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := st.suppressed
	switch {
	case st.interval == 0:
		st.interval = l.first
	case st.interval < l.max:
		st.interval = min(2*st.interval, l.max)
	}
	st.next, st.suppressed = now.Add(st.interval), 0
	interval := st.interval
	l.mu.Unlock()
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed)
	}
	if ok {
		args = append(args, "next_in", interval)
	}
	l.log.Log(context.Background(), level, msg, args...)
}

// Reset forgets key, so its next failure is logged at once; it returns
// how many repeats were held back since the last line.
func (l *Logger) Reset(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	st, ok := l.keys[key]
	if !ok {
		return 0
	}
	delete(l.keys, key)
	return st.suppressed
}
