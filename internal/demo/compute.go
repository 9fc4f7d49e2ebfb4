package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/compute"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"github.com/vigil-validator/vigil/internal/computerpc"
	"github.com/vigil-validator/vigil/internal/lifecycle"
	mechcompute "github.com/vigil-validator/vigil/internal/mechanism/compute"
	"github.com/vigil-validator/vigil/internal/mechanism/compute/meshhub"
	"github.com/vigil-validator/vigil/internal/mechanism/compute/scoring"
	"github.com/vigil-validator/vigil/internal/miner"
	"github.com/vigil-validator/vigil/internal/worker"
)

// ComputeNetuid is the demo's compute subnet.
const ComputeNetuid = 2

// HubURI is the simulated MeshHub's hotkey.
const HubURI = "//MeshHub"

// WorkerProfile is how a demo compute worker behaves.
type WorkerProfile string

// The compute workers' profiles.
const (
	Fast      WorkerProfile = "fast"       // computes at full speed
	Throttled WorkerProfile = "throttled"  // takes Config.Throttle longer per challenge
	WrongRows WorkerProfile = "wrong-rows" // computes another product: every proof fails
	Flaky     WorkerProfile = "flaky"      // online and offline in turns of Config.FlakyPeriod
	Leased    WorkerProfile = "leased"     // leased through MeshHub: not challenged, paid by its lease
)

// LeaseScore is what the simulated MeshHub publishes for a leased worker.
const LeaseScore = 0.9

// ComputeMiner is one compute miner: a dev hotkey and its workers.
type ComputeMiner struct {
	URI     string
	Workers []WorkerProfile
}

// ComputeMiners are the compute subnet's miners: an honest one with two
// fast workers, a slow one, one whose results are wrong, one that is away
// half the time, and one whose worker is leased.
var ComputeMiners = []ComputeMiner{
	{"//Bob", []WorkerProfile{Fast, Fast}},
	{"//Charlie", []WorkerProfile{Throttled}},
	{"//Dave", []WorkerProfile{WrongRows}},
	{"//Eve", []WorkerProfile{Flaky}},
	{"//Ferdie", []WorkerProfile{Leased}},
}

// workerID names a demo worker: the miner's name and its index.
func workerID(uri string, i int) string {
	return fmt.Sprintf("%s-%d", strings.ToLower(strings.TrimPrefix(uri, "//")), i+1)
}

// ComputeRow is one compute miner in the table.
type ComputeRow struct {
	UID      uint16          `json:"uid"`
	URI      string          `json:"uri"`
	Hotkey   string          `json:"hotkey"`
	Profiles []WorkerProfile `json:"profiles"`
	// Workers is how many of its workers the validator heard from.
	Workers int `json:"workers"`
	// Verified and Failed count its challenges since the demo started;
	// MeanMS is the verified ones' mean computation time.
	Verified int     `json:"verified"`
	Failed   int     `json:"failed"`
	MeanMS   float64 `json:"mean_ms"`
	// From the validator's last weight pass: its scored workers' mean
	// availability, its lease, its score.
	Availability float64 `json:"availability"`
	Lease        float64 `json:"lease"`
	Score        float64 `json:"score"`
	// Weight is the validator's on-chain weight on the uid, as a share of
	// its row; Incentive is what the last epoch paid it.
	Weight    float64 `json:"weight"`
	Incentive float64 `json:"incentive"`
}

// ComputeTable is the compute subnet's part of a refresh.
type ComputeTable struct {
	Netuid uint16 `json:"netuid"`
	// WeightsAt is the block of the validator's last weights, 0 for none.
	WeightsAt   uint64 `json:"weights_at"`
	Submissions int    `json:"submissions"`
	// Passes is true once the validator stored a weight pass.
	Passes bool         `json:"passes"`
	Rows   []ComputeRow `json:"rows"`
}

// computeKeys derives the compute miners' keys.
func computeKeys() ([]*keys.KeyPair, error) {
	var out []*keys.KeyPair
	for _, m := range ComputeMiners {
		kp, err := keys.FromURI(m.URI)
		if err != nil {
			return nil, err
		}
		out = append(out, kp)
	}
	return out, nil
}

// leaseScores are the leased workers' lease scores, as MeshHub publishes
// them.
func (d *demo) leaseScores() []meshhub.WorkerScore {
	var out []meshhub.WorkerScore
	for i, m := range ComputeMiners {
		for j, p := range m.Workers {
			if p == Leased {
				out = append(out, meshhub.WorkerScore{WorkerKey: d.computeMiners[i].SS58() + ":" + workerID(m.URI, j), Score: LeaseScore})
			}
		}
	}
	return out
}

// buildCompute adds the compute subnet's parts: the simulated MeshHub
// and its lease publications, each miner with its worker hub, and the
// workers. The miners and workers start once the validator is up.
func (d *demo) buildCompute(g *lifecycle.Group) error {
	var err error
	if d.computeMiners, err = computeKeys(); err != nil {
		return err
	}
	hubKey, err := keys.FromURI(HubURI)
	if err != nil {
		return err
	}
	d.hub = meshhub.NewSim(hubKey.SS58(), "demo")
	ln, addr, err := listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	d.hubURL = "ws://" + addr
	g.Add("meshhub-sim", server(ln, d.hub))
	// Leases are published every second: the validator takes a lease for a
	// worker it knows, so until the first publication after a worker's first
	// heartbeat, that worker may be challenged (as with the reference).
	g.Add("meshhub-sim leases", part(func(ctx context.Context) error {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
			if d.hub.Sessions() > 0 {
				if err := d.hub.PublishLeases(ctx, d.leaseScores()); err != nil && ctx.Err() == nil {
					d.log.Warn("meshhub-sim: lease publication", "err", err)
				}
			}
		}
	}))
	// The axon's address is chosen now: the configuration and the chain
	// both name it.
	axLn, axAddr, err := listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	axLn.Close()
	d.axonAddr = axAddr
	g.Add("axon on chain", part(func(ctx context.Context) error {
		return d.afterReady(ctx, func() error { return d.serveAxon(ctx) })
	}))
	for i, m := range ComputeMiners {
		mn, err := d.computeMiner(i)
		if err != nil {
			return err
		}
		hln, _, err := listen("127.0.0.1:0")
		if err != nil {
			return err
		}
		d.onStop(mn.Hub().Close)
		g.Add("worker hub "+m.URI, server(hln, mn.Hub()))
		g.Add("compute miner "+m.URI, part(func(ctx context.Context) error {
			return d.afterReady(ctx, func() error { return mn.Run(ctx) })
		}))
		minerURL := "ws://" + hln.Addr().String()
		for j, p := range m.Workers {
			g.Add("worker "+workerID(m.URI, j), part(func(ctx context.Context) error {
				return d.afterReady(ctx, func() error { return d.runWorker(ctx, minerURL, workerID(m.URI, j), p) })
			}))
		}
	}
	return nil
}

// serveAxon publishes the validator's compute axon on chain, as 'vigil
// chain serve-axon' does, so that the miners find it in the metagraph.
func (d *demo) serveAxon(ctx context.Context) error {
	call, err := subtensor.ServeAxon(ComputeNetuid, 1, netip.MustParseAddrPort(d.axonAddr), 4)
	if err != nil {
		return err
	}
	_, err = d.client.Submit(ctx, d.alice, call, subtensor.SubmitOptions{})
	if err != nil && ctx.Err() != nil {
		return nil
	}
	return err
}

// computeMiner builds one miner, as 'vigil miner' does, with the demo's
// short intervals.
func (d *demo) computeMiner(i int) (*miner.Miner, error) {
	kp := d.computeMiners[i]
	rpc, err := computerpc.NewClient(kp)
	if err != nil {
		return nil, err
	}
	mc := miner.DefaultConfig()
	mc.Netuid, mc.Hotkey = ComputeNetuid, kp
	mc.Selection.MinStakeRao = 100 * 1_000_000_000 // the dev validator holds 1000 TAO
	mc.SyncInterval, mc.HeartbeatInterval = 2*time.Second, 5*time.Second
	mc.PollInterval, mc.IdleCheck = time.Second, 100*time.Millisecond
	return miner.New(mc, d.log.With("miner", ComputeMiners[i].URI), lazyChain{d}, rpc, nil), nil
}

// lazyChain is the node's chain client, once the node is up.
type lazyChain struct{ d *demo }

func (c lazyChain) Metagraph(ctx context.Context, netuid uint16, hash string) (*subtensor.Metagraph, error) {
	return c.d.client.Metagraph(ctx, netuid, hash)
}

// runWorker runs one worker, as 'vigil worker' does, with its profile's
// behaviour.
func (d *demo) runWorker(ctx context.Context, minerURL, id string, p WorkerProfile) error {
	wc := worker.DefaultConfig()
	wc.MinerURL, wc.WorkerID = minerURL, id
	wc.HeartbeatInterval, wc.ReconnectMin, wc.ReconnectMax = 2*time.Second, time.Second, 2*time.Second
	switch p {
	case Throttled:
		delay := d.cfg.Throttle
		wc.CPU = func(seed []byte, size, iterations int) (*compute.CPUResult, error) {
			time.Sleep(delay)
			return compute.ComputeCPU(seed, size, iterations)
		}
	case WrongRows:
		wc.CPU = func(seed []byte, size, iterations int) (*compute.CPUResult, error) {
			other := append([]byte{}, seed...)
			other[0] ^= 0xff
			return compute.ComputeCPU(other, size, iterations)
		}
	}
	log := d.log.With("worker", id)
	if p != Flaky {
		w, err := worker.New(wc, log, nil)
		if err != nil {
			return err
		}
		return w.Run(ctx)
	}
	for {
		w, err := worker.New(wc, log, nil)
		if err != nil {
			return err
		}
		on, stop := context.WithTimeout(ctx, d.cfg.FlakyPeriod)
		err = w.Run(on)
		stop()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && on.Err() == nil {
			return err
		}
		log.Info("demo worker goes offline", "for", d.cfg.FlakyPeriod)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(d.cfg.FlakyPeriod):
		}
	}
}

// computeSettings are the compute mechanism's settings for the demo: CPU
// challenges of the demo's size every ChallengeInterval, a 3-minute
// ranking window, a 1-hour availability window, the simulated MeshHub.
func (d *demo) computeSettings() mechcompute.Settings {
	s := mechcompute.DefaultSettings()
	s.Listen = d.axonAddr
	v := &s.Validation
	v.ChallengeType = computeproto.ChallengeCPUMatrix
	v.ChallengeInterval = max(1, int(d.cfg.ChallengeInterval/time.Second))
	v.VerificationInterval = 1
	v.RankingWindowMinutes = 3
	v.CPU.MatrixSize, v.CPU.SizeVariance = d.cfg.MatrixSize, 0
	s.WeightManagement.Availability.WindowHours = 1
	h := &s.MeshHub
	h.WSURL, h.AccessToken = d.hubURL, "demo"
	h.ReconnectDelaySeconds, h.HeartbeatIntervalSeconds, h.ResourceReportIntervalSeconds = 1, 5, 5
	return s
}

// computeTable reads the compute subnet's part of a refresh: the chain's
// metagraph and the validator's weights, the store's tallies and the last
// weight pass.
func (d *demo) computeTable(ctx context.Context) (*ComputeTable, error) {
	tab := &ComputeTable{Netuid: ComputeNetuid}
	mg, err := d.client.Metagraph(ctx, ComputeNetuid, "")
	if err != nil {
		return nil, err
	}
	weights, at, err := d.validatorWeights(ctx, mg, ComputeNetuid)
	if err != nil {
		return nil, err
	}
	tab.WeightsAt = at
	tallies, err := d.store.ComputeMinerTallies(ctx, ComputeNetuid, d.started)
	if err != nil {
		return nil, err
	}
	passAt, raw, err := d.store.LatestComputeWeightPass(ctx, ComputeNetuid)
	if err != nil {
		return nil, err
	}
	pass := map[string]scoring.MinerScore{}
	if !passAt.IsZero() {
		tab.Passes = true
		var ms []scoring.MinerScore
		if err := json.Unmarshal(raw, &ms); err != nil {
			return nil, fmt.Errorf("weight pass: %w", err)
		}
		for _, m := range ms {
			pass[m.Hotkey] = m
		}
	}
	if subs, err := d.store.WeightSubmissions(ctx, ComputeNetuid, 1000); err == nil {
		tab.Submissions = len(subs)
	}
	for i, m := range ComputeMiners {
		kp := d.computeMiners[i]
		r := ComputeRow{URI: m.URI, Hotkey: kp.SS58(), Profiles: m.Workers}
		t := tallies[r.Hotkey]
		r.Workers, r.Verified, r.Failed, r.MeanMS = t.Workers, t.Verified, t.Failed, t.MeanMS
		if ms, ok := pass[r.Hotkey]; ok {
			r.Lease, r.Score, r.Availability = ms.Lease, ms.Score, ms.Availability
		}
		r.UID, r.Weight, r.Incentive = d.onChain(mg, kp, weights)
		tab.Rows = append(tab.Rows, r)
	}
	return tab, nil
}

// Honest reports whether every worker of the row computes correctly.
func (r ComputeRow) Honest() bool {
	for _, p := range r.Profiles {
		if p == WrongRows {
			return false
		}
	}
	return len(r.Profiles) > 0
}

func (t *ComputeTable) String() string {
	var b strings.Builder
	at := "none yet"
	if t.WeightsAt > 0 {
		at = fmt.Sprintf("block %d", t.WeightsAt)
	}
	fmt.Fprintf(&b, "compute subnet %d · validator's last weights: %s · submissions: %d\n", t.Netuid, at, t.Submissions)
	fmt.Fprintf(&b, "%-4s %-9s %-14s %-16s %7s %8s %6s %8s %6s %5s %6s %7s %9s\n", "UID", "MINER", "HOTKEY", "WORKERS", "HEARD", "VERIFIED",
		"FAILED", "MEAN MS", "AVAIL", "LEASE", "SCORE", "WEIGHT", "INCENTIVE")
	for _, r := range t.Rows {
		names := make([]string, len(r.Profiles))
		for i, p := range r.Profiles {
			names[i] = string(p)
		}
		mean := "-"
		if r.Verified > 0 {
			mean = fmt.Sprintf("%.1f", r.MeanMS)
		}
		fmt.Fprintf(&b, "%-4d %-9s %-14s %-16s %7d %8d %6d %8s %6.3f %5.2f %6.3f %7.4f %9.4f\n", r.UID, r.URI, short(r.Hotkey),
			strings.Join(names, "+"), r.Workers, r.Verified, r.Failed, mean, r.Availability, r.Lease, r.Score, r.Weight, r.Incentive)
	}
	if !t.Passes {
		b.WriteString("  (no weight pass yet: the validator scores its miners every tempo)\n")
	}
	return b.String()
}

// short abbreviates an SS58 address.
func short(ss58 string) string {
	if len(ss58) < 12 {
		return ss58
	}
	return ss58[:6] + "…" + ss58[len(ss58)-6:]
}
