package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/kv"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
)

// directory is a node's cached copy of the cluster's catalogue: nodes and
// their addresses, which nodes hold each partition, and who is believed to
// lead it. It is refreshed from a meta replica by a background job and
// corrected by the leader hints requests bring back.
type directory struct {
	mu       sync.RWMutex
	nodes    map[uint64]*partitapb.Node
	meta     []uint64            // meta partition's voters
	replicas map[uint64][]uint64 // partition -> voters
	tables   []*partitapb.Table
	leaders  map[uint64]uint64 // partition -> leader hint
}

func newDirectory() *directory {
	return &directory{
		nodes:    make(map[uint64]*partitapb.Node),
		replicas: make(map[uint64][]uint64),
		leaders:  make(map[uint64]uint64),
	}
}

// update replaces the cached catalogue with d.
func (dir *directory) update(d *cluster.Directory) {
	dir.mu.Lock()
	defer dir.mu.Unlock()
	if len(d.Nodes) > 0 { // a removed node leaves the cache too
		dir.nodes = make(map[uint64]*partitapb.Node, len(d.Nodes))
	}
	for _, n := range d.Nodes {
		dir.nodes[n.GetId()] = n
	}
	if len(d.MetaReplicas) > 0 {
		dir.meta = slices.Clone(d.MetaReplicas)
		dir.replicas[kv.MetaPartition] = dir.meta
	}
	dir.tables = d.Tables
	for _, t := range d.Tables {
		for _, p := range t.GetPartitions() {
			dir.replicas[p.GetId()] = p.GetReplicas()
		}
	}
}

// addNode records a node learnt outside a refresh (at join).
func (dir *directory) addNode(n *partitapb.Node) {
	dir.mu.Lock()
	defer dir.mu.Unlock()
	dir.nodes[n.GetId()] = n
}

// peerAddr returns the peer address of node id.
func (dir *directory) peerAddr(id uint64) (string, error) {
	dir.mu.RLock()
	defer dir.mu.RUnlock()
	n, ok := dir.nodes[id]
	if !ok || n.GetPeerAddr() == "" {
		return "", fmt.Errorf("%w: %d", errUnknownNode, id)
	}
	return n.GetPeerAddr(), nil
}

// nodes returns every known node, by id.
func (dir *directory) allNodes() []*partitapb.Node {
	dir.mu.RLock()
	defer dir.mu.RUnlock()
	out := make([]*partitapb.Node, 0, len(dir.nodes))
	for _, n := range dir.nodes {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b *partitapb.Node) int { return int(a.GetId()) - int(b.GetId()) })
	return out
}

// metaReplicas returns the meta partition's voters as last seen.
func (dir *directory) metaReplicas() []uint64 {
	dir.mu.RLock()
	defer dir.mu.RUnlock()
	return slices.Clone(dir.meta)
}

// replicasOf returns the voters of partition as last seen.
func (dir *directory) replicasOf(partition uint64) []uint64 {
	dir.mu.RLock()
	defer dir.mu.RUnlock()
	return slices.Clone(dir.replicas[partition])
}

// partitions returns every partition the catalogue lists.
func (dir *directory) partitions() []*partitapb.Partition {
	dir.mu.RLock()
	defer dir.mu.RUnlock()
	var out []*partitapb.Partition
	for _, t := range dir.tables {
		out = append(out, t.GetPartitions()...)
	}
	return out
}

// leader returns the leader hint of partition (0: none).
func (dir *directory) leader(partition uint64) uint64 {
	dir.mu.RLock()
	defer dir.mu.RUnlock()
	return dir.leaders[partition]
}

// setLeader records a leader hint.
func (dir *directory) setLeader(partition, node uint64) {
	dir.mu.Lock()
	defer dir.mu.Unlock()
	if node == 0 {
		delete(dir.leaders, partition)
	} else {
		dir.leaders[partition] = node
	}
}

var errNoDirectorySource = errors.New("node: no node to read the directory from")

// errUnknownNode: the directory has no address for a node (not joined yet,
// or removed).
var errUnknownNode = errors.New("node: no address known for node")

// refresh reloads the catalogue from a meta replica: this node's own when
// it leads the meta partition, else the meta voters (or the join
// addresses of a node that knows none yet).
func (n *Node) refreshDirectory(ctx context.Context) error {
	if n.store.Replica(kv.MetaPartition) != nil {
		// A meta replica reads its own copy: a cache may lag a little.
		d, err := n.localDirectory(ctx, false)
		if err == nil {
			n.dir.update(d)
		}
		return err
	}
	var errs []error
	candidates := append([]uint64{n.dir.leader(kv.MetaPartition)}, n.dir.metaReplicas()...)
	for i := 0; i < len(candidates) && i < 8; i++ {
		id := candidates[i]
		if id == 0 || id == n.id {
			continue
		}
		d, err := n.client.Directory(ctx, id)
		if err == nil {
			n.dir.update(d)
			return nil
		}
		var nl *replica.NotLeaderError
		if errors.As(err, &nl) && nl.Leader != 0 {
			candidates = append(candidates, nl.Leader)
		}
		errs = append(errs, err)
	}
	for _, addr := range n.cfg.Join {
		d, err := n.client.DirectoryAt(ctx, addr)
		if err == nil {
			n.dir.update(d)
			return nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return errNoDirectorySource
	}
	return errors.Join(errs...)
}

// Liveness is a node's state as its heartbeats show it.
type Liveness string

// The liveness states: a node is suspect after missing a few heartbeats,
// and dead after missing them for much longer.
const (
	Alive   Liveness = "alive"
	Suspect Liveness = "suspect"
	Dead    Liveness = "dead"
)

// NodeLiveness classifies rec's last heartbeat as of now.
func NodeLiveness(rec *partitapb.Node, now time.Time) Liveness {
	age := now.Sub(time.Unix(0, rec.GetHeartbeatUnixNanos()))
	switch {
	case age < 3*HeartbeatInterval:
		return Alive
	case age < 15*HeartbeatInterval:
		return Suspect
	default:
		return Dead
	}
}
