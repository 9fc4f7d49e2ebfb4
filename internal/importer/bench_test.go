package importer_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/importer"
	"github.com/vigil-validator/vigil/internal/importer/refdb"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkImportByteLeap imports a reference compute validator's SQLite
// database of VIGIL_IMPORT_MINERS × VIGIL_IMPORT_WORKERS workers (default
// 64 × 10) heartbeating every VIGIL_IMPORT_STEP seconds (default 300, a
// heartbeat per bucket; the reference's miners send one a minute) over
// 169 hours, into a fresh SQLite store. It reports the source's heartbeat
// rows, their rate and the peak Go heap while importing (the import
// streams: it holds a batch of rows and one miner's rings at a time).
func BenchmarkImportByteLeap(b *testing.B) {
	miners, workers := envInt("VIGIL_IMPORT_MINERS", 64), envInt("VIGIL_IMPORT_WORKERS", 10)
	step := time.Duration(envInt("VIGIL_IMPORT_STEP", 300)) * time.Second
	dir := b.TempDir()
	if d := os.Getenv("VIGIL_IMPORT_DIR"); d != "" {
		dir = d
	}
	srcPath := filepath.Join(dir, fmt.Sprintf("ref-%dx%d-%s.db", miners, workers, step))
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	if _, err := os.Stat(srcPath); err != nil {
		db, err := sql.Open("sqlite", srcPath)
		if err != nil {
			b.Fatal(err)
		}
		began := time.Now()
		if err := refdb.WriteLoad(ctx, db, refdb.SQLite, refdb.Load{Miners: miners, Workers: workers, Hours: 169, Step: step, Now: now}); err != nil {
			b.Fatal(err)
		}
		db.Close()
		b.Logf("built the source in %s", time.Since(began).Round(time.Second))
	}
	var rows int64
	for b.Loop() {
		b.StopTimer()
		dst := storetest.OpenSQLiteAt(b, filepath.Join(b.TempDir(), "vigil.db"), 5*time.Second, nil)
		if _, err := dst.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		src, err := importer.OpenSource(ctx, "sqlite:"+srcPath)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var peak atomic.Uint64
		done := make(chan struct{})
		go func() {
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
				select {
				case <-done:
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		}()
		b.StartTimer()
		sum, err := importer.ImportByteLeap(ctx, src, dst, importer.ByteLeapOptions{Netuid: 1})
		b.StopTimer()
		close(done)
		if err != nil {
			b.Fatal(err)
		}
		src.Close()
		dst.Close()
		for _, c := range sum.Tables {
			if c.Table == "heartbeat_records" {
				rows = c.Read
			}
		}
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
		b.StartTimer()
	}
	b.ReportMetric(float64(rows), "heartbeats")
	b.ReportMetric(float64(rows)/(b.Elapsed().Seconds()/float64(b.N)), "heartbeats/s")
}
