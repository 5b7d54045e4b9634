// Package node wires one Partita node together: engine, store, router and
// the DynamoDB API server. cmd/partita runs it; end-to-end tests start it on
// 127.0.0.1:0 exactly as the binary does.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/dynamo"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/kv"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/transport"
)

// Config configures a node.
type Config struct {
	// DataDir holds the node's data; created if missing.
	DataDir string
	// APIAddr is the DynamoDB API listen address ("127.0.0.1:8000"; port 0
	// picks a free port).
	APIAddr string
	// AdminAddr is the admin endpoint's listen address (metrics, health,
	// readiness, log level); empty: no admin endpoint.
	AdminAddr string
	// Pprof exposes /debug/pprof on the admin endpoint.
	Pprof bool
	// Level is the log level the admin endpoint may change (nil: fixed).
	Level *slog.LevelVar
	// Region and AccountID appear in ARNs.
	Region    string
	AccountID string
	// PartitionsPerTable is the number of partitions of a new table.
	PartitionsPerTable uint32
	// ShutdownTimeout bounds the wait for in-flight requests on Close.
	ShutdownTimeout time.Duration
	// Logger receives the node's logs.
	Logger *slog.Logger
}

// DefaultConfig returns the configuration of `partita dev`.
func DefaultConfig() Config {
	return Config{
		DataDir:            "partita-data",
		APIAddr:            "127.0.0.1:8000",
		Region:             "us-east-1",
		AccountID:          "000000000000",
		PartitionsPerTable: 4,
		ShutdownTimeout:    10 * time.Second,
		Logger:             slog.New(slog.DiscardHandler),
	}
}

// Validate reports missing or contradictory settings.
func (c Config) Validate() error {
	switch {
	case c.DataDir == "":
		return errors.New("node: DataDir is required")
	case c.APIAddr == "":
		return errors.New("node: APIAddr is required")
	case c.Logger == nil:
		return errors.New("node: Logger is required")
	case c.ShutdownTimeout <= 0:
		return errors.New("node: ShutdownTimeout must be positive")
	}
	return nil
}

// Node is a running node. Close stops it.
type Node struct {
	cfg      Config
	reg      *prometheus.Registry
	eng      *engine.Engine
	store    *store.Store
	draining atomic.Bool
	api      *server
	admin    *server // nil without AdminAddr
}

// Start opens the node's storage and starts serving the DynamoDB API.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("node: data dir: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	eng, err := engine.Open(engine.Options{Dir: cfg.DataDir, Logger: cfg.Logger, Registerer: reg})
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, reg: reg, eng: eng}
	if err := n.startStore(ctx); err != nil {
		return nil, errors.Join(err, eng.Close())
	}
	if err := n.serve(ctx); err != nil {
		n.store.Stop()
		return nil, errors.Join(err, eng.Close())
	}
	return n, nil
}

// nodeID is the id of the single node (the only voter of every group).
const nodeID = 1

// startStore starts the raft store and makes sure the meta partition and
// every table partition the catalog lists have their replica here (a crash
// may fall between a table's creation and its partitions').
func (n *Node) startStore(ctx context.Context) error {
	scfg := store.DefaultConfig()
	scfg.NodeID, scfg.Engine, scfg.Logger, scfg.Registerer = nodeID, n.eng, n.cfg.Logger, n.reg
	s, err := store.NewStore(scfg)
	if err != nil {
		return err
	}
	s.Start(transport.NewInmem(0).Connect(nodeID, s))
	n.store = s
	host := localHost{Store: s, nodeID: nodeID}
	if err := host.CreatePartition(ctx, &partitapb.Partition{Id: kv.MetaPartition}); err != nil {
		s.Stop()
		return err
	}
	tables, err := kv.ReadTables(n.eng.Reader())
	if err != nil {
		s.Stop()
		return err
	}
	for _, t := range tables {
		for _, p := range t.GetPartitions() {
			if err := host.CreatePartition(ctx, p); err != nil {
				s.Stop()
				return err
			}
		}
	}
	return nil
}

func (n *Node) serve(ctx context.Context) error {
	rcfg := router.DefaultConfig()
	rcfg.Engine, rcfg.Store, rcfg.Logger = n.eng, localHost{Store: n.store, nodeID: nodeID}, n.cfg.Logger
	rcfg.PartitionsPerTable = n.cfg.PartitionsPerTable
	rt, err := router.New(rcfg)
	if err != nil {
		return err
	}
	dcfg := dynamo.DefaultConfig()
	dcfg.Backend, dcfg.Logger = rt, n.cfg.Logger
	dcfg.Region, dcfg.AccountID = n.cfg.Region, n.cfg.AccountID
	api, err := dynamo.NewServer(dcfg)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if n.api, err = listen(ctx, n.cfg.APIAddr, api); err != nil {
		return err
	}
	if n.cfg.AdminAddr == "" {
		return nil
	}
	return n.serveAdmin(ctx)
}

func (n *Node) serveAdmin(ctx context.Context) error {
	level := n.cfg.Level
	if level == nil {
		level = &slog.LevelVar{}
	}
	h, err := admin.NewHandler(admin.Config{Gatherer: n.reg, Ready: n.ready, Level: level, Pprof: n.cfg.Pprof})
	if err != nil {
		return err
	}
	if n.admin, err = listen(ctx, n.cfg.AdminAddr, h); err != nil {
		n.api.shutdown(ctx)
		return err
	}
	return nil
}

// ready reports whether the node can serve: storage open and not draining.
func (n *Node) ready() error {
	if n.draining.Load() {
		return errors.New("draining")
	}
	return nil
}

// APIURL is the DynamoDB endpoint URL, e.g. "http://127.0.0.1:8000".
func (n *Node) APIURL() string { return n.api.url() }

// AdminURL is the admin endpoint URL, or "" without one.
func (n *Node) AdminURL() string {
	if n.admin == nil {
		return ""
	}
	return n.admin.url()
}

// Close stops accepting requests, waits for in-flight ones (up to
// ShutdownTimeout) and closes the storage. Every write acknowledged before
// Close is already durable.
func (n *Node) Close() error {
	n.draining.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.ShutdownTimeout)
	defer cancel()
	err := n.api.shutdown(ctx)
	if n.admin != nil {
		err = errors.Join(err, n.admin.shutdown(ctx))
	}
	n.store.Stop()
	return errors.Join(err, n.eng.Close())
}

var _ dynamo.Backend = (*router.Router)(nil)
