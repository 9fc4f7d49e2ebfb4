package kaspasim

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves the simulation: /metrics in the Prometheus exposition
// formats, /workers as JSON (a Snapshot), and an index at /.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /workers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s.Snapshot())
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "vigil kaspa-sim: a simulated Kaspa stratum bridge exporter (%s deployment, %d workers)\n\n"+
			"  /metrics  the bridge's metrics, for Prometheus\n"+
			"  /workers  the simulated workers and their profiles, as JSON\n", s.cfg.Deployment, len(s.workers))
	})
	return mux
}
