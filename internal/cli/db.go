package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigil-validator/vigil/internal/config"
	"github.com/vigil-validator/vigil/internal/store"
)

const dbHelp = `
Manages the database named by database.url (from --config, VIGIL_DATABASE_URL
or --database-url; the validator's configuration file is accepted as it is).

  migrate up      apply every pending migration (a no-op when up to date)
  migrate status  list the migrations and which are applied
  check           connect, report the schema version and pending migrations;
                  exits 1 when migrations are pending or the schema is newer
                  than this binary`

func runDB(env Env, args []string) int {
	var sub []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") && len(sub) < 2 {
		sub, args = append(sub, args[0]), args[1:]
	}
	defaults := config.DefaultValidator()
	fs := newFlagSet(env, "db", "db migrate up|status | db check [--config FILE] [flags]", dbHelp)
	file := configFlag(env, fs)
	var keys []config.Key
	for _, k := range config.Keys(&defaults) {
		if strings.HasPrefix(k.Path, "database.") {
			keys = append(keys, k)
		}
	}
	flags := config.BindFlags(fs, keys)
	if code, ok := parse(env, fs, args); !ok {
		return code
	}
	action := strings.Join(sub, " ")
	if fs.NArg() > 0 || (action != "migrate up" && action != "migrate status" && action != "check") {
		fmt.Fprintf(env.Stderr, "vigil db: want 'migrate up', 'migrate status' or 'check', got %q\nRun 'vigil db --help' for usage.\n", strings.TrimSpace(action+" "+strings.Join(fs.Args(), " ")))
		return exitUsage
	}
	// The whole file is parsed, so a typo anywhere is still reported, but
	// only the database section has to be complete.
	cfg := defaults
	if err := config.Load(&cfg, config.Source{File: *file, LookupEnv: env.LookupEnv, Flags: flags}); err != nil {
		fmt.Fprintf(env.Stderr, "vigil db: %v\n", err)
		return exitUsage
	}
	if err := cfg.Database.Validate(); err != nil {
		fmt.Fprintf(env.Stderr, "vigil db: %v\n", err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st, err := store.Open(ctx, store.Options{URL: cfg.Database.URL, MaxOpenConns: 2, BusyTimeout: cfg.Database.BusyTimeout})
	if err != nil {
		fmt.Fprintf(env.Stderr, "vigil db: %v\n", err)
		return exitFailure
	}
	defer st.Close()
	switch action {
	case "migrate up":
		return dbMigrateUp(ctx, env, st)
	case "migrate status":
		return dbStatus(ctx, env, st)
	default:
		return dbCheck(ctx, env, st)
	}
}

func dbMigrateUp(ctx context.Context, env Env, st *store.Store) int {
	applied, err := st.Migrate(ctx)
	for _, m := range applied {
		fmt.Fprintf(env.Stdout, "applied %04d_%s\n", m.Version, m.Name)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "vigil db migrate up: %v\n", err)
		return exitFailure
	}
	status, err := st.Check(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "vigil db migrate up: %v\n", err)
		return exitFailure
	}
	if len(applied) == 0 {
		fmt.Fprintf(env.Stdout, "already up to date at schema version %d (%s)\n", status.Version, st)
	} else {
		fmt.Fprintf(env.Stdout, "schema version %d (%s)\n", status.Version, st)
	}
	return exitOK
}

func dbStatus(ctx context.Context, env Env, st *store.Store) int {
	status, err := st.Check(ctx)
	known, kerr := store.Migrations()
	if kerr != nil {
		fmt.Fprintf(env.Stderr, "vigil db migrate status: %v\n", kerr)
		return exitFailure
	}
	applied := map[int64]store.Applied{}
	for _, a := range status.Applied {
		applied[a.Version] = a
	}
	tw := tabwriter.NewWriter(env.Stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tAPPLIED")
	for _, m := range known {
		when := "pending"
		if a, ok := applied[m.Version]; ok {
			when = a.AppliedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%04d\t%s\t%s\n", m.Version, m.Name, when)
	}
	for _, a := range status.Applied {
		if a.Version > int64(len(known)) {
			fmt.Fprintf(tw, "%04d\t%s\t%s (unknown to this binary)\n", a.Version, a.Name, a.AppliedAt.UTC().Format(time.RFC3339))
		}
	}
	tw.Flush()
	if err != nil {
		fmt.Fprintf(env.Stderr, "vigil db migrate status: %v\n", err)
		return exitFailure
	}
	return exitOK
}

func dbCheck(ctx context.Context, env Env, st *store.Store) int {
	status, err := st.Check(ctx)
	fmt.Fprintf(env.Stdout, "engine:         %s\ndatabase:       %s\nschema version: %d (this binary knows up to %d)\n",
		st.Engine(), st, status.Version, status.Latest)
	switch {
	case err != nil:
		fmt.Fprintf(env.Stderr, "vigil db check: %v\n", err)
		if errors.Is(err, store.ErrSchemaTooNew) || errors.Is(err, store.ErrMigrationModified) {
			fmt.Fprintln(env.Stderr, "vigil refuses to run against this database.")
		}
		return exitFailure
	case len(status.Pending) > 0:
		names := make([]string, len(status.Pending))
		for i, m := range status.Pending {
			names[i] = fmt.Sprintf("%04d_%s", m.Version, m.Name)
		}
		fmt.Fprintf(env.Stdout, "pending:        %s\nrun 'vigil db migrate up' (the validator also applies them at start)\n", strings.Join(names, ", "))
		return exitFailure
	}
	fmt.Fprintln(env.Stdout, "pending:        none\nstatus:         ok")
	return exitOK
}
