package kaspasim

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metric names, as the HashTensor bridge exports them (HashTensor_Pool
// src/kaspastratum/prom.go).
const (
	MetricValidShares       = "ks_valid_share_counter"
	MetricValidShareDiff    = "ks_valid_share_diff_counter"
	MetricInvalidShares     = "ks_invalid_share_counter"
	MetricHashrateViolation = "ks_hashrate_violation_counter"
	MetricBlocksMined       = "ks_blocks_mined"
	MetricMinedBlocks       = "ks_mined_blocks_gauge"
	MetricDisconnects       = "ks_worker_disconnect_counter"
	MetricJobs              = "ks_worker_job_counter"
	MetricBalance           = "ks_balance_by_wallet_gauge"
	MetricNetworkHashrate   = "ks_estimated_network_hashrate_gauge"
	MetricNetworkDifficulty = "ks_network_difficulty_gauge"
	MetricNetworkBlocks     = "ks_network_block_count"
	MetricUptime            = "ks_miner_uptime_seconds"
	MetricWorkSeconds       = "ks_miner_work_seconds_total"
)

// WorkerLabels are the labels of every per-worker series, in the bridge's
// order.
var WorkerLabels = []string{"worker", "miner", "wallet", "ip"}

func withLabels(extra ...string) []string {
	return append(append([]string(nil), WorkerLabels...), extra...)
}

// metrics holds the bridge's collectors. Like the bridge, counters are
// never deleted; only the uptime gauge is, on disconnect.
type metrics struct {
	valid, diff, blocks, disconnects, jobs, workSeconds *prometheus.CounterVec
	invalid, violations                                 *prometheus.CounterVec
	minedBlocks, uptime, balance                        *prometheus.GaugeVec
	netHashrate, netDifficulty, netBlocks               prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	counter := func(name, help string, labels []string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	gauge := func(name, help string, labels []string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	}
	m := &metrics{
		valid:         counter(MetricValidShares, "Accepted shares per worker.", WorkerLabels),
		diff:          counter(MetricValidShareDiff, "Sum of the accepted shares' hash values per worker (GH).", WorkerLabels),
		invalid:       counter(MetricInvalidShares, "Rejected shares per worker, by reason (stale, duplicate, invalid, weak).", withLabels("type")),
		violations:    counter(MetricHashrateViolation, "Shares refused by the hashrate sanity check, per worker.", withLabels("violation_type")),
		blocks:        counter(MetricBlocksMined, "Blocks the node accepted, per worker.", WorkerLabels),
		minedBlocks:   gauge(MetricMinedBlocks, "1 for each block mined, labelled with its nonce, blue score and hash.", withLabels("nonce", "bluescore", "hash")),
		disconnects:   counter(MetricDisconnects, "Disconnections per worker.", WorkerLabels),
		jobs:          counter(MetricJobs, "Jobs sent per worker.", WorkerLabels),
		balance:       gauge(MetricBalance, "Balance of each connected wallet (KAS).", []string{"wallet"}),
		netHashrate:   prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricNetworkHashrate, Help: "Estimated network hashrate."}),
		netDifficulty: prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricNetworkDifficulty, Help: "Network difficulty."}),
		netBlocks:     prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricNetworkBlocks, Help: "Network block count."}),
		uptime:        gauge(MetricUptime, "Unix time at which the worker connected; gone while it is disconnected.", WorkerLabels),
		workSeconds:   counter(MetricWorkSeconds, "Seconds the worker spent submitting shares (10 every 10 s while shares flow).", WorkerLabels),
	}
	reg.MustRegister(m.valid, m.diff, m.invalid, m.violations, m.blocks, m.minedBlocks, m.disconnects, m.jobs,
		m.balance, m.netHashrate, m.netDifficulty, m.netBlocks, m.uptime, m.workSeconds)
	// The bridge serves the default registry, which carries these too.
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func addLabels(l prometheus.Labels, kv ...string) prometheus.Labels {
	out := make(prometheus.Labels, len(l)+len(kv)/2)
	for k, v := range l {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}
