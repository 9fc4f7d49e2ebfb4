package prometheustest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"

	"github.com/vigil-validator/vigil/internal/promserver"
)

func TestStartScrapesAndStops(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_test_gauge", Help: "test"})
	reg.MustRegister(g)
	g.Set(42)
	exporter := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(exporter.Close)
	// A second target on another path, given as a URL.
	mux := http.NewServeMux()
	reg2 := prometheus.NewRegistry()
	g2 := prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigil_test_other", Help: "test"})
	reg2.MustRegister(g2)
	g2.Set(7)
	mux.Handle("/custom/metrics", promhttp.HandlerFor(reg2, promhttp.HandlerOpts{}))
	exporter2 := httptest.NewServer(mux)
	t.Cleanup(exporter2.Close)

	var p *Prometheus
	t.Run("run", func(t *testing.T) {
		start := time.Now()
		p = Start(t, exporter.Listener.Addr().String(), exporter2.URL+"/custom/metrics")
		if !strings.HasPrefix(p.URL(), "http://127.0.0.1:") {
			t.Errorf("URL %q is not on loopback", p.URL())
		}
		v := p.WaitForSamples(t, "vigil_test_gauge == 42")
		if vec, ok := v.(model.Vector); !ok || len(vec) != 1 || vec[0].Metric["job"] != "target0" {
			t.Errorf("result %v, want one sample from job target0", v)
		}
		p.WaitForSamples(t, "vigil_test_other == 7")
		t.Logf("first samples of both targets after %s", time.Since(start).Round(time.Millisecond))
		if v := p.Query(t, "vigil_test_missing"); promserver.HasSamples(v) {
			t.Errorf("samples for a metric nobody exports: %v", v)
		}
		if !promserver.HasSamples(p.Query(t, "1+1")) {
			t.Error("a scalar result counts as samples")
		}
	})
	if p == nil {
		return // skipped
	}
	select {
	case <-p.Done():
	default:
		t.Error("the server is still running after its test ended")
	}
	if _, err := http.Get(p.URL() + "/-/ready"); err == nil {
		t.Error("the server still answers after its test ended")
	}
}

// fakeTB records Skip and Fatal, which end the calling goroutine.
type fakeTB struct {
	testing.TB
	skipped, fatal string
}

func (f *fakeTB) Helper()                      {}
func (f *fakeTB) Skip(args ...any)             { f.skipped = fmt.Sprint(args...); runtime.Goexit() }
func (f *fakeTB) Fatal(args ...any)            { f.fatal = fmt.Sprint(args...); runtime.Goexit() }
func (f *fakeTB) Fatalf(s string, args ...any) { f.fatal = fmt.Sprintf(s, args...); runtime.Goexit() }

func TestWithoutBinary(t *testing.T) {
	t.Setenv(BinEnv, "")
	t.Setenv("PATH", t.TempDir())
	saved := promserver.DefaultBinPath
	promserver.DefaultBinPath = filepath.Join(t.TempDir(), "none")
	t.Cleanup(func() { promserver.DefaultBinPath = saved })

	run := func() *fakeTB {
		f := &fakeTB{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			Start(f)
		}()
		<-done
		return f
	}
	t.Setenv("CI", "")
	if f := run(); f.skipped == "" || f.fatal != "" || !strings.Contains(f.skipped, BinEnv) {
		t.Errorf("without CI: skipped %q, fatal %q; want a skip naming %s", f.skipped, f.fatal, BinEnv)
	}
	t.Setenv("CI", "true")
	if f := run(); f.fatal == "" || f.skipped != "" {
		t.Errorf("with CI=true: skipped %q, fatal %q; want a failure", f.skipped, f.fatal)
	}
}
