package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/vigil-validator/vigil/bittensor/subtensor"
)

// rowReads bounds the rows read at once for 'chain weights' and 'chain
// bonds' over a whole subnet.
const rowReads = 8

type sparseEntryJSON struct {
	UID   uint16 `json:"uid"`
	Value uint16 `json:"value"`
}

type sparseRowJSON struct {
	UID     uint16            `json:"uid"`
	Hotkey  string            `json:"hotkey"`
	Entries []sparseEntryJSON `json:"entries"`
}

func sparseFlags(fs *flag.FlagSet, f *chainFlags) {
	readFlags(fs, f)
	fs.IntVar(&f.uid, "uid", -1, "only this uid's row (default: every uid of the subnet)")
	mechanismFlag(fs, f)
}

// chainSparse prints the Weights or Bonds rows of a subnet (or of one uid)
// at one block.
func chainSparse(item string) func(ctx context.Context, env Env, c *subtensor.Client, f *chainFlags) error {
	read := rowReader(item)
	return func(ctx context.Context, env Env, c *subtensor.Client, f *chainFlags) error {
		m, err := c.Metagraph(ctx, uint16(f.netuid), f.block)
		if err != nil {
			return err
		}
		var neurons []subtensor.Neuron
		for _, n := range m.Neurons {
			if f.uid < 0 || int(n.UID) == f.uid {
				neurons = append(neurons, n)
			}
		}
		if f.uid >= 0 && len(neurons) == 0 {
			return fmt.Errorf("--uid %d: netuid %d has %d uids", f.uid, f.netuid, len(m.Neurons))
		}
		rows := make([]sparseRowJSON, len(neurons))
		errs := make(chan error, len(neurons))
		sem := make(chan struct{}, rowReads)
		for i, n := range neurons {
			sem <- struct{}{}
			go func() {
				defer func() { <-sem }()
				es, err := read(c, ctx, subtensor.StorageIndex(uint16(f.netuid), uint8(f.mechanism)), n.UID, m.BlockHash)
				row := sparseRowJSON{UID: n.UID, Hotkey: ss58(n.Hotkey), Entries: make([]sparseEntryJSON, len(es))}
				for j, e := range es {
					row.Entries[j] = sparseEntryJSON{UID: e.UID, Value: e.Value}
				}
				rows[i] = row
				errs <- err
			}()
		}
		for range neurons {
			if err := <-errs; err != nil {
				return err
			}
		}
		kind := strings.ToLower(item)
		if f.asJSON {
			return json.NewEncoder(env.Stdout).Encode(struct {
				Netuid    uint16          `json:"netuid"`
				Mechanism int             `json:"mechanism"`
				Block     uint64          `json:"block"`
				BlockHash string          `json:"block_hash"`
				Kind      string          `json:"kind"`
				Rows      []sparseRowJSON `json:"rows"`
			}{m.Netuid, f.mechanism, m.Block, m.BlockHash, kind, rows})
		}
		mech := ""
		if f.mechanism > 0 {
			mech = fmt.Sprintf(" mechanism %d", f.mechanism)
		}
		fmt.Fprintf(env.Stdout, "%s of netuid %d%s at block %d (%s)\n\n", kind, m.Netuid, mech, m.Block, m.BlockHash)
		tw := tabwriter.NewWriter(env.Stdout, 2, 8, 2, ' ', 0)
		fmt.Fprintf(tw, "UID\tHOTKEY\t%s (uid:value, value/65535)\n", strings.ToUpper(kind))
		for _, r := range rows {
			if len(r.Entries) == 0 && f.uid < 0 {
				continue // rows of neurons that set nothing
			}
			parts := make([]string, len(r.Entries))
			for j, e := range r.Entries {
				parts[j] = fmt.Sprintf("%d:%d", e.UID, e.Value)
			}
			if len(parts) == 0 {
				parts = []string{"(none)"}
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\n", r.UID, r.Hotkey, strings.Join(parts, " "))
		}
		return tw.Flush()
	}
}

// rowReader is the client method that reads item.
func rowReader(item string) func(c *subtensor.Client, ctx context.Context, netuid, uid uint16, hash string) ([]subtensor.WeightEntry, error) {
	if item == "Bonds" {
		return (*subtensor.Client).Bonds
	}
	return (*subtensor.Client).Weights
}
