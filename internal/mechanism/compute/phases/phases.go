// Package phases is the compute validator's handling of one challenge,
// without storage: what a commitment does to a challenge and which proofs
// it asks for (phase 1), whether a proof is shaped as the commitment
// requires (phase 2), and the verification that decides it. The reference
// validator's rules, with its known holes closed (see Commit).
package phases

import (
	"fmt"
	"math"
	"time"

	"github.com/vigil-validator/vigil/internal/challenge"
	"github.com/vigil-validator/vigil/internal/compute"
	"github.com/vigil-validator/vigil/internal/computeproto"
)

// Status is a challenge's state: created → sent → committed → verifying →
// verified | failed.
type Status string

// The states.
const (
	Created   Status = "created"
	Sent      Status = "sent"
	Committed Status = "committed"
	Verifying Status = "verifying"
	Verified  Status = "verified"
	Failed    Status = "failed"
)

// Challenge is what phase 1 and 2 read and change of a stored challenge.
type Challenge struct {
	ID         string
	Hotkey     string // the miner it was issued to
	WorkerID   string
	Kind       string // computeproto.ChallengeCPUMatrix or ChallengeGPUMatrix
	SeedHex    string
	Size       int
	Iterations int
	Status     Status
	SentAt     time.Time

	// Set by the commitment.
	Roots map[string]string // unit uuid → Merkle root
	Rows  []int
	Cells []challenge.Cell
}

// Code is a synapse answer's code: 0, or 1 for an error the reference
// answers with {"error": …}.
const (
	CodeOK    = 0
	CodeError = 1
)

// CommitOutcome is what a commitment does. With Code 1 and Fail false the
// challenge is left as it was.
type CommitOutcome struct {
	Code  int
	Error string // the {"error": …} answer
	// Fail makes the challenge failed, with Notes.
	Fail  bool
	Notes string
	// On success the challenge becomes committed with these.
	Roots             map[string]string
	Rows              []int
	Cells             []challenge.Cell
	ComputedAt        time.Time
	ComputationTimeMS *float64
	ProofRequests     []computeproto.ProofRequest
}

// Commit applies a commitment to a challenge, as the reference's
// commitment processor does, in its order:
//
//   - the challenge must be created or sent;
//   - GPU: every GPU commitment's uuid must be in the worker's inventory
//     (else the challenge fails), carry a signature (else an error) that
//     verifies under a trusted key (else it fails);
//   - the worker id must be the one the challenge went to (an error);
//   - the roots are stored, the time from sending to now is the
//     challenge's time, and the targets are drawn from the OS CSPRNG.
//
// Where the reference lets a challenge pass unchecked, it fails here: a
// GPU challenge with no GPU commitment, or a CPU challenge without the
// CPU's, would get no proof request and be verified automatically.
func Commit(ch Challenge, cd computeproto.CommitmentData, inventory map[string]bool, trusted challenge.TrustedKeys,
	s challenge.Sampling, now time.Time) CommitOutcome {
	errorOut := func(format string, args ...any) CommitOutcome {
		return CommitOutcome{Code: CodeError, Error: fmt.Sprintf(format, args...)}
	}
	failOut := func(format string, args ...any) CommitOutcome {
		msg := fmt.Sprintf(format, args...)
		return CommitOutcome{Code: CodeError, Error: msg, Fail: true, Notes: msg}
	}
	if cd.ChallengeID == "" || cd.WorkerID == "" || len(cd.Commitments) == 0 {
		return errorOut("Missing challenge_id, worker_id, or commitments")
	}
	if ch.Status != Created && ch.Status != Sent {
		return errorOut("Challenge %s already processed", ch.ID)
	}
	roots := map[string]string{}
	switch ch.Kind {
	case computeproto.ChallengeGPUMatrix:
		for _, c := range cd.Commitments {
			if c.UUID == challenge.CPUUnit {
				continue // the CPU's commitment has no place in a GPU challenge
			}
			if !inventory[c.UUID] {
				return failOut("GPU UUID %s not found in heartbeat inventory", c.UUID)
			}
			if c.SigVal == "" {
				return errorOut("GPU commitment for %s is missing signature.", c.UUID)
			}
			if err := challenge.VerifyCommitment(trusted, uint64(c.SigVer), ch.SeedHex, c.UUID, c.MerkleRoot, c.SigVal); err != nil {
				return failOut("Merkle signature verification failed for %s", c.UUID)
			}
			roots[c.UUID] = c.MerkleRoot
		}
	default:
		for _, c := range cd.Commitments {
			if c.UUID == challenge.CPUUnit {
				roots[c.UUID] = c.MerkleRoot
			}
		}
	}
	if ch.WorkerID != cd.WorkerID {
		return errorOut("Worker ID mismatch: expected %s, got %s", ch.WorkerID, cd.WorkerID)
	}
	if len(roots) == 0 {
		return failOut("no %s commitment to verify", unitName(ch.Kind))
	}
	out := CommitOutcome{Code: CodeOK, Roots: roots, ComputedAt: now}
	if !ch.SentAt.IsZero() {
		ms := float64(now.Sub(ch.SentAt).Microseconds()) / 1000
		out.ComputationTimeMS = &ms
	}
	if ch.Kind == computeproto.ChallengeGPUMatrix {
		out.Cells, out.Rows = s.GPUTargets(ch.Size)
		for uuid := range roots {
			out.ProofRequests = append(out.ProofRequests, computeproto.ProofRequest{UUID: uuid, Rows: ints64(out.Rows), Coordinates: coords(out.Cells)})
		}
		sortRequests(out.ProofRequests)
	} else {
		out.Rows = s.CPURowsToCheck(ch.Size)
		out.ProofRequests = []computeproto.ProofRequest{{UUID: challenge.CPUUnit, Rows: ints64(out.Rows), Coordinates: []computeproto.Coordinate{}}}
	}
	return out
}

func unitName(kind string) string {
	if kind == computeproto.ChallengeGPUMatrix {
		return "GPU"
	}
	return "CPU"
}

func ints64(xs []int) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = int64(x)
	}
	return out
}

func coords(cells []challenge.Cell) []computeproto.Coordinate {
	out := make([]computeproto.Coordinate, len(cells))
	for i, c := range cells {
		out[i] = computeproto.Coordinate{int64(c.Row), int64(c.Col)}
	}
	return out
}

func sortRequests(rs []computeproto.ProofRequest) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].UUID < rs[j-1].UUID; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

// CheckProofs holds phase-2 data to the commitment, as the reference's
// proof processor does before queueing it: the challenge committed, the
// proofs' uuids exactly the committed ones, a CPU proof with row hashes
// and Merkle proofs, GPU proofs with values too.
func CheckProofs(ch Challenge, pd computeproto.ProofData) error {
	if ch.Status != Committed || len(ch.Roots) == 0 {
		return fmt.Errorf("challenge %s is %s, not committed", ch.ID, ch.Status)
	}
	seen := map[string]bool{}
	for _, p := range pd.Proofs {
		if seen[p.UUID] {
			return fmt.Errorf("two proofs for %s", p.UUID)
		}
		seen[p.UUID] = true
		if _, ok := ch.Roots[p.UUID]; !ok {
			return fmt.Errorf("a proof for %s, which was not committed", p.UUID)
		}
		if len(p.RowHashes) == 0 || len(p.MerkleProofs) == 0 {
			return fmt.Errorf("the proof for %s has no row hashes or Merkle proofs", p.UUID)
		}
		if ch.Kind == computeproto.ChallengeGPUMatrix && len(p.CoordinateValues) == 0 {
			return fmt.Errorf("the proof for %s has no values", p.UUID)
		}
	}
	if len(seen) != len(ch.Roots) {
		return fmt.Errorf("%d proofs for %d commitments", len(seen), len(ch.Roots))
	}
	return nil
}

// Outcome is a verification's result.
type Outcome struct {
	Passed bool
	// SuccessCount is the units that passed: 1 for the CPU, the GPUs that
	// passed for a GPU challenge; it divides the challenge's time.
	SuccessCount int
	Verdicts     []challenge.Verdict
}

// Verify checks every proof of a committed challenge with the targets it
// was given: a CPU challenge passes when its unit does, a GPU challenge
// when at least one GPU does, as the reference's, or with allGPUs when
// every committed GPU does. Secret columns are drawn per GPU now.
func Verify(ch Challenge, pd computeproto.ProofData, tol challenge.Tolerance, allGPUs bool) Outcome {
	seed := seedBytes(ch.SeedHex)
	var o Outcome
	for _, p := range pd.Proofs {
		proofs := compute.ChallengeProofs(p.MerkleProofs)
		root, ok := ch.Roots[p.UUID]
		if !ok {
			continue
		}
		var v challenge.Verdict
		if ch.Kind == computeproto.ChallengeCPUMatrix {
			v = challenge.VerifyCPU(seed, ch.Size, ch.Iterations, ch.Rows, root, challenge.CPUProof{RowHashes: p.RowHashes, Proofs: proofs})
		} else {
			vals := make([]float64, len(p.CoordinateValues))
			for i, x := range p.CoordinateValues {
				vals[i] = float64(x)
			}
			check := challenge.GPUCheck{SeedHex: ch.SeedHex, UUID: p.UUID, Size: ch.Size, Iterations: ch.Iterations, Root: root,
				Cells: ch.Cells, Rows: ch.Rows, Columns: challenge.SecretColumns(ch.Size, tol.RowSampleRate)}
			v = challenge.VerifyGPU(check, tol, challenge.GPUProof{Values: vals, RowHashes: p.RowHashes, Proofs: proofs})
		}
		o.Verdicts = append(o.Verdicts, v)
		if v.Passed {
			o.SuccessCount++
		}
	}
	o.Passed = o.SuccessCount > 0
	if allGPUs && ch.Kind == computeproto.ChallengeGPUMatrix && o.SuccessCount < len(ch.Roots) {
		o.Passed = false
	}
	return o
}

func seedBytes(hexSeed string) []byte {
	b := make([]byte, len(hexSeed)/2)
	for i := range b {
		b[i] = unhex(hexSeed[2*i])<<4 | unhex(hexSeed[2*i+1])
	}
	return b
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0
}

// NormalizedTime is a verified challenge's time per passing unit, as the
// ranking reads it.
func NormalizedTime(ms float64, successCount int) float64 {
	return ms / math.Max(float64(successCount), 1)
}
