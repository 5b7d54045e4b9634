// Package admin is a node's operator endpoint: Prometheus metrics, health
// and readiness probes, the log level, background jobs and, behind a flag,
// Go's profiler. Every node serves it on its admin address.
//
//	GET  /metrics             Prometheus metrics of the node
//	GET  /healthz             200 while the process is up
//	GET  /readyz              200 when the node can serve (storage open, not draining), else 503
//	GET  /debug/log-level     the current level; PUT with body "debug|info|warn|error" changes it
//	     /debug/jobs/...      the background jobs' admin surface, when a handler is given
//	     /debug/pprof/...     profiles, when Config.Pprof is set
//	     /cluster/...         the cluster's nodes, tables and partitions, drain and decommission, in a
//	                          cluster (cluster.go: ClusterHandler)
//	     /doctor/...          the Doctor's lease and this node's role (doctor.go: DoctorHandler)
//	     /auth/...            users and access keys of the DynamoDB API (auth.go: AuthHandler)
//	GET  /console/...         the web console (package console), when a handler is given; / redirects there
//
// With Config.Guard, every route that changes something needs an
// authenticated admin (client certificate or bearer token; guard.go).
package admin

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config lists what the admin endpoint serves.
type Config struct {
	// Gatherer is the node's metrics registry.
	Gatherer prometheus.Gatherer
	// Ready reports whether the node can serve requests, and why not.
	Ready func() error
	// Level is the process's log level, changed at run time.
	Level *slog.LevelVar
	// Jobs is the background jobs' admin handler (nil: none).
	Jobs http.Handler
	// Pprof exposes /debug/pprof.
	Pprof bool
	// Cluster serves the cluster's operator routes under /cluster/ (nil:
	// none, outside a cluster); it sees the full request path.
	Cluster http.Handler
	// Doctor serves the Doctor's routes under /doctor/ (nil: none); it
	// sees the full request path.
	Doctor http.Handler
	// Guard, if set, admits only authenticated admins to every route
	// that changes something (guard.go); nil: open, as in development.
	Guard *Guard
	// Auth serves the users' and access keys' routes under /auth/ (nil:
	// none); it sees the full request path.
	Auth http.Handler
	// Settings serves the run-time settings' routes, /config, /config/
	// and /debug/config (nil: none); it sees the full request path.
	Settings http.Handler
	// Upgrade serves the upgrade routes under /upgrade/ (nil: none).
	Upgrade http.Handler
	// Console serves the web console under /console/ (nil: none); it
	// sees the full request path. / redirects to it.
	Console http.Handler
}

// Validate reports a missing dependency.
func (c Config) Validate() error {
	if c.Gatherer == nil || c.Ready == nil || c.Level == nil {
		return errors.New("admin: Gatherer, Ready and Level are required")
	}
	return nil
}

// NewHandler returns the admin endpoint's handler.
func NewHandler(cfg Config) (http.Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := cfg.Ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("GET /debug/log-level", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, strings.ToLower(cfg.Level.Level().String()))
	})
	mux.HandleFunc("PUT /debug/log-level", func(w http.ResponseWriter, r *http.Request) {
		setLevel(w, r, cfg.Level)
	})
	if cfg.Jobs != nil {
		mux.Handle("/debug/jobs/", http.StripPrefix("/debug", cfg.Jobs))
	}
	if cfg.Cluster != nil {
		mux.Handle("/cluster/", cfg.Cluster)
	}
	if cfg.Doctor != nil {
		mux.Handle("/doctor/", cfg.Doctor)
	}
	if cfg.Auth != nil {
		mux.Handle("/auth/", cfg.Auth)
	}
	if cfg.Upgrade != nil {
		mux.Handle("/upgrade/", cfg.Upgrade)
	}
	if cfg.Console != nil {
		mux.Handle("/console/", cfg.Console)
		mux.Handle("GET /{$}", http.RedirectHandler("/console/", http.StatusFound))
		mux.Handle("GET /console", http.RedirectHandler("/console/", http.StatusFound))
	}
	if cfg.Settings != nil {
		mux.Handle("/config", cfg.Settings)
		mux.Handle("/config/", cfg.Settings)
		mux.Handle("/debug/config", cfg.Settings)
	}
	if cfg.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	if cfg.Guard != nil {
		return cfg.Guard.wrap(mux), nil
	}
	return mux, nil
}

func setLevel(w http.ResponseWriter, r *http.Request, lv *slog.LevelVar) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.TrimSpace(string(body)))); err != nil {
		http.Error(w, fmt.Sprintf("bad level %q: want debug, info, warn or error", body), http.StatusBadRequest)
		return
	}
	lv.Set(level)
	fmt.Fprintln(w, strings.ToLower(level.String()))
}
