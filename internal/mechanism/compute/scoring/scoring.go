// Package scoring is the compute subnet's weight cycle as the reference
// validator computes it: per worker, the mean time per verified GPU over
// the ranking window, participation against the baseline, and availability
// over 169 h of 5-minute buckets (the GPU-set rule and the IP-change
// penalty); per miner, the sum of its top 100 workers normalised by the
// best miner, the lease average, 0.30·challenge + 0.70·lease; then weights
// and their u16 form. Sums run in the reference's order so the floats are
// the reference's to the bit.
package scoring

import (
	"math"
	"slices"
	"sort"
	"time"
)

// Config holds the reference's scoring keys.
type Config struct {
	RankingWindow     time.Duration // validation.ranking_window_minutes (180 min)
	ChallengeInterval time.Duration // validation.challenge_interval (240 s)
	ParticipationRate float64       // validation.participation_rate_threshold (0.80)
	AvailabilityHours int           // availability.window_hours (169)
	ChallengeWeight   float64       // weight_management.score_weights.challenge (0.30)
	LeaseWeight       float64       // weight_management.score_weights.lease (0.70)
	WorkerCap         int           // the top workers summed per miner (100)
	LeaseWorkers      int           // workers averaged for the lease (100)
}

// DefaultConfig is the reference's.
func DefaultConfig() Config {
	return Config{RankingWindow: 180 * time.Minute, ChallengeInterval: 240 * time.Second, ParticipationRate: 0.80,
		AvailabilityHours: 169, ChallengeWeight: 0.30, LeaseWeight: 0.70, WorkerCap: 100, LeaseWorkers: 100}
}

// Baseline is the participation baseline: the challenges a worker could
// have in the window times the threshold (45 · 0.80 = 36).
func (c Config) Baseline() float64 {
	return c.RankingWindow.Seconds() / c.ChallengeInterval.Seconds() * c.ParticipationRate
}

// WorkerKey names a worker of a miner.
type WorkerKey struct{ Hotkey, WorkerID string }

// Challenge is a verified challenge as the ranking reads it.
type Challenge struct {
	Worker             WorkerKey
	CreatedAt          time.Time
	IsSuccess          bool
	VerificationResult bool
	ComputationTimeMS  *float64
	SuccessCount       int
	GPUs               []string // committed uuids ("-1" for the CPU is ignored)
}

// GPUOwner is a gpu_inventory row: the hotkey that reported a uuid, when.
type GPUOwner struct {
	UUID, Hotkey string
	LastSeen     time.Time
}

// Miner is an active miner: in the metagraph, with a miner_info row.
type Miner struct {
	Hotkey string
	UID    uint16
	Online bool
	Leases []float64 // its non-deleted workers' lease scores
}

// Input is everything one weight pass reads.
type Input struct {
	Now        time.Time
	Challenges []Challenge // verified, not deleted
	Owners     []GPUOwner
	Activity   *Activity
	Miners     []Miner
}

// WorkerScore is a worker's factors.
type WorkerScore struct {
	Key           WorkerKey
	Successes     int
	AvgTimeMS     float64
	Base          float64
	Participation float64
	Availability  float64
	Perf          float64
}

// MinerScore is a miner's factors and weight.
type MinerScore struct {
	Hotkey        string
	UID           uint16
	Online        bool
	Raw           float64
	ChallengeNorm float64
	Lease         float64
	Challenge     float64 // the term used: its own norm, or the network's mean when leased
	Score         float64
	Weight        float64
	Workers       []WorkerScore
}

// Result is a weight pass.
type Result struct {
	Miners []MinerScore // ascending hotkey order
	// UIDs and U16 are what is submitted: ascending hotkey order, offline
	// miners at 0, max-normalised to 65535 rounded half to even, zeros
	// dropped (convert_weights_and_uids_for_emit).
	UIDs []uint16
	U16  []uint16
}

// Score runs a weight pass.
func Score(cfg Config, in Input) Result {
	start := in.Now.Add(-cfg.RankingWindow)
	owner := map[string]string{}
	for _, o := range in.Owners {
		if !o.LastSeen.Before(start) {
			owner[o.UUID] = o.Hotkey
		}
	}
	// Newest first: the order the reference sums a worker's times in.
	chs := make([]*Challenge, 0, len(in.Challenges))
	for i := range in.Challenges {
		if !in.Challenges[i].CreatedAt.Before(start) {
			chs = append(chs, &in.Challenges[i])
		}
	}
	sort.SliceStable(chs, func(i, j int) bool { return chs[i].CreatedAt.After(chs[j].CreatedAt) })
	times := map[WorkerKey][]float64{}
	required := map[WorkerKey]map[string]bool{}
	for _, ch := range chs {
		var gpus []string
		for _, u := range ch.GPUs {
			if u != "-1" {
				gpus = append(gpus, u)
			}
		}
		if ch.VerificationResult {
			r := required[ch.Worker]
			if r == nil {
				r = map[string]bool{}
				required[ch.Worker] = r
			}
			for _, u := range gpus {
				r[u] = true
			}
		}
		// A uuid another hotkey owns, or nobody has reported within the
		// window, disqualifies the challenge.
		foreign := false
		for _, u := range gpus {
			if owner[u] != ch.Worker.Hotkey {
				foreign = true
				break
			}
		}
		if foreign || !ch.IsSuccess || !ch.VerificationResult || ch.ComputationTimeMS == nil {
			continue
		}
		times[ch.Worker] = append(times[ch.Worker], *ch.ComputationTimeMS/float64(max(ch.SuccessCount, 1)))
	}

	baseline := cfg.Baseline()
	keys := make([]WorkerKey, 0, len(times))
	for k := range times {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Hotkey != keys[j].Hotkey {
			return keys[i].Hotkey < keys[j].Hotkey
		}
		return keys[i].WorkerID < keys[j].WorkerID
	})
	perWorker := map[string][]WorkerScore{}
	for _, k := range keys {
		ts := times[k]
		var sum float64
		for _, t := range ts {
			sum += t
		}
		w := WorkerScore{Key: k, Successes: len(ts), AvgTimeMS: sum / float64(len(ts))}
		if w.AvgTimeMS > 0 && !math.IsInf(w.AvgTimeMS, 0) {
			w.Base = 1 / w.AvgTimeMS
		}
		w.Participation = 1
		if baseline > 0 {
			w.Participation = math.Min(1, float64(w.Successes)/baseline)
		}
		w.Availability = in.Activity.availability(cfg, in.Now, k, required[k])
		w.Perf = w.Base * w.Participation * w.Availability
		perWorker[k.Hotkey] = append(perWorker[k.Hotkey], w)
	}

	raw := map[string]float64{}
	maxRaw := 0.0
	for hk, ws := range perWorker {
		perfs := make([]float64, len(ws))
		for i, w := range ws {
			perfs[i] = w.Perf
		}
		sort.Sort(sort.Reverse(sort.Float64Slice(perfs)))
		var sum float64
		for _, p := range perfs[:min(len(perfs), cfg.WorkerCap)] {
			sum += p
		}
		raw[hk] = sum
		maxRaw = math.Max(maxRaw, sum)
	}

	miners := slices.Clone(in.Miners)
	sort.Slice(miners, func(i, j int) bool { return miners[i].Hotkey < miners[j].Hotkey })
	out := make([]MinerScore, len(miners))
	var normSum float64
	for i, m := range miners {
		ms := MinerScore{Hotkey: m.Hotkey, UID: m.UID, Online: m.Online, Raw: raw[m.Hotkey], Workers: perWorker[m.Hotkey]}
		if maxRaw > 0 {
			ms.ChallengeNorm = math.Min(1, math.Max(0, ms.Raw/maxRaw))
		}
		ms.Lease = leaseOf(m.Leases, cfg.LeaseWorkers)
		normSum += ms.ChallengeNorm
		out[i] = ms
	}
	avgNorm := 0.0
	if len(out) > 0 {
		avgNorm = normSum / float64(len(out))
	}
	var total float64
	for i := range out {
		ms := &out[i]
		ms.Challenge = ms.ChallengeNorm
		if ms.Lease > 0 {
			ms.Challenge = avgNorm
		}
		if ms.Online && !(ms.Lease <= 0 && ms.Challenge <= 0) {
			ms.Score = cfg.ChallengeWeight*ms.Challenge + cfg.LeaseWeight*ms.Lease
		}
		total += ms.Score
	}
	if total <= 0 {
		for i := range out {
			out[i].Weight = 1 / float64(len(out))
		}
	} else {
		var sum float64
		for i := range out {
			out[i].Weight = math.Min(1, math.Max(0, out[i].Score/total))
			sum += out[i].Weight
		}
		for i := range out {
			out[i].Weight /= sum
		}
	}
	res := Result{Miners: out}
	vals := make([]float64, len(out))
	for i, ms := range out {
		if ms.Online {
			vals[i] = ms.Weight
		}
	}
	res.UIDs, res.U16 = emit(out, vals)
	return res
}

// leaseOf is the average lease over the (at most) limit highest-leased
// workers, when their sum is positive; at most 1.
func leaseOf(leases []float64, limit int) float64 {
	ls := slices.Clone(leases)
	sort.Sort(sort.Reverse(sort.Float64Slice(ls)))
	ls = ls[:min(len(ls), limit)]
	var sum float64
	for _, l := range ls {
		sum += l
	}
	if len(ls) == 0 || sum <= 0 {
		return 0
	}
	return math.Min(1, sum/float64(len(ls)))
}

// emit is convert_weights_and_uids_for_emit: max-normalised to 65535,
// Python's round (half to even), zeros dropped.
func emit(ms []MinerScore, vals []float64) ([]uint16, []uint16) {
	mx := 0.0
	for _, v := range vals {
		mx = math.Max(mx, v)
	}
	if mx <= 0 {
		return nil, nil
	}
	var uids, u16 []uint16
	for i, v := range vals {
		x := math.RoundToEven(v / mx * 65535)
		if x > 0 {
			uids = append(uids, ms[i].UID)
			u16 = append(u16, uint16(x))
		}
	}
	return uids, u16
}

// Activity is the heartbeat history the availability rule reads, kept as
// 5-minute buckets instead of rows: per worker the buckets it heartbeated
// in and its runs of public IPs; per miner, for each GPU uuid, the buckets
// in which any of its heartbeats reported it. A bucket keeps the time of
// its latest heartbeat, so the window's first bucket counts exactly the
// heartbeats inside the window.
type Activity struct {
	workers map[WorkerKey]*workerActivity
	gpus    map[string]map[string]map[int64]int64 // hotkey → uuid → bucket → latest unix ns
}

type workerActivity struct {
	buckets map[int64]int64 // bucket → latest unix ns
	// ipRuns are maximal runs of equal, non-empty IPs in time order.
	ipRuns []ipRun
}

type ipRun struct {
	ip   string
	last int64 // unix ns
}

// NewActivity returns an empty history.
func NewActivity() *Activity {
	return &Activity{workers: map[WorkerKey]*workerActivity{}, gpus: map[string]map[string]map[int64]int64{}}
}

// Bucket is the 5-minute bucket of t: floor(unix seconds / 300).
func Bucket(t time.Time) int64 { return int64(math.Floor(float64(t.UnixNano()) / 1e9 / 300)) }

func later(m map[int64]int64, b, ns int64) {
	if old, ok := m[b]; !ok || ns > old {
		m[b] = ns
	}
}

// Add records one heartbeat of a worker; a worker's heartbeats come in
// time order.
func (a *Activity) Add(k WorkerKey, at time.Time, publicIP string, gpus []string) {
	w := a.workers[k]
	if w == nil {
		w = &workerActivity{buckets: map[int64]int64{}}
		a.workers[k] = w
	}
	b, ns := Bucket(at), at.UnixNano()
	later(w.buckets, b, ns)
	if publicIP != "" {
		if n := len(w.ipRuns); n > 0 && w.ipRuns[n-1].ip == publicIP {
			w.ipRuns[n-1].last = ns
		} else {
			w.ipRuns = append(w.ipRuns, ipRun{ip: publicIP, last: ns})
		}
	}
	if len(gpus) > 0 {
		h := a.gpus[k.Hotkey]
		if h == nil {
			h = map[string]map[int64]int64{}
			a.gpus[k.Hotkey] = h
		}
		for _, u := range gpus {
			bs := h[u]
			if bs == nil {
				bs = map[int64]int64{}
				h[u] = bs
			}
			later(bs, b, ns)
		}
	}
}

// availability is the worker's share of the window's buckets it was
// online in (with its required GPUs all reported by its miner, when it
// has any), halved per change of its public IP, 0 from four changes.
func (a *Activity) availability(cfg Config, now time.Time, k WorkerKey, required map[string]bool) float64 {
	if a == nil {
		return 0
	}
	w := a.workers[k]
	if w == nil {
		return 0
	}
	start := now.Add(-time.Duration(cfg.AvailabilityHours) * time.Hour).UnixNano()
	own := 0
	for _, ns := range w.buckets {
		if ns >= start {
			own++
		}
	}
	if own == 0 {
		return 0 // no heartbeat in the window
	}
	online := own
	if len(required) > 0 {
		online = 0
		h := a.gpus[k.Hotkey]
		sets := make([]map[int64]int64, 0, len(required))
		for u := range required {
			if h[u] == nil {
				sets = nil
				break
			}
			sets = append(sets, h[u])
		}
		if len(sets) > 0 {
			sort.Slice(sets, func(i, j int) bool { return len(sets[i]) < len(sets[j]) })
			for b, ns := range sets[0] {
				if ns < start {
					continue
				}
				all := true
				for _, s := range sets[1:] {
					if t, ok := s[b]; !ok || t < start {
						all = false
						break
					}
				}
				if all {
					online++
				}
			}
		}
	}
	ratio := math.Min(1, float64(online)/float64(cfg.AvailabilityHours*12))
	changes := -1
	for _, r := range w.ipRuns {
		if r.last >= start {
			changes++
		}
	}
	factor := math.Pow(0.5, float64(max(changes, 0)))
	if factor < 0.1 {
		return 0
	}
	return ratio * factor
}
