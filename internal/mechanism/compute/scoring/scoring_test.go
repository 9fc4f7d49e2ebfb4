package scoring

import (
	"fmt"
	"math"
	"sort"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/oracletest"
	"github.com/vigil-validator/vigil/internal/pyoracle"
)

// The scenarios are raw rows as the reference's tables hold them; the
// reference's formulas (tools/pyoracle/compute_scoring.py) score them, and
// vigil scores the same rows after aggregating the heartbeats into buckets.

type rawChallenge struct {
	Hotkey             string   `json:"hotkey"`
	WorkerID           string   `json:"worker_id"`
	CreatedAt          float64  `json:"created_at"`
	Status             string   `json:"status"`
	IsSuccess          bool     `json:"is_success"`
	VerificationResult bool     `json:"verification_result"`
	ComputationTimeMS  *float64 `json:"computation_time_ms"`
	SuccessCount       int      `json:"success_count"`
	GPUs               []string `json:"gpu_uuids"`
	Deleted            bool     `json:"deleted"`
}

type rawHeartbeat struct {
	Hotkey    string   `json:"hotkey"`
	WorkerID  string   `json:"worker_id"`
	CreatedAt float64  `json:"created_at"`
	PublicIP  *string  `json:"public_ip"`
	GPUs      []string `json:"gpu_uuids"`
	Deleted   bool     `json:"deleted"`
}

type rawOwner struct {
	UUID     string  `json:"uuid"`
	Hotkey   string  `json:"hotkey"`
	LastSeen float64 `json:"last_seen"`
}

type rawWorker struct {
	Hotkey     string  `json:"hotkey"`
	WorkerID   string  `json:"worker_id"`
	LeaseScore float64 `json:"lease_score"`
	Deleted    bool    `json:"deleted"`
}

type rawMiner struct {
	Hotkey   string `json:"hotkey"`
	IsOnline bool   `json:"is_online"`
}

type scenario struct {
	Name       string         `json:"name"`
	Now        float64        `json:"now"`
	Config     map[string]any `json:"config"`
	Challenges []rawChallenge `json:"challenges"`
	Heartbeats []rawHeartbeat `json:"heartbeats"`
	Owners     []rawOwner     `json:"gpu_inventory"`
	Workers    []rawWorker    `json:"workers"`
	Miners     []rawMiner     `json:"miners"`
	Metagraph  []string       `json:"metagraph"`
}

const now = 1_765_000_000.0

func newScenario(name string, metagraph ...string) *scenario {
	return &scenario{Name: name, Now: now, Metagraph: metagraph, Config: map[string]any{
		"ranking_window_minutes": 180, "challenge_interval": 240, "participation_rate_threshold": 0.8,
		"availability_hours": 169, "score_weights": map[string]float64{"challenge": 0.3, "lease": 0.7}, "cap": 100}}
}

func ptr[T any](v T) *T { return &v }

// challenges adds n verified challenges of a worker, one every 240 s back
// from now, each taking ms over gpus (CPU when none).
func (s *scenario) challenges(hotkey, worker string, n int, ms float64, gpus ...string) {
	for i := range n {
		uuids := gpus
		if len(uuids) == 0 {
			uuids = []string{"-1"}
		}
		s.Challenges = append(s.Challenges, rawChallenge{Hotkey: hotkey, WorkerID: worker, CreatedAt: now - 60 - float64(i)*240,
			Status: "verified", IsSuccess: true, VerificationResult: true, ComputationTimeMS: ptr(ms + float64(i%7)*13.25),
			SuccessCount: max(1, len(gpus)), GPUs: uuids})
	}
}

// heartbeats adds a worker's heartbeats every step seconds over the last
// span hours, with ip (changing to ips[k] after each k-th share of the span).
func (s *scenario) heartbeats(hotkey, worker string, span float64, step float64, gpus []string, ips ...string) {
	start := now - span*3600
	count := int(span * 3600 / step)
	for i := range count {
		t := start + float64(i)*step + 7
		var ip *string
		if len(ips) > 0 {
			ip = ptr(ips[i*len(ips)/count])
		}
		s.Heartbeats = append(s.Heartbeats, rawHeartbeat{Hotkey: hotkey, WorkerID: worker, CreatedAt: t, PublicIP: ip, GPUs: gpus})
	}
}

func (s *scenario) own(hotkey string, gpus ...string) {
	for _, u := range gpus {
		s.Owners = append(s.Owners, rawOwner{UUID: u, Hotkey: hotkey, LastSeen: now - 100})
	}
}

func (s *scenario) miner(hotkey string, online bool, leases ...float64) {
	s.Miners = append(s.Miners, rawMiner{Hotkey: hotkey, IsOnline: online})
	for i, l := range leases {
		s.Workers = append(s.Workers, rawWorker{Hotkey: hotkey, WorkerID: fmt.Sprintf("w%d", i), LeaseScore: l})
	}
}

func gpuSet(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("GPU-%s-%d", prefix, i)
	}
	return out
}

func scenarios() []*scenario {
	var all []*scenario

	// The worked example: X has one worker with 8 GPUs, unleased, a
	// challenge every 240 s in 6000 ms; Y's one worker is leased at 1.
	s := newScenario("worked example", "5X", "5Y")
	x := gpuSet("x", 8)
	s.challenges("5X", "wx", 45, 6000, x...)
	s.own("5X", x...)
	s.heartbeats("5X", "wx", 169, 300, x, "203.0.113.1")
	s.heartbeats("5Y", "wy", 169, 300, nil, "203.0.113.2")
	s.miner("5X", true, 0)
	s.miner("5Y", true, 1)
	all = append(all, s)

	// Fast and slow CPU workers, few and many successes, one miner with
	// many workers.
	s = newScenario("fast, slow, few, many", "5A", "5B", "5C")
	s.challenges("5A", "fast", 45, 900)
	s.challenges("5A", "slow", 45, 4100)
	s.challenges("5B", "few", 9, 800)
	for i := range 6 {
		w := fmt.Sprintf("m%d", i)
		s.challenges("5C", w, 20+i*5, 1500+float64(i)*333.3)
		s.heartbeats("5C", w, 169, 300, nil)
	}
	for _, w := range []string{"fast", "slow"} {
		s.heartbeats("5A", w, 169, 300, nil)
	}
	s.heartbeats("5B", "few", 169, 300, nil)
	s.miner("5A", true)
	s.miner("5B", true)
	s.miner("5C", true)
	all = append(all, s)

	// GPU ownership: a uuid owned by another hotkey, and one nobody owns,
	// disqualify the challenges that commit them; availability still needs
	// every committed uuid.
	s = newScenario("gpu ownership", "5G", "5H", "5K")
	g, h := gpuSet("g", 2), gpuSet("h", 1)
	s.challenges("5G", "good", 40, 3000, g...)
	s.challenges("5H", "thief", 40, 1000, append(gpuSet("h", 1), g[0])...)
	s.challenges("5K", "ghost", 40, 1000, "GPU-nobody")
	s.own("5G", g...)
	s.own("5H", h...)
	s.heartbeats("5G", "good", 169, 300, g)
	s.heartbeats("5H", "thief", 169, 300, h)
	s.heartbeats("5K", "ghost", 169, 300, nil)
	s.miner("5G", true)
	s.miner("5H", true)
	s.miner("5K", true)
	all = append(all, s)

	// Availability gaps and the GPU-set rule across a miner's workers: a
	// worker heartbeating half the week; GPUs reported by another worker
	// of the same miner.
	s = newScenario("availability", "5P", "5Q")
	p := gpuSet("p", 2)
	s.challenges("5P", "half", 40, 2000)
	s.heartbeats("5P", "half", 84, 300, nil)
	s.challenges("5P", "gpu", 40, 2000, p...)
	s.own("5P", p...)
	s.heartbeats("5P", "gpu", 169, 600, nil)
	s.heartbeats("5P", "reporter", 100, 300, p)
	s.challenges("5Q", "steady", 40, 2000)
	s.heartbeats("5Q", "steady", 169, 240, nil)
	s.miner("5P", true)
	s.miner("5Q", true)
	all = append(all, s)

	// IP changes: none, one, two, four (zero availability).
	s = newScenario("ip changes", "5I")
	for i, ips := range [][]string{{"198.51.100.1"}, {"198.51.100.1", "198.51.100.2"}, {"a", "b", "a"}, {"a", "b", "c", "d", "e"}} {
		w := fmt.Sprintf("ip%d", i)
		s.challenges("5I", w, 40, 2000)
		s.heartbeats("5I", w, 169, 300, nil, ips...)
	}
	s.miner("5I", true)
	all = append(all, s)

	// Leases: one leased miner takes the network's mean challenge; a lease
	// whose sum is zero keeps the miner's own; offline miners get nothing
	// submitted; deleted rows count nowhere; an inactive hotkey (not in
	// the metagraph) still sets the normalisation.
	s = newScenario("leases and offline", "5L", "5M", "5N", "5O")
	s.challenges("5L", "l", 30, 2500)
	s.heartbeats("5L", "l", 169, 300, nil)
	s.challenges("5M", "m", 45, 1200)
	s.heartbeats("5M", "m", 169, 300, nil)
	s.challenges("5N", "n", 45, 1000)
	s.heartbeats("5N", "n", 169, 300, nil)
	s.challenges("5Z", "z", 45, 500) // not in the metagraph
	s.heartbeats("5Z", "z", 169, 300, nil)
	s.Challenges = append(s.Challenges, rawChallenge{Hotkey: "5M", WorkerID: "m", CreatedAt: now - 30, Status: "verified",
		IsSuccess: true, VerificationResult: true, ComputationTimeMS: ptr(1.0), SuccessCount: 1, GPUs: []string{"-1"}, Deleted: true})
	s.miner("5L", true, 0.5, 0.25, 0)
	s.miner("5M", true, 0, 0)
	s.miner("5N", false)
	s.miner("5O", true, 0.9)
	s.miner("5Z", true)
	s.Workers = append(s.Workers, rawWorker{Hotkey: "5O", WorkerID: "gone", LeaseScore: 1, Deleted: true})
	all = append(all, s)

	// The window's first bucket: a heartbeat just before the window's start
	// does not count, one just after does; a worker seen only before the
	// window has no availability.
	s = newScenario("window edge", "5E")
	start := now - 169*3600
	for i, off := range []float64{-10, 5, -4000} {
		w := fmt.Sprintf("e%d", i)
		s.challenges("5E", w, 40, 2000)
		s.Heartbeats = append(s.Heartbeats, rawHeartbeat{Hotkey: "5E", WorkerID: w, CreatedAt: start + off})
		if off > -1000 {
			s.heartbeats("5E", w, 168, 300, nil)
		}
	}
	s.miner("5E", true)
	all = append(all, s)

	// Nobody earns anything: every active miner gets 1/N.
	s = newScenario("all zero", "5U", "5V", "5W")
	s.miner("5U", true)
	s.miner("5V", true)
	s.miner("5W", false)
	all = append(all, s)
	return all
}

// input turns a scenario's rows into what Score reads.
func (s *scenario) input() (Config, Input) {
	cfg := DefaultConfig()
	at := func(sec float64) time.Time { return time.Unix(0, int64(math.Round(sec*1e9))).UTC() }
	in := Input{Now: at(s.Now), Activity: NewActivity()}
	for _, c := range s.Challenges {
		if c.Deleted || c.Status != "verified" {
			continue
		}
		in.Challenges = append(in.Challenges, Challenge{Worker: WorkerKey{c.Hotkey, c.WorkerID}, CreatedAt: at(c.CreatedAt),
			IsSuccess: c.IsSuccess, VerificationResult: c.VerificationResult, ComputationTimeMS: c.ComputationTimeMS,
			SuccessCount: c.SuccessCount, GPUs: c.GPUs})
	}
	hbs := append([]rawHeartbeat(nil), s.Heartbeats...)
	sort.SliceStable(hbs, func(i, j int) bool { return hbs[i].CreatedAt < hbs[j].CreatedAt })
	for _, h := range hbs {
		if h.Deleted {
			continue
		}
		ip := ""
		if h.PublicIP != nil {
			ip = *h.PublicIP
		}
		in.Activity.Add(WorkerKey{h.Hotkey, h.WorkerID}, at(h.CreatedAt), ip, h.GPUs)
	}
	for _, o := range s.Owners {
		in.Owners = append(in.Owners, GPUOwner{UUID: o.UUID, Hotkey: o.Hotkey, LastSeen: at(o.LastSeen)})
	}
	for _, m := range s.Miners {
		uid := -1
		for i, hk := range s.Metagraph {
			if hk == m.Hotkey {
				uid = i
			}
		}
		if uid < 0 {
			continue
		}
		mi := Miner{Hotkey: m.Hotkey, UID: uint16(uid), Online: m.IsOnline}
		for _, w := range s.Workers {
			if w.Hotkey == m.Hotkey && !w.Deleted {
				mi.Leases = append(mi.Leases, w.LeaseScore)
			}
		}
		in.Miners = append(in.Miners, mi)
	}
	return cfg, in
}

// TestScoringMatchesTheReferenceFormulas: every factor, score, weight and
// the u16 vector, to the bit, against the transcription of the reference.
func TestScoringMatchesTheReferenceFormulas(t *testing.T) {
	ss := scenarios()
	python := oracletest.Python(t)
	want := pyoracle.ComputeScoring(t, python, ss)
	for i, s := range ss {
		t.Run(s.Name, func(t *testing.T) {
			cfg, in := s.input()
			got := Score(cfg, in)
			w := want[i]
			if len(got.Miners) != len(w.Miners) {
				t.Fatalf("%d miners, the reference %d", len(got.Miners), len(w.Miners))
			}
			for _, m := range got.Miners {
				r, ok := w.Miners[m.Hotkey]
				if !ok || m.ChallengeNorm != r.ChallengeNorm || m.Lease != r.Lease || m.Score != r.Score || m.Weight != r.Weight {
					t.Errorf("%s: norm %v lease %v score %v weight %v; the reference %+v", m.Hotkey, m.ChallengeNorm, m.Lease, m.Score, m.Weight, r)
				}
				for _, ws := range m.Workers {
					rw := w.Workers[ws.Key.Hotkey+"_"+ws.Key.WorkerID]
					if ws.Perf != rw.Perf || ws.Availability != rw.Avail {
						t.Errorf("%s/%s: perf %v avail %v; the reference %+v", ws.Key.Hotkey, ws.Key.WorkerID, ws.Perf, ws.Availability, rw)
					}
				}
			}
			if fmt.Sprint(got.UIDs, got.U16) != fmt.Sprint(w.UIDs, w.U16) {
				t.Errorf("submitted %v %v, the reference %v %v", got.UIDs, got.U16, w.UIDs, w.U16)
			}
		})
	}
}

// TestRing: buckets beyond the ring's span drop out as it advances, and
// a jump past the whole span clears it.
func TestRing(t *testing.T) {
	var r ring
	base := int64(5_881_000)
	for b := base; b < base+3000; b += 3 {
		r.add(b, 0, false)
	}
	newest := base + 2997
	for b := newest - 2500; b <= newest; b++ {
		want := b > newest-ringBuckets && (b-base)%3 == 0
		if r.has(b) != want {
			t.Fatalf("bucket %d: has %v, want %v", b-base, r.has(b), want)
		}
	}
	if got := countBuckets([]*ring{&r}, newest-2028, newest, 0); got != 2029/3+1 {
		t.Fatalf("counted %d", got)
	}
	r.add(newest+5000, 0, false)
	if r.has(newest) || !r.has(newest+5000) {
		t.Fatal("a jump past the span kept old buckets")
	}
	r.add(newest, 0, false) // older than the ring holds now
	if r.has(newest) {
		t.Fatal("a bucket older than the ring was kept")
	}
	for _, c := range [][2]int64{{0, 0}, {5, 70}, {60, 200}, {2000, 2100}, {2040, 4087}} {
		m := rangeMask(c[0], c[1])
		n := 0
		for _, w := range m {
			n += bitsOnes(w)
		}
		if n != int(c[1]-c[0]+1) {
			t.Fatalf("mask %v: %d bits", c, n)
		}
	}
}

func bitsOnes(w uint64) int {
	n := 0
	for ; w != 0; w &= w - 1 {
		n++
	}
	return n
}

// BenchmarkScore256x100: a weight pass over 256 miners of 100 workers, a
// quarter of them with 8 GPUs, each with 45 verified challenges in the
// window and a heartbeat in every 5-minute bucket of 169 hours.
func BenchmarkScore256x100(b *testing.B) {
	now := time.Unix(1_765_000_000, 0)
	act := NewActivity()
	in := Input{Now: now, Activity: act}
	for m := range 256 {
		hk := fmt.Sprintf("5miner%03d", m)
		mi := Miner{Hotkey: hk, UID: uint16(m), Online: true}
		for w := range 100 {
			k := WorkerKey{hk, fmt.Sprintf("w%03d", w)}
			var gpus []string
			if w%4 == 0 {
				gpus = gpuSet(fmt.Sprintf("%d-%d", m, w), 8)
				for _, u := range gpus {
					in.Owners = append(in.Owners, GPUOwner{UUID: u, Hotkey: hk, LastSeen: now})
				}
			}
			for c := range 45 {
				ms := 1000 + float64((m*100+w+c)%997)
				in.Challenges = append(in.Challenges, Challenge{Worker: k, CreatedAt: now.Add(-time.Duration(c*240+30) * time.Second),
					IsSuccess: true, VerificationResult: true, ComputationTimeMS: &ms, SuccessCount: max(1, len(gpus)), GPUs: gpus})
			}
			for t := now.Add(-169 * time.Hour); t.Before(now); t = t.Add(5 * time.Minute) {
				act.AddBucket(k, t, "203.0.113.9", gpus)
			}
			mi.Leases = append(mi.Leases, float64(w%3)/10)
		}
		in.Miners = append(in.Miners, mi)
	}
	cfg := DefaultConfig()
	b.ResetTimer()
	for b.Loop() {
		r := Score(cfg, in)
		if len(r.U16) == 0 {
			b.Fatal("no weights")
		}
	}
}

// TestWorkedExample: the specification's numbers, independently of the
// oracle: X's perf is 1/750 and its score 0.3; Y, leased at 1, scores
// 0.3·(mean norm) + 0.7.
func TestWorkedExample(t *testing.T) {
	s := scenarios()[0]
	// The worked example's times are all 6000 ms.
	for i := range s.Challenges {
		s.Challenges[i].ComputationTimeMS = ptr(6000.0)
	}
	cfg, in := s.input()
	got := Score(cfg, in)
	xm, ym := got.Miners[0], got.Miners[1]
	if len(xm.Workers) != 1 || math.Abs(xm.Workers[0].Perf-1.0/750) > 1e-15 || xm.Workers[0].Availability != 1 || xm.Score != 0.3 {
		t.Fatalf("X: %+v", xm)
	}
	if ym.Lease != 1 || ym.Score != 0.3*0.5+0.7 {
		t.Fatalf("Y: %+v", ym)
	}
}

// TestOwnerIsTheLatestReport: the store keeps a uuid's report by every
// hotkey and worker; the reference's inventory keeps one row per uuid, the
// last hotkey to report it. The latest report wins, in any order.
func TestOwnerIsTheLatestReport(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cfg := DefaultConfig()
	ms := 1000.0
	for _, owners := range [][]GPUOwner{
		{{UUID: "GPU-1", Hotkey: "5A", LastSeen: now.Add(-time.Minute)}, {UUID: "GPU-1", Hotkey: "5B", LastSeen: now.Add(-time.Hour)}},
		{{UUID: "GPU-1", Hotkey: "5B", LastSeen: now.Add(-time.Hour)}, {UUID: "GPU-1", Hotkey: "5A", LastSeen: now.Add(-time.Minute)}},
	} {
		tl := NewTallies(cfg, now, owners)
		for _, hk := range []string{"5A", "5B"} {
			tl.Add(Challenge{Worker: WorkerKey{hk, "w"}, CreatedAt: now.Add(-10 * time.Minute), IsSuccess: true, VerificationResult: true,
				ComputationTimeMS: &ms, SuccessCount: 1, GPUs: []string{"GPU-1"}})
		}
		if a, b := tl.counts[WorkerKey{"5A", "w"}], tl.counts[WorkerKey{"5B", "w"}]; a.N != 1 || b.N != 0 {
			t.Errorf("owners %v: 5A counted %d, 5B %d; want 1 and 0", owners, a.N, b.N)
		}
	}
}
