package compute

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/vigil-validator/vigil/internal/challenge"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"github.com/vigil-validator/vigil/internal/mechanism/compute/phases"
	"github.com/vigil-validator/vigil/internal/mechanism/compute/scoring"
)

// Settings are the compute mechanism's: under compute:, the reference
// validator's validation and weight_management keys with its names and
// defaults (intervals in seconds, as there), the axon's address and the
// keys trusted to sign GPU commitments.
type Settings struct {
	Listen           string           `yaml:"listen" json:"listen" help:"host:port of the axon miners call (the reference's port is 9091)"`
	Validation       Validation       `yaml:"validation" json:"validation"`
	WeightManagement WeightManagement `yaml:"weight_management" json:"weight_management"`
	MeshHub          MeshHub          `yaml:"meshhub" json:"meshhub"`
	TrustedGPUKeys   string           `yaml:"trusted_gpu_keys" json:"trusted_gpu_keys" help:"uncompressed P-256 public keys (hex, comma-separated) whose GPU commitment signatures are accepted; the reference GPU binary's by default"`
	Fixes            Fixes            `yaml:"fixes" json:"fixes"`
}

// Fixes correct flaws of the reference validator's scoring. Each is off
// by default, so that vigil's weights equal the reference's (its vtrust
// depends on it); the validators of a subnet turn them on together.
type Fixes struct {
	AllGPUsMustPass      bool `yaml:"all_gpus_must_pass" json:"all_gpus_must_pass" help:"a GPU challenge passes only when every committed GPU passes (the reference passes it when one does, so one honest GPU carries the rest)"`
	LeaseCurrentWorkers  bool `yaml:"lease_current_workers" json:"lease_current_workers" help:"a miner's lease average counts only its workers heard from within the availability window (the reference counts every worker id it ever saw, so old ids dilute it)"`
	LeasePublishReplaces bool `yaml:"lease_publish_replaces" json:"lease_publish_replaces" help:"a MeshHub lease publication replaces every lease score, a worker it omits going to 0 (the reference keeps an omitted worker's old score)"`
}

// Validation is the reference's validation section.
type Validation struct {
	ChallengeInterval          int     `yaml:"challenge_interval" json:"challenge_interval" help:"seconds between challenge rounds; also sets the participation baseline"`
	ChallengeTimeout           int     `yaml:"challenge_timeout" json:"challenge_timeout" help:"seconds a sent challenge may take to be committed (1-300)"`
	RankingWindowMinutes       int     `yaml:"ranking_window_minutes" json:"ranking_window_minutes" help:"the scoring window, in minutes"`
	ParticipationRateThreshold float64 `yaml:"participation_rate_threshold" json:"participation_rate_threshold" help:"share of the window's possible challenges that earns full participation (0.1-1)"`
	VerificationConcurrent     int     `yaml:"verification_concurrent" json:"verification_concurrent" help:"proofs verified at once; 0 means one per core (the reference verifies one at a time)"`
	VerificationInterval       int     `yaml:"verification_interval" json:"verification_interval" help:"seconds the verifier waits when its queue is empty"`
	ChallengeType              string  `yaml:"challenge_type" json:"challenge_type" help:"cpu_matrix or gpu_matrix"`
	CPU                        CPU     `yaml:"cpu" json:"cpu"`
	GPU                        GPU     `yaml:"gpu" json:"gpu"`
}

// CPU is validation.cpu.
type CPU struct {
	MatrixSize   int             `yaml:"matrix_size" json:"matrix_size" help:"the CPU challenge's base size (100-10000)"`
	SizeVariance float64         `yaml:"size_variance" json:"size_variance" help:"the size's variance (0-0.5)"`
	Iterations   int             `yaml:"iterations" json:"iterations" help:"C = A·B, then C·B this many times in all"`
	Verification CPUVerification `yaml:"verification" json:"verification"`
}

// CPUVerification is validation.cpu.verification.
type CPUVerification struct {
	RowVerificationCount         int     `yaml:"row_verification_count" json:"row_verification_count" help:"rows asked of a CPU challenge"`
	RowVerificationCountVariance float64 `yaml:"row_verification_count_variance" json:"row_verification_count_variance" help:"their variance"`
}

// GPU is validation.gpu.
type GPU struct {
	MatrixSize     int             `yaml:"matrix_size" json:"matrix_size" help:"the GPU challenge's base size"`
	SizeVariance   float64         `yaml:"size_variance" json:"size_variance" help:"the size's variance (0-1)"`
	Iterations     int             `yaml:"iterations" json:"iterations" help:"the GPU challenge's iterations"`
	ModelAllowlist string          `yaml:"model_allowlist" json:"model_allowlist" help:"GPU models challenged, comma-separated case-insensitive substrings; empty challenges any"`
	Verification   GPUVerification `yaml:"verification" json:"verification"`
}

// GPUVerification is validation.gpu.verification.
type GPUVerification struct {
	CoordinateSampleCount         int     `yaml:"coordinate_sample_count" json:"coordinate_sample_count" help:"cells asked of each GPU"`
	CoordinateSampleCountVariance float64 `yaml:"coordinate_sample_count_variance" json:"coordinate_sample_count_variance" help:"their variance"`
	RowVerificationCount          int     `yaml:"row_verification_count" json:"row_verification_count" help:"rows asked of each GPU"`
	RowVerificationCountVariance  float64 `yaml:"row_verification_count_variance" json:"row_verification_count_variance" help:"their variance"`
	RowSampleRate                 float64 `yaml:"row_sample_rate" json:"row_sample_rate" help:"secret columns checked per row: max(1, int(size·rate))"`
	AbsTolerance                  float64 `yaml:"abs_tolerance" json:"abs_tolerance" help:"a value passes within this of the expected one..."`
	RelTolerance                  float64 `yaml:"rel_tolerance" json:"rel_tolerance" help:"...or within this share of it"`
	SuccessRateThreshold          float64 `yaml:"success_rate_threshold" json:"success_rate_threshold" help:"share of a sample that must pass"`
}

// WeightManagement is the reference's weight_management section.
type WeightManagement struct {
	ScoreWeights ScoreWeights `yaml:"score_weights" json:"score_weights"`
	Availability Availability `yaml:"availability" json:"availability"`
}

// ScoreWeights are the lease and challenge terms' weights.
type ScoreWeights struct {
	LeaseWeight     float64 `yaml:"lease_weight" json:"lease_weight" help:"the lease term's weight in a miner's score"`
	ChallengeWeight float64 `yaml:"challenge_weight" json:"challenge_weight" help:"the challenge term's weight in a miner's score"`
}

// Availability is weight_management.availability.
type Availability struct {
	WindowHours int `yaml:"window_hours" json:"window_hours" help:"the availability window, in hours"`
}

// MeshHub is the reference's meshhub section: the lease feed, off unless
// ws_url is set.
type MeshHub struct {
	WSURL                         string `yaml:"ws_url" json:"ws_url" help:"MeshHub's WebSocket URL; empty turns the link off (lease scores then stay 0)"`
	AccessToken                   string `yaml:"access_token" json:"access_token" help:"the bearer token MeshHub gave this validator"`
	Capabilities                  string `yaml:"capabilities" json:"capabilities" help:"capabilities announced in the handshake, comma-separated"`
	ReconnectDelaySeconds         int    `yaml:"reconnect_delay_seconds" json:"reconnect_delay_seconds" help:"seconds before reconnecting"`
	HeartbeatIntervalSeconds      int    `yaml:"heartbeat_interval_seconds" json:"heartbeat_interval_seconds" help:"seconds between heartbeats to MeshHub"`
	ResourceReportIntervalSeconds int    `yaml:"resource_report_interval_seconds" json:"resource_report_interval_seconds" help:"seconds between resource reports (at least 5)"`
}

// DefaultModelAllowlist is the reference's.
const DefaultModelAllowlist = "RTX 3090,RTX 4090,RTX 5090,A100-SXM4-80GB,A100 80GB,A100-PCIE-80GB,H100 80GB,H100-PCIE-80GB,H100 94GB,H200,B200"

// DefaultSettings are the reference's.
func DefaultSettings() Settings {
	s, t := challenge.DefaultSampling(), challenge.DefaultTolerance()
	return Settings{
		Listen: "0.0.0.0:9091",
		Validation: Validation{ChallengeInterval: 240, ChallengeTimeout: 60, RankingWindowMinutes: 180, ParticipationRateThreshold: 0.80,
			VerificationInterval: 30, ChallengeType: computeproto.ChallengeGPUMatrix,
			CPU: CPU{MatrixSize: phases.DefaultCPUShape.MatrixSize, SizeVariance: phases.DefaultCPUShape.SizeVariance, Iterations: 1,
				Verification: CPUVerification{RowVerificationCount: s.CPURows, RowVerificationCountVariance: s.CPURowVariance}},
			GPU: GPU{MatrixSize: phases.DefaultGPUShape.MatrixSize, SizeVariance: phases.DefaultGPUShape.SizeVariance, Iterations: 1,
				ModelAllowlist: DefaultModelAllowlist,
				Verification: GPUVerification{CoordinateSampleCount: s.GPUCoordinates, CoordinateSampleCountVariance: s.GPUCoordinateVariance,
					RowVerificationCount: s.GPURows, RowVerificationCountVariance: s.GPURowVariance, RowSampleRate: t.RowSampleRate,
					AbsTolerance: t.Abs, RelTolerance: t.Rel, SuccessRateThreshold: t.Threshold}},
		},
		WeightManagement: WeightManagement{ScoreWeights: ScoreWeights{LeaseWeight: 0.70, ChallengeWeight: 0.30}, Availability: Availability{WindowHours: 169}},
		MeshHub: MeshHub{Capabilities: "hardware_inspection,challenge_validation", ReconnectDelaySeconds: 30, HeartbeatIntervalSeconds: 60,
			ResourceReportIntervalSeconds: 90},
		TrustedGPUKeys: challenge.ReferenceGPUKey,
	}
}

func bad(key, format string, args ...any) error {
	return fmt.Errorf("compute.%s: %s", key, fmt.Sprintf(format, args...))
}

// Validate holds each value to the reference's bounds.
func (s Settings) Validate() error {
	v := s.Validation
	if _, _, err := net.SplitHostPort(s.Listen); err != nil {
		return bad("listen", "%q is not host:port", s.Listen)
	}
	switch {
	case v.ChallengeInterval < 1 || v.ChallengeInterval > 86400:
		return bad("validation.challenge_interval", "%d: 1-86400", v.ChallengeInterval)
	case v.ChallengeTimeout < computeproto.MinChallengeTimeout || v.ChallengeTimeout > computeproto.MaxChallengeTimeout:
		return bad("validation.challenge_timeout", "%d: 1-300", v.ChallengeTimeout)
	case v.RankingWindowMinutes < 1 || v.RankingWindowMinutes > 10080:
		return bad("validation.ranking_window_minutes", "%d: 1-10080", v.RankingWindowMinutes)
	case !(v.ParticipationRateThreshold >= 0.1 && v.ParticipationRateThreshold <= 1):
		return bad("validation.participation_rate_threshold", "%v: 0.1-1", v.ParticipationRateThreshold)
	case v.VerificationConcurrent < 0 || v.VerificationConcurrent > 256:
		return bad("validation.verification_concurrent", "%d: 0-256", v.VerificationConcurrent)
	case v.VerificationInterval < 1 || v.VerificationInterval > 3600:
		return bad("validation.verification_interval", "%d: 1-3600", v.VerificationInterval)
	case v.ChallengeType != computeproto.ChallengeCPUMatrix && v.ChallengeType != computeproto.ChallengeGPUMatrix:
		return bad("validation.challenge_type", "%q: cpu_matrix or gpu_matrix", v.ChallengeType)
	case v.CPU.MatrixSize < challenge.MinSize || v.CPU.MatrixSize > challenge.MaxSize:
		return bad("validation.cpu.matrix_size", "%d: %d-%d", v.CPU.MatrixSize, challenge.MinSize, challenge.MaxSize)
	case !(v.CPU.SizeVariance >= 0 && v.CPU.SizeVariance <= challenge.MaxVariance):
		return bad("validation.cpu.size_variance", "%v: 0-%v", v.CPU.SizeVariance, challenge.MaxVariance)
	case v.GPU.MatrixSize < 1 || v.GPU.MatrixSize > challenge.MaxGPUSize:
		return bad("validation.gpu.matrix_size", "%d: 1-%d", v.GPU.MatrixSize, challenge.MaxGPUSize)
	case !(v.GPU.SizeVariance >= 0 && v.GPU.SizeVariance <= 1) || int(float64(v.GPU.MatrixSize)*(1+v.GPU.SizeVariance)) > challenge.MaxGPUSize:
		return bad("validation.gpu.size_variance", "%v: 0-1, sizes up to %d", v.GPU.SizeVariance, challenge.MaxGPUSize)
	case v.CPU.Iterations < 1 || v.CPU.Iterations > challenge.MaxIterations || v.GPU.Iterations < 1 || v.GPU.Iterations > challenge.MaxIterations:
		return bad("validation.*.iterations", "1-%d", challenge.MaxIterations)
	case s.WeightManagement.Availability.WindowHours < 1 || s.WeightManagement.Availability.WindowHours > 720:
		return bad("weight_management.availability.window_hours", "%d: 1-720", s.WeightManagement.Availability.WindowHours)
	case !(s.WeightManagement.ScoreWeights.LeaseWeight >= 0) || !(s.WeightManagement.ScoreWeights.ChallengeWeight >= 0):
		return bad("weight_management.score_weights", "must not be negative")
	}
	if h := s.MeshHub; h.WSURL != "" {
		if !strings.HasPrefix(h.WSURL, "ws://") && !strings.HasPrefix(h.WSURL, "wss://") {
			return bad("meshhub.ws_url", "%q is not a ws:// or wss:// URL", h.WSURL)
		}
		if len(splitList(h.Capabilities)) == 0 {
			return bad("meshhub.capabilities", "at least one is required")
		}
	}
	if h := s.MeshHub; h.ReconnectDelaySeconds < 1 || h.HeartbeatIntervalSeconds < 1 || h.ResourceReportIntervalSeconds < 5 {
		return bad("meshhub", "reconnect_delay_seconds and heartbeat_interval_seconds at least 1, resource_report_interval_seconds at least 5")
	}
	if err := s.sampling().Validate(); err != nil {
		return bad("validation.*.verification", "%v", err)
	}
	if err := s.tolerance().Validate(); err != nil {
		return bad("validation.gpu.verification", "%v", err)
	}
	if _, err := s.trusted(); err != nil {
		return bad("trusted_gpu_keys", "%v", err)
	}
	return nil
}

func (s Settings) sampling() challenge.Sampling {
	c, g := s.Validation.CPU.Verification, s.Validation.GPU.Verification
	return challenge.Sampling{CPURows: c.RowVerificationCount, CPURowVariance: c.RowVerificationCountVariance,
		GPUCoordinates: g.CoordinateSampleCount, GPUCoordinateVariance: g.CoordinateSampleCountVariance,
		GPURows: g.RowVerificationCount, GPURowVariance: g.RowVerificationCountVariance}
}

func (s Settings) tolerance() challenge.Tolerance {
	g := s.Validation.GPU.Verification
	return challenge.Tolerance{Abs: g.AbsTolerance, Rel: g.RelTolerance, Threshold: g.SuccessRateThreshold, RowSampleRate: g.RowSampleRate}
}

func (s Settings) trusted() (challenge.TrustedKeys, error) {
	keys := splitList(s.TrustedGPUKeys)
	if len(keys) == 0 {
		return nil, errors.New("no key")
	}
	return challenge.ParseTrustedKeys(keys...)
}

func (s Settings) allowlist() []string { return splitList(s.Validation.GPU.ModelAllowlist) }

// Scoring is the weight pass's configuration.
func (s Settings) Scoring() scoring.Config {
	c := scoring.DefaultConfig()
	c.RankingWindow = time.Duration(s.Validation.RankingWindowMinutes) * time.Minute
	c.ChallengeInterval = time.Duration(s.Validation.ChallengeInterval) * time.Second
	c.ParticipationRate = s.Validation.ParticipationRateThreshold
	c.AvailabilityHours = s.WeightManagement.Availability.WindowHours
	c.ChallengeWeight, c.LeaseWeight = s.WeightManagement.ScoreWeights.ChallengeWeight, s.WeightManagement.ScoreWeights.LeaseWeight
	return c
}

func (s Settings) shape() phases.Shape {
	if s.Validation.ChallengeType == computeproto.ChallengeGPUMatrix {
		g := s.Validation.GPU
		return phases.Shape{MatrixSize: g.MatrixSize, SizeVariance: g.SizeVariance, Iterations: g.Iterations}
	}
	c := s.Validation.CPU
	return phases.Shape{MatrixSize: c.MatrixSize, SizeVariance: c.SizeVariance, Iterations: c.Iterations}
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// PublicListen is the axon's address, which the configuration holds apart
// from every other listener's.
func (s Settings) PublicListen() string { return s.Listen }
