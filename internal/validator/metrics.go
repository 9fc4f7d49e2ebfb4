package validator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-validator/vigil/internal/promreg"
)

type metrics struct {
	blocksSince prometheus.Gauge
	submissions *prometheus.CounterVec
	reveals     *prometheus.CounterVec
	scorePass   prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, mechanism string, v *Validator) *metrics {
	m := &metrics{
		blocksSince: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_validator_blocks_since_weights",
			Help: "Blocks since this validator's weights last landed on chain.",
		}),
		submissions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_validator_weight_submissions_total",
			Help: "Weight submissions by outcome (included, finalized, failed, pending when the outcome is unknown).",
		}, []string{"outcome"}),
		reveals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_validator_reveals_total",
			Help: "Timelocked commits whose reveal was confirmed from the chain, by what became of it (revealed, dropped).",
		}, []string{"outcome"}),
		scorePass: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:        "vigil_validator_score_pass_seconds",
			Help:        "Time the mechanism took to score the metagraph.",
			ConstLabels: prometheus.Labels{"mechanism": mechanism},
			Buckets:     prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
	}
	age := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "vigil_validator_metagraph_age_seconds",
		Help: "Age of the metagraph the validator holds (-1 before the first).",
	}, func() float64 {
		if v.cfg.Metagraph.Load() == nil {
			return -1
		}
		v.mu.Lock()
		defer v.mu.Unlock()
		return v.cfg.Clock.Since(v.mgAt).Seconds()
	})
	// A validator built again against the same registry (a second subnet
	// is told apart by the registerer's labels) reuses the collectors.
	m.blocksSince = must(promreg.Register(reg, m.blocksSince))
	m.submissions = must(promreg.Register(reg, m.submissions))
	m.reveals = must(promreg.Register(reg, m.reveals))
	m.scorePass = must(promreg.Register(reg, m.scorePass))
	must(promreg.Register(reg, age))
	return m
}

// must panics on an error that only a programming mistake causes: two
// different metrics under one name.
func must[C any](c C, err error) C {
	if err != nil {
		panic(err)
	}
	return c
}

// Health checks for /health, by name: the chain answered lately, the
// metagraph is fresh, and weights landed within two tempos.
func (v *Validator) HealthChecks() map[string]func(context.Context) error {
	return map[string]func(context.Context) error{
		"chain": func(context.Context) error {
			v.mu.Lock()
			defer v.mu.Unlock()
			if v.chainErr != nil {
				return fmt.Errorf("chain unreachable: %w", v.chainErr)
			}
			if v.chainAt.IsZero() {
				return errors.New("chain not read yet")
			}
			return nil
		},
		"metagraph": func(context.Context) error {
			mg := v.cfg.Metagraph.Load()
			if mg == nil {
				return errors.New("no metagraph yet")
			}
			v.mu.Lock()
			defer v.mu.Unlock()
			if age := v.cfg.Clock.Since(v.mgAt); age > v.cfg.MetagraphMaxAge {
				return fmt.Errorf("metagraph is %s old (block %d)", age.Round(1e9), mg.Block)
			}
			return nil
		},
		"weights": func(ctx context.Context) error {
			v.mu.Lock()
			st := v.lastState
			v.mu.Unlock()
			if st == nil {
				return errors.New("chain state not read yet")
			}
			v.mu.Lock()
			genesis, gateErr, dropped := v.genesis, v.gateErr, v.lastDropped
			v.mu.Unlock()
			if gateErr != nil {
				return gateErr
			}
			if dropped != nil {
				return fmt.Errorf("the chain dropped the last timelocked commit (made at block %d) at its reveal in epoch %d: its weights never applied",
					dropped.Block, *dropped.RevealEpoch)
			}
			// Two weight windows (weights.every_blocks, else the tempo) and
			// the rate limit; a validator gets as long from its start. Every
			// mechanism it sets must be within that.
			limit := 2*v.cadence(st) + st.Params.WeightsSetRateLimit
			for _, m := range v.mechanisms(st) {
				last, err := v.lastSubmissionBlock(ctx, st, genesis, m)
				if err != nil {
					return err
				}
				since := st.Block - min(st.Block, last)
				if last == 0 {
					// One tick is about a block.
					if v.cfg.Clock.Since(v.started) < v.cfg.Tick*time.Duration(limit) {
						continue
					}
					return fmt.Errorf("no weights set on mechanism %d since start (%d blocks allowed)", m, limit)
				}
				if since > limit {
					return fmt.Errorf("no weights on mechanism %d for %d blocks (two weight windows and the rate limit are %d)", m, since, limit)
				}
			}
			return nil
		},
	}
}
