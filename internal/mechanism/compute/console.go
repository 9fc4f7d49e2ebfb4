package compute

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-validator/vigil/internal/mechanism"
	"github.com/vigil-validator/vigil/internal/mechanism/compute/scoring"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/view"
)

var _ mechanism.Console = (*Mechanism)(nil)

// consolePass is a weight pass as the console shows it.
type consolePass struct {
	at     time.Time
	miners []scoring.MinerScore // with their workers when the pass ran here
}

// heatMiners is how many miners (the heaviest) the subnet's availability
// heat-map shows; a miner's page shows each of its workers.
const heatMiners = 16

// heatColumns bounds a heat-map's columns.
const heatColumns = 169

// recentOutcomes is how many decided challenges a page lists.
const recentOutcomes = 30

// consolePass is the latest pass: this process's, or else the store's
// newest (miners' factors only).
func (m *Mechanism) consolePass(ctx context.Context) (*consolePass, error) {
	if p := m.lastPass.Load(); p != nil {
		return p, nil
	}
	at, raw, err := m.deps.Store.LatestComputeWeightPass(ctx, m.deps.Netuid)
	if err != nil || at.IsZero() {
		return nil, err
	}
	p := &consolePass{at: at}
	if err := json.Unmarshal(raw, &p.miners); err != nil {
		return nil, fmt.Errorf("stored weight pass: %w", err)
	}
	return p, nil
}

// minerTotals are a miner's successes in the ranking window and their
// mean time, from its workers' factors (zero without them).
func minerTotals(ms scoring.MinerScore) (successes int, meanMS float64) {
	var sum float64
	for _, w := range ms.Workers {
		successes += w.Successes
		sum += w.AvgTimeMS * float64(w.Successes)
	}
	if successes > 0 {
		meanMS = sum / float64(successes)
	}
	return successes, meanMS
}

// ConsolePage is the subnet's miners as the latest weight pass scored
// them, the newest decided challenges and the heaviest miners'
// availability over the window (mechanism.Console).
func (m *Mechanism) ConsolePage(ctx context.Context, req mechanism.ConsoleRequest) (*view.Page, error) {
	cfg := m.cfg().s.Scoring()
	now := m.now()
	pass, err := m.consolePass(ctx)
	if err != nil {
		return nil, err
	}
	failed, err := m.deps.Store.ComputeFailedSince(ctx, m.deps.Netuid, now.Add(-cfg.RankingWindow))
	if err != nil {
		return nil, err
	}
	facts := []view.Fact{{Name: "ranking window", Value: cfg.RankingWindow.String()},
		{Name: "availability window", Value: fmt.Sprintf("%d h", cfg.AvailabilityHours)},
		{Name: "score", Value: fmt.Sprintf("%.0f%% lease + %.0f%% challenges, × availability", cfg.LeaseWeight*100, cfg.ChallengeWeight*100)},
		{Name: "MeshHub", Value: m.hubState()}}
	t := &view.Table{Columns: []view.Column{{Key: "uid", Title: "uid", Numeric: true}, {Key: "hotkey", Title: "hotkey"},
		{Key: "online", Title: "online"}, {Key: "workers", Title: "workers scored", Numeric: true},
		{Key: "successes", Title: "successes", Numeric: true}, {Key: "failed", Title: "failed", Numeric: true},
		{Key: "mean", Title: "mean ms", Numeric: true}, {Key: "challenge", Title: "challenge", Numeric: true},
		{Key: "lease", Title: "lease", Numeric: true}, {Key: "availability", Title: "availability", Numeric: true},
		{Key: "score", Title: "score", Numeric: true}, {Key: "weight", Title: "weight", Numeric: true}}}
	var heaviest []scoring.MinerScore
	if pass != nil {
		facts = append(facts, view.Fact{Name: "last weight pass", Value: pass.at.UTC().Format(time.RFC3339)})
		for _, ms := range pass.miners {
			t.Rows = append(t.Rows, m.minerRow(req, ms, failed[ms.Hotkey]))
		}
		heaviest = slices.Clone(pass.miners)
		slices.SortStableFunc(heaviest, func(a, b scoring.MinerScore) int {
			if a.Weight != b.Weight {
				if a.Weight > b.Weight {
					return -1
				}
				return 1
			}
			return 0
		})
		heaviest = heaviest[:min(heatMiners, len(heaviest))]
	} else {
		facts = append(facts, view.Fact{Name: "last weight pass", Value: "none yet", Bad: true})
	}
	t.Sort("weight", true)
	p := &view.Page{Sections: []view.Section{
		{ID: "compute", Title: "Compute mechanism", Facts: facts},
		{ID: "miners", Title: "Miners", Note: "factors of the latest weight pass; successes and mean time over the ranking window, failures since its start", Table: t},
	}}
	var hotkeys []string
	for _, ms := range heaviest {
		hotkeys = append(hotkeys, ms.Hotkey)
	}
	hm, err := m.heatmap(ctx, req, hotkeys, now, true)
	if err != nil {
		return nil, err
	}
	p.Sections = append(p.Sections, view.Section{ID: "availability", Title: "Availability",
		Note: fmt.Sprintf("the %d heaviest miners, the share of their workers' 5-minute buckets with a heartbeat in each column", len(hotkeys)), Heatmap: hm})
	outcomes, err := m.deps.Store.ComputeRecentOutcomes(ctx, m.deps.Netuid, "", recentOutcomes)
	if err != nil {
		return nil, err
	}
	p.Sections = append(p.Sections, view.Section{ID: "challenges", Title: "Latest decided challenges", Table: outcomeTable(req, outcomes, true)})
	return p, nil
}

func (m *Mechanism) hubState() string {
	switch {
	case m.hub == nil:
		return "not configured"
	case m.hub.Connected():
		return "connected"
	default:
		return "disconnected"
	}
}

func (m *Mechanism) minerRow(req mechanism.ConsoleRequest, ms scoring.MinerScore, failed int) []view.Cell {
	succ, mean := minerTotals(ms)
	sc, mc := view.Text(""), view.Text("")
	if len(ms.Workers) > 0 {
		sc, mc = view.Int(int64(succ)), view.Num(mean, 1)
	}
	return []view.Cell{view.Int(int64(ms.UID)), view.Link(ms.Hotkey, req.MinerURL(ms.Hotkey)), view.Text(view.YesNo(ms.Online)),
		view.Int(int64(ms.Scored)), sc, view.Int(int64(failed)), mc, view.Num(ms.Challenge, 4), view.Num(ms.Lease, 4),
		view.Num(ms.Availability, 4), view.Num(ms.Score, 4), view.Num(ms.Weight, 6)}
}

// outcomeTable lists decided challenges.
func outcomeTable(req mechanism.ConsoleRequest, os []store.ComputeOutcome, withMiner bool) *view.Table {
	t := &view.Table{Columns: []view.Column{{Key: "at", Title: "created (UTC)", Numeric: true}}}
	if withMiner {
		t.Columns = append(t.Columns, view.Column{Key: "hotkey", Title: "miner"})
	}
	t.Columns = append(t.Columns, []view.Column{{Key: "worker", Title: "worker"}, {Key: "kind", Title: "kind"}, {Key: "status", Title: "outcome"},
		{Key: "ms", Title: "time ms", Numeric: true}, {Key: "samples", Title: "samples passed", Numeric: true}, {Key: "notes", Title: "notes"}}...)
	for _, o := range os {
		row := []view.Cell{view.Time(o.CreatedAt)}
		if withMiner {
			row = append(row, view.Link(o.Hotkey, req.MinerURL(o.Hotkey)))
		}
		outcome := o.Status
		if o.Status == "verified" && !o.IsSuccess {
			outcome = "verified, failed"
		}
		ms := view.Text("")
		if o.ComputationTimeMS != nil {
			ms = view.Num(*o.ComputationTimeMS, 1)
		}
		notes := o.Notes
		if len(notes) > 120 {
			notes = notes[:117] + "…"
		}
		row = append(row, view.Text(o.WorkerID), view.Text(o.Kind), view.Text(outcome), ms, view.Int(int64(o.SuccessCount)), view.Text(notes))
		t.Rows = append(t.Rows, row)
	}
	return t
}

// heatmap draws availability per hour of the window: a row per miner
// (its workers' mean) when perMiner, else a row per worker of the one
// miner in hotkeys.
func (m *Mechanism) heatmap(ctx context.Context, req mechanism.ConsoleRequest, hotkeys []string, now time.Time, perMiner bool) (*view.Heatmap, error) {
	hours := m.cfg().s.Scoring().AvailabilityHours
	first := store.ComputeBucket(now.Add(-time.Duration(hours) * time.Hour))
	// At most heatColumns columns of whole buckets, the last ending with
	// now's bucket: an hour each over 169 hours.
	per := int64((hours*12 + heatColumns - 1) / heatColumns)
	cols := int64(hours*12) / per
	last := store.ComputeBucket(now)
	start := last - cols*per + 1
	hm := &view.Heatmap{Start: time.Unix(start*300, 0).UTC(), Step: time.Duration(per) * 5 * time.Minute}
	if len(hotkeys) == 0 {
		return hm, nil
	}
	rings, err := m.deps.Store.ComputeWorkerRings(ctx, m.deps.Netuid, hotkeys, first)
	if err != nil {
		return nil, err
	}
	row := func(r *store.BucketRing) []float64 {
		v := make([]float64, cols)
		for c := range cols {
			v[c] = float64(r.Count(start+c*per, start+(c+1)*per)) / float64(per)
		}
		return v
	}
	if !perMiner {
		for _, r := range rings {
			hm.Rows = append(hm.Rows, view.HeatRow{Label: r.Subject, Values: row(&r.Ring)})
		}
		return hm, nil
	}
	sums := map[string][]float64{}
	counts := map[string]int{}
	for _, r := range rings {
		v := row(&r.Ring)
		s := sums[r.Hotkey]
		if s == nil {
			s = make([]float64, cols)
			sums[r.Hotkey] = s
		}
		for i := range v {
			s[i] += v[i]
		}
		counts[r.Hotkey]++
	}
	for _, hk := range hotkeys {
		v := sums[hk]
		if v == nil {
			v = make([]float64, cols)
			for i := range v {
				v[i] = -1
			}
		} else {
			for i := range v {
				v[i] /= float64(counts[hk])
			}
		}
		hm.Rows = append(hm.Rows, view.HeatRow{Label: hk, Link: req.MinerURL(hk), Values: v})
	}
	return hm, nil
}

// ConsoleMiner is one miner: its factors in the latest pass, its workers
// with their own, their availability and its latest challenges
// (mechanism.Console).
func (m *Mechanism) ConsoleMiner(ctx context.Context, req mechanism.ConsoleRequest, hotkey string) (*view.Page, error) {
	pass, err := m.consolePass(ctx)
	if err != nil {
		return nil, err
	}
	workers, err := m.deps.Store.ComputeWorkersOf(ctx, m.deps.Netuid, hotkey)
	if err != nil {
		return nil, err
	}
	var ms *scoring.MinerScore
	if pass != nil {
		if i := slices.IndexFunc(pass.miners, func(x scoring.MinerScore) bool { return x.Hotkey == hotkey }); i >= 0 {
			ms = &pass.miners[i]
		}
	}
	if ms == nil && len(workers) == 0 {
		return nil, nil
	}
	p := &view.Page{}
	if ms != nil {
		succ, mean := minerTotals(*ms)
		p.Sections = append(p.Sections, view.Section{ID: "factors", Title: "Latest weight pass", Note: pass.at.UTC().Format(time.RFC3339), Facts: []view.Fact{
			{Name: "online", Value: view.YesNo(ms.Online), Bad: !ms.Online},
			{Name: "weight", Value: fmt.Sprintf("%.6f", ms.Weight)},
			{Name: "score", Value: fmt.Sprintf("%.6f", ms.Score)},
			{Name: "challenge term", Value: fmt.Sprintf("%.6f", ms.Challenge)},
			{Name: "own challenge norm", Value: fmt.Sprintf("%.6f", ms.ChallengeNorm)},
			{Name: "lease", Value: fmt.Sprintf("%.4f", ms.Lease)},
			{Name: "availability", Value: fmt.Sprintf("%.4f", ms.Availability)},
			{Name: "workers scored", Value: fmt.Sprint(ms.Scored)},
			{Name: "successes, mean ms", Value: fmt.Sprintf("%d, %.1f", succ, mean)},
		}})
	}
	perf := map[string]scoring.WorkerScore{}
	if ms != nil {
		for _, w := range ms.Workers {
			perf[w.Key.WorkerID] = w
		}
	}
	t := &view.Table{Columns: []view.Column{{Key: "worker", Title: "worker"}, {Key: "name", Title: "name"}, {Key: "status", Title: "status"},
		{Key: "heartbeat", Title: "last heartbeat", Numeric: true}, {Key: "lease", Title: "lease", Numeric: true},
		{Key: "successes", Title: "successes", Numeric: true}, {Key: "mean", Title: "mean ms", Numeric: true},
		{Key: "participation", Title: "participation", Numeric: true}, {Key: "availability", Title: "availability", Numeric: true},
		{Key: "perf", Title: "performance", Numeric: true}, {Key: "tasks", Title: "tasks ok/failed"}}}
	for _, w := range workers {
		status := w.Status
		if w.Deleted {
			status = "deleted"
		}
		row := []view.Cell{view.Text(w.WorkerID), view.Text(w.Name), view.Text(status), view.Time(w.LastHeartbeat), view.Num(w.Lease, 4)}
		if s, ok := perf[w.WorkerID]; ok {
			row = append(row, view.Int(int64(s.Successes)), view.Num(s.AvgTimeMS, 1), view.Num(s.Participation, 4), view.Num(s.Availability, 4), view.Num(s.Perf, 4))
		} else {
			row = append(row, view.Text(""), view.Text(""), view.Text(""), view.Text(""), view.Text(""))
		}
		row = append(row, view.Text(fmt.Sprintf("%d/%d", w.TasksCompleted, w.TasksFailed)))
		t.Rows = append(t.Rows, row)
	}
	p.Sections = append(p.Sections, view.Section{ID: "workers", Title: "Workers", Note: "performance factors from the latest pass this validator ran", Table: t})
	hm, err := m.heatmap(ctx, req, []string{hotkey}, m.now(), false)
	if err != nil {
		return nil, err
	}
	p.Sections = append(p.Sections, view.Section{ID: "availability", Title: "Availability",
		Note: "the share of each column's 5-minute buckets with a heartbeat", Heatmap: hm})
	outcomes, err := m.deps.Store.ComputeRecentOutcomes(ctx, m.deps.Netuid, hotkey, recentOutcomes)
	if err != nil {
		return nil, err
	}
	p.Sections = append(p.Sections, view.Section{ID: "challenges", Title: "Latest decided challenges", Table: outcomeTable(req, outcomes, false)})
	return p, nil
}
