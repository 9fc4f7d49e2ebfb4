package registry

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/store/storetest"
)

// BenchmarkRegister is POST /register end to end in the handler: JSON
// decoding, the checks, sr25519 verification and the insert into SQLite,
// from parallel clients. Requests past the prepared set repeat earlier
// workers and end at the store's uniqueness check, after verification.
func BenchmarkRegister(b *testing.B) {
	clk := clock.NewFake(t0)
	st := storetest.Open(b, "sqlite", clk)
	h, err := NewHandler(HandlerOpts{Store: st, Workers: &checks{}, Hotkeys: &checks{}, PoolWallet: testWallet, Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	type req struct {
		body []byte
		sig  string
	}
	const hotkeys, perHotkey = 100, DefaultMaxWorkersPerHotkey
	reqs := make([]req, 0, hotkeys*perHotkey)
	ts := float64(t0.UnixNano()) / 1e9
	for i := range hotkeys {
		kp, err := keys.FromURI(fmt.Sprintf("//bench//%d", i))
		if err != nil {
			b.Fatal(err)
		}
		for j := range perHotkey {
			worker := fmt.Sprintf("%s.rig%d", kp.SS58(), j)
			sig, err := kp.Sign(RegistrationMessage(kp.SS58(), worker, ts))
			if err != nil {
				b.Fatal(err)
			}
			body, _ := json.Marshal(map[string]any{"hotkey": kp.SS58(), "worker": worker, "registration_time": ts})
			reqs = append(reqs, req{body, hex.EncodeToString(sig[:])})
		}
	}
	var next, ok atomic.Int64
	b.ReportAllocs()
	start := time.Now()
	b.SetParallelism(8) // many miners at once
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := reqs[int(next.Add(1)-1)%len(reqs)]
			hr := httptest.NewRequest(http.MethodPost, "/register", bytes.NewReader(r.body))
			hr.Header.Set("Content-Type", "application/json")
			hr.Header.Set("X-Signature", r.sig)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, hr)
			if rec.Code == http.StatusOK {
				ok.Add(1)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	if ok.Load() == 0 {
		b.Fatal("no registration succeeded")
	}
}
