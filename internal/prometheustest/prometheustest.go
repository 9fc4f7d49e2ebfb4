// Package prometheustest runs a real Prometheus server for tests (see
// promserver): on a free loopback port, with a throwaway directory, scraping
// the given targets every ScrapeInterval, stopped when the test ends.
//
// Without a binary the test is skipped, except under CI=true, where it
// fails: CI must prove the code against a real server. Prometheus applies
// its scrape targets about 5 s after it starts: wait for the first samples
// with WaitForSamples, and run tests that start a server in parallel.
package prometheustest

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/vigil-validator/vigil/internal/promserver"
)

// BinEnv names the variable that points at the prometheus binary.
const BinEnv = promserver.BinEnv

// ScrapeInterval is how often the server scrapes its targets.
const ScrapeInterval = promserver.DefaultScrapeInterval

// waitTimeout bounds WaitForSamples.
const waitTimeout = 30 * time.Second

// Prometheus is a running server.
type Prometheus struct {
	*promserver.Server
}

// Start starts a server scraping each target (a loopback "host:port" or
// http:// URL) and waits until it is ready. It is stopped when the test
// ends; on failure the end of its log is printed.
func Start(t testing.TB, scrapeTargets ...string) *Prometheus {
	t.Helper()
	bin := Binary(t)
	s, err := promserver.Start(promserver.Options{Bin: bin, Dir: t.TempDir(), Targets: scrapeTargets})
	if err != nil {
		t.Fatalf("prometheustest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("prometheustest: end of the server log (%s):\n%s", s.URL(), s.LogTail(40))
		}
		s.Stop()
	})
	return &Prometheus{s}
}

// Binary returns the prometheus binary, or skips the test when there is
// none (fails it under CI=true).
func Binary(t testing.TB) string {
	t.Helper()
	bin, err := promserver.Binary()
	switch {
	case errors.Is(err, promserver.ErrNoBinary):
		msg := "prometheustest: no prometheus binary (set " + BinEnv + ", put prometheus on PATH, " +
			"or install it: scripts/prometheus-deps.sh with VIGIL_INSTALL_DEPS=1 as root, or apt-get install prometheus)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; CI=true requires it")
		}
		t.Skip(msg)
	case err != nil:
		t.Fatalf("prometheustest: %v", err)
	}
	return bin
}

// Query runs an instant query at the server's now and returns its result.
func (p *Prometheus) Query(t testing.TB, query string) model.Value {
	t.Helper()
	v, err := p.Server.Query(context.Background(), query)
	if err != nil {
		t.Fatalf("prometheustest: query %q: %v", query, err)
	}
	return v
}

// WaitForSamples polls an instant query until its result holds at least one
// sample and returns that result; it fails the test after 30 s.
func (p *Prometheus) WaitForSamples(t testing.TB, query string) model.Value {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	v, err := p.Server.WaitForSamples(ctx, query)
	if err != nil {
		t.Fatalf("prometheustest: %v", err)
	}
	return v
}
