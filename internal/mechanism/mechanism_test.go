package mechanism

import (
	"sync"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/axon"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
)

// The holder is what axon blacklists read.
var _ axon.MetagraphFunc = (&Metagraph{}).Load

func TestMetagraphHolder(t *testing.T) {
	var h Metagraph
	if h.Load() != nil {
		t.Fatal("a new holder holds a metagraph")
	}
	// One writer, many readers, as the weight loop and the API run.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				if mg := h.Load(); mg != nil && mg.Netuid != 1 {
					t.Errorf("reader %d saw netuid %d", i, mg.Netuid)
				}
			}
		}()
	}
	for b := range uint64(1000) {
		h.Store(&subtensor.Metagraph{Netuid: 1, Block: b})
	}
	wg.Wait()
	if mg := h.Load(); mg == nil || mg.Block != 999 {
		t.Fatalf("holds %+v", mg)
	}
}
