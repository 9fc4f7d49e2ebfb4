package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// ErrUnavailable marks an error the database gave because it could not
// serve the request now — locked by another writer, out of space,
// unreachable, timed out — as opposed to a refused or malformed request.
// An API answers it with 503 and a reason, not 500.
var ErrUnavailable = errors.New("database unavailable")

// UnavailableFor is how long Health keeps reporting a write that failed
// with ErrUnavailable, when no write has succeeded since.
const UnavailableFor = time.Minute

// SQLite's primary result codes that mean "not now" (sqlite3.h).
const (
	sqliteBusy   = 5
	sqliteLocked = 6
	sqliteFull   = 13
)

// unavailable reports whether err is one of the passing conditions.
func unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) {
		return true
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqliteBusy, sqliteLocked, sqliteFull:
			return true
		}
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// lock_not_available, query_canceled (statement or lock timeout),
		// deadlock and serialization failures, connection exceptions,
		// insufficient resources, shutdowns.
		switch {
		case pe.Code == "55P03", pe.Code == "57014", pe.Code == "40P01", pe.Code == "40001",
			strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "53"), strings.HasPrefix(pe.Code, "57P"):
			return true
		}
		return false
	}
	if pgconn.Timeout(err) {
		return true
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	return errors.As(err, &ne) || errors.As(err, &ce)
}

// unavailableAt is the last write that failed for a passing condition.
type unavailableAt struct {
	at     time.Time
	reason string
}

// observe classifies the outcome of a write: a passing failure is wrapped
// in ErrUnavailable and remembered for Health; a success clears it.
func (s *Store) observe(err error) error {
	switch {
	case err == nil:
		s.unavail.Store(nil)
		return nil
	case unavailable(err):
		s.unavail.Store(&unavailableAt{at: s.clock.Now(), reason: err.Error()})
		if errors.Is(err, ErrUnavailable) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// Health reports whether the database can serve now: it answers a ping,
// and no write has failed for a passing condition (a lock held elsewhere,
// say) within UnavailableFor without a write succeeding since. A locked
// SQLite file still answers reads, so a ping alone would say healthy
// while every registration fails.
func (s *Store) Health(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("%w: %s does not answer: %w", ErrUnavailable, s.display, err)
	}
	if u := s.unavail.Load(); u != nil {
		if age := s.clock.Since(u.at); age < UnavailableFor {
			return fmt.Errorf("%w: a write failed %s ago: %s", ErrUnavailable, age.Round(time.Second), u.reason)
		}
	}
	return nil
}
