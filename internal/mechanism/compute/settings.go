package compute

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-validator/vigil/internal/challenge"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"github.com/vigil-validator/vigil/internal/mechanism/compute/phases"
	"github.com/vigil-validator/vigil/internal/mechanism/compute/scoring"
)

// Settings are the compute mechanism's, named as the reference validator
// names them (validator_config.yaml's validation and weight_management),
// with its defaults; intervals in seconds as there.
type Settings struct {
	ChallengeInterval          int     `yaml:"challenge_interval"`
	ChallengeTimeout           int     `yaml:"challenge_timeout"`
	RankingWindowMinutes       int     `yaml:"ranking_window_minutes"`
	ParticipationRateThreshold float64 `yaml:"participation_rate_threshold"`
	// VerificationConcurrent is how many proofs are verified at once; 0
	// means one per core (the reference verifies one at a time).
	VerificationConcurrent int    `yaml:"verification_concurrent"`
	VerificationInterval   int    `yaml:"verification_interval"`
	ChallengeType          string `yaml:"challenge_type"`
	CPU                    phases.Shape
	GPU                    phases.Shape
	Sampling               challenge.Sampling
	Tolerance              challenge.Tolerance
	// ModelAllowlist is the GPU models challenged, case-insensitive
	// substrings; empty challenges any.
	ModelAllowlist    []string
	LeaseWeight       float64
	ChallengeWeight   float64
	AvailabilityHours int
	// TrustedKeys verify GPU commitments: the reference binary's by default.
	TrustedKeys []string
}

// DefaultSettings are the reference's.
func DefaultSettings() Settings {
	return Settings{ChallengeInterval: 240, ChallengeTimeout: 60, RankingWindowMinutes: 180, ParticipationRateThreshold: 0.80,
		VerificationInterval: 30, ChallengeType: computeproto.ChallengeGPUMatrix, CPU: phases.DefaultCPUShape, GPU: phases.DefaultGPUShape,
		Sampling: challenge.DefaultSampling(), Tolerance: challenge.DefaultTolerance(),
		ModelAllowlist: []string{"RTX 3090", "RTX 4090", "RTX 5090", "A100-SXM4-80GB", "A100 80GB", "A100-PCIE-80GB", "H100 80GB", "H100-PCIE-80GB", "H100 94GB", "H200", "B200"},
		LeaseWeight:    0.70, ChallengeWeight: 0.30, AvailabilityHours: 169, TrustedKeys: []string{challenge.ReferenceGPUKey}}
}

// Validate holds each value to the reference's bounds.
func (s Settings) Validate() error {
	switch {
	case s.ChallengeInterval < 1 || s.ChallengeInterval > 86400:
		return fmt.Errorf("challenge_interval %d: 1-86400 s", s.ChallengeInterval)
	case s.ChallengeTimeout < computeproto.MinChallengeTimeout || s.ChallengeTimeout > computeproto.MaxChallengeTimeout:
		return fmt.Errorf("challenge_timeout %d: %d-%d s", s.ChallengeTimeout, computeproto.MinChallengeTimeout, computeproto.MaxChallengeTimeout)
	case s.RankingWindowMinutes < 1 || s.RankingWindowMinutes > 7*24*60:
		return fmt.Errorf("ranking_window_minutes %d: 1-10080", s.RankingWindowMinutes)
	case !(s.ParticipationRateThreshold >= 0.1 && s.ParticipationRateThreshold <= 1):
		return fmt.Errorf("participation_rate_threshold %v: 0.1-1", s.ParticipationRateThreshold)
	case s.VerificationConcurrent < 0 || s.VerificationConcurrent > 256:
		return fmt.Errorf("verification_concurrent %d: 0-256", s.VerificationConcurrent)
	case s.VerificationInterval < 1 || s.VerificationInterval > 3600:
		return fmt.Errorf("verification_interval %d: 1-3600 s", s.VerificationInterval)
	case s.ChallengeType != computeproto.ChallengeCPUMatrix && s.ChallengeType != computeproto.ChallengeGPUMatrix:
		return fmt.Errorf("challenge_type %q: cpu_matrix or gpu_matrix", s.ChallengeType)
	case s.AvailabilityHours < 1 || s.AvailabilityHours > 24*30:
		return fmt.Errorf("availability window_hours %d: 1-720", s.AvailabilityHours)
	case !(s.LeaseWeight >= 0 && s.ChallengeWeight >= 0):
		return fmt.Errorf("score weights must not be negative")
	}
	if s.CPU.MatrixSize < challenge.MinSize || s.CPU.MatrixSize > challenge.MaxSize || !(s.CPU.SizeVariance >= 0 && s.CPU.SizeVariance <= challenge.MaxVariance) {
		return fmt.Errorf("cpu matrix_size %d (%d-%d), size_variance %v (0-%v)", s.CPU.MatrixSize, challenge.MinSize, challenge.MaxSize, s.CPU.SizeVariance, challenge.MaxVariance)
	}
	if s.GPU.MatrixSize < 1 || s.GPU.MatrixSize > challenge.MaxGPUSize || !(s.GPU.SizeVariance >= 0 && s.GPU.SizeVariance <= 1) {
		return fmt.Errorf("gpu matrix_size %d (1-%d), size_variance %v (0-1)", s.GPU.MatrixSize, challenge.MaxGPUSize, s.GPU.SizeVariance)
	}
	for _, it := range []int{s.CPU.Iterations, s.GPU.Iterations} {
		if it < 1 || it > challenge.MaxIterations {
			return fmt.Errorf("iterations %d: 1-%d", it, challenge.MaxIterations)
		}
	}
	if err := s.Sampling.Validate(); err != nil {
		return err
	}
	if err := s.Tolerance.Validate(); err != nil {
		return err
	}
	if _, err := challenge.ParseTrustedKeys(s.TrustedKeys...); err != nil {
		return fmt.Errorf("trusted GPU keys: %w", err)
	}
	return nil
}

func (s Settings) scoring() scoring.Config {
	c := scoring.DefaultConfig()
	c.RankingWindow = time.Duration(s.RankingWindowMinutes) * time.Minute
	c.ChallengeInterval = time.Duration(s.ChallengeInterval) * time.Second
	c.ParticipationRate = s.ParticipationRateThreshold
	c.AvailabilityHours = s.AvailabilityHours
	c.ChallengeWeight, c.LeaseWeight = s.ChallengeWeight, s.LeaseWeight
	return c
}

func (s Settings) shape() phases.Shape {
	if s.ChallengeType == computeproto.ChallengeGPUMatrix {
		return s.GPU
	}
	return s.CPU
}

func trimAll(xs []string) []string {
	var out []string
	for _, x := range xs {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
