package console

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/mechanism"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/view"
)

// journalRows is how many submissions the weights page reads and plots.
const journalRows = 64

// plotted is how many miners a subnet's weight plot draws: the ones with
// the largest last weight.
const plotted = 8

func tao(rao uint64) string { return strconv.FormatFloat(float64(rao)/1e9, 'f', 3, 64) + " τ" }

// overview is the validator at a glance: health with reasons, then per
// subnet the chain's view of this validator and its weight windows.
func (c *Console) overview(ctx context.Context) (*view.Page, error) {
	rep := c.opts.Health.Run(ctx)
	p := &view.Page{Title: "Overview"}
	node := view.Section{ID: "node", Title: "Validator", Facts: []view.Fact{
		{Name: "network", Value: view.Endpoint(c.opts.Network)},
		{Name: "health", Value: rep.Status, Bad: !rep.OK()},
		{Name: "version", Value: c.opts.Version},
	}}
	checks := &view.Table{Columns: []view.Column{{Key: "check", Title: "check"}, {Key: "ok", Title: "ok"}, {Key: "reason", Title: "reason"}}}
	for _, ch := range rep.Checks {
		ok := "yes"
		if !ch.OK {
			ok = "NO"
		}
		checks.Rows = append(checks.Rows, []view.Cell{view.Text(ch.Name), view.Text(ok), view.Text(ch.Reason)})
	}
	for _, n := range c.order {
		s := c.subnets[n]
		st := s.Status()
		if len(node.Facts) == 3 {
			node.Facts = append(node.Facts, view.Fact{Name: "hotkey", Value: st.Hotkey}, view.Fact{Name: "chain genesis", Value: st.Genesis})
		}
		sec := view.Section{ID: fmt.Sprintf("subnet-%d", n), Title: fmt.Sprintf("Subnet %d: %s", n, s.Mechanism.Name())}
		f := []view.Fact{
			{Name: "block", Value: strconv.FormatUint(st.Block, 10)},
			{Name: "registered", Value: view.YesNo(st.Registered), Bad: !st.Registered},
		}
		if st.Registered {
			f = append(f, view.Fact{Name: "uid", Value: strconv.Itoa(int(st.UID))},
				view.Fact{Name: "validator permit", Value: view.YesNo(st.Permit), Bad: !st.Permit},
				view.Fact{Name: "stake", Value: tao(st.Stake)},
				view.Fact{Name: "vtrust", Value: strconv.FormatFloat(st.VTrust, 'f', 4, 64)},
				view.Fact{Name: "dividends", Value: strconv.FormatFloat(st.Dividends, 'f', 4, 64)},
				view.Fact{Name: "emission (last epoch)", Value: tao(st.Emission)})
		}
		last, err := c.opts.Store.WeightSubmissions(ctx, n, 1)
		if err != nil {
			return nil, err
		}
		if len(last) > 0 {
			w := last[0]
			ago := ""
			if st.Block >= w.Block {
				ago = fmt.Sprintf(", %d blocks ago", st.Block-w.Block)
			}
			f = append(f, view.Fact{Name: "last weights", Value: fmt.Sprintf("block %d (%s, %s%s)", w.Block, w.Mode, w.Outcome, ago),
				Link: fmt.Sprintf("/ui/subnet/%d/weights", n), Bad: w.Outcome == store.OutcomeFailed})
		} else {
			f = append(f, view.Fact{Name: "last weights", Value: "none yet", Link: fmt.Sprintf("/ui/subnet/%d/weights", n)})
		}
		switch {
		case st.NextDue > st.Block:
			f = append(f, view.Fact{Name: "next weights", Value: fmt.Sprintf("block %d (in %d blocks)", st.NextDue, st.NextDue-st.Block)})
		case st.NextDue > 0:
			f = append(f, view.Fact{Name: "next weights", Value: fmt.Sprintf("due now (from block %d)", st.NextDue)})
		case st.Reason != "":
			f = append(f, view.Fact{Name: "next weights", Value: "when due: " + st.Reason})
		default:
			f = append(f, view.Fact{Name: "next weights", Value: "due now"})
		}
		f = append(f, view.Fact{Name: "mode", Value: st.Mode},
			view.Fact{Name: "tempo, rate limit", Value: fmt.Sprintf("%d, %d blocks", st.Tempo, st.RateLimit)})
		if !st.MetagraphAt.IsZero() {
			f = append(f, view.Fact{Name: "metagraph read", Value: c.opts.Clock.Since(st.MetagraphAt).Round(time.Second).String() + " ago"})
		}
		f = append(f, view.Fact{Name: "miners", Value: "open the subnet's page", Link: fmt.Sprintf("/ui/subnet/%d", n)})
		sec.Facts = f
		sec.Table = topEarners(s)
		p.Sections = append(p.Sections, sec)
	}
	p.Sections = append([]view.Section{node, {ID: "health", Title: "Health checks", Table: checks}}, p.Sections...)
	return p, nil
}

// topEarners are the subnet's miners of the largest incentive.
func topEarners(s *subnetState) *view.Table {
	mg := s.Metagraph()
	if mg == nil {
		return nil
	}
	ns := slices.Clone(mg.Neurons)
	slices.SortStableFunc(ns, func(a, b subtensor.Neuron) int { return int(b.Incentive) - int(a.Incentive) })
	t := &view.Table{Columns: []view.Column{{Key: "uid", Title: "uid", Numeric: true}, {Key: "hotkey", Title: "top earners"},
		{Key: "incentive", Title: "incentive", Numeric: true}, {Key: "emission", Title: "emission τ", Numeric: true}}}
	link := minerURL(s.Netuid)
	for _, n := range ns[:min(5, len(ns))] {
		if n.Incentive == 0 {
			break
		}
		hk := ss58(n)
		t.Rows = append(t.Rows, []view.Cell{view.Int(int64(n.UID)), view.Link(hk, link(hk)), view.Num(n.Incentive.Float(), 4), view.Num(float64(n.Emission)/1e9, 4)})
	}
	return t
}

// ss58 is a neuron's hotkey in the subnet's form.
func ss58(n subtensor.Neuron) string {
	s, _ := keys.SS58Encode(n.Hotkey[:], keys.SS58PrefixBittensor)
	return s
}

// subnetPage is the mechanism's page, after a table of the metagraph's
// miners as the chain sees them.
func (c *Console) subnetPage(ctx context.Context, s *subnetState) (*view.Page, error) {
	mg := s.Metagraph()
	p := &view.Page{Title: fmt.Sprintf("Subnet %d: %s", s.Netuid, s.Mechanism.Name())}
	if cm, ok := s.Mechanism.(mechanism.Console); ok {
		mp, err := cm.ConsolePage(ctx, mechanism.ConsoleRequest{Metagraph: mg, MinerURL: minerURL(s.Netuid)})
		if err != nil {
			return nil, err
		}
		p.Sections = append(p.Sections, mp.Sections...)
	}
	if mg != nil {
		t := &view.Table{Columns: []view.Column{{Key: "uid", Title: "uid", Numeric: true}, {Key: "hotkey", Title: "hotkey"},
			{Key: "incentive", Title: "incentive", Numeric: true}, {Key: "emission", Title: "emission τ", Numeric: true},
			{Key: "dividends", Title: "dividends", Numeric: true}, {Key: "stake", Title: "stake τ", Numeric: true},
			{Key: "permit", Title: "permit"}, {Key: "updated", Title: "last update", Numeric: true}}}
		link := minerURL(s.Netuid)
		for _, n := range mg.Neurons {
			hk := ss58(n)
			t.Rows = append(t.Rows, []view.Cell{view.Int(int64(n.UID)), view.Link(hk, link(hk)), view.Num(n.Incentive.Float(), 4),
				view.Num(float64(n.Emission)/1e9, 4), view.Num(n.Dividends.Float(), 4), view.Num(float64(n.Stake)/1e9, 2),
				view.Text(view.YesNo(n.ValidatorPermit)), view.Int(int64(n.LastUpdate))})
		}
		p.Sections = append(p.Sections, view.Section{ID: "chain", Title: fmt.Sprintf("The chain's view at block %d", mg.Block), Table: t})
	}
	return p, nil
}

// weightsPage is the journal's last submissions and each miner's weight
// over time next to its incentive read back from the chain.
func (c *Console) weightsPage(ctx context.Context, s *subnetState) (*view.Page, error) {
	subs, err := c.opts.Store.WeightSubmissions(ctx, s.Netuid, journalRows)
	if err != nil {
		return nil, err
	}
	p := &view.Page{Title: fmt.Sprintf("Subnet %d: weights", s.Netuid)}
	mg := s.Metagraph()
	hotkeys := map[uint16]string{}
	if mg != nil {
		for _, n := range mg.Neurons {
			hotkeys[n.UID] = ss58(n)
		}
	}
	// The newest submission that carries a vector picks the plotted miners.
	var top []uint16
	for _, w := range subs {
		if len(w.UIDs) > 0 && w.Outcome != store.OutcomeFailed {
			top = topUIDs(w.UIDs, w.Weights, plotted)
			break
		}
	}
	wc := &view.Chart{XLabel: "block", YLabel: "weight (share of the vector)"}
	ic := &view.Chart{XLabel: "block", YLabel: "incentive"}
	hist := s.history()
	for _, uid := range top {
		name := fmt.Sprintf("uid %d", uid)
		if hk := hotkeys[uid]; hk != "" {
			name += " " + hk[:8]
		}
		wc.Series = append(wc.Series, view.Series{Name: name, Points: weightPoints(subs, uid)})
		ic.Series = append(ic.Series, view.Series{Name: name, Points: incentivePoints(hist, uid)})
	}
	alignX(wc, ic)
	p.Sections = append(p.Sections,
		view.Section{ID: "weights-plot", Title: "Weight over time", Note: fmt.Sprintf("the %d miners with the largest last weight, from the journal", len(top)), Chart: wc},
		view.Section{ID: "incentive-plot", Title: "Incentive read back from the chain", Note: "sampled from the metagraph since the validator started", Chart: ic})

	t := &view.Table{Columns: []view.Column{{Key: "id", Title: "#", Numeric: true}, {Key: "at", Title: "time (UTC)", Numeric: true},
		{Key: "block", Title: "block", Numeric: true}, {Key: "mech", Title: "mechanism", Numeric: true}, {Key: "mode", Title: "mode"},
		{Key: "outcome", Title: "outcome"}, {Key: "included", Title: "included", Numeric: true}, {Key: "reveal", Title: "reveal"},
		{Key: "uids", Title: "uids", Numeric: true}, {Key: "error", Title: "error"}}}
	for _, w := range subs {
		inc := view.Text("")
		if w.IncludedBlock != nil {
			inc = view.Int(int64(*w.IncludedBlock))
		}
		reveal := string(w.Reveal)
		if w.RevealBlock != nil && reveal == "" {
			reveal = fmt.Sprintf("at block %d", *w.RevealBlock)
		}
		t.Rows = append(t.Rows, []view.Cell{view.Int(w.ID), view.Time(w.CreatedAt), view.Int(int64(w.Block)), view.Int(int64(w.Mechanism)),
			view.Text(string(w.Mode)), view.Text(string(w.Outcome)), inc, view.Text(reveal), view.Int(int64(len(w.UIDs))), view.Text(w.Error)})
	}
	p.Sections = append(p.Sections, view.Section{ID: "submissions", Title: "Submissions", Note: fmt.Sprintf("the last %d in the journal", journalRows), Table: t})

	if len(subs) > 0 {
		last := subs[0]
		lt := &view.Table{Columns: []view.Column{{Key: "uid", Title: "uid", Numeric: true}, {Key: "hotkey", Title: "hotkey"},
			{Key: "weight", Title: "weight (u16)", Numeric: true}, {Key: "share", Title: "share", Numeric: true}, {Key: "incentive", Title: "incentive now", Numeric: true}}}
		var sum float64
		for _, w := range last.Weights {
			sum += float64(w)
		}
		inc := map[uint16]float64{}
		if mg != nil {
			for _, n := range mg.Neurons {
				inc[n.UID] = n.Incentive.Float()
			}
		}
		link := minerURL(s.Netuid)
		for i, uid := range last.UIDs {
			share := 0.0
			if sum > 0 {
				share = float64(last.Weights[i]) / sum
			}
			hk := view.Text("")
			if h := hotkeys[uid]; h != "" {
				hk = view.Link(h, link(h))
			}
			lt.Rows = append(lt.Rows, []view.Cell{view.Int(int64(uid)), hk, view.Int(int64(last.Weights[i])), view.Num(share, 4), view.Num(inc[uid], 4)})
		}
		p.Sections = append(p.Sections, view.Section{ID: "last", Title: fmt.Sprintf("The last vector (block %d, %s)", last.Block, last.Outcome), Table: lt})
	}
	return p, nil
}

// alignX gives charts the x range of all their points.
func alignX(cs ...*view.Chart) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range cs {
		for _, s := range c.Series {
			for _, p := range s.Points {
				lo, hi = min(lo, p[0]), max(hi, p[0])
			}
		}
	}
	if hi > lo {
		for _, c := range cs {
			c.XMin, c.XMax = lo, hi
		}
	}
}

// topUIDs are the n uids of the largest weights, largest first.
func topUIDs(uids, weights []uint16, n int) []uint16 {
	idx := make([]int, len(uids))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return int(weights[b]) - int(weights[a]) })
	var out []uint16
	for _, i := range idx[:min(n, len(idx))] {
		if weights[i] > 0 {
			out = append(out, uids[i])
		}
	}
	return out
}

// weightPoints is uid's share of each submitted vector, oldest first.
func weightPoints(subs []store.WeightSubmission, uid uint16) [][2]float64 {
	var pts [][2]float64
	for i := len(subs) - 1; i >= 0; i-- {
		w := subs[i]
		if len(w.UIDs) == 0 || w.Outcome == store.OutcomeFailed {
			continue
		}
		var sum, mine float64
		for j, u := range w.UIDs {
			sum += float64(w.Weights[j])
			if u == uid {
				mine = float64(w.Weights[j])
			}
		}
		if sum > 0 {
			pts = append(pts, [2]float64{float64(w.Block), mine / sum})
		}
	}
	return pts
}

func incentivePoints(hist []sample, uid uint16) [][2]float64 {
	pts := make([][2]float64, 0, len(hist))
	for _, h := range hist {
		v := 0.0
		if int(uid) < len(h.incentive) {
			v = float64(h.incentive[uid])
		}
		pts = append(pts, [2]float64{float64(h.block), v})
	}
	return pts
}

// minerPage is one miner: the chain's row, its weight and incentive over
// time, and the mechanism's page of it.
func (c *Console) minerPage(ctx context.Context, s *subnetState, hotkey string) (*view.Page, error) {
	mg := s.Metagraph()
	p := &view.Page{Title: fmt.Sprintf("Subnet %d: miner %s", s.Netuid, hotkey)}
	var uid = -1
	if mg != nil {
		for _, n := range mg.Neurons {
			if ss58(n) == hotkey {
				uid = int(n.UID)
				p.Sections = append(p.Sections, view.Section{ID: "chain", Title: "On chain", Facts: []view.Fact{
					{Name: "uid", Value: strconv.Itoa(uid)},
					{Name: "coldkey", Value: func() string { s, _ := keys.SS58Encode(n.Coldkey[:], keys.SS58PrefixBittensor); return s }()},
					{Name: "incentive", Value: strconv.FormatFloat(n.Incentive.Float(), 'f', 4, 64)},
					{Name: "emission (last epoch)", Value: tao(n.Emission)},
					{Name: "stake", Value: tao(n.Stake)},
					{Name: "active", Value: view.YesNo(n.Active)},
					{Name: "registered at block", Value: strconv.FormatUint(n.BlockAtRegistration, 10)},
				}})
				break
			}
		}
	}
	var mp *view.Page
	if cm, ok := s.Mechanism.(mechanism.Console); ok {
		var err error
		if mp, err = cm.ConsoleMiner(ctx, mechanism.ConsoleRequest{Metagraph: mg, MinerURL: minerURL(s.Netuid)}, hotkey); err != nil {
			return nil, err
		}
	}
	if uid < 0 && mp == nil {
		return nil, errNotFound
	}
	if uid >= 0 {
		subs, err := c.opts.Store.WeightSubmissions(ctx, s.Netuid, journalRows)
		if err != nil {
			return nil, err
		}
		p.Sections = append(p.Sections, view.Section{ID: "plot", Title: "Weight and incentive over time",
			Note: "its share of each submitted vector, and the incentive the chain gave it", Chart: &view.Chart{XLabel: "block", YLabel: "share",
				Series: []view.Series{{Name: "weight", Points: weightPoints(subs, uint16(uid))}, {Name: "incentive", Points: incentivePoints(s.history(), uint16(uid))}}}})
	}
	if mp != nil {
		p.Sections = append(p.Sections, mp.Sections...)
	}
	return p, nil
}
