// Command refdb writes a reference compute validator's database, to try
// 'vigil import byteleap' and 'vigil weights preview' on:
//
//	go run ./internal/importer/refdb/cmd/refdb -out sqlite:/tmp/ref.db -hotkeys /tmp/hotkeys.json
//
// By default it writes the scenario with every scoring rule ("one
// subnet"), scored at -now; -list names the scenarios, -load M,W writes M
// miners of W workers heartbeating every -step instead.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/vigil-validator/vigil/internal/importer/refdb"
	"github.com/vigil-validator/vigil/internal/store"
)

func main() {
	out := flag.String("out", "", "the database to write: sqlite:PATH (a new file) or postgres://… (an empty database)")
	name := flag.String("scenario", "one subnet", "the scenario to write")
	list := flag.Bool("list", false, "list the scenarios")
	at := flag.String("now", "2026-12-01T12:02:17.25Z", "the time the scenario is scored at, RFC 3339")
	hotkeys := flag.String("hotkeys", "", "write the scenario's metagraph (hotkeys in uid order, JSON) to this file")
	load := flag.String("load", "", "M,W: a large database of M miners of W workers instead of a scenario")
	step := flag.Duration("step", 5*time.Minute, "with -load: the heartbeat interval")
	flag.Parse()
	now, err := time.Parse(time.RFC3339Nano, *at)
	if err != nil {
		fail("-now: %v", err)
	}
	if *list {
		for _, s := range refdb.Scenarios(now) {
			fmt.Println(s.Name)
		}
		return
	}
	engine, path, err := store.ParseURL(*out)
	if err != nil {
		fail("-out: %v", err)
	}
	var db *sql.DB
	if engine == store.SQLite {
		if _, err := os.Stat(path); err == nil {
			fail("-out: %s exists", path)
		}
		db, err = sql.Open("sqlite", path)
	} else {
		db, err = sql.Open("pgx", *out)
	}
	if err != nil {
		fail("%v", err)
	}
	defer db.Close()
	ctx := context.Background()
	if *load != "" {
		var m, w int
		if _, err := fmt.Sscanf(*load, "%d,%d", &m, &w); err != nil || m <= 0 || w <= 0 {
			fail("-load: want M,W")
		}
		if err := refdb.WriteLoad(ctx, db, refdb.Engine(engine), refdb.Load{Miners: m, Workers: w, Hours: 169, Step: *step, Now: now}); err != nil {
			fail("%v", err)
		}
		return
	}
	for _, s := range refdb.Scenarios(now) {
		if !strings.EqualFold(s.Name, *name) {
			continue
		}
		if err := s.DB.Write(ctx, db, refdb.Engine(engine)); err != nil {
			fail("%v", err)
		}
		if *hotkeys != "" {
			b, _ := json.Marshal(s.Metagraph)
			if err := os.WriteFile(*hotkeys, b, 0o644); err != nil {
				fail("%v", err)
			}
		}
		return
	}
	fail("no scenario %q (-list names them)", *name)
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "refdb: "+format+"\n", a...)
	os.Exit(2)
}
