package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

// A file that exists but is empty is not a new database: opening it fails
// and names it, rather than starting an empty registry in its place.
func TestEmptyDatabaseFileIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := store.Open(context.Background(), store.Options{URL: "sqlite:" + path})
	if !errors.Is(err, store.ErrEmptyDatabase) || !strings.Contains(err.Error(), path) {
		t.Fatalf("opening an empty file: %v; want ErrEmptyDatabase naming %s", err, path)
	}
	// No file at all is a new database, as before.
	fresh := filepath.Join(t.TempDir(), "new.db")
	s, err := store.Open(context.Background(), store.Options{URL: "sqlite:" + fresh})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// A write that waits out the busy timeout fails with ErrUnavailable, and
// Health says so (a ping alone still succeeds on a locked file) until a
// write succeeds again.
func TestLockedDatabaseIsUnavailable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vigil.db")
	s := storetest.OpenSQLiteAt(t, path, 200*time.Millisecond, clock.Real())
	if err := s.Health(ctx); err != nil {
		t.Fatalf("health of a fresh database: %v", err)
	}
	m := func(w string) *store.KaspaMapping {
		return &store.KaspaMapping{Worker: w, Hotkey: "5Hk", RegistrationTime: 1, RegistrationTimeInt: 1_000_000, Signature: "00", Source: store.KaspaSourceLocal}
	}
	release := storetest.LockSQLite(t, path)
	err := s.AddKaspaMapping(ctx, m("w1"), 30)
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write to a locked database: %v, want ErrUnavailable", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping of a locked database: %v (reads should still work)", err)
	}
	if err := s.Health(ctx); !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "locked") {
		t.Errorf("health while locked: %v, want ErrUnavailable with the reason", err)
	}
	if err := s.UnbindKaspaWorker(ctx, "5Hk", "w1", "00", store.KaspaSourceLocal); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("unbind while locked: %v", err)
	}
	release()
	if err := s.AddKaspaMapping(ctx, m("w1"), 30); err != nil {
		t.Fatalf("write after the lock went: %v", err)
	}
	if err := s.Health(ctx); err != nil {
		t.Errorf("health after a write succeeded: %v", err)
	}
	// A refusal is not unavailability.
	if err := s.AddKaspaMapping(ctx, m("w1"), 30); !errors.Is(err, store.ErrKaspaWorkerExists) || errors.Is(err, store.ErrUnavailable) {
		t.Errorf("duplicate: %v", err)
	}
}
