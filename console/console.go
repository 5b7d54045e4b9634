// Package console is the web console every node serves on its admin
// endpoint under /console/: the cluster's nodes, tables and partitions,
// the Doctor's timeline, gates and approvals, request traces, jobs,
// settings and the raft state of a partition, in a browser, with nothing
// to install. The pages are plain HTML, CSS and JavaScript embedded in
// the binary (assets/); they read the admin endpoint's JSON routes
// (/cluster/, /doctor/, /debug/jobs/, /config) and the console's own:
//
//	GET /console/api/metrics[?since=DUR]          NodeMetrics of this node
//	GET /console/api/cluster/metrics[?since=DUR]  []NodeMetrics of every node
//	GET /console/api/partitions?table=T[&page=N&size=M]  PartitionPage: a page of a table's partitions, their load, the heat map
//	GET /console/api/traces[?scope=node]          []TraceSummary, newest first, of every node (or this one)
//	GET /console/api/traces/{id}[?scope=node]     []SpanRecord of the trace on every node (or this one)
//	GET /console/api/doctor/plan                  the active Doctor's plan (/doctor/plan, redirect followed)
//	GET /console/api/topology                     the cluster view (/cluster/topology, redirect followed)
//
// Cluster-wide routes ask every node's admin endpoint on the server side,
// with the caller's Authorization header, so that the browser talks to
// one origin. See docs/console.md.
package console

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/partitadb/partita/telemetry"
	"github.com/partitadb/partita/topology"
)

//go:embed assets
var assets embed.FS

// Peer is a node of the cluster as the console reaches it.
type Peer struct {
	ID        uint64
	AdminAddr string
}

// Config lists what the console reads.
type Config struct {
	// Self is this node's id (0 until it has one).
	Self func() uint64
	// Version and Started describe this process.
	Version string
	Started time.Time
	// History is this node's metrics history; Ring its kept traces (nil:
	// tracing to the console is off).
	History *telemetry.History
	Ring    *telemetry.SpanRing
	// Partitions lists a table's partitions ("": every table's) with
	// their replicas' progress (the /cluster/partitions route's view).
	Partitions func(ctx context.Context, table string) ([]topology.PartitionInfo, error)
	// Peers lists every node of the cluster, this one included.
	Peers func(ctx context.Context) []Peer
	// Client asks the other nodes' admin endpoints (its TLS
	// configuration trusts their certificates when they serve HTTPS).
	Client *http.Client
	// Logger receives the failures to reach a node.
	Logger *slog.Logger
}

// Validate reports a missing dependency.
func (c Config) Validate() error {
	if c.Self == nil || c.History == nil || c.Peers == nil || c.Client == nil || c.Partitions == nil {
		return errors.New("console: Self, History, Partitions, Peers and Client are required")
	}
	return nil
}

// Handler serves the console; it sees the full request path (/console/...).
type Handler struct {
	cfg    Config
	mux    *http.ServeMux
	zipped http.Handler // mux, compressed
	zpool  sync.Pool    // of *gzip.Writer
	admin  atomic.Pointer[http.Handler]
}

// SetAdmin gives the console the admin endpoint it is mounted in: it
// reads this node's routes (the Doctor's plan, the cluster view) in
// process, as the caller of the console's request.
func (h *Handler) SetAdmin(admin http.Handler) { h.admin.Store(&admin) }

// NewHandler returns the console's handler.
func NewHandler(cfg Config) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux()}
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	files := http.StripPrefix("/console/", http.FileServerFS(static))
	h.mux.Handle("GET /console/", noCache(files))
	h.mux.HandleFunc("GET /console/api/metrics", h.metrics)
	h.mux.HandleFunc("GET /console/api/cluster/metrics", h.clusterMetrics)
	h.mux.HandleFunc("GET /console/api/partitions", h.partitions)
	h.mux.HandleFunc("GET /console/api/traces", h.traces)
	h.mux.HandleFunc("GET /console/api/traces/{id}", h.trace)
	h.mux.HandleFunc("GET /console/api/doctor/plan", h.follow("/doctor/plan"))
	h.mux.HandleFunc("GET /console/api/topology", h.follow("/cluster/topology"))
	h.zipped = compressed(&h.zpool, h.mux)
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.zipped.ServeHTTP(w, r) }

// noCache makes browsers revalidate the assets, so that an upgraded node
// serves its own pages.
func noCache(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		next.ServeHTTP(w, r)
	})
}
