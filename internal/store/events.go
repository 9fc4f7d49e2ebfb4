package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Event is one entry of the audit trail.
type Event struct {
	ID      int64
	At      time.Time
	Kind    string // what happened: "weights.submitted", "registry.bound", …
	Subject string // whom it concerns: a hotkey, a uid, a worker id
	Detail  json.RawMessage
}

// Caps that keep one misbehaving caller from filling the disk.
const (
	maxEventKind   = 128
	maxEventDetail = 64 << 10
)

// AppendEvent records an event and returns its id. A zero At means now; an
// empty Detail means {}.
func (s *Store) AppendEvent(ctx context.Context, e Event) (int64, error) {
	if e.Kind == "" || len(e.Kind) > maxEventKind {
		return 0, fmt.Errorf("append event: kind must be 1-%d bytes", maxEventKind)
	}
	if len(e.Subject) > maxEventKind*4 {
		return 0, fmt.Errorf("append event %s: subject longer than %d bytes", e.Kind, maxEventKind*4)
	}
	if len(e.Detail) == 0 {
		e.Detail = json.RawMessage("{}")
	}
	if len(e.Detail) > maxEventDetail || !json.Valid(e.Detail) {
		return 0, fmt.Errorf("append event %s: detail must be valid JSON under %d bytes", e.Kind, maxEventDetail)
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	var id int64
	err := s.queryRowWrite(ctx, []any{&id}, s.Rebind(
		"INSERT INTO events (at, kind, subject, detail) VALUES (?, ?, ?, ?) RETURNING id"),
		e.At.UTC(), e.Kind, e.Subject, string(e.Detail))
	if err != nil {
		return 0, fmt.Errorf("append event %s: %w", e.Kind, err)
	}
	return id, nil
}

// EventFilter selects events; zero fields match everything.
type EventFilter struct {
	Kind    string
	Subject string
	Since   time.Time // inclusive
	Limit   int       // newest first; 0 means 100
}

// Events returns matching events, newest first.
func (s *Store) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	var where []string
	var args []any
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	if f.Subject != "" {
		where, args = append(where, "subject = ?"), append(args, f.Subject)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, f.Since.UTC())
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q := "SELECT id, at, kind, subject, detail FROM events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY at DESC, id DESC LIMIT ?"
	args = append(args, f.Limit)
	rows, err := s.db.QueryContext(ctx, s.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var detail string
		if err := rows.Scan(&e.ID, &e.At, &e.Kind, &e.Subject, &detail); err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		e.At = e.At.UTC()
		e.Detail = json.RawMessage(detail)
		out = append(out, e)
	}
	return out, rows.Err()
}
