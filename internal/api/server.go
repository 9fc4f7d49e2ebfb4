// Package api is vigil's HTTP surface: the operations listener with /health
// and /metrics, onto which mechanisms mount their own routes.
package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Opts configures a Server.
type Opts struct {
	Listen   string // host:port; port 0 picks a free one
	Registry *prometheus.Registry
	Health   *Health
	Logger   *slog.Logger
}

// Server is an HTTP server with health and metrics routes. It binds its
// listener in New, so its address is known (and a port clash reported)
// before the process starts serving.
type Server struct {
	mux      *http.ServeMux
	srv      *http.Server
	ln       net.Listener
	requests *prometheus.CounterVec
}

// New validates opts, binds the listener and mounts /health and /metrics.
func New(opts Opts) (*Server, error) {
	switch {
	case opts.Listen == "":
		return nil, errors.New("api: no listen address specified")
	case opts.Registry == nil:
		return nil, errors.New("api: no metrics registry specified")
	case opts.Health == nil:
		return nil, errors.New("api: no health specified")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", opts.Listen, err)
	}
	s := &Server{mux: http.NewServeMux(), ln: ln}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace,
		Subsystem: "http",
		Name:      "requests_total",
		Help:      "HTTP requests served, by route and status code.",
	}, []string{"route", "code"})
	if err := opts.Registry.Register(s.requests); err != nil {
		ln.Close()
		return nil, fmt.Errorf("register HTTP metrics: %w", err)
	}
	s.Handle("GET /health", opts.Health)
	s.Handle("GET /metrics", promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelError),
		ErrorHandling:     promhttp.ContinueOnError,
		Registry:          opts.Registry,
		Timeout:           10 * time.Second,
		EnableOpenMetrics: false,
	}))
	s.srv = &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	return s, nil
}

// Handle mounts a handler on a ServeMux pattern ("GET /ratings"), counting
// its requests by route.
func (s *Server) Handle(pattern string, h http.Handler) {
	route := pattern
	if _, path, ok := strings.Cut(pattern, " "); ok {
		route = path
	}
	s.mux.Handle(pattern, promhttp.InstrumentHandlerCounter(s.requests.MustCurryWith(prometheus.Labels{"route": route}), h))
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// HTTPServer and Listener hand the server to a lifecycle actor.
func (s *Server) HTTPServer() *http.Server { return s.srv }

// Listener is the bound listener.
func (s *Server) Listener() net.Listener { return s.ln }
