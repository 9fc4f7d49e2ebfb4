package importer

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/registry"
	"github.com/vigil-validator/vigil/internal/store"
)

// HashtensorRevisions are the Kaspa validator schema's alembic revisions,
// oldest first: registration_time_int arrives with the third, and
// unbind_signature with the fourth.
var HashtensorRevisions = []string{"2ff55afdd032", "e41702caa367", "4447eb0806fd", "2cc3bb428546", "01bca204c995"}

// maxRegistrations bounds what a registry import holds: the reference
// allows 30 workers to each of 256 uids, with room for tombstones.
const maxRegistrations = 1 << 20

// ImportHashtensor imports a Kaspa validator's registrations (active and
// unbound) into dst's registry, so that the workers it serves as bound
// are the same before and after.
func ImportHashtensor(ctx context.Context, src *Source, dst *store.Store, dryRun bool) (*Summary, error) {
	began := time.Now()
	rev, err := src.revision(ctx, HashtensorRevisions...)
	if err != nil {
		return nil, err
	}
	if err := src.requireColumns(ctx, "hotkey_worker", "worker", "hotkey", "registration_time", "signature"); err != nil {
		return nil, err
	}
	hasInt := src.hasColumn(ctx, "hotkey_worker", "registration_time_int")
	hasUnbind := src.hasColumn(ctx, "hotkey_worker", "unbind_signature")
	cols := "worker, hotkey, registration_time, signature"
	if hasInt {
		cols += ", registration_time_int"
	} else {
		cols += ", NULL"
	}
	if hasUnbind {
		cols += ", unbind_signature"
	} else {
		cols += ", NULL"
	}
	sum := &Summary{Source: src.String(), Revision: rev, DryRun: dryRun}
	c := sum.table("hotkey_worker", "kaspa_worker_mappings")
	var ms []store.KaspaMapping
	unverified := 0
	rows, err := src.db.QueryContext(ctx, "SELECT "+cols+" FROM hotkey_worker ORDER BY worker")
	if err != nil {
		return nil, fmt.Errorf("read hotkey_worker: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m store.KaspaMapping
		var rtInt sql.NullInt64
		var unbind sql.NullString
		if err := rows.Scan(&m.Worker, &m.Hotkey, &m.RegistrationTime, &m.Signature, &rtInt, &unbind); err != nil {
			return nil, fmt.Errorf("read hotkey_worker: %w", err)
		}
		c.Read++
		if c.Read > maxRegistrations {
			return nil, fmt.Errorf("hotkey_worker holds more than %d rows: not a registry this importer reads", maxRegistrations)
		}
		row := func(format string, a ...any) error {
			return &RowError{Table: "hotkey_worker", Row: fmt.Sprintf("worker %q", m.Worker), Err: fmt.Errorf(format, a...)}
		}
		if m.Worker == "" {
			return nil, row("no worker name")
		}
		if _, err := registry.ParseHotkey(m.Hotkey); err != nil {
			return nil, row("hotkey %q: %v", m.Hotkey, err)
		}
		if math.IsNaN(m.RegistrationTime) || math.IsInf(m.RegistrationTime, 0) {
			return nil, row("registration_time is not finite")
		}
		if m.Signature == "" {
			return nil, row("no signature")
		}
		m.RegistrationTimeInt = int64(m.RegistrationTime * 1e6)
		if rtInt.Valid {
			m.RegistrationTimeInt = rtInt.Int64
		}
		m.Source = store.KaspaSourceLocal
		if unbind.Valid && unbind.String != "" {
			m.UnbindSignature, m.UnbindSource = unbind.String, store.KaspaSourceLocal
		}
		if registry.VerifySignature(m.Hotkey, registry.RegistrationMessage(m.Hotkey, m.Worker, m.RegistrationTime), m.Signature) != nil {
			unverified++
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read hotkey_worker: %w", err)
	}
	outcomes, err := dst.ImportKaspaMappings(ctx, ms, dryRun)
	if err != nil {
		return nil, err
	}
	unbound := 0
	for _, o := range outcomes {
		switch o {
		case store.KaspaImported:
			c.Written++
		case store.KaspaPresent:
			c.Present++
		case store.KaspaUnbound:
			c.Written++
			unbound++
		case store.KaspaConflict:
			c.skip("bound here to another hotkey: kept as it is here")
		}
	}
	if unbound > 0 {
		c.Comments = append(c.Comments, fmt.Sprintf("%d bound here and unbound there: their unbinds were applied", unbound))
	}
	if unverified > 0 {
		c.Comments = append(c.Comments, fmt.Sprintf("%d registration signatures do not verify; imported, as the reference serves them, but peers that check will not copy them", unverified))
	}
	if !hasUnbind {
		c.Comments = append(c.Comments, "this revision has no unbinds: every row is active")
	}
	sum.Took = time.Since(began).Round(time.Millisecond).String()
	return sum, nil
}
