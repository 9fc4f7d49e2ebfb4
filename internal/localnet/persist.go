package localnet

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/wallet"
)

// savedFormat is the version of the state file SaveState writes.
const savedFormat = 2

// Saved is a chain as SaveState wrote it: the state at its best block, its
// genesis hash and the hash of every block before the best one, so that a
// resumed chain is the same chain to its clients (the same genesis to sign
// for, the same System.BlockHash for their mortal eras).
type Saved struct {
	State   *State
	Genesis [32]byte
	// Hashes are blocks 0 .. State.Number-1. Empty in a file written
	// before genesis was kept: such a chain resumes under a new genesis.
	Hashes [][32]byte
}

type savedFile struct {
	Format  int      `json:"format"`
	Genesis string   `json:"genesis"`
	Hashes  []string `json:"hashes"`
	State   *State   `json:"state"`
}

// SaveState writes the chain (0600, atomically) for LoadState and Resume:
// the best block's state, the genesis hash and the earlier blocks' hashes.
func (c *Chain) SaveState(path string) error {
	c.mu.RLock()
	head := c.blocks[len(c.blocks)-1]
	f := savedFile{Format: savedFormat, Genesis: "0x" + hex.EncodeToString(c.genesis[:]), State: head.State,
		Hashes: make([]string, 0, head.Number)}
	for n := uint64(0); n < head.Number; n++ {
		h, ok := c.hashes[n]
		if !ok {
			c.mu.RUnlock()
			return fmt.Errorf("save state: no hash of block %d", n)
		}
		f.Hashes = append(f.Hashes, "0x"+hex.EncodeToString(h[:]))
	}
	c.mu.RUnlock()
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return wallet.WriteFileAtomic(path, b, true)
}

// maxStateFile caps what LoadState reads.
const maxStateFile = 256 << 20

// LoadState reads a chain SaveState wrote. A file of an older vigil (the
// bare state) loads with no genesis or hashes.
func LoadState(path string) (*Saved, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > maxStateFile {
		return nil, fmt.Errorf("%s: %d bytes, over %d", path, fi.Size(), maxStateFile)
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxStateFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var probe struct {
		Format *int `json:"format"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	saved := &Saved{State: newState()}
	if probe.Format == nil {
		if err := decodeStrict(raw, saved.State); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	} else {
		if *probe.Format != savedFormat {
			return nil, fmt.Errorf("%s: state format %d, this vigil reads %d", path, *probe.Format, savedFormat)
		}
		file := savedFile{State: saved.State}
		if err := decodeStrict(raw, &file); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if saved.Genesis, err = substrate.ParseHash(file.Genesis); err != nil {
			return nil, fmt.Errorf("%s: genesis: %w", path, err)
		}
		if uint64(len(file.Hashes)) != saved.State.Number {
			return nil, fmt.Errorf("%s: %d block hashes for a chain at block %d", path, len(file.Hashes), saved.State.Number)
		}
		for i, s := range file.Hashes {
			h, err := substrate.ParseHash(s)
			if err != nil {
				return nil, fmt.Errorf("%s: hash of block %d: %w", path, i, err)
			}
			saved.Hashes = append(saved.Hashes, h)
		}
		if len(saved.Hashes) > 0 && saved.Hashes[0] != saved.Genesis {
			return nil, fmt.Errorf("%s: block 0 is not the genesis", path)
		}
	}
	st := saved.State
	for id, s := range st.Subnets {
		if s == nil || s.Netuid != id {
			return nil, fmt.Errorf("%s: subnet %d is malformed", path, id)
		}
		for i, n := range s.Neurons {
			if n == nil {
				return nil, fmt.Errorf("%s: subnet %d uid %d is null", path, id, i)
			}
		}
	}
	for id, a := range st.Accounts {
		if a == nil {
			return nil, fmt.Errorf("%s: account %s is null", path, id.Hex())
		}
	}
	return saved, nil
}

func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// Resume continues a saved chain: the same genesis hash, the saved blocks'
// hashes for chain_getBlockHash and System.BlockHash, and the best block
// sealed again on top of them (an unfinalized tip, as after a reorg).
// A save without hashes (an older vigil's) starts a chain with a new
// genesis, as New does.
func Resume(cfg Config, s *Saved) (*Chain, error) {
	if s == nil || s.State == nil {
		return nil, fmt.Errorf("resume: no saved state")
	}
	if len(s.Hashes) == 0 && s.State.Number > 0 {
		return New(cfg, s.State)
	}
	st := s.State
	st.syncSchedulers()
	c, err := newChain(cfg, st.StatefulEpochs)
	if err != nil {
		return nil, err
	}
	for n, h := range s.Hashes {
		c.hashes[uint64(n)] = h
	}
	var parent *Block
	if st.Number > 0 {
		parent = &Block{Number: st.Number - 1, Hash: s.Hashes[st.Number-1]}
	}
	b, err := c.seal(parent, st, nil, nil)
	if err != nil {
		return nil, err
	}
	c.genesis = s.Genesis
	if st.Number == 0 {
		c.genesis = b.Hash // block 0 itself: sealed again, the same bytes
	}
	c.append(b)
	return c, nil
}
