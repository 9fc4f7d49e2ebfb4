package refdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-validator/vigil/internal/store"
)

// Load is the shape of a large reference database: Miners × Workers, a
// quarter of them with 8 GPUs, each heartbeating every Step over Hours
// before Now, as the reference stores heartbeats (a row each, in time
// order), with 45 verified challenges per worker in the ranking window.
type Load struct {
	Miners, Workers int
	Hours           int
	Step            time.Duration
	Now             time.Time
}

// WriteLoad creates the schema on db and fills it with l. On SQLite it
// turns the journal off for the connection: the database is scratch.
func WriteLoad(ctx context.Context, db *sql.DB, engine Engine, l Load) error {
	if err := Create(ctx, db, engine, ""); err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if engine == SQLite {
		if _, err := conn.ExecContext(ctx, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF"); err != nil {
			return err
		}
	}
	ts := func(t time.Time) any { return timeArg(engine, t) }
	type key struct{ hotkey, worker string }
	var keys []key
	gpus := map[key]string{}
	uuids := map[key][]string{}
	var miners, workers, inventory [][]any
	for m := range l.Miners {
		hk := Hotkey(fmt.Sprintf("load-%d", m))
		miners = append(miners, []any{hk, "0.0.5", true, ts(l.Now.Add(-time.Minute)), ts(l.Now.Add(-300 * time.Hour))})
		for w := range l.Workers {
			k := key{hk, fmt.Sprintf("worker-%03d", w)}
			keys = append(keys, k)
			lease := 0.0
			if w%10 == 9 {
				lease = 0.5
			}
			workers = append(workers, []any{k.worker, hk, k.worker, "0.0.5", `["cpu_matrix","gpu_matrix"]`, true, ts(l.Now.Add(-time.Minute)), lease,
				ts(l.Now.Add(-300 * time.Hour))})
			if w%4 == 0 {
				var list []string
				for g := range 8 {
					u := fmt.Sprintf("GPU-%d-%d-%d", m, w, g)
					uuids[k] = append(uuids[k], u)
					list = append(list, fmt.Sprintf(`{"uuid":%q,"name":"NVIDIA H100 80GB HBM3","utilization":97}`, u))
					inventory = append(inventory, []any{u, hk, k.worker, "NVIDIA H100 80GB HBM3", ts(l.Now.Add(-time.Minute)), ts(l.Now.Add(-300 * time.Hour)), true})
				}
				gpus[k] = "[" + strings.Join(list, ",") + "]"
			}
		}
	}
	insert := func(head string, rows [][]any) error {
		_, err := store.InsertValues(ctx, conn, store.Engine(engine), head, "", rows)
		return err
	}
	if err := insert("INSERT INTO miner_info (hotkey, miner_version, is_online, last_heartbeat, created_at)", miners); err != nil {
		return err
	}
	if err := insert(`INSERT INTO worker_info (worker_id, hotkey, worker_name, worker_version, capabilities, is_online, last_heartbeat, lease_score,
		created_at)`, workers); err != nil {
		return err
	}
	if err := insert("INSERT INTO gpu_inventory (gpu_uuid, hotkey, worker_id, gpu_model, last_seen_at, created_at, is_active)", inventory); err != nil {
		return err
	}
	// Heartbeats in time order, every worker per step, a transaction per
	// step.
	start := l.Now.Add(-time.Duration(l.Hours) * time.Hour)
	rows := make([][]any, 0, len(keys))
	for at := start.Add(3 * time.Second); at.Before(l.Now); at = at.Add(l.Step) {
		rows = rows[:0]
		for i, k := range keys {
			t := at.Add(time.Duration(i%50) * time.Millisecond)
			g, ok := gpus[k]
			if !ok {
				g = "[]"
			}
			rows = append(rows, []any{k.hotkey, k.worker, 12.5, 40.25, g, "198.51.100.7", ts(t)})
		}
		if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
			return err
		}
		if err := insert("INSERT INTO heartbeat_records (hotkey, worker_id, cpu_usage, memory_usage, gpu_utilization, public_ip, created_at)", rows); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	var challenges [][]any
	for i, k := range keys {
		com, kind := `{"-1":"aa"}`, "cpu_matrix"
		if us := uuids[k]; len(us) > 0 {
			var parts []string
			for _, u := range us {
				parts = append(parts, fmt.Sprintf(`%q:"ab"`, u))
			}
			com, kind = "{"+strings.Join(parts, ",")+"}", "gpu_matrix"
		}
		for c := range 45 {
			created := l.Now.Add(-time.Minute - time.Duration(c)*240*time.Second)
			challenges = append(challenges, []any{fmt.Sprintf("load-%d-%d", i, c), k.hotkey, k.worker, kind, "{}", 1500.0 + float64(c),
				com, "verified", true, ts(created.Add(90 * time.Second)), true, 1, ts(created)})
		}
		if len(challenges) >= 20000 {
			if err := insert(`INSERT INTO compute_challenges (challenge_id, hotkey, worker_id, challenge_type, challenge_data, computation_time_ms,
				merkle_commitments, challenge_status, verification_result, verified_at, is_success, success_count, created_at)`, challenges); err != nil {
				return err
			}
			challenges = challenges[:0]
		}
	}
	return insert(`INSERT INTO compute_challenges (challenge_id, hotkey, worker_id, challenge_type, challenge_data, computation_time_ms,
		merkle_commitments, challenge_status, verification_result, verified_at, is_success, success_count, created_at)`, challenges)
}
