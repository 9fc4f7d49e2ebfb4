package localnet

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/vigil-validator/vigil/bittensor/wallet"
)

// SaveState writes the best block's state to path (0600, atomically), for
// LoadState to resume from.
func (c *Chain) SaveState(path string) error {
	b, err := json.Marshal(c.Head().State)
	if err != nil {
		return err
	}
	return wallet.WriteFileAtomic(path, b, true)
}

// maxStateFile caps what LoadState reads.
const maxStateFile = 256 << 20

// LoadState reads a state SaveState wrote.
func LoadState(path string) (*State, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > maxStateFile {
		return nil, fmt.Errorf("%s: %d bytes, over %d", path, fi.Size(), maxStateFile)
	}
	st := newState()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
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
	return st, nil
}
