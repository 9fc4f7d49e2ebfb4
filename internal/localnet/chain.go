package localnet

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"golang.org/x/crypto/blake2b"

	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/timelock"
	"github.com/vigil-validator/vigil/internal/localnet/meta"
)

// Runtime versions the chain reports and signs under.
const (
	SpecName           = "node-subtensor"
	SpecVersion        = 425
	TransactionVersion = 1
)

// Config shapes a Chain.
type Config struct {
	// BlockTime is the interval between blocks (default 12 s).
	BlockTime time.Duration
	// FinalityLag is how many blocks the finalized head trails the best
	// block (default 2).
	FinalityLag uint64
	// Metadata is the runtime metadata (V14) the chain serves and decodes
	// with (default: the localnet runtime's, meta.Metadata).
	Metadata []byte
	// Beacon signs the chain's drand-like pulses; nil derives one from
	// "vigil localnet beacon" with quicknet's period and genesis.
	Beacon *timelock.DevKey
	// KeepBlocks is how many recent blocks keep their state for reads at
	// a block hash (default 256).
	KeepBlocks int
	// Now is the clock (default time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// Block is a produced block with the state after it.
type Block struct {
	Number     uint64
	Hash       [32]byte
	Parent     [32]byte
	StateRoot  [32]byte
	ExtRoot    [32]byte
	Extrinsics [][]byte
	State      *State
	Storage    storage
}

// Chain is the development chain: its blocks, pool and subscribers.
type Chain struct {
	cfg    Config
	md     *substrate.Metadata
	ext    *substrate.Extensions
	beacon *timelock.DevKey

	mu        sync.RWMutex
	blocks    []*Block // retained, oldest first
	byHash    map[[32]byte]*Block
	hashes    map[uint64][32]byte // every block's hash, for System.BlockHash
	genesis   [32]byte
	finalized *Block
	pool      []*poolTx
	watchers  map[[32]byte][]chan TxStatus
	heads     map[chan *Block]bool // best-head subscribers
	finals    map[chan *Block]bool // finalized-head subscribers
	// admin are parameter changes for the next block.
	admin []func(*State)
	// pulseCache holds rendered pulse entries between blocks.
	pulseCache map[uint64][2]string
}

type poolTx struct {
	raw  []byte
	hash [32]byte
	ext  *substrate.Extrinsic
}

// TxStatus is a transaction's progress, as author_extrinsicUpdate reports it.
type TxStatus struct {
	Kind  string // "ready", "inBlock", "finalized", "dropped", "invalid"
	Block [32]byte
}

// New builds a chain whose genesis is st.
func New(cfg Config, st *State) (*Chain, error) {
	if st == nil {
		st = newState()
		st.StatefulEpochs = true
	}
	st.syncSchedulers()
	c, err := newChain(cfg, st.StatefulEpochs)
	if err != nil {
		return nil, err
	}
	// A loaded state continues its numbering, so that the blocks it
	// remembers (last updates, commits) stay in the past.
	if st.TimestampMs == 0 {
		st.TimestampMs = uint64(c.cfg.Now().UnixMilli())
	}
	g, err := c.seal(nil, st, nil, nil)
	if err != nil {
		return nil, err
	}
	c.genesis = g.Hash
	c.append(g)
	return c, nil
}

// newChain fills in cfg's defaults and builds a chain with no blocks yet;
// without metadata in cfg it serves the runtime of the scheduler it runs.
func newChain(cfg Config, stateful bool) (*Chain, error) {
	if cfg.BlockTime <= 0 {
		cfg.BlockTime = 12 * time.Second
	}
	if cfg.FinalityLag == 0 {
		cfg.FinalityLag = 2
	}
	if cfg.KeepBlocks <= 0 {
		cfg.KeepBlocks = 256
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	var md *substrate.Metadata
	if cfg.Metadata == nil {
		cfg.Metadata = meta.MetadataFor(stateful)
		md = meta.DecodedFor(stateful) // the cached decode: shared, and the chain only reads it
	} else {
		var err error
		if md, err = substrate.DecodeMetadata(cfg.Metadata); err != nil {
			return nil, fmt.Errorf("localnet metadata: %w", err)
		}
	}
	x, err := md.TxExtensions()
	if err != nil {
		return nil, fmt.Errorf("localnet metadata: %w", err)
	}
	if cfg.Beacon == nil {
		q := timelock.Quicknet
		cfg.Beacon, err = timelock.NewDevKey([]byte("vigil localnet beacon"), time.Unix(q.GenesisTime, 0), q.Period)
		if err != nil {
			return nil, err
		}
	}
	c := &Chain{
		cfg: cfg, md: md, ext: x, beacon: cfg.Beacon,
		byHash: make(map[[32]byte]*Block), hashes: make(map[uint64][32]byte),
		watchers: make(map[[32]byte][]chan TxStatus),
		heads:    make(map[chan *Block]bool), finals: make(map[chan *Block]bool),
		pulseCache: make(map[uint64][2]string),
	}
	return c, nil
}

// Beacon is the beacon whose pulses the chain stores.
func (c *Chain) Beacon() timelock.Beacon { return c.beacon.Beacon() }

// Metadata is the runtime metadata the chain serves.
func (c *Chain) Metadata() []byte { return c.cfg.Metadata }

// Genesis is the genesis hash.
func (c *Chain) Genesis() [32]byte { return c.genesis }

// Head is the best block.
func (c *Chain) Head() *Block {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.blocks[len(c.blocks)-1]
}

// Finalized is the finalized head.
func (c *Chain) Finalized() *Block {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.finalized
}

// BlockByHash returns a retained block.
func (c *Chain) BlockByHash(h [32]byte) (*Block, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	b, ok := c.byHash[h]
	return b, ok
}

// BlockHash returns the hash of block n, if the chain produced it.
func (c *Chain) BlockHash(n uint64) ([32]byte, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	h, ok := c.hashes[n]
	return h, ok
}

// Run produces a block every BlockTime until ctx ends.
func (c *Chain) Run(ctx context.Context) error {
	t := time.NewTicker(c.cfg.BlockTime)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			c.closeSubscribers()
			return nil
		case <-t.C:
			if _, err := c.Produce(); err != nil {
				return err
			}
		}
	}
}

// Produce makes the next block now: block step (pulses, reveals, epochs),
// then the pool's transactions in order.
func (c *Chain) Produce() (*Block, error) {
	c.mu.Lock()
	parent := c.blocks[len(c.blocks)-1]
	st := parent.State.Clone()
	st.Number = parent.Number + 1
	now := c.cfg.Now()
	st.TimestampMs = max(uint64(now.UnixMilli()), parent.State.TimestampMs+1)
	ev := &eventLog{md: c.md, phase: -1}
	for _, f := range c.admin {
		f(st)
	}
	c.admin = nil
	c.storePulses(st, now)
	c.blockStep(st, ev)
	// The timestamp inherent is extrinsic 0, as on subtensor.
	exts := [][]byte{c.timestampInherent(st.TimestampMs)}
	ev.phase = 0
	ev.success(dispatchMandatory)
	var included []*poolTx
	for _, tx := range c.pool {
		if err := c.checkTx(st, tx.ext, st.Number, 0); err != nil {
			c.notify(tx.hash, TxStatus{Kind: "invalid"})
			continue
		}
		ev.phase = int64(len(exts))
		if err := c.apply(st, tx.ext, ev); err != nil {
			c.mu.Unlock()
			return nil, err
		}
		exts = append(exts, tx.raw)
		included = append(included, tx)
	}
	c.pool = nil
	b, err := c.seal(parent, st, exts, ev.bytes())
	if err != nil {
		c.mu.Unlock()
		return nil, err
	}
	c.append(b)
	for _, tx := range included {
		c.notify(tx.hash, TxStatus{Kind: "inBlock", Block: b.Hash})
	}
	fin := c.finalized
	heads := mapKeys(c.heads)
	finals := mapKeys(c.finals)
	c.mu.Unlock()

	for _, ch := range heads {
		sendLatest(ch, b)
	}
	for _, ch := range finals {
		sendLatest(ch, fin)
	}
	return b, nil
}

func mapKeys(m map[chan *Block]bool) []chan *Block {
	out := make([]chan *Block, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// sendLatest delivers b, dropping an undelivered older block first: a
// slow subscriber sees the latest head, not a backlog.
func sendLatest(ch chan *Block, b *Block) {
	select {
	case ch <- b:
		return
	default:
	}
	select {
	case <-ch:
	default:
	}
	select {
	case ch <- b:
	default:
	}
}

// append adds a sealed block, prunes old states and moves finality,
// notifying watchers of newly finalized transactions. c.mu is held.
func (c *Chain) append(b *Block) {
	c.blocks = append(c.blocks, b)
	c.byHash[b.Hash] = b
	c.hashes[b.Number] = b.Hash
	if len(c.blocks) > c.cfg.KeepBlocks {
		old := c.blocks[0]
		delete(c.byHash, old.Hash)
		c.blocks = c.blocks[1:]
	}
	target := uint64(0)
	if b.Number > c.cfg.FinalityLag {
		target = b.Number - c.cfg.FinalityLag
	}
	for _, blk := range c.blocks {
		if blk.Number != target || (c.finalized != nil && c.finalized.Number >= target) {
			continue
		}
		prev := uint64(0)
		if c.finalized != nil {
			prev = c.finalized.Number + 1
		}
		c.finalized = blk
		for _, fb := range c.blocks {
			if fb.Number < prev || fb.Number > target {
				continue
			}
			for i, raw := range fb.Extrinsics {
				if i == 0 {
					continue // the timestamp inherent
				}
				c.notify(blake2b.Sum256(raw), TxStatus{Kind: "finalized", Block: fb.Hash})
			}
		}
	}
	if c.finalized == nil {
		c.finalized = b
	}
}

// notify sends a status to a transaction's watchers; terminal statuses end
// the watch. c.mu is held.
func (c *Chain) notify(h [32]byte, s TxStatus) {
	ws := c.watchers[h]
	for _, w := range ws {
		select {
		case w <- s:
		default:
		}
	}
	if s.Kind == "finalized" || s.Kind == "invalid" || s.Kind == "dropped" {
		for _, w := range ws {
			close(w)
		}
		delete(c.watchers, h)
	}
}

func (c *Chain) closeSubscribers() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h := range c.watchers {
		c.notify(h, TxStatus{Kind: "dropped"})
	}
}

// SubscribeHeads delivers every new best block (finalized when finalized
// is set) until cancel is called.
func (c *Chain) SubscribeHeads(finalized bool) (<-chan *Block, func()) {
	ch := make(chan *Block, 1)
	c.mu.Lock()
	m := c.heads
	if finalized {
		m = c.finals
	}
	m[ch] = true
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		delete(m, ch)
		c.mu.Unlock()
	}
}

// seal renders the state and builds the block's header and hash. c.mu is
// held (or the chain is not shared yet).
func (c *Chain) seal(parent *Block, st *State, exts [][]byte, events []byte) (*Block, error) {
	if events == nil {
		events = []byte{0}
	}
	b := &Block{Number: st.Number, Extrinsics: exts, State: st}
	if parent != nil {
		b.Parent = parent.Hash
	}
	// System.BlockHash keeps the genesis and the last blockHashCount
	// blocks, as a pruned subtensor node does.
	hashes := make(map[uint64][32]byte, blockHashCount+1)
	for n := st.Number - min(st.Number, blockHashCount); n < st.Number; n++ {
		if h, ok := c.hashes[n]; ok {
			hashes[n] = h
		}
	}
	if h, ok := c.hashes[0]; ok {
		hashes[0] = h
	}
	// System.BlockHash(n) holds the parent's hash during block n, as the
	// mortality check reads it.
	stor, err := render(c.md, st, hashes, events, c.pulseCache)
	if err != nil {
		return nil, err
	}
	b.Storage = stor
	b.StateRoot = storageRoot(stor)
	b.ExtRoot = blake2b.Sum256(bytes.Join(exts, nil))
	b.Hash = blake2b.Sum256(b.headerBytes())
	return b, nil
}

func storageRoot(s storage) [32]byte {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h, _ := blake2b.New256(nil)
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write(s[k])
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// headerBytes is the SCALE header: parent, number, state root, extrinsics
// root, empty digest.
func (b *Block) headerBytes() []byte {
	e := scale.NewEncoder(100)
	e.Fixed(b.Parent[:])
	e.Compact(b.Number)
	e.Fixed(b.StateRoot[:])
	e.Fixed(b.ExtRoot[:])
	e.VecLen(0)
	return e.Bytes()
}

func (c *Chain) timestampInherent(ms uint64) []byte {
	args := enc(func(e *scale.Encoder) { e.Compact(ms) })
	call, err := c.md.EncodeCall("Timestamp", "set", args)
	if err != nil {
		return nil
	}
	body := append([]byte{0x04}, call...)
	return append(enc(func(e *scale.Encoder) { e.Compact(uint64(len(body))) }), body...)
}

// storePulses adds the beacon's pulses published up to pulseDelay rounds
// before now (at most 64 a block, as a catching-up chain would): on finney
// a round reaches the chain a few rounds after drand publishes it. The
// chain keeps every round from OldestStoredRound on for reveals, as
// subtensor's drand pallet keeps a week of them; the rendered
// Drand.Pulses storage holds the latest pulseRendered.
func (c *Chain) storePulses(st *State, now time.Time) {
	b := c.beacon.Beacon()
	latest := b.RoundAt(now)
	if now.Before(time.Unix(b.GenesisTime, 0)) || latest <= pulseDelay {
		return
	}
	latest -= pulseDelay
	from := st.LastStoredRound + 1
	if st.LastStoredRound == 0 || latest-min(latest, st.LastStoredRound) > 64 {
		from = max(latest, 65) - 64 + 1
	}
	for r := from; r <= latest; r++ {
		sig, err := c.beacon.Sign(r)
		if err != nil {
			continue
		}
		st.Pulses[r] = sig
		if st.OldestStoredRound == 0 {
			st.OldestStoredRound = r
		}
		st.LastStoredRound = r
	}
	if st.LastStoredRound+1 > maxKeptPulses+st.OldestStoredRound {
		st.OldestStoredRound = st.LastStoredRound + 1 - maxKeptPulses
	}
	for r := range st.Pulses {
		if r+pulseRendered < st.LastStoredRound {
			delete(st.Pulses, r)
		}
	}
}

// pulse is the stored signature of round, if the chain holds it: every
// round from OldestStoredRound to LastStoredRound (the signatures are the
// dev beacon's, so older ones are made again rather than kept).
func (c *Chain) pulse(st *State, round uint64) ([]byte, bool) {
	if sig, ok := st.Pulses[round]; ok {
		return sig, true
	}
	if round < st.OldestStoredRound || round > st.LastStoredRound || st.OldestStoredRound == 0 {
		return nil, false
	}
	sig, err := c.beacon.Sign(round)
	return sig, err == nil
}

const (
	// pulseDelay is how many rounds behind drand the chain stores pulses.
	pulseDelay = 2
	// maxKeptPulses is subtensor's MAX_KEPT_PULSES (a week of quicknet).
	maxKeptPulses = 216_000
	// pulseRendered is how many recent rounds the Drand.Pulses storage
	// shows (50 minutes of quicknet's); older kept rounds serve reveals.
	pulseRendered = 1000
)

// blockHashCount is how many recent block hashes System.BlockHash keeps
// (finney's BlockHashCount): a mortal era's birth must be among them.
const blockHashCount = 4096

// maxPool caps the transaction pool.
const maxPool = 4096

// Submit validates an extrinsic against the best block and queues it for
// the next one. With watch, the channel reports its progress until it is
// finalized or dropped.
func (c *Chain) Submit(raw []byte, watch bool) ([32]byte, <-chan TxStatus, error) {
	h := blake2b.Sum256(raw)
	x, err := c.ext.DecodeExtrinsic(raw)
	if err != nil {
		return h, nil, poolError(1002, "Verification Error: Runtime error: Execution failed: Could not decode extrinsic", err.Error())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var pending uint32
	for _, tx := range c.pool {
		if tx.hash == h {
			return h, nil, poolError(1013, "Transaction Already Imported", "")
		}
		if tx.ext.Signer == x.Signer {
			pending++
		}
	}
	if len(c.pool) >= maxPool {
		return h, nil, poolError(1016, "Immediately Dropped", "The transaction couldn't enter the pool because of the limit")
	}
	head := c.blocks[len(c.blocks)-1]
	if rerr := c.checkTx(head.State, x, head.Number+1, pending); rerr != nil {
		return h, nil, rerr
	}
	c.pool = append(c.pool, &poolTx{raw: raw, hash: h, ext: x})
	if !watch {
		return h, nil, nil
	}
	ch := make(chan TxStatus, 4)
	ch <- TxStatus{Kind: "ready"}
	c.watchers[h] = append(c.watchers[h], ch)
	return h, ch, nil
}
