package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestRegisterReusesTheCollectorThere(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "x_total", Help: "x"}
	a, err := Register(reg, prometheus.NewCounter(opts))
	if err != nil {
		t.Fatal(err)
	}
	a.Inc()
	b, err := Register(reg, prometheus.NewCounter(opts))
	if err != nil || b != a {
		t.Fatalf("second registration: %v, same collector %v", err, b == a)
	}
	b.Inc()
	var m dto.Metric
	if err := a.Write(&m); err != nil || m.GetCounter().GetValue() != 2 {
		t.Errorf("counter %v (%v), want 2", m.GetCounter().GetValue(), err)
	}
	// Another type under the same name is still an error.
	if _, err := Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "x_total", Help: "y"})); err == nil {
		t.Error("a gauge under a counter's name registered")
	}
	if c, err := Register[prometheus.Counter](nil, a); err != nil || c != a {
		t.Errorf("nil registerer: %v", err)
	}
}
