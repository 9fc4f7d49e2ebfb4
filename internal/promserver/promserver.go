// Package promserver runs a real Prometheus server as a child process: the
// `prometheus` binary on a loopback port, with its data, log and a generated
// configuration in a directory of the caller's, scraping the given loopback
// targets. Tests use it through prometheustest; `vigil demo` uses it
// directly.
//
// The binary comes from $VIGIL_PROMETHEUS_BIN, else `prometheus` on PATH,
// else /usr/bin/prometheus (scripts/prometheus-deps.sh finds or installs it).
//
// Start returns once the server is ready, but Prometheus (2.x) applies its
// scrape targets only on a 5-second reload tick, so the first samples land
// about 5 s later: wait for them with WaitForSamples.
package promserver

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
	"time"

	"github.com/prometheus/common/model"
)

// BinEnv names the variable that points at the prometheus binary.
const BinEnv = "VIGIL_PROMETHEUS_BIN"

// DefaultBin is where Debian's prometheus package installs the binary.
const DefaultBin = "/usr/bin/prometheus"

// DefaultBinPath is DefaultBin, replaceable by tests.
var DefaultBinPath = DefaultBin

// DefaultScrapeInterval is how often the server scrapes its targets unless
// told otherwise.
const DefaultScrapeInterval = time.Second

const (
	startTimeout = 30 * time.Second // until /-/ready answers 200
	stopTimeout  = 10 * time.Second // after SIGTERM, before SIGKILL
	pollInterval = 100 * time.Millisecond
	portAttempts = 5
)

// ErrNoBinary is returned by Binary when no prometheus binary is found.
var ErrNoBinary = errors.New("no prometheus binary found")

// Binary returns the prometheus binary to run: $VIGIL_PROMETHEUS_BIN when
// set (an error if it is not executable), else `prometheus` on PATH, else
// DefaultBinPath.
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
	if executable(DefaultBinPath) == nil {
		return DefaultBinPath, nil
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

// Options configure Start.
type Options struct {
	// Bin is the binary; "" means Binary().
	Bin string
	// Dir holds the configuration, the data and the log; it must exist.
	Dir string
	// Targets are scraped, each a loopback "host:port" (path /metrics) or a
	// loopback http:// URL.
	Targets []string
	// ScrapeInterval defaults to DefaultScrapeInterval.
	ScrapeInterval time.Duration
	// Retention bounds the data kept (default 1 day).
	Retention time.Duration
}

// Server is a running Prometheus.
type Server struct {
	url     string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has been waited for
	waitErr error
}

// Start writes the configuration, starts the server on a free loopback port
// and waits until it is ready. A port taken between choosing and binding it
// is retried with another.
func Start(opts Options) (*Server, error) {
	if opts.Bin == "" {
		bin, err := Binary()
		if err != nil {
			return nil, err
		}
		opts.Bin = bin
	}
	if opts.ScrapeInterval <= 0 {
		opts.ScrapeInterval = DefaultScrapeInterval
	}
	if opts.Retention <= 0 {
		opts.Retention = 24 * time.Hour
	}
	if fi, err := os.Stat(opts.Dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("prometheus directory %q: not a directory (%v)", opts.Dir, err)
	}
	cfg, err := Config(opts.Targets, opts.ScrapeInterval)
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(opts.Dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 1; attempt <= portAttempts; attempt++ {
		s, err := start(opts, cfgPath, attempt)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	return nil, lastErr
}

func start(opts Options, cfgPath string, attempt int) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s := &Server{
		url:     "http://" + addr,
		logPath: filepath.Join(opts.Dir, fmt.Sprintf("prometheus.%d.log", attempt)),
		exited:  make(chan struct{}),
	}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child keeps its own descriptor
	s.cmd = exec.Command(opts.Bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(opts.Dir, fmt.Sprintf("data.%d", attempt)),
		"--web.listen-address="+addr,
		"--storage.tsdb.retention.time="+model.Duration(opts.Retention).String(),
		"--log.level=info",
	)
	s.cmd.Dir = opts.Dir
	s.cmd.Stdout = logFile
	s.cmd.Stderr = logFile
	s.cmd.SysProcAttr = sysProcAttr()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", opts.Bin, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w\n%s", err, s.LogTail(30))
	}
	return s, nil
}

// waitReady polls /-/ready until it answers 200, the process exits or the
// start timeout passes.
func (s *Server) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := client.Get(s.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("prometheus exited before it was ready (%v)", s.waitErr)
		case <-time.After(pollInterval):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("prometheus at %s not ready within %s", s.url, startTimeout)
		}
	}
}

// URL is the server's base URL, http://127.0.0.1:PORT.
func (s *Server) URL() string { return s.url }

// Done is closed when the process has exited.
func (s *Server) Done() <-chan struct{} { return s.exited }

// Err is the process's exit error, once Done is closed.
func (s *Server) Err() error {
	select {
	case <-s.exited:
		return s.waitErr
	default:
		return nil
	}
}

// Stop sends SIGTERM, then SIGKILL if the server has not exited in time,
// and returns once it has exited. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// LogTail returns the last lines of the server's log, indented.
func (s *Server) LogTail(lines int) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return "    " + strings.Join(all, "\n    ")
}

// WaitForSamples polls an instant query until its result holds at least
// one sample and returns that result, or the last error when ctx ends.
func (s *Server) WaitForSamples(ctx context.Context, query string) (model.Value, error) {
	var lastErr error
	for {
		v, err := s.Query(ctx, query)
		if err == nil && HasSamples(v) {
			return v, nil
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return nil, fmt.Errorf("no samples for %q: %w", query, lastErr)
			}
			return nil, fmt.Errorf("no samples for %q: %w", query, ctx.Err())
		case <-s.exited:
			return nil, fmt.Errorf("no samples for %q: prometheus exited (%v)", query, s.waitErr)
		case <-time.After(pollInterval):
		}
	}
}

// HasSamples reports whether a query result holds a sample: a non-empty
// vector, a matrix with a non-empty series, or a scalar or string.
func HasSamples(v model.Value) bool {
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

// Query runs an instant query at the server's now, with a 10 s timeout.
func (s *Server) Query(ctx context.Context, query string) (model.Value, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	u := s.url + "/api/v1/query?" + url.Values{"query": {query}}.Encode()
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
		v := &model.Scalar{}
		err = json.Unmarshal(r.Data.Result, v)
		return v, err
	case "string":
		v := &model.String{}
		err = json.Unmarshal(r.Data.Result, v)
		return v, err
	}
	return nil, fmt.Errorf("unknown result type %q", r.Data.ResultType)
}

// Config renders prometheus.yml: one job per target, so each can have its
// own metrics path.
func Config(targets []string, interval time.Duration) ([]byte, error) {
	var b bytes.Buffer
	d := model.Duration(interval)
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n", d, d, d)
	if len(targets) == 0 {
		return b.Bytes(), nil
	}
	b.WriteString("scrape_configs:\n")
	for i, target := range targets {
		hostPort, path, err := ParseTarget(target)
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

// ParseTarget accepts "host:port" or "http://host:port/path" on a loopback
// host, so a server started here never scrapes another machine.
func ParseTarget(target string) (hostPort, path string, err error) {
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
