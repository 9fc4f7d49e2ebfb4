// Package storetest runs store tests against every engine: SQLite always,
// and a real PostgreSQL whenever one is reachable.
//
// The PostgreSQL server comes from VIGIL_TEST_POSTGRES_URL (scripts/test-deps.sh
// starts a throwaway one and sets it). Each test gets a database of its own,
// dropped at cleanup. Without the variable the PostgreSQL cases skip, except
// under CI=true, where they fail: CI must prove both engines.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	_ "modernc.org/sqlite"             // the "sqlite" driver

	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/store"
)

// PostgresEnv names the variable holding the admin URL of a test server.
const PostgresEnv = "VIGIL_TEST_POSTGRES_URL"

// Engines are the subtest names, one per engine.
var Engines = []string{"sqlite", "postgres"}

// URL returns the URL of a fresh, empty database for the engine, removed when
// the test ends.
func URL(t testing.TB, engine string) string {
	t.Helper()
	switch engine {
	case "sqlite":
		return "sqlite:" + filepath.Join(t.TempDir(), "vigil.db")
	case "postgres":
		return freshPostgres(t)
	}
	t.Fatalf("storetest: unknown engine %q", engine)
	return ""
}

// Open opens and migrates a fresh database for the engine.
func Open(t testing.TB, engine string, clk clock.Clock) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, store.Options{URL: URL(t, engine), Clock: clk, BusyTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("open %s: %v", engine, err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", engine, err)
	}
	return s
}

// Each runs fn once per engine as subtests named after the engines.
func Each(t *testing.T, fn func(t *testing.T, engine string)) {
	t.Helper()
	for _, e := range Engines {
		t.Run(e, func(t *testing.T) { fn(t, e) })
	}
}

func freshPostgres(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(PostgresEnv)
	if admin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must run the store tests on PostgreSQL (make test starts one through scripts/test-deps.sh)", PostgresEnv)
		}
		t.Skipf("PostgreSQL not available: set %s or run through make test (scripts/test-deps.sh starts one)", PostgresEnv)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("storetest: %s: %v", PostgresEnv, err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "vigil_test_" + hex.EncodeToString(b[:])
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("storetest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("storetest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("storetest: %s: %v", PostgresEnv, err)
	}
	u.Path = "/" + name
	return u.String()
}

// OpenSQLiteAt opens and migrates an SQLite database at path with the given
// busy timeout (short, for tests of a locked database).
func OpenSQLiteAt(t testing.TB, path string, busy time.Duration, clk clock.Clock) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, store.Options{URL: "sqlite:" + path, Clock: clk, BusyTimeout: busy})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", path, err)
	}
	return s
}

// LockSQLite takes the write lock of the SQLite file at path from a
// connection of its own, as another process (a backup, an sqlite3 shell)
// would, and returns its release; the lock also goes when the test ends.
func LockSQLite(t testing.TB, path string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		conn.Close()
		db.Close()
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
			conn.Close()
			db.Close()
		})
	}
	t.Cleanup(release)
	return release
}
