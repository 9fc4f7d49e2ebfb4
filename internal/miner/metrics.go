package miner

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-validator/vigil/internal/workerhub"
)

// Metrics are the miner's Prometheus collectors, the hub's included.
type Metrics struct {
	Hub        *workerhub.Metrics
	validators prometheus.Gauge
	challenges *prometheus.CounterVec
	failures   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
}

// NewMetrics makes unregistered collectors.
func NewMetrics() *Metrics {
	return &Metrics{
		Hub:        workerhub.NewMetrics(),
		validators: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_miner_validators", Help: "Validators selected at the last metagraph sync."}),
		challenges: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_miner_challenges_total", Help: "Challenges by outcome (distributed, proved, committed, worker_failed, commit_failed, proof_failed, worker_lost)."}, []string{"outcome"}),
		failures:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_miner_validator_failures_total", Help: "Failed calls to validators, by call (heartbeat, task, commit, proof), and failed distributions."}, []string{"call"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vigil_miner_validator_call_seconds", Help: "Validator call latency by call.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)}, []string{"call"}),
	}
}

// Collectors lists every collector, for registering.
func (m *Metrics) Collectors() []prometheus.Collector {
	return append(m.Hub.Collectors(), m.validators, m.challenges, m.failures, m.latency)
}
