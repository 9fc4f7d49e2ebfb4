package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

// Concurrent registrations committed in groups keep the per-hotkey cap and
// worker uniqueness, and each caller hears its own outcome.
func TestBatcherKeepsTheRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		st := storetest.Open(t, engine, clock.Real())
		b := &batcher{store: st, maxActive: 30, eventKind: "kaspa.registry.bound"}
		const n = 60
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				worker := fmt.Sprintf("5HotkeyA.rig%d", i%45) // 15 names twice
				errs[i] = b.add(&store.KaspaMapping{Worker: worker, Hotkey: "5HotkeyA",
					RegistrationTime: 1, RegistrationTimeInt: 1_000_000, Signature: "00", Source: store.KaspaSourceLocal})
			}()
		}
		wg.Wait()
		var ok, exists, limit int
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, store.ErrKaspaWorkerExists):
				exists++
			case errors.Is(err, store.ErrKaspaWorkerLimit):
				limit++
			default:
				t.Fatalf("unexpected error: %v", err)
			}
		}
		counts, err := st.KaspaActiveCounts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if ok != 30 || counts["5HotkeyA"] != 30 || ok+exists+limit != n {
			t.Fatalf("%d added, %d duplicates, %d over the cap; stored %d", ok, exists, limit, counts["5HotkeyA"])
		}
		evs, err := st.Events(context.Background(), store.EventFilter{Kind: "kaspa.registry.bound", Limit: 100})
		if err != nil || len(evs) != 30 {
			t.Fatalf("%d bound events (%v)", len(evs), err)
		}
	})
}
