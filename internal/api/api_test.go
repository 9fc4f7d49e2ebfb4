package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func startServer(t *testing.T, h *Health) string {
	t.Helper()
	s, err := New(Opts{Listen: "127.0.0.1:0", Registry: NewRegistry("v1.2.3", "abc123"), Health: h})
	if err != nil {
		t.Fatal(err)
	}
	go s.HTTPServer().Serve(s.Listener())
	t.Cleanup(func() { s.HTTPServer().Close() })
	return "http://" + s.Addr().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := get(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics answered %d", code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics is not valid Prometheus text: %v", err)
	}
	return mfs
}

func TestMetricsParse(t *testing.T) {
	base := startServer(t, NewHealth(time.Second))
	get(t, base+"/health")
	mfs := scrape(t, base)
	info := mfs["vigil_build_info"]
	if info == nil || len(info.Metric) != 1 || info.Metric[0].GetGauge().GetValue() != 1 {
		t.Fatalf("vigil_build_info missing or wrong: %v", info)
	}
	labels := map[string]string{}
	for _, l := range info.Metric[0].Label {
		labels[l.GetName()] = l.GetValue()
	}
	if labels["version"] != "v1.2.3" || labels["commit"] != "abc123" || !strings.HasPrefix(labels["goversion"], "go") {
		t.Errorf("build_info labels %v", labels)
	}
	for _, name := range []string{"go_goroutines", "vigil_process_resident_memory_bytes", "vigil_http_requests_total"} {
		if mfs[name] == nil {
			t.Errorf("%s missing from /metrics", name)
		}
	}
	var healthOK float64
	for _, m := range mfs["vigil_http_requests_total"].GetMetric() {
		l := map[string]string{}
		for _, p := range m.Label {
			l[p.GetName()] = p.GetValue()
		}
		if l["route"] == "/health" && l["code"] == "200" {
			healthOK = m.GetCounter().GetValue()
		}
	}
	if healthOK != 1 {
		t.Errorf("vigil_http_requests_total{route=/health,code=200} = %v, want 1", healthOK)
	}
}

func TestHealthReportsEachFailingCheckWithItsReason(t *testing.T) {
	h := NewHealth(50 * time.Millisecond)
	var dbDown atomic.Bool
	h.Register("database", func(context.Context) error {
		if dbDown.Load() {
			return errors.New("connection refused")
		}
		return nil
	})
	h.Register("chain", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	h.Register("stuck", func(context.Context) error { time.Sleep(time.Second); return nil }) // ignores ctx
	base := startServer(t, h)

	decode := func() (int, Report) {
		code, body := get(t, base+"/health")
		var r Report
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("/health body %q: %v", body, err)
		}
		return code, r
	}
	code, r := decode()
	if code != 503 || r.Status != "fail" || len(r.Checks) != 3 {
		t.Fatalf("/health = %d %+v, want 503 with three checks", code, r)
	}
	want := map[string]string{"database": "", "chain": "check timed out after 50ms", "stuck": "check timed out after 50ms"}
	for _, c := range r.Checks {
		if c.Reason != want[c.Name] || c.OK != (want[c.Name] == "") {
			t.Errorf("check %+v, want reason %q", c, want[c.Name])
		}
	}
	dbDown.Store(true)
	_, r = decode()
	if r.Checks[0].Name != "database" || r.Checks[0].Reason != "connection refused" {
		t.Errorf("database check %+v, want its reason", r.Checks[0])
	}

	ok := NewHealth(time.Second)
	ok.Register("database", func(context.Context) error { return nil })
	okBase := startServer(t, ok)
	if code, body := get(t, okBase+"/health"); code != 200 || !strings.Contains(body, `"status":"ok"`) {
		t.Errorf("healthy /health = %d %s", code, body)
	}
	resp, err := http.Post(okBase+"/health", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /health = %d, want 405", resp.StatusCode)
	}
}

func TestNewValidatesOpts(t *testing.T) {
	reg := NewRegistry("v", "c")
	cases := map[string]Opts{
		"no listen address specified":   {Registry: reg, Health: NewHealth(0)},
		"no metrics registry specified": {Listen: "127.0.0.1:0", Health: NewHealth(0)},
		"no health specified":           {Listen: "127.0.0.1:0", Registry: reg},
	}
	for want, o := range cases {
		if _, err := New(o); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New(%+v) = %v, want %q", o, err, want)
		}
	}
	s, err := New(Opts{Listen: "127.0.0.1:0", Registry: NewRegistry("v", "c"), Health: NewHealth(0)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Listener().Close()
	if _, err := New(Opts{Listen: s.Addr().String(), Registry: NewRegistry("v", "c"), Health: NewHealth(0)}); err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Errorf("port in use: %v", err)
	}
}
