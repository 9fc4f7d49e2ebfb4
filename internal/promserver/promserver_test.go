package promserver

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseTarget(t *testing.T) {
	for _, tt := range []struct {
		in, hostPort, path string
		ok                 bool
	}{
		{"127.0.0.1:9100", "127.0.0.1:9100", "/metrics", true},
		{"localhost:9100", "localhost:9100", "/metrics", true},
		{"[::1]:9100", "[::1]:9100", "/metrics", true},
		{"http://127.0.0.1:8080/custom", "127.0.0.1:8080", "/custom", true},
		{"http://127.0.0.1:8080", "127.0.0.1:8080", "/metrics", true},
		{"10.0.0.1:9100", "", "", false},
		{"pool.hashtensor.com:9090", "", "", false},
		{"https://127.0.0.1:8080/metrics", "", "", false},
		{"http://127.0.0.1:8080/metrics?x=1", "", "", false},
		{"127.0.0.1", "", "", false},
		{"127.0.0.1:99999", "", "", false},
	} {
		hp, path, err := ParseTarget(tt.in)
		if (err == nil) != tt.ok || hp != tt.hostPort || path != tt.path {
			t.Errorf("ParseTarget(%q) = %q, %q, %v; want %q, %q, ok=%v", tt.in, hp, path, err, tt.hostPort, tt.path, tt.ok)
		}
	}
}

func TestConfig(t *testing.T) {
	b, err := Config([]string{"127.0.0.1:1234", "http://localhost:5678/x"}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"scrape_interval: 1s", "scrape_timeout: 1s",
		`job_name: "target0"`, `targets: ["127.0.0.1:1234"]`, `metrics_path: "/metrics"`,
		`job_name: "target1"`, `targets: ["localhost:5678"]`, `metrics_path: "/x"`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("config lacks %q:\n%s", want, b)
		}
	}
	if _, err := Config([]string{"192.168.1.1:80"}, time.Second); err == nil {
		t.Error("a non-loopback target was accepted")
	}
}

func TestBinary(t *testing.T) {
	t.Setenv(BinEnv, filepath.Join(t.TempDir(), "missing"))
	if _, err := Binary(); err == nil || errors.Is(err, ErrNoBinary) {
		t.Errorf("a missing %s gave %v, want an error naming it", BinEnv, err)
	}
	t.Setenv(BinEnv, t.TempDir())
	if _, err := Binary(); err == nil {
		t.Errorf("a directory in %s was accepted", BinEnv)
	}
	exe := filepath.Join(t.TempDir(), "prometheus")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(BinEnv, exe)
	if got, err := Binary(); err != nil || got != exe {
		t.Errorf("Binary() = %q, %v; want %q", got, err, exe)
	}
}

func TestStartErrors(t *testing.T) {
	if _, err := Start(Options{Bin: "/bin/true", Dir: filepath.Join(t.TempDir(), "missing")}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a missing directory: %v", err)
	}
	if _, err := Start(Options{Bin: "/bin/true", Dir: t.TempDir(), Targets: []string{"10.1.2.3:80"}}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("a remote target: %v", err)
	}
	// A binary that exits at once is reported, not waited on for 30 s.
	exe := filepath.Join(t.TempDir(), "prometheus")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\necho broken config >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := Start(Options{Bin: exe, Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "broken config") {
		t.Errorf("an exiting binary: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("an exiting binary took %s to report", d)
	}
}
