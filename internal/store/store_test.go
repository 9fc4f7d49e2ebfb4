package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 123456000, time.UTC)

func TestMigrateUpTwiceIsNoOp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		s, err := store.Open(ctx, store.Options{URL: storetest.URL(t, engine)})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		known, err := store.Migrations()
		if err != nil || len(known) == 0 {
			t.Fatalf("embedded migrations: %v, %d", err, len(known))
		}
		st, err := s.Check(ctx)
		if err != nil || st.Version != 0 || len(st.Pending) != len(known) {
			t.Fatalf("empty database: status %+v, err %v", st, err)
		}
		first, err := s.Migrate(ctx)
		if err != nil || len(first) != len(known) {
			t.Fatalf("first migrate applied %d of %d: %v", len(first), len(known), err)
		}
		second, err := s.Migrate(ctx)
		if err != nil || len(second) != 0 {
			t.Fatalf("second migrate applied %d, err %v; want a no-op", len(second), err)
		}
		st, err = s.Check(ctx)
		if err != nil || st.Version != st.Latest || len(st.Pending) != 0 || len(st.Applied) != len(known) {
			t.Fatalf("after migrate: status %+v, err %v", st, err)
		}
		if st.Engine != s.Engine() || string(st.Engine) != engine {
			t.Errorf("engine %q, want %q", st.Engine, engine)
		}
	})
}

func TestNewerSchemaIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		s := storetest.Open(t, engine, nil)
		if _, err := s.DB().ExecContext(ctx, s.Rebind(
			"INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)"),
			999, "from_the_future", "x", time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		_, err := s.Check(ctx)
		if !errors.Is(err, store.ErrSchemaTooNew) || !strings.Contains(err.Error(), "schema version 999") {
			t.Errorf("Check: %v, want ErrSchemaTooNew naming version 999", err)
		}
		if _, err := s.Migrate(ctx); !errors.Is(err, store.ErrSchemaTooNew) {
			t.Errorf("Migrate: %v, want ErrSchemaTooNew", err)
		}
	})
}

func TestModifiedMigrationIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		s := storetest.Open(t, engine, nil)
		if _, err := s.DB().ExecContext(ctx, "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Migrate(ctx); !errors.Is(err, store.ErrMigrationModified) {
			t.Errorf("Migrate: %v, want ErrMigrationModified", err)
		}
	})
}

func TestConcurrentMigratorsApplyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		url := storetest.URL(t, engine)
		const n = 4
		var wg sync.WaitGroup
		applied := make([]int, n)
		errs := make([]error, n)
		for i := range n {
			s, err := store.Open(ctx, store.Options{URL: url, BusyTimeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			wg.Add(1)
			go func() {
				defer wg.Done()
				ms, err := s.Migrate(ctx)
				applied[i], errs[i] = len(ms), err
			}()
		}
		wg.Wait()
		total := 0
		for i := range n {
			if errs[i] != nil {
				t.Errorf("migrator %d: %v", i, errs[i])
			}
			total += applied[i]
		}
		known, _ := store.Migrations()
		if total != len(known) {
			t.Errorf("%d migrators applied %d migrations in all, want %d", n, total, len(known))
		}
	})
}

func TestSQLiteSettings(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "vigil.db")
	s, err := store.Open(ctx, store.Options{URL: "sqlite:" + path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for pragma, want := range map[string]string{"auto_vacuum": "2", "journal_mode": "wal", "foreign_keys": "1"} {
		var got string
		if err := s.DB().QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("database file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestParseURL(t *testing.T) {
	cases := []struct {
		in     string
		engine store.Engine
		path   string
	}{
		{"sqlite:vigil.db", store.SQLite, "vigil.db"},
		{"sqlite://data/vigil.db", store.SQLite, "data/vigil.db"},
		{"sqlite:///var/lib/vigil/vigil.db", store.SQLite, "/var/lib/vigil/vigil.db"},
		{"postgres://vigil:secret@db:5432/vigil?sslmode=disable", store.Postgres, ""},
		{"postgresql://db/vigil", store.Postgres, ""},
	}
	for _, tc := range cases {
		e, p, err := store.ParseURL(tc.in)
		if err != nil || e != tc.engine || p != tc.path {
			t.Errorf("ParseURL(%q) = %q, %q, %v; want %q, %q", tc.in, e, p, err, tc.engine, tc.path)
		}
	}
	// A malformed URL must not echo its password.
	_, _, err := store.ParseURL("postgres://vigil:s3cret@db:port/x")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("malformed URL error %v leaks or is missing", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := store.Open(ctx, store.Options{}); err == nil || !strings.Contains(err.Error(), "no database URL specified") {
		t.Errorf("empty URL: %v", err)
	}
	if _, err := store.Open(ctx, store.Options{URL: "mysql://x"}); err == nil || !strings.Contains(err.Error(), `unsupported scheme "mysql"`) {
		t.Errorf("mysql: %v", err)
	}
	// Nothing listens on port 1: the error must say where it tried, without the password.
	_, err := store.Open(ctx, store.Options{URL: "postgres://vigil:hunter2@127.0.0.1:1/vigil?connect_timeout=2"})
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("unreachable PostgreSQL: %v", err)
	}
}

func TestEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clk := clock.NewFake(t0)
		s := storetest.Open(t, engine, clk)
		id1, err := s.AppendEvent(ctx, store.Event{Kind: "weights.submitted", Subject: "netuid:1", Detail: json.RawMessage(`{"block":100,"uids":[1,2]}`)})
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		id2, err := s.AppendEvent(ctx, store.Event{Kind: "registry.bound", Subject: "5Grw…"})
		if err != nil {
			t.Fatal(err)
		}
		if id2 <= id1 {
			t.Errorf("ids %d then %d, want increasing", id1, id2)
		}
		all, err := s.Events(ctx, store.EventFilter{})
		if err != nil || len(all) != 2 {
			t.Fatalf("all events: %v, %d", err, len(all))
		}
		if all[0].ID != id2 || !all[0].At.Equal(t0.Add(time.Minute)) || string(all[0].Detail) != "{}" {
			t.Errorf("newest event %+v, want id %d at %v with {}", all[0], id2, t0.Add(time.Minute))
		}
		if !all[1].At.Equal(t0) || all[1].Kind != "weights.submitted" || all[1].Subject != "netuid:1" {
			t.Errorf("oldest event %+v", all[1])
		}
		var detail struct{ Block int }
		if err := json.Unmarshal(all[1].Detail, &detail); err != nil || detail.Block != 100 {
			t.Errorf("detail %s did not round-trip: %v", all[1].Detail, err)
		}
		byKind, _ := s.Events(ctx, store.EventFilter{Kind: "registry.bound"})
		since, _ := s.Events(ctx, store.EventFilter{Since: t0.Add(time.Second)})
		limited, _ := s.Events(ctx, store.EventFilter{Limit: 1})
		if len(byKind) != 1 || len(since) != 1 || since[0].ID != id2 || len(limited) != 1 {
			t.Errorf("filters: kind %d, since %d, limit %d", len(byKind), len(since), len(limited))
		}
		for _, bad := range []store.Event{{Kind: ""}, {Kind: "x", Detail: json.RawMessage("{not json")}, {Kind: strings.Repeat("k", 200)}} {
			if _, err := s.AppendEvent(ctx, bad); err == nil {
				t.Errorf("AppendEvent(%+v) accepted", bad)
			}
		}
	})
}

func TestWeightSubmissions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clk := clock.NewFake(t0)
		s := storetest.Open(t, engine, clk)
		if _, err := s.LastWeightSubmission(ctx, 1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("empty journal: %v, want ErrNotFound", err)
		}
		a := &store.WeightSubmission{Netuid: 1, Block: 100, Mode: store.ModeSet, UIDs: []uint16{0, 5, 65535}, Weights: []uint16{65535, 0, 1}, VersionKey: 1017}
		if err := s.RecordWeightSubmission(ctx, a); err != nil {
			t.Fatal(err)
		}
		if a.ID == 0 || a.Outcome != store.OutcomePending || !a.CreatedAt.Equal(t0) {
			t.Errorf("recorded %+v", a)
		}
		clk.Advance(12 * time.Second)
		included := uint64(101)
		if err := s.UpdateWeightSubmission(ctx, a.ID, store.SubmissionResult{Outcome: store.OutcomeIncluded, TxHash: "0xabc", IncludedBlock: &included}); err != nil {
			t.Fatal(err)
		}
		b := &store.WeightSubmission{Netuid: 1, Block: 200, Mode: store.ModeCommit, UIDs: []uint16{1}, Weights: []uint16{65535}, Outcome: store.OutcomeFailed, Error: "SubtensorModule.SettingWeightsTooFast"}
		if err := s.RecordWeightSubmission(ctx, b); err != nil {
			t.Fatal(err)
		}
		other := &store.WeightSubmission{Netuid: 2, Block: 300, Mode: store.ModeReveal}
		if err := s.RecordWeightSubmission(ctx, other); err != nil {
			t.Fatal(err)
		}
		last, err := s.LastWeightSubmission(ctx, 1)
		if err != nil || last.ID != b.ID || last.Error != b.Error || last.Mode != store.ModeCommit {
			t.Errorf("last on netuid 1: %+v, %v; want the failed commit", last, err)
		}
		good, err := s.LastWeightSubmission(ctx, 1, store.OutcomeIncluded, store.OutcomeFinalized)
		if err != nil || good.ID != a.ID {
			t.Fatalf("last successful: %+v, %v", good, err)
		}
		if good.TxHash != "0xabc" || good.IncludedBlock == nil || *good.IncludedBlock != 101 || good.VersionKey != 1017 ||
			!good.UpdatedAt.Equal(t0.Add(12*time.Second)) || !good.CreatedAt.Equal(t0) {
			t.Errorf("round trip lost data: %+v", good)
		}
		if len(good.UIDs) != 3 || good.UIDs[2] != 65535 || good.Weights[0] != 65535 || good.Weights[2] != 1 {
			t.Errorf("vectors %v %v", good.UIDs, good.Weights)
		}
		if o, _ := s.LastWeightSubmission(ctx, 2); o.UIDs == nil || len(o.UIDs) != 0 {
			t.Errorf("empty vectors should round-trip as empty, got %#v", o.UIDs)
		}
		bad := []*store.WeightSubmission{
			{Netuid: 1, Mode: "burn"},
			{Netuid: 1, Mode: store.ModeSet, UIDs: []uint16{1}},
			{Netuid: 1, Mode: store.ModeSet, Outcome: "lost"},
			{Netuid: 1, Mode: store.ModeSet, Block: 1 << 63},
		}
		for _, w := range bad {
			if err := s.RecordWeightSubmission(ctx, w); err == nil {
				t.Errorf("accepted invalid submission %+v", w)
			}
		}
		if err := s.UpdateWeightSubmission(ctx, 9999, store.SubmissionResult{Outcome: store.OutcomeFailed}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("update of a missing row: %v", err)
		}
		// The schema enforces the same rules for writers that bypass Go.
		if _, err := s.DB().ExecContext(ctx, s.Rebind(`INSERT INTO weight_submissions
			(created_at, updated_at, netuid, block, mode, uids, weights, version_key, outcome)
			VALUES (?, ?, 1, 1, 'burn', '[]', '[]', 0, 'pending')`), t0, t0); err == nil {
			t.Error("schema accepted mode 'burn'")
		}
	})
}

func TestRebind(t *testing.T) {
	s := storetest.Open(t, "sqlite", nil)
	if got := s.Rebind("SELECT ? WHERE a = '?'"); got != "SELECT ? WHERE a = '?'" {
		t.Errorf("sqlite rebind changed the query: %s", got)
	}
	p := storetest.Open(t, "postgres", nil)
	if got := p.Rebind("SELECT ?, ? WHERE a = '?' AND b = ?"); got != "SELECT $1, $2 WHERE a = '?' AND b = $3" {
		t.Errorf("postgres rebind: %s", got)
	}
}

// TestTimelockModeMigration: rows journaled as 'commit' before migration 6
// (all timelocked: the weight loop makes no hash commits) read as
// 'timelock' after it, with their ids, and new rows are numbered after
// them on both engines.
func TestTimelockModeMigration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		s, err := store.Open(ctx, store.Options{URL: storetest.URL(t, engine)})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.MigrateUpTo(ctx, 5); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, mode := range []store.SubmissionMode{store.ModeSet, store.ModeCommit, store.ModeSet} {
			w := &store.WeightSubmission{Netuid: 3, Block: 100 + uint64(len(ids)), Mode: mode, UIDs: []uint16{1}, Weights: []uint16{65535}, Mechanism: 1}
			if err := s.RecordWeightSubmission(ctx, w); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, w.ID)
		}
		if _, err := s.DB().ExecContext(ctx, s.Rebind("INSERT INTO weight_submissions (created_at, updated_at, netuid, block, mode, uids, weights, version_key, outcome) VALUES (?, ?, 3, 1, 'timelock', '[]', '[]', 0, 'pending')"), t0, t0); err == nil {
			t.Fatal("version 5 took a 'timelock' row")
		}
		applied, err := s.MigrateUpTo(ctx, 6)
		if err != nil || len(applied) != 1 || applied[0].Version != 6 {
			t.Fatalf("migrate: %v %v", applied, err)
		}
		rows, err := s.WeightSubmissions(ctx, 3, 10)
		if err != nil || len(rows) != 3 {
			t.Fatalf("rows %v %v", rows, err)
		}
		// Newest first.
		if rows[2].ID != ids[0] || rows[1].ID != ids[1] || rows[1].Mode != store.ModeTimelock || rows[0].Mode != store.ModeSet || rows[1].Mechanism != 1 {
			t.Fatalf("after migration: %+v", rows)
		}
		w := &store.WeightSubmission{Netuid: 3, Block: 200, Mode: store.ModeCommit, UIDs: []uint16{}, Weights: []uint16{}}
		if err := s.RecordWeightSubmission(ctx, w); err != nil || w.ID <= ids[2] {
			t.Fatalf("a new row: id %d after %d, %v", w.ID, ids[2], err)
		}
	})
}
