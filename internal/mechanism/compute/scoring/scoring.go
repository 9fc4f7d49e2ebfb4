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
	"math/bits"
	"slices"
	"sort"
	"time"

	"github.com/vigil-validator/vigil/internal/store"
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
	// Tallies, when set, are the challenges already folded (and
	// Challenges is not read): a pass over a store streams them.
	Tallies  *Tallies
	Owners   []GPUOwner
	Activity *Activity
	// Activities, when set, gives each miner's history in place of
	// Activity: asked in ascending hotkey order, each miner once, so that
	// only one miner's rings are held at a time.
	Activities func(hotkey string) *Activity
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
	// Scored is how many of its workers had a success in the window, and
	// Availability their mean availability.
	Scored       int
	Availability float64
	// Workers are the scored workers' factors (not stored with a pass).
	Workers []WorkerScore `json:",omitempty"`
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

// Tally is what one worker's verified challenges in the ranking window
// come to: the per-success times of its qualifying successes, summed
// newest first (the order the reference sums them in), their count, and
// the GPU uuids its verified challenges committed.
type Tally struct {
	Sum      float64
	N        int
	Required map[string]bool
}

// Tallies folds challenges into per-worker tallies. Each worker's
// challenges must come newest first (ties in the store's order); workers
// may interleave, so a stream of a whole subnet newest first needs no
// more memory than a tally per worker.
type Tallies struct {
	start  time.Time
	owner  map[string]string
	counts map[WorkerKey]*Tally
}

// NewTallies starts the tallies of a pass at now: a GPU uuid counts for
// the hotkey that last reported it, within the ranking window.
func NewTallies(cfg Config, now time.Time, owners []GPUOwner) *Tallies {
	t := &Tallies{start: now.Add(-cfg.RankingWindow), owner: map[string]string{}, counts: map[WorkerKey]*Tally{}}
	// The inventory keeps one row per uuid, the last hotkey to report it:
	// the latest report wins, the later listed on a tie.
	seen := map[string]time.Time{}
	for _, o := range owners {
		if o.LastSeen.Before(t.start) {
			continue
		}
		if at, ok := seen[o.UUID]; !ok || !o.LastSeen.Before(at) {
			t.owner[o.UUID], seen[o.UUID] = o.Hotkey, o.LastSeen
		}
	}
	return t
}

// Add folds in the next challenge of its worker.
func (t *Tallies) Add(ch Challenge) {
	if ch.CreatedAt.Before(t.start) {
		return
	}
	key := ch.Worker
	tl := t.counts[key]
	if tl == nil {
		tl = &Tally{}
		t.counts[key] = tl
	}
	if ch.VerificationResult {
		for _, u := range ch.GPUs {
			if u == "-1" {
				continue
			}
			if tl.Required == nil {
				tl.Required = map[string]bool{}
			}
			tl.Required[u] = true
		}
	}
	// A uuid another hotkey owns, or nobody has reported within the
	// window, disqualifies the challenge.
	for _, u := range ch.GPUs {
		if u != "-1" && t.owner[u] != key.Hotkey {
			return
		}
	}
	if !ch.IsSuccess || !ch.VerificationResult || ch.ComputationTimeMS == nil {
		return
	}
	tl.Sum += *ch.ComputationTimeMS / float64(max(ch.SuccessCount, 1))
	tl.N++
}

// Score runs a weight pass.
func Score(cfg Config, in Input) Result {
	tallies := in.Tallies
	if tallies == nil {
		tallies = NewTallies(cfg, in.Now, in.Owners)
		// Per worker, newest first.
		groups := map[WorkerKey][]*Challenge{}
		var order []WorkerKey
		for i := range in.Challenges {
			ch := &in.Challenges[i]
			if groups[ch.Worker] == nil {
				order = append(order, ch.Worker)
			}
			groups[ch.Worker] = append(groups[ch.Worker], ch)
		}
		for _, k := range order {
			chs := groups[k]
			sort.SliceStable(chs, func(i, j int) bool { return chs[i].CreatedAt.After(chs[j].CreatedAt) })
			for _, ch := range chs {
				tallies.Add(*ch)
			}
		}
	}
	times := map[WorkerKey]*Tally{}
	required := map[WorkerKey]map[string]bool{}
	for k, tl := range tallies.counts {
		if tl.N > 0 {
			times[k] = tl
		}
		if tl.Required != nil {
			required[k] = tl.Required
		}
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
	act, cur := in.Activity, ""
	for _, k := range keys {
		if in.Activities != nil && (act == nil || k.Hotkey != cur) {
			act, cur = in.Activities(k.Hotkey), k.Hotkey
		}
		tl := times[k]
		w := WorkerScore{Key: k, Successes: tl.N, AvgTimeMS: tl.Sum / float64(tl.N)}
		if w.AvgTimeMS > 0 && !math.IsInf(w.AvgTimeMS, 0) {
			w.Base = 1 / w.AvgTimeMS
		}
		w.Participation = 1
		if baseline > 0 {
			w.Participation = math.Min(1, float64(w.Successes)/baseline)
		}
		w.Availability = act.availability(cfg, in.Now, k, required[k])
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
		ms := MinerScore{Hotkey: m.Hotkey, UID: m.UID, Online: m.Online, Raw: raw[m.Hotkey], Workers: perWorker[m.Hotkey], Scored: len(perWorker[m.Hotkey])}
		for _, w := range ms.Workers {
			ms.Availability += w.Availability / float64(ms.Scored)
		}
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
// bits of 5-minute buckets instead of rows: per worker the buckets it
// heartbeated in and its runs of public IPs; per miner, for each GPU uuid,
// the buckets in which any of its heartbeats reported it. 256 bytes a
// worker or uuid cover the 169-hour window.
//
// The window starts inside a bucket, where only the heartbeats from the
// start count: the latest heartbeat of each worker and uuid in that one
// bucket is held exactly (SetEdge, from the store's bucket rows; Add keeps
// it too while the history is built in memory). A bucket whose latest time
// is unknown counts whole.
type Activity struct {
	workers map[WorkerKey]*workerActivity
	gpus    map[string]map[string]*ring // hotkey → uuid → buckets
}

// ringBuckets is the ring's span: more than the 2029 buckets a 169-hour
// window touches.
const ringBuckets = store.RingBuckets

// ring is a set of buckets within the last ringBuckets of the newest one,
// with the latest heartbeat time of the buckets it was told about.
type ring struct {
	store.BucketRing
	latest map[int64]int64 // bucket → unix ns, for the edge
}

func (r *ring) add(b, ns int64, keepLatest bool) {
	if b <= r.Newest-ringBuckets {
		return // older than the ring holds
	}
	r.Add(b)
	if keepLatest {
		if r.latest == nil {
			r.latest = map[int64]int64{}
		}
		if old, ok := r.latest[b]; !ok || ns > old {
			r.latest[b] = ns
		}
	}
}

func (r *ring) has(b int64) bool { return r.Has(b) }

// inWindow reports whether bucket b holds a heartbeat at or after start
// (ns), b being the window's first bucket or later.
func (r *ring) inWindow(b, first, start int64) bool {
	if !r.has(b) {
		return false
	}
	if b == first {
		if t, ok := r.latest[b]; ok {
			return t >= start
		}
	}
	return true
}

// countBuckets counts the buckets first..last (at most ringBuckets) held
// by every ring: the first one by its latest time against start, the rest
// a word at a time.
func countBuckets(rings []*ring, first, last, start int64) int {
	n := 0
	all := true
	for _, r := range rings {
		if !r.inWindow(first, first, start) {
			all = false
			break
		}
	}
	if all {
		n++
	}
	if last <= first {
		return n
	}
	acc := rangeMask(first+1, last)
	for _, r := range rings {
		hi := min(last, r.Newest)
		if hi <= first {
			return n
		}
		valid := rangeMask(first+1, hi)
		for i := range acc {
			acc[i] &= r.Words[i] & valid[i]
		}
	}
	for _, w := range acc {
		n += bits.OnesCount64(w)
	}
	return n
}

// rangeMask is the ring positions of buckets lo..hi (hi−lo < ringBuckets).
func rangeMask(lo, hi int64) (m [ringBuckets / 64]uint64) {
	for b := lo; b <= hi; {
		pos := b % ringBuckets
		word, bit := pos/64, pos%64
		span := min(64-bit, hi-b+1)
		if span == 64 {
			m[word] = ^uint64(0)
		} else {
			m[word] |= (uint64(1)<<span - 1) << bit
		}
		b += span
	}
	return m
}

type workerActivity struct {
	ring
	// ipRuns are maximal runs of equal, non-empty IPs in time order.
	ipRuns []ipRun
}

type ipRun struct {
	ip   string
	last int64 // unix ns
}

// NewActivity returns an empty history.
func NewActivity() *Activity {
	return &Activity{workers: map[WorkerKey]*workerActivity{}, gpus: map[string]map[string]*ring{}}
}

// Bucket is the 5-minute bucket of t: floor(unix seconds / 300).
func Bucket(t time.Time) int64 { return int64(math.Floor(float64(t.UnixNano()) / 1e9 / 300)) }

// Add records one heartbeat of a worker; a worker's heartbeats come in
// time order. It remembers every bucket's latest time, so a history built
// in memory (as tests build theirs) needs no SetEdge.
func (a *Activity) Add(k WorkerKey, at time.Time, publicIP string, gpus []string) {
	a.add(k, at, publicIP, gpus, true)
}

// AddBucket records a worker's heartbeats of one bucket as the store keeps
// them: the bucket's latest time and the GPUs reported in it (IP runs come
// by AddIPRun); the edge's exact times come from SetEdge.
func (a *Activity) AddBucket(k WorkerKey, at time.Time, publicIP string, gpus []string) {
	a.add(k, at, publicIP, gpus, false)
}

func (a *Activity) add(k WorkerKey, at time.Time, publicIP string, gpus []string, keep bool) {
	w := a.workers[k]
	if w == nil {
		w = &workerActivity{}
		a.workers[k] = w
	}
	b, ns := Bucket(at), at.UnixNano()
	w.add(b, ns, keep)
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
			h = map[string]*ring{}
			a.gpus[k.Hotkey] = h
		}
		for _, u := range gpus {
			r := h[u]
			if r == nil {
				r = &ring{}
				h[u] = r
			}
			r.add(b, ns, keep)
		}
	}
}

// AddRing takes a stored availability ring: a worker's buckets, or a
// miner's buckets of one GPU uuid.
func (a *Activity) AddRing(c store.ComputeRing) error {
	switch c.Kind {
	case store.RingWorker:
		k := WorkerKey{c.Hotkey, c.Subject}
		w := a.workers[k]
		if w == nil {
			w = &workerActivity{}
			a.workers[k] = w
		}
		w.BucketRing = c.Ring
	case store.RingGPU:
		h := a.gpus[c.Hotkey]
		if h == nil {
			h = map[string]*ring{}
			a.gpus[c.Hotkey] = h
		}
		h[c.Subject] = &ring{BucketRing: c.Ring}
	}
	return nil
}

// AddIPRun records a run of one public IP ending at last, runs coming in
// time order per worker (the store keeps them so).
func (a *Activity) AddIPRun(k WorkerKey, ip string, last time.Time) {
	w := a.workers[k]
	if w == nil {
		w = &workerActivity{}
		a.workers[k] = w
	}
	if n := len(w.ipRuns); n > 0 && w.ipRuns[n-1].ip == ip {
		w.ipRuns[n-1].last = last.UnixNano()
		return
	}
	w.ipRuns = append(w.ipRuns, ipRun{ip: ip, last: last.UnixNano()})
}

// SetEdge gives the latest heartbeat times in bucket b (the window's first
// bucket at the next pass): per worker, and per miner and uuid.
func (a *Activity) SetEdge(b int64, workers map[WorkerKey]time.Time, gpus map[string]map[string]time.Time) {
	set := func(r *ring, t time.Time) {
		r.latest = map[int64]int64{b: t.UnixNano()}
	}
	for k, t := range workers {
		if w := a.workers[k]; w != nil {
			set(&w.ring, t)
		}
	}
	for hk, us := range gpus {
		for u, t := range us {
			if r := a.gpus[hk][u]; r != nil {
				set(r, t)
			}
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
	startT := now.Add(-time.Duration(cfg.AvailabilityHours) * time.Hour)
	start, first, last := startT.UnixNano(), Bucket(startT), Bucket(now)
	own := countBuckets([]*ring{&w.ring}, first, last, start)
	if own == 0 {
		return 0 // no heartbeat in the window
	}
	online := own
	if len(required) > 0 {
		online = 0
		h := a.gpus[k.Hotkey]
		rings := make([]*ring, 0, len(required))
		for u := range required {
			if h[u] == nil {
				rings = nil
				break
			}
			rings = append(rings, h[u])
		}
		if len(rings) > 0 {
			online = countBuckets(rings, first, last, start)
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
