package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestHealth: 'vigil health' exits 0 on a 200, 1 on a 503 (printing the
// failing checks) or on no answer, and 2 on a bad URL.
func TestHealth(t *testing.T) {
	var failing atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"failing","checks":{"chain":"chain unreachable"}}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()
	if r := run(t, nil, "health", "--url", srv.URL+"/health"); r.code != exitOK || !strings.Contains(r.stdout, `"ok"`) {
		t.Errorf("healthy: %+v", r)
	}
	failing.Store(true)
	if r := run(t, nil, "health", "--url", srv.URL+"/health"); r.code != exitFailure || !strings.Contains(r.stdout, "chain unreachable") {
		t.Errorf("failing: %+v", r)
	}
	url := srv.URL
	srv.Close()
	if r := run(t, nil, "health", "--url", url+"/health", "--timeout", "1s"); r.code != exitFailure {
		t.Errorf("no answer: %+v", r)
	}
	if r := run(t, nil, "health", "--url", "ftp://x/health"); r.code != exitUsage {
		t.Errorf("bad URL: %+v", r)
	}
}
