package kaspa

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/api"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/console"
	"github.com/vigil-validator/vigil/internal/mechanism"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/rating"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/store/storetest"
	"github.com/vigil-validator/vigil/internal/validator"
)

// consoleFixture is a mechanism whose last pass rated hotkeys × workers
// (worker w of hotkey h with 10·(h+1) valid shares), every worker
// registered, plus one hotkey registered and not rated; and the metagraph
// of those hotkeys.
func consoleFixture(t testing.TB, hotkeys, workers int) (*Mechanism, *subtensor.Metagraph, []string) {
	mg := &subtensor.Metagraph{Netuid: 1, Block: 50}
	m, err := New(settings(nil), mechanism.Deps{Store: storetest.Open(t, "sqlite", clock.Real()), Metagraph: holding(mg)})
	if err != nil {
		t.Fatal(err)
	}
	byHK := map[string][]rating.WorkerMetrics{}
	var hks []string
	var ms []store.KaspaMapping
	for h := range hotkeys + 1 {
		var acc subtensor.AccountID
		acc[0], acc[1], acc[31] = byte(h>>8), byte(h), 7
		hk, _ := keys.SS58Encode(acc[:], keys.SS58PrefixBittensor)
		hks = append(hks, hk)
		mg.Neurons = append(mg.Neurons, subtensor.Neuron{UID: uint16(h), Hotkey: acc})
		for w := range workers {
			name := fmt.Sprintf("%s-rig%d", hk[:10], w)
			ms = append(ms, store.KaspaMapping{Worker: name, Hotkey: hk, RegistrationTime: 1.7e9, Signature: "ab", Source: store.KaspaSourceLocal})
			if h < hotkeys {
				byHK[hk] = append(byHK[hk], rating.WorkerMetrics{Worker: name, ValidShares: int64(10 * (h + 1)), Difficulty: 1000, TotalDifficulty: float64(h + 1),
					UptimeSeconds: 1800, Uptime: 1.7e9, Hashrate: 1e9})
			}
		}
	}
	if _, err := m.deps.Store.ImportKaspaMappings(context.Background(), ms, false); err != nil {
		t.Fatal(err)
	}
	m.cached = &scoreSet{at: time.Now(), ratings: m.calc.RateAll(byHK), byHK: byHK}
	return m, mg, hks
}

func TestConsolePages(t *testing.T) {
	m, mg, hks := consoleFixture(t, 3, 2)
	ctx := context.Background()
	req := mechanism.ConsoleRequest{Metagraph: mg, MinerURL: func(hk string) string { return "/m/" + hk }}
	p, err := m.ConsolePage(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	miners := p.Sections[1].Table
	if len(miners.Rows) != 4 {
		t.Fatalf("%d rows, want the 3 rated hotkeys and the registered one", len(miners.Rows))
	}
	// Largest rating first; the unrated one last, with its registrations.
	if miners.Rows[0][1].Text != hks[2] || miners.Rows[0][1].Link != "/m/"+hks[2] || miners.Rows[3][1].Text != hks[3] {
		t.Errorf("order: %s … %s", miners.Rows[0][1].Text, miners.Rows[3][1].Text)
	}
	if r := miners.Rows[3]; *r[2].Value != 0 || r[8].Text != "0" || r[9].Text != "2" {
		t.Errorf("the unrated hotkey's row: rating %v, rated %s, registered %s", *r[2].Value, r[8].Text, r[9].Text)
	}
	if got, want := *miners.Rows[0][2].Value, m.cached.ratings[hks[2]]; got != want || got <= 0 {
		t.Errorf("rating %v, want the pass's %v", got, want)
	}
	if got := *miners.Rows[0][3].Value; got != m.calc.Work(m.cached.byHK[hks[2]]) {
		t.Errorf("effective work %v", got)
	}
	mp, err := m.ConsoleMiner(ctx, req, hks[1])
	if err != nil || mp == nil {
		t.Fatalf("miner page: %v %v", mp, err)
	}
	if ws := mp.Sections[1].Table.Rows; len(ws) != 2 || ws[0][1].Text != "yes" || ws[0][3].Text != "20" {
		t.Errorf("workers %+v", ws)
	}
	if mp, err := m.ConsoleMiner(ctx, req, "5Nobody"); err != nil || mp != nil {
		t.Errorf("an unknown hotkey: %v %v", mp, err)
	}
}

// BenchmarkConsolePage serves the Kaspa subnet's console pages for 256
// rated hotkeys of 4 workers each through the console's handler.
func BenchmarkConsolePage(b *testing.B) {
	m, mg, hks := consoleFixture(b, 256, 4)
	health := api.NewHealth(time.Second)
	// The console's own clock moves on between requests, so each one
	// builds its page instead of reading the last one kept.
	cclk := clock.NewFake(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	c, err := console.New(console.Options{Listen: "127.0.0.1:9100", Store: m.deps.Store, Health: health, Clock: cclk, Subnets: []console.Subnet{{Netuid: 1,
		Mechanism: m, Status: func() validator.Status { return validator.Status{Netuid: 1} }, Metagraph: func() *subtensor.Metagraph { return mg }}}})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	c.Mount(func(p string, h http.Handler) { mux.Handle(p, h) })
	for _, page := range []struct{ name, path string }{{"subnet", "/ui/subnet/1"}, {"miner", "/ui/subnet/1/miner/" + hks[9]}} {
		b.Run(page.name, func(b *testing.B) {
			for b.Loop() {
				cclk.Advance(2 * time.Second)
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, httptest.NewRequest("GET", page.path, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
