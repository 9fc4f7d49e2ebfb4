// Package prometheustest runs a real Prometheus server for tests: the
// `prometheus` binary, on a free loopback port, with a throwaway data
// directory and a generated configuration that scrapes the given targets
// every ScrapeInterval. The server is stopped when the test ends.
//
// The binary comes from $VIGIL_PROMETHEUS_BIN, else `prometheus` on PATH,
// else /usr/bin/prometheus (scripts/prometheus-deps.sh finds or installs
// it, and scripts/test-deps.sh exports the variable). Without a binary the
// test is skipped, except under CI=true, where it fails: CI must prove the
// code against a real server.
//
// Start returns once the server is ready, but Prometheus (2.x) applies its
// scrape targets only on a 5-second reload tick, so the first samples land
// about 5 s later: wait for them with WaitForSamples, and run tests that
// start a server in parallel.
package prometheustest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// BinEnv names the variable that points at the prometheus binary.
const BinEnv = "VIGIL_PROMETHEUS_BIN"

// DefaultBin is where Debian's prometheus package installs the binary.
const DefaultBin = "/usr/bin/prometheus"

// defaultBin is DefaultBin, replaceable by this package's tests.
var defaultBin = DefaultBin

// ScrapeInterval is how often the server scrapes its targets.
const ScrapeInterval = time.Second

const (
	startTimeout = 30 * time.Second // until /-/ready answers 200
	stopTimeout  = 10 * time.Second // after SIGTERM, before SIGKILL
	waitTimeout  = 30 * time.Second // WaitForSamples
	pollInterval = 100 * time.Millisecond
	portAttempts = 5
)

// ErrNoBinary is returned by Binary when no prometheus binary is found.
var ErrNoBinary = errors.New("no prometheus binary found")

// Prometheus is a running server.
type Prometheus struct {
	url     string
	dir     string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has been waited for
	waitErr error
}

// Binary returns the prometheus binary to run: $VIGIL_PROMETHEUS_BIN when
// set (an error if it is not executable), else `prometheus` on PATH, else
// DefaultBin.
func Binary() (string, error) {
	if p := os.Getenv(BinEnv); p != "" {
		if err := executable(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", BinEnv, p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("prometheus"); err == nil {
		return p, nil
	}
	if executable(defaultBin) == nil {
		return defaultBin, nil
	}
	return "", ErrNoBinary
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}

// Start starts a server scraping each target every ScrapeInterval and waits
// until it is ready. A target is a loopback "host:port" (metrics path
// /metrics) or a loopback http:// URL. The server is stopped and its data
// removed when the test ends; on failure the end of its log is printed.
func Start(t testing.TB, scrapeTargets ...string) *Prometheus {
	t.Helper()
	bin, err := Binary()
	switch {
	case errors.Is(err, ErrNoBinary):
		msg := "prometheustest: no prometheus binary (set " + BinEnv + ", put prometheus on PATH, " +
			"or install it: scripts/prometheus-deps.sh with VIGIL_INSTALL_DEPS=1 as root, or apt-get install prometheus)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; CI=true requires it")
		}
		t.Skip(msg)
	case err != nil:
		t.Fatalf("prometheustest: %v", err)
	}

	dir := t.TempDir()
	cfg, err := config(scrapeTargets)
	if err != nil {
		t.Fatalf("prometheustest: %v", err)
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatalf("prometheustest: %v", err)
	}

	var lastErr error
	for attempt := 1; attempt <= portAttempts; attempt++ {
		p, err := start(t, bin, dir, cfgPath, attempt)
		if err == nil {
			return p
		}
		lastErr = err
		// Another process may take the port between choosing and binding it.
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	t.Fatalf("prometheustest: %v", lastErr)
	return nil
}

func start(t testing.TB, bin, dir, cfgPath string, attempt int) (*Prometheus, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	p := &Prometheus{
		url:     "http://" + addr,
		dir:     dir,
		logPath: filepath.Join(dir, fmt.Sprintf("prometheus.%d.log", attempt)),
		exited:  make(chan struct{}),
	}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child keeps its own descriptor
	dataDir := filepath.Join(dir, fmt.Sprintf("data.%d", attempt))
	p.cmd = exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+dataDir,
		"--web.listen-address="+addr,
		"--storage.tsdb.retention.time=1d",
		"--log.level=info",
	)
	p.cmd.Dir = dir
	p.cmd.Stdout = logFile
	p.cmd.Stderr = logFile
	p.cmd.SysProcAttr = sysProcAttr()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()

	if err := p.waitReady(); err != nil {
		p.stop()
		return nil, fmt.Errorf("%w\n%s", err, p.logTail(30))
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("prometheustest: end of the server log (%s):\n%s", p.url, p.logTail(40))
		}
		p.stop()
	})
	return p, nil
}

// waitReady polls /-/ready until it answers 200, the process exits or the
// start timeout passes.
func (p *Prometheus) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := client.Get(p.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("prometheus exited before it was ready (%v)", p.waitErr)
		case <-time.After(pollInterval):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("prometheus at %s not ready within %s", p.url, startTimeout)
		}
	}
}

// Stop stops the server now, for tests of a Prometheus that goes away; it
// is also stopped when the test ends.
func (p *Prometheus) Stop() { p.stop() }

// stop sends SIGTERM, then SIGKILL if the server has not exited in time.
func (p *Prometheus) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

func (p *Prometheus) logTail(lines int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return "    " + strings.Join(all, "\n    ")
}

// URL returns the server's base URL, http://127.0.0.1:PORT.
func (p *Prometheus) URL() string { return p.url }

// Query runs an instant query at the server's now and returns its result.
func (p *Prometheus) Query(t testing.TB, query string) model.Value {
	t.Helper()
	v, err := p.query(context.Background(), query)
	if err != nil {
		t.Fatalf("prometheustest: query %q: %v", query, err)
	}
	return v
}

// WaitForSamples polls an instant query until its result holds at least one
// sample (a non-empty vector, or a matrix with a non-empty series) and
// returns that result; it fails the test after 30 s.
func (p *Prometheus) WaitForSamples(t testing.TB, query string) model.Value {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	var lastErr error
	for {
		v, err := p.query(context.Background(), query)
		if err == nil && hasSamples(v) {
			return v
		}
		lastErr = err
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(pollInterval)
	}
	if lastErr != nil {
		t.Fatalf("prometheustest: no samples for %q within %s: %v", query, waitTimeout, lastErr)
	}
	t.Fatalf("prometheustest: no samples for %q within %s", query, waitTimeout)
	return nil
}

func hasSamples(v model.Value) bool {
	switch v := v.(type) {
	case model.Vector:
		return len(v) > 0
	case model.Matrix:
		for _, s := range v {
			if len(s.Values) > 0 || len(s.Histograms) > 0 {
				return true
			}
		}
	case *model.Scalar, *model.String:
		return true
	}
	return false
}

func (p *Prometheus) query(ctx context.Context, query string) (model.Value, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	u := p.url + "/api/v1/query?" + url.Values{"query": {query}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, r.Error)
	}
	switch r.Data.ResultType {
	case "vector":
		var v model.Vector
		err = json.Unmarshal(r.Data.Result, &v)
		return v, err
	case "matrix":
		var m model.Matrix
		err = json.Unmarshal(r.Data.Result, &m)
		return m, err
	case "scalar":
		s := &model.Scalar{}
		err = json.Unmarshal(r.Data.Result, s)
		return s, err
	case "string":
		s := &model.String{}
		err = json.Unmarshal(r.Data.Result, s)
		return s, err
	}
	return nil, fmt.Errorf("unknown result type %q", r.Data.ResultType)
}

// config renders prometheus.yml: one job per target, so each can have its
// own metrics path.
func config(targets []string) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n",
		model.Duration(ScrapeInterval), model.Duration(ScrapeInterval), model.Duration(ScrapeInterval))
	if len(targets) == 0 {
		return b.Bytes(), nil
	}
	b.WriteString("scrape_configs:\n")
	for i, target := range targets {
		hostPort, path, err := parseTarget(target)
		if err != nil {
			return nil, err
		}
		// Values are JSON-quoted, which YAML reads as double-quoted strings.
		job, _ := json.Marshal(fmt.Sprintf("target%d", i))
		pathJSON, _ := json.Marshal(path)
		hostJSON, _ := json.Marshal(hostPort)
		fmt.Fprintf(&b, "  - job_name: %s\n    metrics_path: %s\n    static_configs:\n      - targets: [%s]\n",
			job, pathJSON, hostJSON)
	}
	return b.Bytes(), nil
}

// parseTarget accepts "host:port" or "http://host:port/path" on a loopback
// host, so a test never scrapes (or leaks requests to) another machine.
func parseTarget(target string) (hostPort, path string, err error) {
	hostPort, path = target, "/metrics"
	if strings.Contains(target, "://") {
		u, err := url.Parse(target)
		if err != nil {
			return "", "", fmt.Errorf("scrape target %q: %w", target, err)
		}
		if u.Scheme != "http" {
			return "", "", fmt.Errorf("scrape target %q: only http is supported", target)
		}
		if u.RawQuery != "" {
			return "", "", fmt.Errorf("scrape target %q: query parameters are not supported", target)
		}
		hostPort = u.Host
		if u.Path != "" {
			path = u.Path
		}
	}
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return "", "", fmt.Errorf("scrape target %q: %w", target, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", "", fmt.Errorf("scrape target %q: bad port", target)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", "", fmt.Errorf("scrape target %q is not on a loopback address", target)
	}
	return hostPort, path, nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
