package kaspa

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/internal/mechanism"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/rating"
	"github.com/vigil-validator/vigil/internal/view"
)

// consoleState is the last scoring pass and its error, as the console
// shows them: the console never starts a pass (a page must not query the
// pool's Prometheus).
func (m *Mechanism) consoleState() (*scoreSet, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cached, m.lastErr
}

// ConsolePage is the subnet's miners as the last scoring pass rated them,
// with their registered workers (mechanism.Console).
func (m *Mechanism) ConsolePage(ctx context.Context, req mechanism.ConsoleRequest) (*view.Page, error) {
	set, lastErr := m.consoleState()
	counts, err := m.deps.Store.KaspaActiveCounts(ctx)
	if err != nil {
		return nil, err
	}
	facts := []view.Fact{{Name: "pool Prometheus", Value: view.Endpoint(m.cfg.PrometheusEndpoint)}, {Name: "rating window", Value: m.cfg.Window.String()}}
	bound := 0
	for _, n := range counts {
		bound += n
	}
	facts = append(facts, view.Fact{Name: "registered workers", Value: fmt.Sprint(bound)}, view.Fact{Name: "hotkeys with workers", Value: fmt.Sprint(len(counts))})
	if set != nil {
		facts = append(facts, view.Fact{Name: "last scoring pass", Value: set.at.UTC().Format(time.RFC3339)})
	} else {
		facts = append(facts, view.Fact{Name: "last scoring pass", Value: "none yet", Bad: true})
	}
	if lastErr != nil {
		facts = append(facts, view.Fact{Name: "last pass error", Value: lastErr.Error(), Bad: true})
	}
	uid := uidsOf(req)
	t := &view.Table{Columns: []view.Column{{Key: "uid", Title: "uid", Numeric: true}, {Key: "hotkey", Title: "hotkey"},
		{Key: "rating", Title: "rating", Numeric: true}, {Key: "work", Title: "effective work", Numeric: true},
		{Key: "uptime", Title: "mean uptime", Numeric: true}, {Key: "valid", Title: "valid shares", Numeric: true},
		{Key: "invalid", Title: "invalid shares", Numeric: true}, {Key: "hashrate", Title: "hashrate", Numeric: true},
		{Key: "rated", Title: "workers rated", Numeric: true}, {Key: "registered", Title: "workers registered", Numeric: true}}}
	seen := map[string]bool{}
	row := func(hk string, ms []rating.WorkerMetrics, score float64) []view.Cell {
		var valid, invalid int64
		var hashrate float64
		for _, w := range ms {
			valid, invalid, hashrate = valid+w.ValidShares, invalid+w.InvalidShares, hashrate+w.Hashrate
		}
		u := view.Text("")
		if id, ok := uid[hk]; ok {
			u = view.Int(int64(id))
		}
		return []view.Cell{u, view.Link(hk, req.MinerURL(hk)), view.Num(score, 4), view.Num(m.calc.Work(ms), 2),
			view.Num(m.calc.MeanUptime(ms), 3), view.Int(valid), view.Int(invalid), view.Num(hashrate, 0), view.Int(int64(len(ms))), view.Int(int64(counts[hk]))}
	}
	if set != nil {
		for hk, ms := range set.byHK {
			seen[hk] = true
			t.Rows = append(t.Rows, row(hk, ms, set.ratings[hk]))
		}
	}
	for hk := range counts {
		if !seen[hk] {
			t.Rows = append(t.Rows, row(hk, nil, 0))
		}
	}
	t.Sort("hotkey", false)
	t.Sort("rating", true)
	return &view.Page{Sections: []view.Section{
		{ID: "kaspa", Title: "Kaspa mechanism", Facts: facts},
		{ID: "miners", Title: "Miners", Note: "rated by the last scoring pass; effective work and uptime as the rating uses them", Table: t},
	}}, nil
}

// uidsOf maps the metagraph's hotkeys (SS58) to their uids.
func uidsOf(req mechanism.ConsoleRequest) map[string]uint16 {
	out := map[string]uint16{}
	if req.Metagraph == nil {
		return out
	}
	for _, n := range req.Metagraph.Neurons {
		s, _ := keys.SS58Encode(n.Hotkey[:], keys.SS58PrefixBittensor)
		out[s] = n.UID
	}
	return out
}

// ConsoleMiner is one hotkey's workers: their metrics in the last pass
// and their registrations (mechanism.Console).
func (m *Mechanism) ConsoleMiner(ctx context.Context, req mechanism.ConsoleRequest, hotkey string) (*view.Page, error) {
	set, _ := m.consoleState()
	registered, err := m.deps.Store.KaspaWorkersOf(ctx, hotkey)
	if err != nil {
		return nil, err
	}
	var ms []rating.WorkerMetrics
	score := 0.0
	if set != nil {
		ms, score = set.byHK[hotkey], set.ratings[hotkey]
	}
	if len(ms) == 0 && len(registered) == 0 {
		return nil, nil
	}
	t := &view.Table{Columns: []view.Column{{Key: "worker", Title: "worker"}, {Key: "registered", Title: "registered"},
		{Key: "work", Title: "effective work", Numeric: true}, {Key: "valid", Title: "valid shares", Numeric: true},
		{Key: "invalid", Title: "invalid shares", Numeric: true}, {Key: "difficulty", Title: "total difficulty", Numeric: true},
		{Key: "uptime", Title: "uptime (s)", Numeric: true}, {Key: "hashrate", Title: "hashrate", Numeric: true},
		{Key: "authorized", Title: "last authorize", Numeric: true}}}
	rated := map[string]bool{}
	for _, w := range ms {
		rated[w.Worker] = true
		reg := "no"
		if slices.Contains(registered, w.Worker) {
			reg = "yes"
		}
		t.Rows = append(t.Rows, []view.Cell{view.Text(w.Worker), view.Text(reg), view.Num(m.calc.WorkerWork(w), 2), view.Int(w.ValidShares),
			view.Int(w.InvalidShares), view.Num(w.TotalDifficulty, 2), view.Num(w.UptimeSeconds, 0), view.Num(w.Hashrate, 0),
			view.Time(time.Unix(int64(w.Uptime), 0))})
	}
	for _, w := range registered {
		if !rated[w] {
			t.Rows = append(t.Rows, []view.Cell{view.Text(w), view.Text("yes"), {}, {}, {}, {}, {}, {}, {}})
		}
	}
	return &view.Page{Sections: []view.Section{
		{ID: "rating", Title: "Kaspa rating", Facts: []view.Fact{{Name: "rating", Value: fmt.Sprintf("%.4f", score)},
			{Name: "effective work", Value: fmt.Sprintf("%.2f", m.calc.Work(ms))}, {Name: "mean uptime", Value: fmt.Sprintf("%.3f", m.calc.MeanUptime(ms))},
			{Name: "workers registered", Value: fmt.Sprint(len(registered))}}},
		{ID: "workers", Title: "Workers", Table: t},
	}}, nil
}

var _ mechanism.Console = (*Mechanism)(nil)
