package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/oracletest"
	"github.com/vigil-validator/vigil/internal/importer"
	"github.com/vigil-validator/vigil/internal/importer/refdb"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/registry"
	"github.com/vigil-validator/vigil/internal/pyoracle"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

// importNow is when the scenarios are scored: not on a bucket's edge.
var importNow = time.Date(2026, 12, 1, 12, 2, 17, 250_000_000, time.UTC)

func writeRefDB(t *testing.T, url string, d *refdb.ByteLeap) {
	t.Helper()
	engine, path, err := store.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	var db *sql.DB
	if engine == store.SQLite {
		db, err = sql.Open("sqlite", path)
	} else {
		db, err = sql.Open("pgx", url)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := d.Write(context.Background(), db, refdb.Engine(engine)); err != nil {
		t.Fatal(err)
	}
}

// computeConfig writes a validator configuration serving a compute subnet
// on dbURL, and the metagraph's hotkeys.
func computeConfig(t *testing.T, dir, dbURL string, metagraph []string) (cfgFile, hotkeysFile string) {
	t.Helper()
	cfgFile, hotkeysFile = filepath.Join(dir, "validator.yaml"), filepath.Join(dir, "hotkeys.json")
	yaml := "chain:\n  network: ws://127.0.0.1:9\n  netuid: 1\ndatabase:\n  url: " + dbURL + "\nwallet:\n  uri: //Alice\nmechanism: compute\n"
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(metagraph)
	if err := os.WriteFile(hotkeysFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgFile, hotkeysFile
}

func importSummary(t *testing.T, args ...string) importer.Summary {
	t.Helper()
	r := run(t, nil, append([]string{"import"}, append(args, "--json")...)...)
	var s importer.Summary
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &s) != nil {
		t.Fatalf("import %v: %+v", args, r)
	}
	return s
}

func previewAt(t *testing.T, cfgFile, hotkeysFile string, at time.Time) previewJSON {
	t.Helper()
	r := run(t, nil, "weights", "preview", "--config", cfgFile, "--hotkeys", hotkeysFile, "--at", at.Format(time.RFC3339Nano), "--json")
	var p previewJSON
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &p) != nil {
		t.Fatalf("preview: %+v", r)
	}
	return p
}

// TestImportByteLeapMatchesTheReference: reference databases built from
// the reference schema, one per scoring rule and one with them all, go
// through 'vigil import byteleap' and 'vigil weights preview --at T': each
// miner's challenge term, lease, score and weight, and the u16 vector, are
// those the transcription of the reference's weight cycle computes from
// the same database at T, to the bit. A second import writes nothing.
func TestImportByteLeapMatchesTheReference(t *testing.T) {
	python := oracletest.Python(t)
	scenarios := refdb.Scenarios(importNow)
	dir := t.TempDir()
	type req struct {
		DB        string         `json:"db"`
		Now       float64        `json:"now"`
		Config    map[string]any `json:"config"`
		Metagraph []string       `json:"metagraph"`
	}
	var reqs []req
	for i, s := range scenarios {
		path := filepath.Join(dir, fmt.Sprintf("ref%d.db", i))
		writeRefDB(t, "sqlite:"+path, &s.DB)
		reqs = append(reqs, req{DB: path, Now: float64(importNow.UnixNano()) / 1e9, Metagraph: s.Metagraph, Config: map[string]any{
			"ranking_window_minutes": 180, "challenge_interval": 240, "participation_rate_threshold": 0.8,
			"availability_hours": 169, "score_weights": map[string]float64{"challenge": 0.3, "lease": 0.7}, "cap": 100}})
	}
	want := pyoracle.ComputeScoring(t, python, reqs)
	for i, s := range scenarios {
		t.Run(s.Name, func(t *testing.T) {
			sub := t.TempDir()
			cfgFile, hotkeys := computeConfig(t, sub, "sqlite:"+filepath.Join(sub, "vigil.db"), s.Metagraph)
			from := "sqlite:" + reqs[i].DB
			first := importSummary(t, "byteleap", "--config", cfgFile, "--from", from)
			if first.Revision != refdb.ByteLeapHead {
				t.Fatalf("revision %q", first.Revision)
			}
			// The second time as SQLAlchemy spells the URL.
			again := importSummary(t, "byteleap", "--config", cfgFile, "--from", "sqlite://"+reqs[i].DB)
			for _, c := range again.Tables {
				if c.Written != 0 {
					t.Errorf("a second import wrote %d rows from %s", c.Written, c.Table)
				}
			}
			p := previewAt(t, cfgFile, hotkeys, importNow)
			w := want[i]
			if len(p.Miners) != len(w.Miners) {
				t.Fatalf("%d miners, the reference %d", len(p.Miners), len(w.Miners))
			}
			workers := 0
			for _, m := range p.Miners {
				r, ok := w.Miners[m.Hotkey]
				f := m.Factors
				if !ok || f["challenge_norm"] != r.ChallengeNorm || f["lease"] != r.Lease || f["score"] != r.Score || f["weight"] != r.Weight {
					t.Errorf("%s: norm %v lease %v score %v weight %v; the reference %+v", m.Hotkey, f["challenge_norm"], f["lease"], f["score"], f["weight"], r)
				}
				for _, part := range m.Parts {
					rw, ok := w.Workers[m.Hotkey+"_"+part.Name]
					if !ok || part.Factors["perf"] != rw.Perf || part.Factors["availability"] != rw.Avail {
						t.Errorf("%s/%s: perf %v availability %v; the reference %+v", m.Hotkey, part.Name, part.Factors["perf"], part.Factors["availability"], rw)
					}
					workers++
				}
			}
			// The reference scores the workers of hotkeys outside the
			// metagraph too (they set the normalisation); the preview
			// lists the active miners'.
			active := 0
			for key := range w.Workers {
				for _, m := range p.Miners {
					if strings.HasPrefix(key, m.Hotkey+"_") {
						active++
					}
				}
			}
			if workers != active {
				t.Errorf("%d workers scored, the reference %d", workers, active)
			}
			if fmt.Sprint(p.UIDs, p.Weights) != fmt.Sprint(w.UIDs, w.U16) {
				t.Errorf("submits %v %v, the reference %v %v", p.UIDs, p.Weights, w.UIDs, w.U16)
			}
			if s.Name == "one subnet" && len(p.UIDs) < 10 {
				t.Errorf("the whole subnet sets only %d weights", len(p.UIDs))
			}
		})
	}
	// PostgreSQL, as source and as vigil's store, gives the same preview.
	t.Run("postgres", func(t *testing.T) {
		s := scenarios[len(scenarios)-1]
		ref := storetest.URL(t, "postgres")
		writeRefDB(t, ref, &s.DB)
		sub := t.TempDir()
		cfgFile, hotkeys := computeConfig(t, sub, storetest.URL(t, "postgres"), s.Metagraph)
		// As SQLAlchemy spells it, with its driver.
		sqlalchemy := "postgresql+asyncpg://" + strings.TrimPrefix(strings.TrimPrefix(ref, "postgres://"), "postgresql://")
		importSummary(t, "byteleap", "--config", cfgFile, "--from", sqlalchemy)
		got := previewAt(t, cfgFile, hotkeys, importNow)
		w := want[len(want)-1]
		if fmt.Sprint(got.UIDs, got.Weights) != fmt.Sprint(w.UIDs, w.U16) {
			t.Errorf("submits %v %v, the reference %v %v", got.UIDs, got.Weights, w.UIDs, w.U16)
		}
	})
}

// TestImportByteLeapRefuses: an unknown revision, a missing table, a lease
// score vigil cannot hold and a hotkey not in SS58 form stop the import
// with the table and row named, and nothing is written, not even the
// rows read before the bad one.
func TestImportByteLeapRefuses(t *testing.T) {
	base := refdb.Scenarios(importNow)[0].DB
	for _, c := range []struct {
		name  string
		spoil func(*refdb.ByteLeap)
		sql   string
		want  []string
	}{
		{name: "unknown revision", spoil: func(d *refdb.ByteLeap) { d.Revision = "9f9f9f9f9f9f" }, want: []string{`"9f9f9f9f9f9f"`, "3b7f9d12c8ab"}},
		{name: "missing table", sql: "DROP TABLE gpu_inventory", want: []string{"table gpu_inventory"}},
		{name: "missing column", sql: "ALTER TABLE heartbeat_records DROP COLUMN public_ip", want: []string{"table heartbeat_records", "public_ip"}},
		{name: "lease out of range", sql: "UPDATE worker_info SET lease_score = 1.5 WHERE id = 3", want: []string{"table worker_info, row id 3", "lease_score 1.5"}},
		{name: "hotkey not SS58", sql: "UPDATE heartbeat_records SET hotkey = '0x1234' WHERE id = 77", want: []string{"table heartbeat_records, row id 77", `"0x1234"`}},
		{name: "unknown challenge type", sql: "UPDATE compute_challenges SET challenge_type = 'fpga' WHERE id = 5", want: []string{"table compute_challenges, row id 5", `"fpga"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			d := base
			if c.spoil != nil {
				c.spoil(&d)
			}
			path := filepath.Join(dir, "ref.db")
			writeRefDB(t, "sqlite:"+path, &d)
			if c.sql != "" {
				db, err := sql.Open("sqlite", path)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := db.Exec(c.sql); err != nil {
					t.Fatal(err)
				}
				db.Close()
			}
			vigilDB := filepath.Join(dir, "vigil.db")
			cfgFile, _ := computeConfig(t, dir, "sqlite:"+vigilDB, nil)
			r := run(t, nil, "import", "byteleap", "--config", cfgFile, "--from", "sqlite:"+path)
			if r.code != exitFailure || !strings.Contains(r.stderr, "nothing was written") {
				t.Fatalf("import: %+v", r)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not name %s", r.stderr, w)
				}
			}
			db, err := sql.Open("sqlite", vigilDB)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, table := range []string{"compute_miners", "compute_workers", "compute_heartbeat_buckets", "compute_availability", "compute_challenges", "compute_gpus"} {
				var n int
				if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil || n != 0 {
					t.Errorf("%s holds %d rows (%v)", table, n, err)
				}
			}
		})
	}
}

type anyWorker struct{}

func (anyWorker) WorkerExists(context.Context, string) (bool, error)     { return true, nil }
func (anyWorker) HotkeyRegistered(context.Context, string) (bool, error) { return true, nil }

// TestImportHashtensor: a Kaspa validator's mapping database (bound,
// unbound, one whose signature does not verify) goes through 'vigil import
// hashtensor': vigil's /mappings serves what the reference's serves (its
// rows without an unbind signature), unbound workers stay unbound, a
// second import writes nothing, and a worker bound here to another hotkey
// is kept and reported.
func TestImportHashtensor(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mapping.db")
	var regs []refdb.Registration
	for i, uri := range []string{"//Bob", "//Charlie", "//Dave"} {
		kp, err := keys.FromURI(uri)
		if err != nil {
			t.Fatal(err)
		}
		for w := range 4 {
			worker := fmt.Sprintf("%s.rig%d", kp.SS58()[:8], w)
			rt := 1_764_000_000.5 + float64(i*10+w)
			sig, err := kp.Sign(registry.RegistrationMessage(kp.SS58(), worker, rt))
			if err != nil {
				t.Fatal(err)
			}
			r := refdb.Registration{Worker: worker, Hotkey: kp.SS58(), RegistrationTime: rt, Signature: fmt.Sprintf("%x", sig)}
			if w == 3 {
				unbind, _ := kp.Sign(registry.UnbindMessage(kp.SS58(), worker))
				r.Unbind = fmt.Sprintf("%x", unbind)
			}
			if i == 2 && w == 0 {
				r.RegistrationTime += 1e-6 // signed over another time
			}
			regs = append(regs, r)
		}
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if err := refdb.WriteHashtensor(context.Background(), db, regs); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	rows, err := db.Query("SELECT worker, hotkey FROM hotkey_worker WHERE unbind_signature IS NULL")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var w, h string
		_ = rows.Scan(&w, &h)
		want[w] = h
	}
	rows.Close()
	db.Close()

	vigilDB := filepath.Join(dir, "vigil.db")
	yaml := "chain:\n  network: ws://127.0.0.1:9\n  netuid: 16\ndatabase:\n  url: sqlite:" + vigilDB + "\nwallet:\n  uri: //Alice\nmechanism: kaspa\n"
	cfgFile := filepath.Join(dir, "validator.yaml")
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	// A worker bound here already, to another hotkey.
	st := storetest.OpenSQLiteAt(t, vigilDB, time.Second, nil)
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	alice, _ := keys.FromURI("//Alice")
	clash := regs[1]
	if err := st.AddKaspaMapping(context.Background(), &store.KaspaMapping{Worker: clash.Worker, Hotkey: alice.SS58(), RegistrationTime: 1,
		RegistrationTimeInt: 1_000_000, Signature: "00", Source: store.KaspaSourceLocal}, 0); err != nil {
		t.Fatal(err)
	}
	want[clash.Worker] = alice.SS58()

	first := importSummary(t, "hashtensor", "--config", cfgFile, "--from", "sqlite:"+path)
	c := first.Tables[0]
	if c.Read != 12 || c.Written != 11 || len(c.Skipped) != 1 || !strings.Contains(strings.Join(c.Comments, " "), "1 registration signatures do not verify") {
		t.Errorf("first import: %+v", c)
	}
	again := importSummary(t, "hashtensor", "--config", cfgFile, "--from", "sqlite:"+path)
	if c := again.Tables[0]; c.Written != 0 || c.Present != 11 {
		t.Errorf("second import: %+v", c)
	}

	h, err := registry.NewHandler(registry.HandlerOpts{Store: st, Workers: anyWorker{}, Hotkeys: anyWorker{}, PoolWallet: "kaspa:pool"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/mappings")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var got map[string]string
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("/mappings: %s", body)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("/mappings after the import:\n%v\nthe reference's (and the one kept here):\n%v", got, want)
	}
	for _, r := range regs {
		m, err := st.KaspaMapping(context.Background(), r.Worker)
		if err != nil {
			t.Fatal(err)
		}
		if (r.Unbind != "") != !m.Active() {
			t.Errorf("%s: active %v, the reference unbound %v", r.Worker, m.Active(), r.Unbind != "")
		}
	}
}
