package scoring

import (
	"time"

	"github.com/vigil-validator/vigil/internal/store"
)

// OfflineAfter is how long a miner stays online without a heartbeat (the
// reference's 30-minute sweep; seen exactly 30 minutes ago is online).
const OfflineAfter = 30 * time.Minute

// FromRows builds a pass's input from the store's rows and the activity
// its rings were read into (AddRing): uids are the metagraph's (hotkeys
// absent from it are not active miners), and the window's first bucket is
// made exact from its rows' latest times. The challenges go to the
// input's Tallies (AddRow), as the store streams them.
//
// A pass over 256 miners of 100 workers thus holds a ring and a tally per
// worker, never the window's rows.
func FromRows(cfg Config, now time.Time, rows store.ComputeScoringRows, act *Activity, uids map[string]uint16) Input {
	in := Input{Now: now, Activity: act}
	for _, o := range rows.Owners {
		in.Owners = append(in.Owners, GPUOwner{UUID: o.UUID, Hotkey: o.Hotkey, LastSeen: o.LastSeen})
	}
	in.Tallies = NewTallies(cfg, now, in.Owners)
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
	in.Activity.SetEdge(first, edgeWorkers, edgeGPUs)
	for _, r := range rows.IPRuns {
		in.Activity.AddIPRun(WorkerKey{r.Hotkey, r.WorkerID}, r.IP, r.LastAt)
	}
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
		in.Miners = append(in.Miners, Miner{Hotkey: m.Hotkey, UID: uid, Online: now.Sub(m.LastHeartbeat) <= OfflineAfter, Leases: leases[m.Hotkey]})
	}
	return in
}

// AddRow folds in a challenge as the store streams it (verified, newest
// first).
func (t *Tallies) AddRow(c store.ComputeScoredChallenge) error {
	t.Add(Challenge{Worker: WorkerKey{c.Hotkey, c.WorkerID}, CreatedAt: c.CreatedAt, IsSuccess: c.IsSuccess, VerificationResult: true,
		ComputationTimeMS: c.ComputationTimeMS, SuccessCount: c.SuccessCount, GPUs: c.Units})
	return nil
}
