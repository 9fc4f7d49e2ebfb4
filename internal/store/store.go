// Package store is vigil's database: SQLite (embedded, the default) or
// PostgreSQL, behind database/sql, with one set of embedded migrations that
// runs on both.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/promreg"
)

// Sentinel errors, for errors.Is.
var (
	ErrSchemaTooNew      = errors.New("database schema is newer than this binary")
	ErrMigrationModified = errors.New("an applied migration differs from the embedded one")
	ErrNotFound          = errors.New("not found")
	// ErrEmptyDatabase: the SQLite file exists but holds nothing (a failed
	// copy, a truncated disk). It is not taken for a new database: that
	// would silently start an empty registry in place of the lost one.
	ErrEmptyDatabase = errors.New("database file exists but is empty")
)

// Options configures Open.
type Options struct {
	// URL is sqlite:PATH or postgres://… (see ParseURL).
	URL string
	// MaxOpenConns bounds the pool; 0 is 4 for SQLite, 8 for PostgreSQL.
	MaxOpenConns int
	// BusyTimeout bounds how long a SQLite writer waits for the lock.
	BusyTimeout time.Duration
	// Clock stamps rows; nil means the real clock.
	Clock clock.Clock
	// Registerer receives the store's metrics; nil registers none.
	Registerer prometheus.Registerer
}

// Store is an open database.
type Store struct {
	db      *sql.DB
	engine  Engine
	clock   clock.Clock
	display string // the URL without its password, for messages
	unavail atomic.Pointer[unavailableAt]
	writes  chan struct{} // the write slot, SQLite only (writes.go)
}

// Open connects to the database and checks that it answers. It does not
// migrate: call Migrate.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.URL == "" {
		return nil, errors.New("store: no database URL specified")
	}
	engine, path, err := ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("store: database URL: %w", err)
	}
	if opts.MaxOpenConns <= 0 {
		opts.MaxOpenConns = 8
		if engine == SQLite {
			opts.MaxOpenConns = 4 // one writer at a time; each connection has its own cache
		}
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	s := &Store{engine: engine, clock: opts.Clock}
	switch engine {
	case SQLite:
		s.writes = make(chan struct{}, 1)
		s.db, err = openSQLite(path, opts)
		s.display = "sqlite:" + path
	case Postgres:
		s.display = redact(opts.URL)
		s.db, err = sql.Open("pgx", opts.URL)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", s.display, err)
	}
	s.db.SetMaxOpenConns(opts.MaxOpenConns)
	s.db.SetMaxIdleConns(opts.MaxOpenConns)
	s.db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.db.PingContext(pingCtx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("connect to %s: %w", s.display, err)
	}
	// A store opened again against the same registry keeps the collector
	// already there.
	if _, err := promreg.Register(opts.Registerer, collectors.NewDBStatsCollector(s.db, "vigil")); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("register database metrics: %w", err)
	}
	return s, nil
}

// sqliteCacheKiB is each SQLite connection's page cache, negated (KiB).
const sqliteCacheKiB = -1024

func openSQLite(path string, opts Options) (*sql.DB, error) {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
	}
	fi, statErr := os.Stat(path)
	created := errors.Is(statErr, os.ErrNotExist)
	if statErr == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
		return nil, fmt.Errorf("%w: %s is 0 bytes; vigil creates a database only where no file exists: restore it from a backup, or delete it to start an empty one", ErrEmptyDatabase, path)
	}
	if created {
		// The database will hold registrations and scoring state: keep it
		// private from the start rather than trusting the umask.
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, err
		}
		f.Close()
	}
	// auto_vacuum must come before the first table is created; WAL lets
	// readers (the API) run beside the writer (the loops); immediate
	// transactions take the write lock at BEGIN, so two writers queue on
	// busy_timeout instead of failing with SQLITE_BUSY on upgrade.
	q := url.Values{}
	q.Add("_pragma", "auto_vacuum(INCREMENTAL)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// A page cache of 1 MiB per connection rather than 2: the hot pages
	// are few (a heartbeat touches its miner's), and every connection
	// keeps its own cache.
	q.Add("_pragma", fmt.Sprintf("cache_size(%d)", sqliteCacheKiB))
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	return sql.Open("sqlite", "file:"+path+"?"+q.Encode())
}

// redact drops the password from a URL so it can appear in errors and logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	u.RawQuery = ""
	return u.Redacted()
}

// Engine reports which database engine the store uses.
func (s *Store) Engine() Engine { return s.engine }

// String names the database without its password.
func (s *Store) String() string { return s.display }

// DB exposes the handle for packages that add their own tables.
func (s *Store) DB() *sql.DB { return s.db }

// Ping checks that the database answers; it backs the health check.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Rebind turns the ? placeholders of a query into the engine's own.
func (s *Store) Rebind(q string) string { return Rebind(s.engine, q) }

// Rebind turns a query's ? placeholders into the engine's (PostgreSQL's
// $1, $2, …; quoted strings left alone).
func Rebind(engine Engine, q string) string {
	if engine != Postgres {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	inString := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inString = !inString
		case c == '?' && !inString:
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func (s *Store) now() time.Time { return s.clock.Now().UTC() }
