// Package importer reads reference validators' databases into vigil's
// store, so that an operator who switches keeps the history their weights
// depend on: the compute (SN128) validator's miners, workers, GPUs,
// heartbeats, challenges and last weight pass, and the Kaspa (SN16)
// validator's worker registrations.
//
// An import reads the source once, streaming the large tables, checks
// every row before anything is written, and writes in one transaction:
// a row vigil cannot hold stops it with the table and row named, and
// nothing is written. Rows vigil has already are kept, so a second run
// changes nothing.
package importer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/vigil-validator/vigil/internal/store"
)

// Source is a reference validator's database, opened read-only.
type Source struct {
	db      *sql.DB
	engine  store.Engine
	display string
}

// OpenSource opens a reference database: sqlite:PATH (also SQLAlchemy's
// sqlite:///PATH) or postgres://… (also postgresql+driver://…). A SQLite
// file is opened read-only and must exist.
func OpenSource(ctx context.Context, raw string) (*Source, error) {
	if scheme, rest, ok := strings.Cut(raw, "://"); ok {
		if base, _, hasDriver := strings.Cut(scheme, "+"); hasDriver {
			raw = base + "://" + rest // SQLAlchemy's dialect+driver
		}
	}
	engine, path, err := store.ParseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("--from: %w", err)
	}
	s := &Source{engine: engine}
	switch engine {
	case store.SQLite:
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("--from: %w", err)
		}
		if !fi.Mode().IsRegular() || fi.Size() == 0 {
			return nil, fmt.Errorf("--from: %s is not a SQLite database (empty or not a file)", path)
		}
		s.display = "sqlite:" + path
		// A large cache and the file mapped: the heartbeats are read along
		// an index, a page of the table at a time.
		s.db, err = sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(5000)&_pragma=cache_size(-131072)&_pragma=mmap_size(68719476736)")
		if err != nil {
			return nil, err
		}
		s.db.SetMaxOpenConns(2)
	case store.Postgres:
		s.display = "the PostgreSQL database"
		s.db, err = sql.Open("pgx", raw)
		if err != nil {
			return nil, errors.New("--from: malformed PostgreSQL URL")
		}
		s.db.SetMaxOpenConns(2)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.db.PingContext(pingCtx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("connect to %s: %w", s.display, err)
	}
	return s, nil
}

// Close closes the source.
func (s *Source) Close() error { return s.db.Close() }

func (s *Source) String() string { return s.display }

// rebind turns ? placeholders into the source engine's.
func (s *Source) rebind(q string) string { return store.Rebind(s.engine, q) }

// revision is the source's alembic revision, checked against the known.
func (s *Source) revision(ctx context.Context, known ...string) (string, error) {
	var rev string
	if err := s.db.QueryRowContext(ctx, "SELECT version_num FROM alembic_version").Scan(&rev); err != nil {
		return "", fmt.Errorf("%s has no alembic revision (table alembic_version: %v): not a reference validator's database", s, err)
	}
	for _, k := range known {
		if rev == k {
			return rev, nil
		}
	}
	return "", fmt.Errorf("%s is at alembic revision %q, which this vigil does not know (it reads %s)", s, rev, strings.Join(known, ", "))
}

// requireColumns checks that table exists with the columns named.
func (s *Source) requireColumns(ctx context.Context, table string, cols ...string) error {
	rows, err := s.db.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+table+" WHERE 1 = 0")
	if err != nil {
		return fmt.Errorf("table %s: missing, or without the columns %s: %v", table, strings.Join(cols, ", "), err)
	}
	return rows.Close()
}

// hasColumn reports whether table has col.
func (s *Source) hasColumn(ctx context.Context, table, col string) bool {
	rows, err := s.db.QueryContext(ctx, "SELECT "+col+" FROM "+table+" WHERE 1 = 0")
	if err != nil {
		return false
	}
	rows.Close()
	return true
}

// since is a lower bound on a timestamp column for a query: a time on
// PostgreSQL; on SQLite, where the reference stores text, the day's date,
// which sorts before every spelling of every time of that day (the exact
// bound is applied to the parsed values).
func (s *Source) since(t time.Time) any {
	if s.engine == store.SQLite {
		return t.UTC().Format("2006-01-02")
	}
	return t.UTC()
}

// parseTime reads a naive UTC timestamp as either engine hands it back.
func parseTime(v any) (time.Time, bool, error) {
	switch t := v.(type) {
	case nil:
		return time.Time{}, false, nil
	case time.Time:
		// A naive time: its wall clock is UTC whatever location it came in.
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC), true, nil
	case []byte:
		return parseTime(string(t))
	case string:
		for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00",
			time.RFC3339Nano, "2006-01-02"} {
			if p, err := time.Parse(layout, t); err == nil {
				return p.UTC(), true, nil
			}
		}
		return time.Time{}, false, fmt.Errorf("unreadable time %q", t)
	case int64:
		return time.Unix(t, 0).UTC(), true, nil
	case float64:
		sec, frac := math.Modf(t)
		return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), true, nil
	}
	return time.Time{}, false, fmt.Errorf("unreadable time of type %T", v)
}

// text reads a text or JSON column as either engine hands it back.
func text(v any) (string, bool) {
	switch t := v.(type) {
	case nil:
		return "", false
	case string:
		return t, true
	case []byte:
		return string(t), true
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// RowError names the source row an import refused.
type RowError struct {
	Table string
	Row   string // the row's key, as the source names it
	Err   error
}

func (e *RowError) Error() string { return fmt.Sprintf("table %s, row %s: %v", e.Table, e.Row, e.Err) }

func (e *RowError) Unwrap() error { return e.Err }

// Count is what an import did with one table's rows.
type Count struct {
	Table    string         `json:"table"`
	Read     int64          `json:"read"`
	Written  int64          `json:"written"`
	Present  int64          `json:"present"` // already in vigil's store, kept as it was
	Skipped  map[string]int `json:"skipped,omitempty"`
	Into     string         `json:"into,omitempty"`
	Comments []string       `json:"comments,omitempty"`
}

func (c *Count) skip(why string) {
	if c.Skipped == nil {
		c.Skipped = map[string]int{}
	}
	c.Skipped[why]++
}

// Summary is what an import did.
type Summary struct {
	Source   string   `json:"source"`
	Revision string   `json:"revision"`
	Netuid   uint16   `json:"netuid,omitempty"`
	DryRun   bool     `json:"dry_run,omitempty"`
	Tables   []*Count `json:"tables"`
	Took     string   `json:"took"`
}

func (s *Summary) table(name, into string) *Count {
	c := &Count{Table: name, Into: into}
	s.Tables = append(s.Tables, c)
	return c
}

// Print writes the summary for a person.
func (s *Summary) Print(w interface{ Write([]byte) (int, error) }) {
	verb := "imported"
	if s.DryRun {
		verb = "checked (dry run, nothing written)"
	}
	fmt.Fprintf(w, "%s %s at alembic revision %s in %s\n", verb, s.Source, s.Revision, s.Took)
	for _, c := range s.Tables {
		into := ""
		if c.Into != "" {
			into = " → " + c.Into
		}
		fmt.Fprintf(w, "  %-18s read %d, wrote %d, already present %d%s\n", c.Table, c.Read, c.Written, c.Present, into)
		whys := make([]string, 0, len(c.Skipped))
		for why := range c.Skipped {
			whys = append(whys, why)
		}
		sort.Strings(whys)
		for _, why := range whys {
			fmt.Fprintf(w, "    skipped %d: %s\n", c.Skipped[why], why)
		}
		for _, m := range c.Comments {
			fmt.Fprintf(w, "    %s\n", m)
		}
	}
}
