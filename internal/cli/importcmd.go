package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigil-validator/vigil/internal/config"
	"github.com/vigil-validator/vigil/internal/importer"
	"github.com/vigil-validator/vigil/internal/store"
)

const importHelp = `
import reads a reference validator's database into vigil's, so that a
validator switching to vigil keeps the history its weights depend on:

  byteleap    the compute (SN128) validator's database (PostgreSQL or
              SQLite): miners, workers with their lease scores and soft
              deletes, GPU inventory, the heartbeats of the availability
              window as vigil's 5-minute buckets (with the public IP history
              the penalty reads), the ranking window's finished challenges,
              and the last weight pass, into the subnet whose mechanism is
              compute (--subnet picks one).
  hashtensor  the Kaspa (SN16) validator's mapping database (SQLite): every
              registration, bound and unbound, into the Kaspa registry.

The source is opened read-only and its alembic revision checked; an unknown
revision, a missing table or a row vigil cannot hold stops the import with
the table and row named, and nothing is written: the import is one
transaction. Rows vigil already has are kept, so running it again changes
nothing. The windows end at the source's newest rows, or at --at.

vigil's own database is the configuration's (--config, VIGIL_*, the flags
below); it is created and migrated if needed.`

func runImport(env Env, args []string) int {
	usage := "import byteleap|hashtensor --from URL [--config FILE] [--subnet N] [--at RFC3339] [--dry-run] [--json] [flags]"
	if len(args) == 0 || (args[0] != "byteleap" && args[0] != "hashtensor") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(env.Stdout, "Usage: vigil "+usage+importHelp)
			return exitOK
		}
		fmt.Fprintln(env.Stderr, "vigil import: want 'byteleap' or 'hashtensor'\nRun 'vigil import --help' for usage.")
		return exitUsage
	}
	kind := args[0]
	defaults := config.DefaultValidator()
	fs := newFlagSet(env, "import "+kind, usage, importHelp)
	file := configFlag(env, fs)
	from := fs.String("from", "", "the reference database: sqlite:PATH or postgres://… (required)")
	subnet := fs.Int("subnet", -1, "byteleap: the compute subnet to import into (default the configuration's)")
	at := fs.String("at", "", "byteleap: end the imported windows at this time, RFC 3339 (default the source's newest rows)")
	dryRun := fs.Bool("dry-run", false, "read and check everything, write nothing")
	asJSON := fs.Bool("json", false, "print the summary as one JSON object")
	flags := config.BindFlags(fs, config.Keys(&defaults))
	if code, ok := parse(env, fs, args[1:]); !ok {
		return code
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "vigil import %s: "+format+"\n", append([]any{kind}, a...)...)
		return code
	}
	if fs.NArg() > 0 {
		return fail(exitUsage, "unexpected argument %q", fs.Arg(0))
	}
	if *from == "" {
		return fail(exitUsage, "--from is required")
	}
	var when time.Time
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return fail(exitUsage, "--at: %v", err)
		}
		when = t.UTC()
	}
	lookup, _ := config.SN16EnvNamed(env.LookupEnv)
	cfg, err := config.LoadRole(defaults, config.Source{File: *file, LookupEnv: lookup, Flags: flags})
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	var target *config.Subnet
	want := map[string]string{"byteleap": "compute", "hashtensor": "kaspa"}[kind]
	for _, s := range cfg.SubnetList() {
		if s.Mechanism == want && (*subnet < 0 || int(*s.Netuid) == *subnet) {
			target = &s
			break
		}
	}
	if target == nil {
		if *subnet >= 0 {
			return fail(exitUsage, "--subnet %d: the configuration serves no %s subnet of that netuid", *subnet, want)
		}
		return fail(exitUsage, "the configuration serves no %s subnet", want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Hour)
	defer cancel()
	src, err := importer.OpenSource(ctx, *from)
	if err != nil {
		return fail(exitFailure, "%v", err)
	}
	defer src.Close()
	st, err := store.Open(ctx, store.Options{URL: cfg.Database.URL, MaxOpenConns: 2, BusyTimeout: cfg.Database.BusyTimeout})
	if err != nil {
		return fail(exitFailure, "%v", err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return fail(exitFailure, "%v", err)
	}
	var sum *importer.Summary
	switch kind {
	case "byteleap":
		sc := target.Compute.Scoring()
		sum, err = importer.ImportByteLeap(ctx, src, st, importer.ByteLeapOptions{Netuid: *target.Netuid, At: when,
			AvailabilityHours: sc.AvailabilityHours, RankingWindow: sc.RankingWindow, DryRun: *dryRun})
	case "hashtensor":
		sum, err = importer.ImportHashtensor(ctx, src, st, *dryRun)
	}
	if err != nil {
		return fail(exitFailure, "%v; nothing was written", err)
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			return fail(exitFailure, "%v", err)
		}
		return exitOK
	}
	sum.Print(env.Stdout)
	return exitOK
}
