package node

import (
	"context"
	"crypto/tls"
	"net/http"
	"time"

	"github.com/partitadb/partita/console"
	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/telemetry"
)

// HistoryJob is the name of the job sampling the console's metrics
// history.
const HistoryJob = "metrics-history"

// historyKeep is an hour of samples at the default interval.
const historyKeep = 720

// registerHistoryJob creates the metrics history and the job that samples
// it every MetricsHistoryInterval.
func (n *Node) registerHistoryJob(m *daemon.Manager) error {
	every := n.cfg.MetricsHistoryInterval
	if every <= 0 {
		every = 5 * time.Second
	}
	n.history = telemetry.NewHistory(telemetry.HistoryConfig{Gatherer: n.reg, Keep: historyKeep})
	return m.Register(daemon.JobSpec{
		Name:       HistoryJob,
		Kind:       daemon.Periodic,
		Interval:   every,
		Timeout:    every,
		RunAtStart: true,
		Run:        func(ctx context.Context, _ *daemon.Cycle) error { return n.history.Sample(ctx) },
	})
}

// consoleHandler is the web console of the admin endpoint. Its client's
// idle connections to the other nodes close with the admin endpoint
// (stopConsole).
func (n *Node) consoleHandler() (*console.Handler, error) {
	var tlsCfg *tls.Config
	if n.sec.peerClient != nil { // the nodes' admin endpoints show certificates of the cluster CA
		tlsCfg = &tls.Config{RootCAs: n.sec.peerClient.RootCAs, MinVersion: tls.VersionTLS12}
	}
	n.consoleTr = &http.Transport{TLSClientConfig: tlsCfg, MaxIdleConnsPerHost: 4}
	h, err := console.NewHandler(console.Config{
		Self:       func() uint64 { return n.id },
		Version:    Version,
		Started:    n.started,
		History:    n.history,
		Ring:       n.ring,
		Peers:      n.consolePeers,
		Partitions: ctl{n: n}.Partitions,
		Client:     &http.Client{Transport: n.consoleTr},
		Logger:     n.log,
	})
	return h, err
}

// stopConsole closes the console client's idle connections.
func (n *Node) stopConsole() {
	if n.consoleTr != nil {
		n.consoleTr.CloseIdleConnections()
	}
}

// consolePeers lists the nodes of the directory and their admin
// endpoints.
func (n *Node) consolePeers(ctx context.Context) []console.Peer {
	nodes := ctl{n: n}.Nodes(ctx)
	out := make([]console.Peer, 0, len(nodes))
	for _, nd := range nodes {
		out = append(out, console.Peer{ID: nd.ID, AdminAddr: nd.AdminAddr})
	}
	return out
}
