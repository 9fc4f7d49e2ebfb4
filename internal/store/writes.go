package store

import (
	"context"
	"database/sql"
)

// SQLite has one writer at a time, and a writer that finds the file
// locked waits in its busy handler, which polls with sleeps growing to
// 100 ms: under a steady stream of short writes the wait is far longer
// than the lock is held, and tail latency follows it. The store's own
// writers therefore queue on a channel, which hands over at once;
// busy_timeout still covers other processes. PostgreSQL needs none of it.

// lockWrites waits for the write slot (SQLite) and returns its release.
func (s *Store) lockWrites(ctx context.Context) (func(), error) {
	if s.writes == nil {
		return func() {}, nil
	}
	select {
	case s.writes <- struct{}{}:
		return func() { <-s.writes }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// beginWrite starts a write transaction holding the write slot; end rolls
// back what was not committed and releases the slot, and is to be
// deferred.
func (s *Store) beginWrite(ctx context.Context) (tx *sql.Tx, end func(), err error) {
	release, err := s.lockWrites(ctx)
	if err != nil {
		return nil, nil, err
	}
	tx, err = s.db.BeginTx(ctx, nil)
	if err != nil {
		release()
		return nil, nil, err
	}
	return tx, func() {
		_ = tx.Rollback() // a no-op after Commit
		release()
	}, nil
}

// exec runs one writing statement holding the write slot.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	release, err := s.lockWrites(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return s.db.ExecContext(ctx, query, args...)
}

// queryRowWrite runs one writing statement that returns a row (INSERT …
// RETURNING) holding the write slot, and scans it.
func (s *Store) queryRowWrite(ctx context.Context, dest []any, query string, args ...any) error {
	release, err := s.lockWrites(ctx)
	if err != nil {
		return err
	}
	defer release()
	return s.db.QueryRowContext(ctx, query, args...).Scan(dest...)
}
