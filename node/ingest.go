package node

import (
	"context"
	"time"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/topology/ingest"
	"github.com/partitadb/partita/topology/topologypb"
)

// Every node runs a topology ingester fed by the snapshots the other nodes
// report to it over the cluster service (ReportTopology, the fast path).
// Nodes report to the active Doctor's node (the meta partition's leader
// when no Doctor is active): its ingester holds the cluster's view, the
// one the Doctor plans from, and `partita ctl topology` asked of any
// other node is redirected to its admin endpoint (see ctl.Topology).

// IngestConfig tunes the node's topology ingester (zero fields: the
// defaults of ingest.DefaultConfig).
type IngestConfig struct {
	// Interval is the nodes' topology interval, for the snapshots that do
	// not carry theirs.
	Interval time.Duration
	// SuspectAfter and DeadAfter classify a node by the age of its newest
	// snapshot: suspect after SuspectAfter intervals, dead after DeadAfter
	// (default: 30 s, or three times the suspect period if longer).
	SuspectAfter int
	DeadAfter    time.Duration
	// Window is the number of samples kept per node.
	Window int
}

// startIngest creates the node's ingester.
func (n *Node) startIngest() error {
	cfg := ingest.DefaultConfig()
	cfg.Now, cfg.Registerer, cfg.Logger = n.now, n.reg, n.log
	if c := n.cfg.Ingest; c.Interval > 0 {
		cfg.Interval = c.Interval
	} else if n.cfg.TopologyInterval > 0 {
		cfg.Interval = n.cfg.TopologyInterval
	}
	if c := n.cfg.Ingest; c.SuspectAfter > 0 {
		cfg.SuspectAfter = c.SuspectAfter
	}
	if c := n.cfg.Ingest; c.DeadAfter > 0 {
		cfg.DeadAfter = c.DeadAfter
	} else { // long intervals: dead a few suspect periods after the last snapshot
		cfg.DeadAfter = max(cfg.DeadAfter, 3*time.Duration(cfg.SuspectAfter)*cfg.Interval)
	}
	cfg.Forget = max(cfg.Forget, cfg.DeadAfter)
	if c := n.cfg.Ingest; c.Window > 0 {
		cfg.Window = c.Window
	}
	var err error
	n.ingest, err = ingest.New(cfg)
	return err
}

// peerService is what the node serves its peers: its member's abilities,
// and its ingester taking topology reports.
func (n *Node) peerService() cluster.Local {
	return cluster.WithTopologyReceiver(n.member.Peer(), topologyReceiver{n})
}

// topologyReceiver feeds reported snapshots to the node's ingester.
type topologyReceiver struct{ n *Node }

// ReceiveTopology takes a reported snapshot. A duplicate (a report
// retried, or read from the bucket first) is not the sender's problem;
// any other skip is returned, so that the sender sees, e.g., its clock
// running ahead.
func (r topologyReceiver) ReceiveTopology(_ context.Context, s *topologypb.TopologySnapshot) error {
	return r.n.ReceiveTopology(s)
}

// ReceiveTopology hands the node's ingester a snapshot, as a report over
// the cluster service does: the node's own publisher uses it when the
// node receives the reports itself.
func (n *Node) ReceiveTopology(s *topologypb.TopologySnapshot) error {
	if err := n.ingest.Report(s); err != nil && ingest.ReasonOf(err) != ingest.Duplicate {
		return err
	}
	return nil
}

// TopologyReceiver is the node the nodes report their snapshots to: the
// active Doctor's, by the lease in this node's directory cache; without a
// Doctor, the meta partition's leader as this node knows it (0: unknown).
func (n *Node) TopologyReceiver() uint64 {
	if l := n.dir.Snapshot().DoctorLease; directory.LeaseHeld(l, n.now()) {
		return l.GetHolder()
	}
	if n.store != nil {
		if r := n.store.Replica(directory.MetaPartition); r != nil {
			if lead := r.Leader(); lead != 0 {
				return lead
			}
		}
	}
	return n.dir.Leader(directory.MetaPartition)
}

// Ingester is the node's topology ingester.
func (n *Node) Ingester() *ingest.Ingester { return n.ingest }

var _ admin.TopologySource = ctl{}

// Topology is the cluster view of this node's ingester when it receives
// the reports (or when the receiver is unknown or has no admin endpoint);
// otherwise an *admin.TopologyElsewhereError sends the caller to the
// receiver's admin endpoint.
func (c ctl) Topology(ctx context.Context) (admin.TopologyInfo, error) {
	recv := c.n.TopologyReceiver()
	if recv != 0 && recv != c.n.id {
		if rec := c.Directory(ctx).Node(recv); rec != nil && rec.GetAdminAddr() != "" {
			return admin.TopologyInfo{}, &admin.TopologyElsewhereError{Node: recv, AdminAddr: rec.GetAdminAddr()}
		}
	}
	return admin.TopologyInfo{Node: c.n.id, Receiver: recv == c.n.id, Stats: c.n.ingest.Stats(), View: c.n.ingest.View()}, nil
}
