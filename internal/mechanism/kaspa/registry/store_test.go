package registry

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

// TestStoreKaspaRegistry exercises the store methods the registry relies
// on, on both engines.
func TestStoreKaspaRegistry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		ctx := t.Context()
		clk := clock.NewFake(t0)
		s := storetest.Open(t, engine, clk)
		add := func(w, h string, at float64, unbind string) error {
			m := &store.KaspaMapping{Worker: w, Hotkey: h, RegistrationTime: at, RegistrationTimeInt: Micros(at), Signature: "ab", Source: "local"}
			if unbind != "" {
				m.UnbindSignature, m.UnbindSource = unbind, "5Peer"
			}
			return s.AddKaspaMapping(ctx, m, 2)
		}
		if err := add("a1", "A", 1721812345.123456, ""); err != nil {
			t.Fatal(err)
		}
		if err := add("a2", "A", 1721812340, ""); err != nil {
			t.Fatal(err)
		}
		if err := add("a3", "A", 1, ""); !errors.Is(err, store.ErrKaspaWorkerLimit) {
			t.Errorf("third active worker with a cap of 2: %v", err)
		}
		if err := add("a3", "A", 1, "cd"); err != nil {
			t.Errorf("a tombstone is not capped: %v", err)
		}
		if err := add("a1", "B", 1, ""); !errors.Is(err, store.ErrKaspaWorkerExists) {
			t.Errorf("worker of another hotkey: %v", err)
		}
		if err := add("a3", "A", 1, ""); !errors.Is(err, store.ErrKaspaWorkerExists) {
			t.Errorf("tombstoned worker: %v", err)
		}
		m, err := s.KaspaMapping(ctx, "a1")
		if err != nil || m.RegistrationTime != 1721812345.123456 || m.RegistrationTimeInt != 1721812345123456 || m.Seq != 1 ||
			!m.CreatedAt.Equal(t0) || !m.Active() {
			t.Errorf("a1: %+v, %v", m, err)
		}
		if m, _ := s.KaspaMapping(ctx, "a3"); m.Active() || m.UnbindSource != "5Peer" || !m.UnboundAt.Equal(t0) || m.Seq != 3 {
			t.Errorf("a3: %+v", m)
		}
		if _, err := s.KaspaMapping(ctx, "zz"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing worker: %v", err)
		}

		clk.Advance(time.Second)
		if err := s.UnbindKaspaWorker(ctx, "B", "a1", "ef", "local"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unbind by another hotkey: %v", err)
		}
		if err := s.UnbindKaspaWorker(ctx, "A", "a1", "ef", "local"); err != nil {
			t.Fatal(err)
		}
		if err := s.UnbindKaspaWorker(ctx, "A", "a1", "ef", "local"); !errors.Is(err, store.ErrKaspaAlreadyUnbound) {
			t.Errorf("second unbind: %v", err)
		}
		if m, _ := s.KaspaMapping(ctx, "a1"); m.Seq != 4 || m.UnbindSignature != "ef" || !m.UnboundAt.Equal(t0.Add(time.Second)) {
			t.Errorf("unbound a1: %+v", m)
		}
		active, _ := s.ActiveKaspaMappings(ctx)
		cnt, _ := s.KaspaActiveCounts(ctx)
		if len(active) != 1 || active["a2"] != "A" || cnt["A"] != 1 {
			t.Errorf("active %v, counts %v", active, cnt)
		}
		if ws, err := s.KaspaWorkersOf(ctx, "A"); err != nil || len(ws) != 1 || ws[0] != "a2" {
			t.Errorf("A's workers: %v %v (a1 unbound, a3 a tombstone)", ws, err)
		}
		if ws, err := s.KaspaWorkersOf(ctx, "B"); err != nil || len(ws) != 0 {
			t.Errorf("B's workers: %v %v", ws, err)
		}
		since, _ := s.KaspaMappingsSince(ctx, 0, 10, 0)
		changes, _ := s.KaspaChangesSince(ctx, 1, 10)
		if len(since) != 1 || since[0].Worker != "a2" || len(changes) != 3 || changes[0].Worker != "a2" || changes[2].Worker != "a1" {
			t.Errorf("since %+v, changes %+v", since, changes)
		}

		i1, err := s.KaspaRegistryInstance(ctx)
		i2, _ := s.KaspaRegistryInstance(ctx)
		if err != nil || len(i1) != 32 || i1 != i2 {
			t.Errorf("instance %q %q %v", i1, i2, err)
		}
		if o, err := s.KaspaSyncOffset(ctx, "5X"); err != nil || o != (store.KaspaSyncOffset{Hotkey: "5X"}) {
			t.Errorf("no offset yet: %+v %v", o, err)
		}
		for i, o := range []store.KaspaSyncOffset{{Hotkey: "5X", LastSeq: 3}, {Hotkey: "5X", LastSeq: 9, LastRegistrationTime: 2.5, PeerInstance: "p"}} {
			clk.Advance(time.Second)
			if err := s.PutKaspaSyncOffset(ctx, o); err != nil {
				t.Fatalf("put %d: %v", i, err)
			}
		}
		if o, _ := s.KaspaSyncOffset(ctx, "5X"); o.LastSeq != 9 || o.LastRegistrationTime != 2.5 || o.PeerInstance != "p" || !o.LastSyncAt.Equal(clk.Now()) {
			t.Errorf("offset after upsert: %+v", o)
		}
	})
}

// TestStoreKaspaConcurrentWriters: concurrent registrations respect the cap
// and get distinct, gap-free change numbers.
func TestStoreKaspaConcurrentWriters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, engine string) {
		ctx := t.Context()
		s := storetest.Open(t, engine, nil)
		var wg sync.WaitGroup
		errs := make([]error, 16)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.AddKaspaMapping(ctx, &store.KaspaMapping{Worker: fmt.Sprint("w", i), Hotkey: "H", RegistrationTime: 1,
					Signature: "ab", Source: "local"}, 5)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrKaspaWorkerLimit):
				t.Errorf("unexpected error: %v", err)
			}
		}
		rows, _ := s.KaspaChangesSince(ctx, 0, 100)
		if ok != 5 || len(rows) != 5 {
			t.Fatalf("%d succeeded, %d stored; want 5", ok, len(rows))
		}
		for i, r := range rows {
			if r.Seq != int64(i+1) {
				t.Errorf("seqs not gap-free: %d at %d", r.Seq, i)
			}
		}
	})
}
