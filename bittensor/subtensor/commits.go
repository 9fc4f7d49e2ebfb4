package subtensor

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/wallet"
)

// PendingCommit is a hash commit awaiting its reveal: what reveal_weights
// must send to match the committed hash. The salt is secret until then.
type PendingCommit struct {
	Hotkey     AccountID
	Netuid     uint16
	Hash       [32]byte
	UIDs       []uint16
	Values     []uint16
	Salt       []uint16
	VersionKey uint64
	// SubmittedAt is the best block when the commit was sent.
	SubmittedAt uint64
	// CommitBlock is the block the commit landed in; 0 until known.
	CommitBlock uint64
}

// Check reports whether the commit's vectors hash to its Hash.
func (p PendingCommit) Check() error {
	if len(p.UIDs) != len(p.Values) {
		return fmt.Errorf("commit %x: %d uids and %d values", p.Hash, len(p.UIDs), len(p.Values))
	}
	if CommitHash(p.Hotkey, p.Netuid, p.UIDs, p.Values, p.Salt, p.VersionKey) != p.Hash {
		return fmt.Errorf("commit %x: vectors and salt do not hash to it", p.Hash)
	}
	return nil
}

// CommitStore keeps hash commits until they are revealed, across
// restarts. Put replaces a commit with the same hotkey, netuid and hash.
type CommitStore interface {
	Put(ctx context.Context, c PendingCommit) error
	List(ctx context.Context, hotkey AccountID, netuid uint16) ([]PendingCommit, error)
	Delete(ctx context.Context, hotkey AccountID, netuid uint16, hash [32]byte) error
}

// FileCommitStore is a CommitStore of one JSON file per commit in a
// directory (0700), each written 0600 and atomically.
type FileCommitStore struct{ Dir string }

type commitFile struct {
	Hotkey      string   `json:"hotkey"`
	Netuid      uint16   `json:"netuid"`
	Hash        string   `json:"hash"`
	UIDs        []uint16 `json:"uids"`
	Values      []uint16 `json:"values"`
	Salt        []uint16 `json:"salt"`
	VersionKey  uint64   `json:"version_key"`
	SubmittedAt uint64   `json:"submitted_at"`
	CommitBlock uint64   `json:"commit_block"`
}

func (s FileCommitStore) name(hotkey AccountID, netuid uint16, hash [32]byte) string {
	return filepath.Join(s.Dir, fmt.Sprintf("%x-%d-%x.json", hotkey, netuid, hash))
}

// Put writes the commit's file.
func (s FileCommitStore) Put(_ context.Context, c PendingCommit) error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(commitFile{
		Hotkey: hex.EncodeToString(c.Hotkey[:]), Netuid: c.Netuid, Hash: hex.EncodeToString(c.Hash[:]),
		UIDs: c.UIDs, Values: c.Values, Salt: c.Salt, VersionKey: c.VersionKey, SubmittedAt: c.SubmittedAt, CommitBlock: c.CommitBlock,
	}, "", "  ")
	if err != nil {
		return err
	}
	return wallet.WriteFileAtomic(s.name(c.Hotkey, c.Netuid, c.Hash), append(b, '\n'), true)
}

// maxCommitFile caps what List reads of one file.
const maxCommitFile = 1 << 20

// List returns the commits of hotkey on netuid, oldest first by commit
// block (unknown blocks last). A file that does not parse or does not hash
// to its name is an error, not skipped: it holds a salt.
func (s FileCommitStore) List(_ context.Context, hotkey AccountID, netuid uint16) ([]PendingCommit, error) {
	prefix := fmt.Sprintf("%x-%d-", hotkey, netuid)
	ents, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []PendingCommit
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), prefix) || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		path := filepath.Join(s.Dir, e.Name())
		c, err := readCommitFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if c.Hotkey != hotkey || c.Netuid != netuid || s.name(c.Hotkey, c.Netuid, c.Hash) != path {
			return nil, fmt.Errorf("%s: holds a commit of another hotkey, netuid or hash", path)
		}
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(a, b PendingCommit) int {
		ka, kb := a.CommitBlock-1, b.CommitBlock-1 // 0 (unknown) wraps to the end
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	return out, nil
}

func readCommitFile(path string) (PendingCommit, error) {
	var c PendingCommit
	f, err := os.Open(path)
	if err != nil {
		return c, err
	}
	defer f.Close()
	// One byte past the cap tells an oversized file from one that fits.
	b, err := io.ReadAll(io.LimitReader(f, maxCommitFile+1))
	if err != nil {
		return c, err
	}
	if len(b) > maxCommitFile {
		return c, fmt.Errorf("file over %d bytes", maxCommitFile)
	}
	var cf commitFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cf); err != nil {
		return c, err
	}
	hk, err1 := hex.DecodeString(cf.Hotkey)
	h, err2 := hex.DecodeString(cf.Hash)
	if err1 != nil || err2 != nil || len(hk) != 32 || len(h) != 32 {
		return c, errors.New("hotkey and hash must be 32-byte hex")
	}
	copy(c.Hotkey[:], hk)
	copy(c.Hash[:], h)
	c.Netuid, c.UIDs, c.Values, c.Salt, c.VersionKey = cf.Netuid, cf.UIDs, cf.Values, cf.Salt, cf.VersionKey
	c.SubmittedAt, c.CommitBlock = cf.SubmittedAt, cf.CommitBlock
	return c, c.Check()
}

// Delete removes the commit's file; a missing one is not an error.
func (s FileCommitStore) Delete(_ context.Context, hotkey AccountID, netuid uint16, hash [32]byte) error {
	err := os.Remove(s.name(hotkey, netuid, hash))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// OnChainCommit is an entry of SubtensorModule.WeightCommits.
type OnChainCommit struct {
	Hash        [32]byte
	CommitEpoch uint64
	CommitBlock uint64
}

// WeightCommits reads the outstanding hash commits of hotkey on netuid
// (mechanism 0), oldest first. Runtimes store (hash, commit_epoch,
// commit_block, 0); older ones (hash, commit_block, first_reveal_block,
// last_reveal_block), whose epoch is computed from the block and tempo.
func (c *Client) WeightCommits(ctx context.Context, netuid uint16, hotkey AccountID, tempo uint16, hash string) ([]OnChainCommit, error) {
	var out []OnChainCommit
	_, err := c.readValue(ctx, Pallet, "WeightCommits", hash, func(r *scale.Reader) (err error) {
		out, err = scale.DecodeVec(r, 56, func(r *scale.Reader) (OnChainCommit, error) {
			var oc OnChainCommit
			h, err := r.Fixed(32)
			if err != nil {
				return oc, err
			}
			copy(oc.Hash[:], h)
			var t [3]uint64
			for i := range t {
				if t[i], err = r.U64(); err != nil {
					return oc, err
				}
			}
			if t[2] == 0 {
				oc.CommitEpoch, oc.CommitBlock = t[0], t[1]
			} else {
				oc.CommitBlock, oc.CommitEpoch = t[0], EpochOf(t[0], netuid, tempo)
			}
			return oc, nil
		})
		return
	}, substrate.MapKey{Hasher: substrate.Twox64Concat, Key: netuidKey(netuid)}, substrate.MapKey{Hasher: substrate.Twox64Concat, Key: hotkey[:]})
	return out, err
}

// maxUnseenBlocks bounds how long a sent commit may take to appear: the
// longest era Submit signs, plus the finalized head's usual lag.
const maxUnseenBlocks = MaxEraPeriod + 64

// RevealStatus is what RevealCommits did with one pending commit.
type RevealStatus string

const (
	Revealed RevealStatus = "revealed" // reveal_weights succeeded
	Waiting  RevealStatus = "waiting"  // its reveal epoch has not begun
	Expired  RevealStatus = "expired"  // its reveal epoch is over; forgotten
	Gone     RevealStatus = "gone"     // not on chain (never landed, or already revealed); forgotten
	Unseen   RevealStatus = "unseen"   // sent recently, not on chain yet; kept
	Failed   RevealStatus = "failed"   // the reveal was refused; kept
)

// RevealOutcome reports one pending commit.
type RevealOutcome struct {
	Commit PendingCommit
	Status RevealStatus
	// Blocks is, for Waiting, how many blocks until its reveal epoch.
	Blocks uint64
	Result *substrate.SubmitResult
	Err    error
}

// RevealCommits reveals the signer's pending hash commits on netuid whose
// reveal epoch (commit epoch + RevealPeriodEpochs) is the current one,
// oldest first, and forgets those the chain no longer holds or that
// expired. Commits not yet due are left for a later call.
func (c *Client) RevealCommits(ctx context.Context, signer substrate.Signer, netuid uint16, opts WeightOptions) ([]RevealOutcome, error) {
	if opts.Commits == nil {
		return nil, errors.New("reveal: no commit store")
	}
	hotkey := AccountID(signer.PublicKey())
	pending, err := opts.Commits.List(ctx, hotkey, netuid)
	if err != nil || len(pending) == 0 {
		return nil, err
	}
	blk, err := c.Head(ctx, "")
	if err != nil {
		return nil, err
	}
	p, err := c.SubnetParams(ctx, netuid, blk.Hash)
	if err != nil {
		return nil, err
	}
	onChain, err := c.WeightCommits(ctx, netuid, hotkey, p.Tempo, blk.Hash)
	if err != nil {
		return nil, err
	}
	byHash := make(map[[32]byte]PendingCommit, len(pending))
	for _, pc := range pending {
		byHash[pc.Hash] = pc
	}
	// A reveal sent now lands in the next block: the epoch it must match is
	// that block's, by the scheduler the runtime has.
	tc, err := c.txContext(ctx)
	if err != nil {
		return nil, err
	}
	sch, err := c.epochSchedule(ctx, tc.md, netuid, p.Tempo, blk.Number, blk.Hash)
	if err != nil {
		return nil, err
	}
	now, blocksUntil := inclusionEpoch(sch, blk.Number, netuid, p.Tempo)
	var out []RevealOutcome
	forget := func(pc PendingCommit, st RevealStatus) {
		o := RevealOutcome{Commit: pc, Status: st}
		o.Err = opts.Commits.Delete(ctx, hotkey, netuid, pc.Hash)
		out = append(out, o)
	}
	for _, oc := range onChain {
		pc, ok := byHash[oc.Hash]
		if !ok {
			continue // another client's commit, or one whose salt we never had
		}
		delete(byHash, oc.Hash)
		due := oc.CommitEpoch + p.RevealPeriodEpochs
		switch {
		case now < due:
			out = append(out, RevealOutcome{Commit: pc, Status: Waiting, Blocks: blocksUntil(due)})
		case now > due:
			forget(pc, Expired)
		default:
			call, err := RevealWeights(netuid, pc.UIDs, pc.Values, pc.Salt, pc.VersionKey)
			if err != nil {
				return out, err
			}
			res, err := c.Submit(ctx, signer, call, opts.Submit)
			if err != nil {
				out = append(out, RevealOutcome{Commit: pc, Status: Failed, Result: res, Err: err})
				continue
			}
			o := RevealOutcome{Commit: pc, Status: Revealed, Result: res}
			o.Err = opts.Commits.Delete(ctx, hotkey, netuid, pc.Hash)
			out = append(out, o)
		}
	}
	for _, pc := range pending {
		if _, left := byHash[pc.Hash]; !left {
			continue
		}
		// A commit sent but not yet seen may still land until its era
		// ends; one that landed and is gone was revealed or dropped.
		if pc.CommitBlock == 0 && blk.Number < pc.SubmittedAt+maxUnseenBlocks {
			out = append(out, RevealOutcome{Commit: pc, Status: Unseen})
			continue
		}
		forget(pc, Gone)
	}
	return out, nil
}

// inclusionEpoch is the epoch of the block after head, where a transaction
// sent now lands — under the stateful scheduler (sch, when the runtime has
// it) the epoch index after that block's epoch, if any, fired; else the
// legacy formula — and a function that counts the blocks from head until
// a given epoch begins.
func inclusionEpoch(sch *EpochSchedule, head uint64, netuid, tempo uint16) (uint64, func(epoch uint64) uint64) {
	if sch == nil {
		return EpochOf(head+1, netuid, tempo), func(epoch uint64) uint64 {
			return EpochStart(epoch, netuid, tempo) - min(EpochStart(epoch, netuid, tempo), head)
		}
	}
	st := *sch
	st.Advance(head + 1)
	return st.EpochIndex, func(epoch uint64) uint64 {
		w := *sch
		for b := head + 1; b <= head+(epoch-min(epoch, sch.EpochIndex)+1)*MaxTempo; b++ {
			w.Advance(b)
			if w.EpochIndex >= epoch {
				return b - head
			}
		}
		return 0
	}
}

// TimelockRevealedIn looks for subtensor's TimelockedWeightsRevealed event
// of hotkey on mechanism mecid of netuid in blocks from..to, and returns the
// block it is in. The event is the only sign of a reveal that took: with
// commit-reveal on, a reveal does not move LastUpdate, and a reveal that
// fails is dropped without an event.
func (c *Client) TimelockRevealedIn(ctx context.Context, netuid uint16, mecid uint8, hotkey AccountID, from, to uint64) (uint64, bool, error) {
	tc, err := c.txContext(ctx)
	if err != nil {
		return 0, false, err
	}
	want := append(netuidKey(StorageIndex(netuid, mecid)), hotkey[:]...)
	for b := from; b <= to; b++ {
		var hash string
		if err := c.rpc.CallIdempotent(ctx, "chain_getBlockHash", []any{b}, &hash); err != nil {
			return 0, false, err
		}
		if hash == "" {
			return 0, false, fmt.Errorf("%w: block %d", ErrBlockNotFound, b)
		}
		raw, ok, err := c.Storage(ctx, substrate.EventsKey(), hash)
		if err != nil {
			return 0, false, err
		}
		if !ok {
			continue
		}
		evs, err := tc.md.DecodeEvents(raw)
		if err != nil {
			return 0, false, fmt.Errorf("events of block %d: %w", b, err)
		}
		for _, e := range evs {
			if e.Pallet == Pallet && e.Name == "TimelockedWeightsRevealed" && bytes.Equal(e.Data, want) {
				return b, true, nil
			}
		}
	}
	return 0, false, nil
}
