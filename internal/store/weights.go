package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// SubmissionMode says how weights went on chain.
type SubmissionMode string

// The modes of the chain's weight extrinsics.
const (
	ModeSet    SubmissionMode = "set"    // set_weights
	ModeCommit SubmissionMode = "commit" // commit_weights, a salted hash commit
	// ModeTimelock is commit_timelocked_weights (or its mechanism form):
	// the chain reveals it itself.
	ModeTimelock SubmissionMode = "timelock"
	ModeReveal   SubmissionMode = "reveal" // reveal_weights
)

// Outcome is what became of a submission.
type Outcome string

// The outcomes of a submission, in the order they can happen.
const (
	OutcomePending   Outcome = "pending"   // sent, result not known yet
	OutcomeIncluded  Outcome = "included"  // in a block, dispatch succeeded
	OutcomeFinalized Outcome = "finalized" // in a finalized block
	OutcomeFailed    Outcome = "failed"    // rejected by the pool or by dispatch
)

// WeightSubmission is one attempt to put weights on chain.
type WeightSubmission struct {
	ID        int64
	CreatedAt time.Time
	UpdatedAt time.Time
	// Genesis is the chain's genesis hash, 0x-hex ("" for rows written
	// before the journal recorded it).
	Genesis       string
	Netuid        uint16
	Mechanism     uint8  // the subnet's incentive mechanism (0 for most)
	Block         uint64 // the chain head when the attempt was made
	Mode          SubmissionMode
	UIDs          []uint16
	Weights       []uint16
	VersionKey    uint64
	TxHash        string
	Outcome       Outcome
	Error         string
	IncludedBlock *uint64
	// RevealEpoch and RevealBlock are, for a timelocked commit, its
	// predicted reveal epoch and that epoch's first block; Reveal is what
	// became of it (RevealUnknown until confirmed from the chain).
	RevealEpoch *uint64
	RevealBlock *uint64
	Reveal      Reveal
}

// Reveal is the confirmed fate of a timelocked commit.
type Reveal string

// The fates of a timelocked commit.
const (
	RevealUnknown  Reveal = ""
	RevealRevealed Reveal = "revealed" // its vector became the uid's weights
	RevealDropped  Reveal = "dropped"  // its reveal epoch passed without it
)

func (w *WeightSubmission) validate() error {
	switch w.Mode {
	case ModeSet, ModeCommit, ModeTimelock, ModeReveal:
	default:
		return fmt.Errorf("unknown mode %q", w.Mode)
	}
	if err := w.Outcome.validate(); err != nil {
		return err
	}
	if len(w.UIDs) != len(w.Weights) {
		return fmt.Errorf("%d uids but %d weights", len(w.UIDs), len(w.Weights))
	}
	if w.Block > math.MaxInt64 || w.VersionKey > math.MaxInt64 {
		return errors.New("block or version key beyond 2^63-1")
	}
	return nil
}

func (o Outcome) validate() error {
	switch o {
	case OutcomePending, OutcomeIncluded, OutcomeFinalized, OutcomeFailed:
		return nil
	}
	return fmt.Errorf("unknown outcome %q", o)
}

// RecordWeightSubmission stores a new attempt and sets its ID and times. An
// empty Outcome is recorded as pending.
func (s *Store) RecordWeightSubmission(ctx context.Context, w *WeightSubmission) error {
	if w.Outcome == "" {
		w.Outcome = OutcomePending
	}
	if err := w.validate(); err != nil {
		return fmt.Errorf("record weight submission: %w", err)
	}
	uids, _ := json.Marshal(nonNil(w.UIDs))
	weights, _ := json.Marshal(nonNil(w.Weights))
	now := s.now()
	opt := func(v *uint64) any {
		if v == nil {
			return nil
		}
		return int64(*v)
	}
	err := s.queryRowWrite(ctx, []any{&w.ID}, s.Rebind(`INSERT INTO weight_submissions
	(created_at, updated_at, genesis, netuid, block, mode, uids, weights, version_key, tx_hash, outcome, error, included_block,
	 reveal_epoch, reveal_block, reveal, mechanism)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		now, now, w.Genesis, int64(w.Netuid), int64(w.Block), string(w.Mode), string(uids), string(weights),
		int64(w.VersionKey), w.TxHash, string(w.Outcome), w.Error, opt(w.IncludedBlock),
		opt(w.RevealEpoch), opt(w.RevealBlock), string(w.Reveal), int64(w.Mechanism))
	if err = s.observe(err); err != nil {
		return fmt.Errorf("record weight submission: %w", err)
	}
	w.CreatedAt, w.UpdatedAt = now, now
	return nil
}

func nonNil(v []uint16) []uint16 {
	if v == nil {
		return []uint16{}
	}
	return v
}

// SubmissionResult is what the chain said about a submission.
type SubmissionResult struct {
	Outcome       Outcome
	TxHash        string
	Error         string
	IncludedBlock *uint64
}

// UpdateWeightSubmission records the result of an attempt.
func (s *Store) UpdateWeightSubmission(ctx context.Context, id int64, r SubmissionResult) error {
	if err := r.Outcome.validate(); err != nil {
		return fmt.Errorf("update weight submission %d: %w", id, err)
	}
	var included any
	if r.IncludedBlock != nil {
		included = int64(*r.IncludedBlock)
	}
	res, err := s.exec(ctx, s.Rebind(`UPDATE weight_submissions
	SET updated_at = ?, outcome = ?, tx_hash = ?, error = ?, included_block = ? WHERE id = ?`),
		s.now(), string(r.Outcome), r.TxHash, r.Error, included, id)
	if err = s.observe(err); err != nil {
		return fmt.Errorf("update weight submission %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("update weight submission %d: %w", id, ErrNotFound)
	}
	return nil
}

const weightColumns = `id, created_at, updated_at, genesis, netuid, block, mode, uids, weights, version_key, tx_hash, outcome, error, included_block,
	reveal_epoch, reveal_block, reveal, mechanism`

// WeightSubmissions lists the newest submissions for a subnet on any chain,
// newest first. With outcomes given, only those outcomes are listed.
func (s *Store) WeightSubmissions(ctx context.Context, netuid uint16, limit int, outcomes ...Outcome) ([]WeightSubmission, error) {
	return s.WeightSubmissionsOn(ctx, "", netuid, limit, outcomes...)
}

// WeightSubmissionsOn is WeightSubmissions on one chain: rows of that
// genesis hash and rows of an unknown chain (written before the journal
// recorded it); genesis "" means every chain.
func (s *Store) WeightSubmissionsOn(ctx context.Context, genesis string, netuid uint16, limit int, outcomes ...Outcome) ([]WeightSubmission, error) {
	return s.weightSubmissions(ctx, genesis, netuid, -1, limit, outcomes...)
}

// MechanismSubmissionsOn is WeightSubmissionsOn for one incentive
// mechanism of the subnet.
func (s *Store) MechanismSubmissionsOn(ctx context.Context, genesis string, netuid uint16, mecid uint8, limit int, outcomes ...Outcome) ([]WeightSubmission, error) {
	return s.weightSubmissions(ctx, genesis, netuid, int(mecid), limit, outcomes...)
}

// weightSubmissions lists rows of netuid; mecid < 0 means every mechanism.
func (s *Store) weightSubmissions(ctx context.Context, genesis string, netuid uint16, mecid, limit int, outcomes ...Outcome) ([]WeightSubmission, error) {
	if limit <= 0 {
		limit = 100
	}
	q := "SELECT " + weightColumns + " FROM weight_submissions WHERE netuid = ?"
	args := []any{int64(netuid)}
	if mecid >= 0 {
		q += " AND mechanism = ?"
		args = append(args, int64(mecid))
	}
	if genesis != "" {
		q += " AND genesis IN (?, '')"
		args = append(args, genesis)
	}
	if len(outcomes) > 0 {
		q += " AND outcome IN ("
		for i, o := range outcomes {
			if i > 0 {
				q += ", "
			}
			q += "?"
			args = append(args, string(o))
		}
		q += ")"
	}
	q += " ORDER BY block DESC, id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, s.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("list weight submissions: %w", err)
	}
	defer rows.Close()
	var out []WeightSubmission
	for rows.Next() {
		w, err := scanSubmission(rows)
		if err != nil {
			return nil, fmt.Errorf("list weight submissions: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// LastWeightSubmission returns the newest submission for a subnet with one
// of the given outcomes (any outcome when none is given), or ErrNotFound.
func (s *Store) LastWeightSubmission(ctx context.Context, netuid uint16, outcomes ...Outcome) (WeightSubmission, error) {
	return s.LastWeightSubmissionOn(ctx, "", netuid, outcomes...)
}

// LastWeightSubmissionOn is LastWeightSubmission on one chain (see
// WeightSubmissionsOn).
func (s *Store) LastWeightSubmissionOn(ctx context.Context, genesis string, netuid uint16, outcomes ...Outcome) (WeightSubmission, error) {
	ws, err := s.WeightSubmissionsOn(ctx, genesis, netuid, 1, outcomes...)
	if err != nil {
		return WeightSubmission{}, err
	}
	if len(ws) == 0 {
		return WeightSubmission{}, fmt.Errorf("last weight submission for netuid %d: %w", netuid, ErrNotFound)
	}
	return ws[0], nil
}

func scanSubmission(rows *sql.Rows) (WeightSubmission, error) {
	var (
		w                         WeightSubmission
		netuid, block, versionKey int64
		mode, uids, weights, out  string
		included                  sql.NullInt64
		revealEpoch, revealBlock  sql.NullInt64
		reveal                    string
		mechanism                 int64
	)
	if err := rows.Scan(&w.ID, &w.CreatedAt, &w.UpdatedAt, &w.Genesis, &netuid, &block, &mode, &uids, &weights,
		&versionKey, &w.TxHash, &out, &w.Error, &included, &revealEpoch, &revealBlock, &reveal, &mechanism); err != nil {
		return w, err
	}
	w.Reveal, w.Mechanism = Reveal(reveal), uint8(mechanism)
	for _, p := range []struct {
		src sql.NullInt64
		dst **uint64
	}{{revealEpoch, &w.RevealEpoch}, {revealBlock, &w.RevealBlock}} {
		if p.src.Valid {
			v := uint64(p.src.Int64)
			*p.dst = &v
		}
	}
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	w.Netuid, w.Block, w.VersionKey = uint16(netuid), uint64(block), uint64(versionKey)
	w.Mode, w.Outcome = SubmissionMode(mode), Outcome(out)
	if included.Valid {
		b := uint64(included.Int64)
		w.IncludedBlock = &b
	}
	if err := json.Unmarshal([]byte(uids), &w.UIDs); err != nil {
		return w, fmt.Errorf("submission %d: uids: %w", w.ID, err)
	}
	if err := json.Unmarshal([]byte(weights), &w.Weights); err != nil {
		return w, fmt.Errorf("submission %d: weights: %w", w.ID, err)
	}
	return w, nil
}

// SetWeightReveal records what became of a timelocked commit's reveal.
func (s *Store) SetWeightReveal(ctx context.Context, id int64, r Reveal, note string) error {
	if r != RevealRevealed && r != RevealDropped {
		return fmt.Errorf("weight submission %d: unknown reveal %q", id, r)
	}
	res, err := s.exec(ctx, s.Rebind(`UPDATE weight_submissions SET updated_at = ?, reveal = ?, error = ? WHERE id = ?`),
		s.now(), string(r), note, id)
	if err = s.observe(err); err != nil {
		return fmt.Errorf("weight submission %d reveal: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("weight submission %d reveal: %w", id, ErrNotFound)
	}
	return nil
}
