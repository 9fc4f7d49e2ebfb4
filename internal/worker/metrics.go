package worker

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the worker's Prometheus collectors.
type Metrics struct {
	heartbeats     prometheus.Counter
	reconnects     prometheus.Counter
	dropped        prometheus.Counter
	tasks          *prometheus.CounterVec
	proofs         *prometheus.CounterVec
	computeSeconds *prometheus.HistogramVec
}

// NewMetrics makes unregistered collectors.
func NewMetrics() *Metrics {
	return &Metrics{
		heartbeats: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_worker_heartbeats_total", Help: "Heartbeats sent to the miner."}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_worker_reconnects_total", Help: "Miner connections that ended and were retried."}),
		dropped:    prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_worker_messages_dropped_total", Help: "Miner messages dropped as malformed or unknown."}),
		tasks:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_worker_tasks_total", Help: "Tasks by outcome (computed, failed)."}, []string{"outcome"}),
		proofs:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_worker_proofs_total", Help: "Proof requests by outcome (answered, failed)."}, []string{"outcome"}),
		computeSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vigil_worker_compute_seconds", Help: "Time from a task's arrival to its result, by challenge type.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16)}, []string{"type"}),
	}
}

// Collectors lists the collectors, for registering.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.heartbeats, m.reconnects, m.dropped, m.tasks, m.proofs, m.computeSeconds}
}
