package logthrottle

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/clock"
)

func newLogger(t *testing.T) (*Logger, *clock.Fake, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	clk := clock.NewFake(time.Unix(1_700_000_000, 0))
	return New(slog.New(slog.NewTextHandler(&buf, nil)), clk, time.Second, 8*time.Second), clk, &buf
}

// A failure repeated 4 times a second for a minute makes a handful of
// lines, at doubling intervals, each saying how many were held back.
func TestRepeatsBackOff(t *testing.T) {
	l, clk, buf := newLogger(t)
	for range 240 {
		l.Warn("prom", "prometheus unreachable", "err", "connection refused")
		clk.Advance(250 * time.Millisecond)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	// Logged at 0, 1, 3, 7, 15, 23, ... 55 s: 1 s, 2 s, 4 s, then 8 s each.
	if len(lines) != 10 {
		t.Fatalf("%d lines for 240 repeats in 60 s, want 10:\n%s", len(lines), buf)
	}
	if strings.Contains(lines[0], "suppressed") {
		t.Errorf("the first line says suppressed: %s", lines[0])
	}
	if !strings.Contains(lines[1], "suppressed=3") || !strings.Contains(lines[1], "next_in=2s") {
		t.Errorf("second line %q, want suppressed=3 next_in=2s", lines[1])
	}
	if !strings.Contains(lines[9], "suppressed=31") || !strings.Contains(lines[9], "next_in=8s") {
		t.Errorf("last line %q, want suppressed=31 next_in=8s (capped)", lines[9])
	}
}

func TestResetAndKeysAreIndependent(t *testing.T) {
	l, clk, buf := newLogger(t)
	l.Warn("a", "a failed")
	l.Warn("a", "a failed")
	l.Warn("b", "b failed")
	if n := strings.Count(buf.String(), "\n"); n != 2 {
		t.Fatalf("%d lines, want one per key:\n%s", n, buf)
	}
	if got := l.Reset("a"); got != 1 {
		t.Errorf("Reset returned %d held back, want 1", got)
	}
	l.Warn("a", "a failed again")
	if !strings.Contains(buf.String(), "a failed again") {
		t.Errorf("after Reset the next failure was held back:\n%s", buf)
	}
	if strings.Contains(buf.String(), "next_in") {
		t.Errorf("a first line after Reset carries next_in:\n%s", buf)
	}
	clk.Advance(time.Hour)
	if got := l.Reset("never"); got != 0 {
		t.Errorf("Reset of an unknown key = %d", got)
	}
}
