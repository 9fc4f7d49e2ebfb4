package phases

import (
	"crypto/rand"
	"encoding/hex"
	"sort"
	"strings"
	"time"

	"github.com/vigil-validator/vigil/internal/challenge"
	"github.com/vigil-validator/vigil/internal/computeproto"
)

// Worker is what issuance reads of a worker.
type Worker struct {
	Hotkey, WorkerID string
	Online, Deleted  bool
	LastHeartbeat    time.Time
	LeaseScore       float64
	Capabilities     []string
	// Pending is true while the worker has a challenge created, sent,
	// committed or verifying.
	Pending bool
	// GPUModels are the models of its inventory's GPUs.
	GPUModels []string
}

// MaxWorkersPerMiner is how many of a miner's workers are considered, the
// most recently heard first.
const MaxWorkersPerMiner = 100

// Eligible picks the workers of one miner to challenge with kind, by the
// reference's rules in its order: online and not deleted, the 100 heard
// from last; never a leased worker; only one that can compute challenges,
// has none pending and has kind's capability; for GPU challenges, only one
// with a GPU on the allowlist (a case-insensitive substring; an empty list
// allows any).
func Eligible(workers []Worker, kind string, allowlist []string) []Worker {
	var live []Worker
	for _, w := range workers {
		if w.Online && !w.Deleted {
			live = append(live, w)
		}
	}
	sort.SliceStable(live, func(i, j int) bool { return live[i].LastHeartbeat.After(live[j].LastHeartbeat) })
	live = live[:min(len(live), MaxWorkersPerMiner)]
	var out []Worker
	for _, w := range live {
		switch {
		case w.LeaseScore > 0:
		case !has(w.Capabilities, computeproto.ChallengeCPUMatrix) && !has(w.Capabilities, computeproto.ChallengeGPUMatrix):
		case w.Pending:
		case !has(w.Capabilities, kind):
		case kind == computeproto.ChallengeGPUMatrix && !anyAllowed(w.GPUModels, allowlist):
		default:
			out = append(out, w)
		}
	}
	return out
}

func has(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func anyAllowed(models, allowlist []string) bool {
	if len(models) == 0 {
		return false
	}
	if len(allowlist) == 0 {
		return true
	}
	for _, m := range models {
		for _, a := range allowlist {
			if a != "" && strings.Contains(strings.ToLower(m), strings.ToLower(a)) {
				return true
			}
		}
	}
	return false
}

// Shape is a challenge kind's size and iterations.
type Shape struct {
	MatrixSize   int     `yaml:"matrix_size"`
	SizeVariance float64 `yaml:"size_variance"`
	Iterations   int     `yaml:"iterations"`
}

// DefaultCPUShape and DefaultGPUShape are the reference's.
var (
	DefaultCPUShape = Shape{MatrixSize: 2000, SizeVariance: 0.1, Iterations: 1}
	DefaultGPUShape = Shape{MatrixSize: 32768, SizeVariance: 0.05, Iterations: 1}
)

// NewChallengeData draws a challenge of kind: 16 random seed bytes, the
// size the seed gives (the reference's rule for each kind), and for GPU
// challenges mode 0 on every GPU (target −1).
func NewChallengeData(kind string, shape Shape) (computeproto.ChallengeData, error) {
	seed := make([]byte, 16)
	if _, err := rand.Read(seed); err != nil {
		return computeproto.ChallengeData{}, err
	}
	d := computeproto.ChallengeData{ChallengeType: kind, Seed: hex.EncodeToString(seed), Iterations: int64(shape.Iterations)}
	var n int
	var err error
	if kind == computeproto.ChallengeGPUMatrix {
		n, err = challenge.GPUSize(seed, shape.MatrixSize, shape.SizeVariance)
		mode, target := int64(0), int64(-1)
		d.Mode, d.TargetGPUID = &mode, &target
	} else {
		n, err = challenge.CPUSize(seed, shape.MatrixSize, shape.SizeVariance)
	}
	if err != nil {
		return computeproto.ChallengeData{}, err
	}
	d.MatrixSize = int64(n)
	return d, nil
}
