package refdb

import (
	"fmt"
	"time"
)

// Scenario is a reference database scored at Now with a metagraph.
type Scenario struct {
	Name      string
	Now       time.Time
	Metagraph []string // hotkeys in uid order
	DB        ByteLeap
}

func ptr[T any](v T) *T { return &v }

type builder struct {
	s   *Scenario
	seq int
}

func (b *builder) at(sec float64) time.Time {
	return b.s.Now.Add(time.Duration(sec * float64(time.Second)))
}

// miner adds an online miner (heartbeat a minute ago) or an offline one
// (two hours ago), with workers of the given lease scores (nil: none).
func (b *builder) miner(hk string, online bool, leases ...*float64) {
	last := b.at(-60)
	if !online {
		last = b.at(-7200)
	}
	b.s.DB.Miners = append(b.s.DB.Miners, Miner{Hotkey: hk, Online: online, LastHeartbeat: last, Version: "0.0.5"})
	for i, l := range leases {
		b.worker(hk, fmt.Sprintf("lease%d", i), l, false)
	}
}

func (b *builder) worker(hk, id string, lease *float64, deleted bool) {
	b.s.DB.Workers = append(b.s.DB.Workers, Worker{Hotkey: hk, WorkerID: id, Online: true, LeaseScore: lease, LastHeartbeat: b.at(-60), Deleted: deleted})
}

// challenges adds n verified challenges of a worker, one every 240 s back
// from a minute ago, taking ms (plus a little) over gpus (CPU when none).
func (b *builder) challenges(hk, worker string, n int, ms float64, gpus ...string) {
	for i := range n {
		com := map[string]string{"-1": "aa"}
		if len(gpus) > 0 {
			com = map[string]string{}
			for _, u := range gpus {
				com[u] = "ab"
			}
		}
		b.seq++
		b.s.DB.Challenges = append(b.s.DB.Challenges, Challenge{ID: fmt.Sprintf("%s-%d", b.s.Name, b.seq), Hotkey: hk, WorkerID: worker,
			Status: "verified", CreatedAt: b.at(-60 - float64(i)*240), ComputationTimeMS: ptr(ms + float64(i%7)*13.25),
			SuccessCount: ptr(max(1, len(gpus))), IsSuccess: ptr(true), VerificationResult: ptr(true), Commitments: com})
	}
}

// heartbeats adds a worker's heartbeats every step seconds over the last
// span hours, the IP changing to ips[k] after each k-th share of the span.
func (b *builder) heartbeats(hk, worker string, span, step float64, gpus []string, ips ...*string) {
	start := -span * 3600
	count := int(span * 3600 / step)
	for i := range count {
		var ip *string
		if len(ips) > 0 {
			ip = ips[i*len(ips)/count]
		}
		b.s.DB.Heartbeats = append(b.s.DB.Heartbeats, Heartbeat{Hotkey: hk, WorkerID: worker, At: b.at(start + float64(i)*step + 7), GPUs: gpus, IP: ip})
	}
}

func (b *builder) own(hk, worker string, lastSeen time.Time, gpus ...string) {
	for _, u := range gpus {
		b.s.DB.GPUs = append(b.s.DB.GPUs, GPU{UUID: u, Hotkey: hk, WorkerID: worker, Model: "NVIDIA H100 80GB HBM3", LastSeen: ptr(lastSeen)})
	}
}

func gpuSet(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("GPU-%s-%04d", prefix, i)
	}
	return out
}

// Scenarios are reference databases covering each rule of the compute
// subnet's scoring, scored at now (which need not fall on a bucket's
// edge), each with its own miners.
func Scenarios(now time.Time) []Scenario {
	var all []Scenario
	add := func(name string, metagraph []string, fill func(b *builder)) {
		s := &Scenario{Name: name, Now: now, Metagraph: metagraph}
		fill(&builder{s: s})
		all = append(all, *s)
	}
	hk := func(names ...string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = Hotkey(n)
		}
		return out
	}

	// Ranking: faster workers score more, a worker under the participation
	// baseline (36 of 45) is scaled down, per-minute heartbeats.
	a := hk("rank-a", "rank-b", "rank-c", "rank-validator")
	add("ranking", a, func(b *builder) {
		b.challenges(a[0], "w1", 45, 1500)
		b.heartbeats(a[0], "w1", 169, 60, nil)
		b.challenges(a[1], "w1", 20, 900)
		b.heartbeats(a[1], "w1", 169, 300, nil)
		b.challenges(a[2], "w1", 40, 2100)
		b.challenges(a[2], "w2", 38, 2500)
		b.heartbeats(a[2], "w1", 169, 300, nil)
		b.heartbeats(a[2], "w2", 100, 300, nil)
		for _, h := range a[:3] {
			b.miner(h, true)
		}
		b.worker(a[0], "w1", nil, false)
		b.worker(a[1], "w1", ptr(0.0), false)
		b.worker(a[2], "w1", nil, false)
		b.worker(a[2], "w2", nil, false)
	})

	// GPUs: times per verified GPU; a challenge with a uuid another miner
	// owns, one with an unowned uuid and one whose owner was last seen
	// before the window are skipped; the required set must be reported in
	// every bucket (one GPU missing for a day costs it), under the NVML
	// keys uuid, gpu_uuid and id.
	g := hk("gpu-a", "gpu-b", "gpu-c")
	add("gpus", g, func(b *builder) {
		ga, gb := gpuSet("a", 8), gpuSet("b", 4)
		b.own(g[0], "g1", b.at(-100), ga...)
		b.own(g[1], "g1", b.at(-100), gb...)
		b.own(g[0], "g9", b.at(-100), "GPU-stolen")
		b.own(g[2], "g1", b.at(-4*3600), "GPU-stale")
		b.challenges(g[0], "g1", 45, 48000, ga...)
		b.challenges(g[1], "g1", 40, 30000, gb...)
		b.challenges(g[1], "g2", 10, 3000, "GPU-stolen")
		b.challenges(g[2], "g1", 30, 5000, "GPU-stale")
		b.challenges(g[2], "g2", 30, 7000, "GPU-nobody")
		b.challenges(g[2], "g3", 40, 9000)
		for i := range int(169 * 12) {
			at := -169*3600 + float64(i)*300 + 11
			gpus := ga
			if i > 500 && i < 500+288 {
				gpus = ga[:7] // one GPU unreported for a day
			}
			key := []string{"uuid", "gpu_uuid", "id"}[i%3]
			b.s.DB.Heartbeats = append(b.s.DB.Heartbeats, Heartbeat{Hotkey: g[0], WorkerID: "g1", At: b.at(at), GPUs: gpus, Key: key})
		}
		// The second miner reports half its GPUs from another worker.
		b.heartbeats(g[1], "g1", 169, 300, gb[:2])
		b.heartbeats(g[1], "g2", 169, 300, append(append([]string{}, gb[2:]...), "GPU-stolen"))
		b.heartbeats(g[2], "g1", 169, 300, []string{"GPU-stale"})
		b.heartbeats(g[2], "g2", 169, 300, []string{"GPU-nobody"})
		b.heartbeats(g[2], "g3", 169, 300, nil)
		for _, h := range g {
			b.miner(h, true)
		}
		b.worker(g[0], "g1", nil, false)
		b.worker(g[1], "g1", nil, false)
		b.worker(g[1], "g2", nil, false)
		b.worker(g[2], "g1", nil, false)
	})

	// IP changes: none, one, back and forth, four (availability 0); empty
	// strings and NULLs are skipped.
	ipk := hk("ip-a", "ip-b", "ip-c", "ip-d", "ip-e", "ip-f")
	add("ip changes", ipk, func(b *builder) {
		x, y, z := ptr("198.51.100.1"), ptr("198.51.100.2"), ptr("203.0.113.9")
		for i, ips := range [][]*string{{x}, {x, y}, {x, y, x}, {x, y, z, x, y}, {x, ptr(""), x, nil, x}, {nil}} {
			b.challenges(ipk[i], "w", 40, 2000)
			b.heartbeats(ipk[i], "w", 169, 300, nil, ips...)
			b.worker(ipk[i], "w", nil, false)
			b.miner(ipk[i], true)
		}
	})

	// Leases: a leased miner takes the network's mean challenge term; a
	// lease summing to zero keeps the miner's own; deleted workers count
	// nowhere; the average is over the 100 best workers; an offline miner
	// gets nothing; a hotkey outside the metagraph still sets the
	// normalisation.
	l := hk("lease-a", "lease-b", "lease-c", "lease-d", "lease-e")
	outside := Hotkey("lease-outside")
	add("leases and offline", l, func(b *builder) {
		b.challenges(l[0], "c", 30, 2500)
		b.heartbeats(l[0], "c", 169, 300, nil)
		b.challenges(l[1], "c", 45, 1200)
		b.heartbeats(l[1], "c", 169, 300, nil)
		b.challenges(l[2], "c", 45, 1000)
		b.heartbeats(l[2], "c", 169, 300, nil)
		b.challenges(outside, "c", 45, 500)
		b.heartbeats(outside, "c", 169, 300, nil)
		b.miner(l[0], true, ptr(0.5), ptr(0.25), ptr(0.0))
		b.miner(l[1], true, ptr(0.0), ptr(0.0))
		b.miner(l[2], false)
		b.miner(l[3], true, ptr(0.9))
		b.worker(l[3], "gone", ptr(1.0), true)
		leases := make([]*float64, 120)
		for i := range leases {
			leases[i] = ptr(float64(i%10) / 10)
		}
		b.miner(l[4], true, leases...)
		b.miner(outside, true)
	})

	// The window's edges: a heartbeat just before the availability window
	// does not count, one just after does; a challenge created exactly at
	// the ranking window's start counts, one a second before does not.
	e := hk("edge-a", "edge-b", "edge-c", "edge-d", "edge-e", "edge-f")
	add("window edges", e, func(b *builder) {
		start := -169 * 3600.0
		// Heartbeats in the window's first bucket: before its start, after
		// it, long before, and two (before, then after; both before).
		for i, offs := range [][]float64{{-10}, {5}, {-4000}, {-100, 5}, {-100, -10}} {
			b.challenges(e[i], "w", 40, 2000)
			for _, off := range offs {
				b.s.DB.Heartbeats = append(b.s.DB.Heartbeats, Heartbeat{Hotkey: e[i], WorkerID: "w", At: b.at(start + off)})
			}
			if offs[0] > -1000 {
				b.heartbeats(e[i], "w", 168, 300, nil)
			}
			b.miner(e[i], true)
		}
		b.heartbeats(e[5], "x", 169, 300, nil)
		for i, off := range []float64{0, -1} {
			b.s.DB.Challenges = append(b.s.DB.Challenges, Challenge{ID: fmt.Sprintf("edge-%d", i), Hotkey: e[5], WorkerID: "x", Status: "verified",
				CreatedAt: b.at(-180*60 + off), ComputationTimeMS: ptr(100.0 + float64(i)), SuccessCount: ptr(1), IsSuccess: ptr(true),
				VerificationResult: ptr(true), Commitments: map[string]string{"-1": "aa"}})
		}
		b.challenges(e[5], "x", 36, 4000)
		b.miner(e[5], true)
	})

	// Soft deletes and statuses: deleted challenges and heartbeats count
	// nowhere; failed and in-flight challenges are not scored; a verified
	// challenge without a verification result is not a success and
	// requires no GPU; a NULL computation time is not a success.
	d := hk("del-a", "del-b")
	add("deletes and statuses", d, func(b *builder) {
		b.challenges(d[0], "w", 40, 2000)
		b.heartbeats(d[0], "w", 169, 300, nil)
		for i := range 300 {
			b.s.DB.Heartbeats[len(b.s.DB.Heartbeats)-1-i].Deleted = true
		}
		b.challenges(d[1], "w", 40, 1800)
		for i := range 10 {
			b.s.DB.Challenges[len(b.s.DB.Challenges)-1-i].Deleted = true
		}
		b.heartbeats(d[1], "w", 169, 300, []string{"GPU-del"})
		b.own(d[1], "w", b.at(-100), "GPU-del")
		for i, st := range []string{"failed", "created", "sent", "committed", "verifying"} {
			b.s.DB.Challenges = append(b.s.DB.Challenges, Challenge{ID: fmt.Sprintf("del-%s-%d", st, i), Hotkey: d[1], WorkerID: "w", Status: st,
				CreatedAt: b.at(-300 - float64(i)), ComputationTimeMS: ptr(10.0), SuccessCount: ptr(1), IsSuccess: ptr(st == "failed"),
				VerificationResult: ptr(false), Commitments: map[string]string{"-1": "aa"}})
		}
		b.s.DB.Challenges = append(b.s.DB.Challenges,
			Challenge{ID: "del-unverified", Hotkey: d[1], WorkerID: "w", Status: "verified", CreatedAt: b.at(-400), ComputationTimeMS: ptr(5.0),
				SuccessCount: ptr(1), IsSuccess: ptr(true), VerificationResult: ptr(false), Commitments: map[string]string{"GPU-del": "ab"}},
			Challenge{ID: "del-notime", Hotkey: d[1], WorkerID: "w", Status: "verified", CreatedAt: b.at(-500), SuccessCount: ptr(1),
				IsSuccess: ptr(true), VerificationResult: ptr(true), Commitments: map[string]string{"-1": "aa"}})
		b.miner(d[0], true)
		b.miner(d[1], true)
		b.s.DB.Weights = append(b.s.DB.Weights, Weight{Hotkey: d[0], Value: 0.5, Challenge: 1, Availability: 1, At: b.at(-420)},
			Weight{Hotkey: d[1], Value: 0.5, Challenge: 1, Availability: 1, At: b.at(-420)},
			Weight{Hotkey: d[0], Value: 0.4, Challenge: 0.9, Availability: 1, At: b.at(-840)})
	})

	// Nobody earns anything: every active miner gets 1/N.
	z := hk("zero-a", "zero-b", "zero-c")
	add("all zero", z, func(b *builder) {
		b.miner(z[0], true)
		b.miner(z[1], true)
		b.miner(z[2], false)
	})

	// Everything together, as one subnet.
	var mg []string
	var db ByteLeap
	for _, s := range all {
		mg = append(mg, s.Metagraph...)
		db.Miners = append(db.Miners, s.DB.Miners...)
		db.Workers = append(db.Workers, s.DB.Workers...)
		db.GPUs = append(db.GPUs, s.DB.GPUs...)
		db.Heartbeats = append(db.Heartbeats, s.DB.Heartbeats...)
		db.Challenges = append(db.Challenges, s.DB.Challenges...)
		db.Weights = append(db.Weights, s.DB.Weights...)
	}
	all = append(all, Scenario{Name: "one subnet", Now: now, Metagraph: mg, DB: db})
	return all
}
