package scoring

import (
	"time"

	"github.com/vigil-validator/vigil/internal/store"
)

// OfflineAfter is how long a miner stays online without a heartbeat (the
// reference's 30-minute sweep; seen exactly 30 minutes ago is online).
const OfflineAfter = 30 * time.Minute

// FromRows builds a pass's input from the store's rows: uids are the
// metagraph's (hotkeys absent from it are not active miners). The
// challenges go to the input's Tallies (AddRow), as the store streams
// them, and each miner's heartbeat history comes from activity, asked a
// miner at a time (see Input.Activities and MinerActivity).
//
// A pass over 256 miners of 100 workers thus holds a tally per worker and
// one miner's rings at a time, never the window's rows.
func FromRows(cfg Config, now time.Time, rows store.ComputeScoringRows, uids map[string]uint16, activity func(hotkey string) *Activity) Input {
	in := Input{Now: now, Activities: activity}
	// The store's reports are within the window and oldest first: as
	// equals at now, each supersedes the ones before it.
	for _, o := range rows.Owners {
		in.Owners = append(in.Owners, GPUOwner{UUID: o.UUID, Hotkey: o.Hotkey, LastSeen: now})
	}
	in.Tallies = NewTallies(cfg, now, in.Owners)
	leases := map[string][]float64{}
	for _, w := range rows.Workers {
		if !w.Deleted {
			leases[w.Hotkey] = append(leases[w.Hotkey], w.LeaseScore)
		}
	}
	for _, m := range rows.Miners {
		uid, ok := uids[m.Hotkey]
		if !ok {
			continue
		}
		// The workers without a lease count as zeros.
		ls := leases[m.Hotkey]
		for range rows.WorkerCounts[m.Hotkey] - len(ls) {
			ls = append(ls, 0)
		}
		in.Miners = append(in.Miners, Miner{Hotkey: m.Hotkey, UID: uid, Online: now.Sub(m.LastHeartbeat) <= OfflineAfter, Leases: ls})
	}
	return in
}

// MinerActivity builds one miner's heartbeat history for a pass at now
// from its stored rings, the rows of the window's first bucket (made
// exact from their latest times) and its IP runs.
func MinerActivity(cfg Config, now time.Time, rows store.ComputeActivityRows) *Activity {
	a := NewActivity()
	for _, r := range rows.Rings {
		_ = a.AddRing(r)
	}
	first := Bucket(now.Add(-time.Duration(cfg.AvailabilityHours) * time.Hour))
	edgeWorkers := map[WorkerKey]time.Time{}
	edgeGPUs := map[string]map[string]time.Time{}
	for _, b := range rows.Edge {
		if b.Bucket != first {
			continue
		}
		edgeWorkers[WorkerKey{b.Hotkey, b.WorkerID}] = b.LatestAt
		for _, u := range b.GPUs {
			if edgeGPUs[b.Hotkey] == nil {
				edgeGPUs[b.Hotkey] = map[string]time.Time{}
			}
			if b.LatestAt.After(edgeGPUs[b.Hotkey][u]) {
				edgeGPUs[b.Hotkey][u] = b.LatestAt
			}
		}
	}
	a.SetEdge(first, edgeWorkers, edgeGPUs)
	for _, r := range rows.IPRuns {
		a.AddIPRun(WorkerKey{r.Hotkey, r.WorkerID}, r.IP, r.LastAt)
	}
	return a
}

// AddRow folds in a challenge as the store streams it (verified, within
// the window, newest first).
func (t *Tallies) AddRow(c store.ComputeScoredChallenge) error {
	t.Add(Challenge{Worker: WorkerKey{c.Hotkey, c.WorkerID}, CreatedAt: t.start, IsSuccess: c.IsSuccess, VerificationResult: true,
		ComputationTimeMS: c.ComputationTimeMS, SuccessCount: c.SuccessCount, GPUs: c.Units})
	return nil
}
