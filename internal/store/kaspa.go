package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// Errors of the Kaspa registry, for errors.Is.
var (
	// ErrKaspaWorkerExists: the worker name is bound, or was bound and
	// unbound; names are never reused.
	ErrKaspaWorkerExists = errors.New("worker already registered")
	// ErrKaspaWorkerLimit: the hotkey already has the maximum number of
	// active workers.
	ErrKaspaWorkerLimit = errors.New("maximum number of workers for this hotkey reached")
	// ErrKaspaAlreadyUnbound: the worker carries an unbind signature already.
	ErrKaspaAlreadyUnbound = errors.New("worker already unbound")
)

// KaspaSourceLocal marks a mapping or unbind received on this validator's
// own API rather than copied from a peer.
const KaspaSourceLocal = "local"

// KaspaMapping is one worker → hotkey binding of the Kaspa registry.
type KaspaMapping struct {
	Worker string
	Hotkey string
	// RegistrationTime is the signed value (unix seconds) exactly as signed;
	// RegistrationTimeInt is int(RegistrationTime × 1e6), the paging key.
	RegistrationTime    float64
	RegistrationTimeInt int64
	Signature           string // lowercase hex
	Source              string // KaspaSourceLocal or the peer validator's hotkey
	CreatedAt           time.Time
	// The unbind (tombstone): all empty or zero while the binding is active.
	UnbindSignature string
	UnboundAt       time.Time
	UnbindSource    string
	// Seq is the registry change that last touched the row (its binding, or
	// its unbind); peers page through changes by it.
	Seq int64
}

// Active reports whether the binding has not been unbound.
func (m KaspaMapping) Active() bool { return m.UnbindSignature == "" }

// KaspaSyncOffset is the sync cursor kept for one peer validator.
type KaspaSyncOffset struct {
	Hotkey               string // the peer's hotkey
	LastRegistrationTime float64
	LastSeq              int64
	PeerInstance         string
	LastSyncAt           time.Time
}

const kaspaMappingColumns = `worker, hotkey, registration_time, registration_time_int, signature, source, created_at,
	unbind_signature, unbound_at, unbind_source, seq`

// nextKaspaSeq takes the next change number. It runs first in every writing
// transaction: the row lock it takes on PostgreSQL (SQLite's writers are
// serialised anyway) orders the writers, so seqs become visible in order.
func nextKaspaSeq(ctx context.Context, tx *sql.Tx) (int64, error) {
	var seq int64
	err := tx.QueryRowContext(ctx, "UPDATE kaspa_registry_state SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq").Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("take registry sequence number: %w", err)
	}
	return seq, nil
}

func (s *Store) kaspaTx(ctx context.Context, fn func(tx *sql.Tx, seq int64) error) error {
	tx, end, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer end()
	seq, err := nextKaspaSeq(ctx, tx)
	if err != nil {
		return err
	}
	if err := fn(tx, seq); err != nil {
		return err
	}
	return tx.Commit()
}

func (m *KaspaMapping) validate() error {
	switch {
	case m.Worker == "":
		return errors.New("no worker")
	case m.Hotkey == "":
		return errors.New("no hotkey")
	case m.Signature == "":
		return errors.New("no signature")
	case m.Source == "":
		return errors.New("no source")
	case math.IsNaN(m.RegistrationTime) || math.IsInf(m.RegistrationTime, 0):
		return errors.New("registration time is not finite")
	case (m.UnbindSignature == "") != (m.UnbindSource == ""):
		return errors.New("an unbind needs both a signature and a source")
	}
	return nil
}

// AddKaspaMapping stores a new binding and sets its Seq and CreatedAt (and
// UnboundAt, for a tombstone). It fails with ErrKaspaWorkerExists when the
// worker name is known at all, and, for an active binding, with
// ErrKaspaWorkerLimit when the hotkey already has maxActive active workers
// (maxActive <= 0 means no limit). A mapping carrying an UnbindSignature is
// stored as a tombstone and counts against no limit.
func (s *Store) AddKaspaMapping(ctx context.Context, m *KaspaMapping, maxActive int) error {
	return s.AddKaspaMappings(ctx, []*KaspaMapping{m}, maxActive, "")[0]
}

// AddKaspaMappings adds several mappings in one transaction, as
// AddKaspaMapping adds one, and returns an error per mapping: a mapping
// refused (ErrKaspaWorkerExists, ErrKaspaWorkerLimit, invalid) does not
// stop the others. When eventKind is set, an audit event of that kind is
// written for each mapping added, in the same transaction. Committing
// many registrations together is what lets a busy validator take
// thousands a second on SQLite.
func (s *Store) AddKaspaMappings(ctx context.Context, ms []*KaspaMapping, maxActive int, eventKind string) []error {
	errs := make([]error, len(ms))
	now := s.now()
	var added []int
	err := func() error {
		tx, end, err := s.beginWrite(ctx)
		if err != nil {
			return err
		}
		defer end()
		// Lock the registry first (a no-op write takes the row lock on
		// PostgreSQL and the write lock on SQLite), so that the checks
		// below and the inserts are one step for concurrent writers.
		if _, err := tx.ExecContext(ctx, "UPDATE kaspa_registry_state SET last_seq = last_seq WHERE id = 1"); err != nil {
			return fmt.Errorf("lock the registry: %w", err)
		}
		seen := make(map[string]bool, len(ms))
		active := make(map[string]int)
		for i, m := range ms {
			if err := m.validate(); err != nil {
				errs[i] = err
				continue
			}
			if seen[m.Worker] {
				errs[i] = ErrKaspaWorkerExists
				continue
			}
			var n int
			if err := tx.QueryRowContext(ctx, s.Rebind("SELECT COUNT(*) FROM kaspa_worker_mappings WHERE worker = ?"), m.Worker).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				errs[i] = ErrKaspaWorkerExists
				continue
			}
			if m.Active() && maxActive > 0 {
				c, ok := active[m.Hotkey]
				if !ok {
					if err := tx.QueryRowContext(ctx, s.Rebind(
						"SELECT COUNT(*) FROM kaspa_worker_mappings WHERE hotkey = ? AND unbind_signature IS NULL"), m.Hotkey).Scan(&c); err != nil {
						return err
					}
				}
				if c >= maxActive {
					errs[i] = ErrKaspaWorkerLimit
					active[m.Hotkey] = c
					continue
				}
				active[m.Hotkey] = c + 1
			}
			seen[m.Worker] = true
			added = append(added, i)
		}
		if len(added) == 0 {
			return nil
		}
		// Sequence numbers only for what is inserted, so the feed has no
		// gaps.
		var last int64
		if err := tx.QueryRowContext(ctx, s.Rebind("UPDATE kaspa_registry_state SET last_seq = last_seq + ? WHERE id = 1 RETURNING last_seq"),
			int64(len(added))).Scan(&last); err != nil {
			return fmt.Errorf("take registry sequence numbers: %w", err)
		}
		for k, i := range added {
			m := ms[i]
			seq := last - int64(len(added)) + int64(k) + 1
			var unbindSig, unboundAt, unbindSource any
			if !m.Active() {
				unbindSig, unboundAt, unbindSource = m.UnbindSignature, now, m.UnbindSource
			}
			if _, err := tx.ExecContext(ctx, s.Rebind(`INSERT INTO kaspa_worker_mappings (`+kaspaMappingColumns+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
				m.Worker, m.Hotkey, m.RegistrationTime, m.RegistrationTimeInt, m.Signature, m.Source, now,
				unbindSig, unboundAt, unbindSource, seq); err != nil {
				return err
			}
			if eventKind != "" {
				d, _ := json.Marshal(map[string]string{"worker": m.Worker})
				if _, err := tx.ExecContext(ctx, s.Rebind("INSERT INTO events (at, kind, subject, detail) VALUES (?, ?, ?, ?)"),
					now.UTC(), eventKind, m.Hotkey, string(d)); err != nil {
					return err
				}
			}
			m.Seq = seq
		}
		return tx.Commit()
	}()
	err = s.observe(err)
	if err != nil {
		for _, i := range added {
			errs[i] = err
		}
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		added = nil
	}
	for _, i := range added {
		ms[i].CreatedAt = now
		if !ms[i].Active() {
			ms[i].UnboundAt = now
		}
	}
	for i, e := range errs {
		if e != nil {
			errs[i] = fmt.Errorf("add worker %q: %w", ms[i].Worker, e)
		}
	}
	return errs
}

// UnbindKaspaWorker turns the binding of worker to hotkey into a tombstone
// carrying the unbind signature. It fails with ErrNotFound when worker is
// not bound to hotkey (never bound, or bound to another hotkey) and with
// ErrKaspaAlreadyUnbound when it was unbound before.
func (s *Store) UnbindKaspaWorker(ctx context.Context, hotkey, worker, signature, source string) error {
	if signature == "" || source == "" {
		return fmt.Errorf("unbind worker %q: no signature or source", worker)
	}
	now := s.now()
	err := s.kaspaTx(ctx, func(tx *sql.Tx, seq int64) error {
		var unbind sql.NullString
		err := tx.QueryRowContext(ctx, s.Rebind("SELECT unbind_signature FROM kaspa_worker_mappings WHERE worker = ? AND hotkey = ?"),
			worker, hotkey).Scan(&unbind)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if unbind.Valid {
			return ErrKaspaAlreadyUnbound
		}
		_, err = tx.ExecContext(ctx, s.Rebind(`UPDATE kaspa_worker_mappings
			SET unbind_signature = ?, unbound_at = ?, unbind_source = ?, seq = ? WHERE worker = ?`),
			signature, now, source, seq, worker)
		return err
	})
	if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrKaspaAlreadyUnbound) {
		err = s.observe(err)
	}
	if err != nil {
		return fmt.Errorf("unbind worker %q of %s: %w", worker, hotkey, err)
	}
	return nil
}

func scanKaspaMapping(sc interface{ Scan(...any) error }) (KaspaMapping, error) {
	var (
		m                          KaspaMapping
		unbindSig, unbindSource    sql.NullString
		unboundAt                  sql.NullTime
		registrationTimeInt, seqNo int64
	)
	if err := sc.Scan(&m.Worker, &m.Hotkey, &m.RegistrationTime, &registrationTimeInt, &m.Signature, &m.Source, &m.CreatedAt,
		&unbindSig, &unboundAt, &unbindSource, &seqNo); err != nil {
		return m, err
	}
	m.RegistrationTimeInt, m.Seq = registrationTimeInt, seqNo
	m.CreatedAt = m.CreatedAt.UTC()
	m.UnbindSignature, m.UnbindSource = unbindSig.String, unbindSource.String
	if unboundAt.Valid {
		m.UnboundAt = unboundAt.Time.UTC()
	}
	return m, nil
}

func (s *Store) kaspaMappings(ctx context.Context, what, q string, args ...any) ([]KaspaMapping, error) {
	rows, err := s.db.QueryContext(ctx, s.Rebind("SELECT "+kaspaMappingColumns+" FROM kaspa_worker_mappings "+q), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []KaspaMapping
	for rows.Next() {
		m, err := scanKaspaMapping(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// KaspaMapping returns the row of a worker, active or not, or ErrNotFound.
func (s *Store) KaspaMapping(ctx context.Context, worker string) (KaspaMapping, error) {
	m, err := scanKaspaMapping(s.db.QueryRowContext(ctx, s.Rebind("SELECT "+kaspaMappingColumns+" FROM kaspa_worker_mappings WHERE worker = ?"), worker))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("worker %q: %w", worker, ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("worker %q: %w", worker, err)
	}
	return m, nil
}

// ActiveKaspaMappings returns worker → hotkey for every active binding.
func (s *Store) ActiveKaspaMappings(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT worker, hotkey FROM kaspa_worker_mappings WHERE unbind_signature IS NULL")
	if err != nil {
		return nil, fmt.Errorf("list active workers: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var w, h string
		if err := rows.Scan(&w, &h); err != nil {
			return nil, fmt.Errorf("list active workers: %w", err)
		}
		out[w] = h
	}
	return out, rows.Err()
}

// KaspaWorkersOf lists the workers bound to hotkey now, by name.
func (s *Store) KaspaWorkersOf(ctx context.Context, hotkey string) ([]string, error) {
	var out []string
	err := s.eachRow(ctx, "SELECT worker FROM kaspa_worker_mappings WHERE hotkey = ? AND unbind_signature IS NULL ORDER BY worker", []any{hotkey},
		func(r *sql.Rows) error {
			var w string
			if err := r.Scan(&w); err != nil {
				return err
			}
			out = append(out, w)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("list a hotkey's workers: %w", err)
	}
	return out, nil
}

// KaspaActiveCounts returns the number of active workers of every hotkey
// that has one.
func (s *Store) KaspaActiveCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT hotkey, COUNT(*) FROM kaspa_worker_mappings WHERE unbind_signature IS NULL GROUP BY hotkey")
	if err != nil {
		return nil, fmt.Errorf("count active workers: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var h string
		var n int
		if err := rows.Scan(&h, &n); err != nil {
			return nil, fmt.Errorf("count active workers: %w", err)
		}
		out[h] = n
	}
	return out, rows.Err()
}

// KaspaMappingsSince pages through the active bindings registered strictly
// after sinceMicros (registration_time_int), oldest first, as the
// reference's /hotkey_workers does. A negative offset counts as 0.
func (s *Store) KaspaMappingsSince(ctx context.Context, sinceMicros int64, limit, offset int) ([]KaspaMapping, error) {
	if limit <= 0 {
		return nil, nil
	}
	return s.kaspaMappings(ctx, "list workers by registration time",
		"WHERE registration_time_int > ? AND unbind_signature IS NULL ORDER BY registration_time_int, seq LIMIT ? OFFSET ?",
		sinceMicros, limit, max(offset, 0))
}

// KaspaChangesSince returns up to limit rows changed after seq (bound, or
// unbound: tombstones included), in change order.
func (s *Store) KaspaChangesSince(ctx context.Context, seq int64, limit int) ([]KaspaMapping, error) {
	if limit <= 0 {
		return nil, nil
	}
	return s.kaspaMappings(ctx, "list registry changes", "WHERE seq > ? ORDER BY seq LIMIT ?", seq, limit)
}

// KaspaRegistryInstance returns the random name of this database's
// registry, choosing it on first use.
func (s *Store) KaspaRegistryInstance(ctx context.Context) (string, error) {
	var id string
	if err := s.db.QueryRowContext(ctx, "SELECT instance FROM kaspa_registry_state WHERE id = 1").Scan(&id); err != nil {
		return "", fmt.Errorf("read the registry name: %w", err)
	}
	if id != "" {
		return id, nil
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	// Two first callers race; the condition keeps the first name.
	if _, err := s.exec(ctx, s.Rebind("UPDATE kaspa_registry_state SET instance = ? WHERE id = 1 AND instance = ''"),
		hex.EncodeToString(b[:])); err != nil {
		return "", fmt.Errorf("name the registry: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, "SELECT instance FROM kaspa_registry_state WHERE id = 1").Scan(&id); err != nil {
		return "", fmt.Errorf("read the registry name: %w", err)
	}
	return id, nil
}

// KaspaSyncOffset returns the cursor kept for a peer, or the zero cursor
// (with Hotkey set) when there is none yet.
func (s *Store) KaspaSyncOffset(ctx context.Context, peer string) (KaspaSyncOffset, error) {
	o := KaspaSyncOffset{Hotkey: peer}
	err := s.db.QueryRowContext(ctx, s.Rebind(
		"SELECT last_registration_time, last_seq, peer_instance, last_sync_at FROM kaspa_sync_offsets WHERE hotkey = ?"), peer).
		Scan(&o.LastRegistrationTime, &o.LastSeq, &o.PeerInstance, &o.LastSyncAt)
	if errors.Is(err, sql.ErrNoRows) {
		return KaspaSyncOffset{Hotkey: peer}, nil
	}
	if err != nil {
		return o, fmt.Errorf("sync offset of %s: %w", peer, err)
	}
	o.LastSyncAt = o.LastSyncAt.UTC()
	return o, nil
}

// PutKaspaSyncOffset stores the cursor of a peer; a zero LastSyncAt means now.
func (s *Store) PutKaspaSyncOffset(ctx context.Context, o KaspaSyncOffset) error {
	if o.Hotkey == "" || o.LastSeq < 0 || math.IsNaN(o.LastRegistrationTime) || math.IsInf(o.LastRegistrationTime, 0) {
		return fmt.Errorf("put sync offset %+v: invalid", o)
	}
	if o.LastSyncAt.IsZero() {
		o.LastSyncAt = s.now()
	}
	_, err := s.exec(ctx, s.Rebind(`INSERT INTO kaspa_sync_offsets (hotkey, last_registration_time, last_seq, peer_instance, last_sync_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (hotkey) DO UPDATE SET last_registration_time = excluded.last_registration_time,
			last_seq = excluded.last_seq, peer_instance = excluded.peer_instance, last_sync_at = excluded.last_sync_at`),
		o.Hotkey, o.LastRegistrationTime, o.LastSeq, o.PeerInstance, o.LastSyncAt.UTC())
	if err != nil {
		return fmt.Errorf("put sync offset of %s: %w", o.Hotkey, err)
	}
	return nil
}

// KaspaSyncOffsets pages through the cursors, ordered by peer hotkey.
func (s *Store) KaspaSyncOffsets(ctx context.Context, limit, offset int) ([]KaspaSyncOffset, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, s.Rebind(
		"SELECT hotkey, last_registration_time, last_seq, peer_instance, last_sync_at FROM kaspa_sync_offsets ORDER BY hotkey LIMIT ? OFFSET ?"),
		limit, max(offset, 0))
	if err != nil {
		return nil, fmt.Errorf("list sync offsets: %w", err)
	}
	defer rows.Close()
	var out []KaspaSyncOffset
	for rows.Next() {
		var o KaspaSyncOffset
		if err := rows.Scan(&o.Hotkey, &o.LastRegistrationTime, &o.LastSeq, &o.PeerInstance, &o.LastSyncAt); err != nil {
			return nil, fmt.Errorf("list sync offsets: %w", err)
		}
		o.LastSyncAt = o.LastSyncAt.UTC()
		out = append(out, o)
	}
	return out, rows.Err()
}

// Outcomes of ImportKaspaMappings, per mapping.
const (
	KaspaImported = "imported"
	KaspaPresent  = "present"  // the same binding (and unbind state) is here
	KaspaUnbound  = "unbound"  // bound here, unbound there: the tombstone was applied
	KaspaConflict = "conflict" // the worker is bound to another hotkey here
)

// ImportKaspaMappings adds another validator's registry in one
// transaction: new workers are added (active or as tombstones, with no
// limit per hotkey: the source enforced its own), a binding this registry
// has already is kept, and an unbind of one it holds active is applied.
// It returns each mapping's outcome; with dryRun it writes nothing.
func (s *Store) ImportKaspaMappings(ctx context.Context, ms []KaspaMapping, dryRun bool) ([]string, error) {
	out := make([]string, len(ms))
	now := s.now()
	for i := range ms {
		if err := ms[i].validate(); err != nil {
			return nil, fmt.Errorf("worker %q: %w", ms[i].Worker, err)
		}
	}
	tx, end, err := s.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	for i, m := range ms {
		var hotkey string
		var unbind sql.NullString
		err := tx.QueryRowContext(ctx, s.Rebind("SELECT hotkey, unbind_signature FROM kaspa_worker_mappings WHERE worker = ?"), m.Worker).Scan(&hotkey, &unbind)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			seq, err := nextKaspaSeq(ctx, tx)
			if err != nil {
				return nil, err
			}
			var unbindSig, unboundAt, unbindSource any
			if !m.Active() {
				unbindSig, unboundAt, unbindSource = m.UnbindSignature, now, m.UnbindSource
			}
			if _, err := tx.ExecContext(ctx, s.Rebind(`INSERT INTO kaspa_worker_mappings (`+kaspaMappingColumns+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
				m.Worker, m.Hotkey, m.RegistrationTime, m.RegistrationTimeInt, m.Signature, m.Source, now, unbindSig, unboundAt, unbindSource, seq); err != nil {
				return nil, s.observe(fmt.Errorf("import worker %q: %w", m.Worker, err))
			}
			out[i] = KaspaImported
		case err != nil:
			return nil, s.observe(err)
		case hotkey != m.Hotkey:
			out[i] = KaspaConflict
		case !m.Active() && !unbind.Valid:
			seq, err := nextKaspaSeq(ctx, tx)
			if err != nil {
				return nil, err
			}
			if _, err := tx.ExecContext(ctx, s.Rebind(`UPDATE kaspa_worker_mappings SET unbind_signature = ?, unbound_at = ?, unbind_source = ?, seq = ?
				WHERE worker = ?`), m.UnbindSignature, now, m.UnbindSource, seq, m.Worker); err != nil {
				return nil, s.observe(err)
			}
			out[i] = KaspaUnbound
		default:
			out[i] = KaspaPresent
		}
	}
	if dryRun {
		return out, nil
	}
	return out, s.observe(tx.Commit())
}
