package directory

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/partitadb/partita/partitapb"
)

// ErrUnknownNode: the directory has no address for a node (not joined yet,
// or removed).
var ErrUnknownNode = errors.New("directory: no address known for node")

// Cache is a node's copy of the directory: the last Snapshot read from a
// meta replica, node records learnt since (at join, at heartbeat), and the
// leader hints that requests bring back. It is safe for concurrent use.
//
// Hints are advice: a request sent to a hinted leader that no longer leads
// comes back with a better hint or an error that clears it.
type Cache struct {
	mu       sync.RWMutex
	snap     *Snapshot
	nodes    map[uint64]*partitapb.Node
	replicas map[uint64][]uint64 // partition -> voters, the meta partition's included
	leaders  map[uint64]uint64   // partition -> leader hint
	onUpdate atomic.Pointer[func(*Snapshot)]
}

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{
		snap:     &Snapshot{},
		nodes:    make(map[uint64]*partitapb.Node),
		replicas: make(map[uint64][]uint64),
		leaders:  make(map[uint64]uint64),
	}
}

// Update replaces the cached directory with s, which the cache keeps and
// the caller must not modify afterwards. A snapshot without nodes or meta
// voters (read from a node that knows none yet) keeps the ones cached.
func (c *Cache) Update(s *Snapshot) {
	c.update(s)
	if f := c.onUpdate.Load(); f != nil {
		(*f)(c.Snapshot())
	}
}

// OnUpdate sets a function called with the new snapshot after every
// Update (one function; nil removes it). It must not call Update.
func (c *Cache) OnUpdate(f func(*Snapshot)) {
	if f == nil {
		c.onUpdate.Store(nil)
		return
	}
	c.onUpdate.Store(&f)
}

func (c *Cache) update(s *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(s.Nodes) > 0 { // a removed node leaves the cache too
		c.nodes = make(map[uint64]*partitapb.Node, len(s.Nodes))
	}
	for _, n := range s.Nodes {
		c.nodes[n.GetId()] = n
	}
	if len(s.MetaReplicas) > 0 {
		c.replicas[MetaPartition] = slices.Clone(s.MetaReplicas)
	}
	listed := map[uint64]bool{MetaPartition: true}
	var maxID uint64
	for _, t := range s.Tables {
		for _, p := range t.GetPartitions() {
			c.replicas[p.GetId()] = p.GetReplicas()
			listed[p.GetId()] = true
			maxID = max(maxID, p.GetId())
		}
	}
	// Forget the partitions the snapshot shows gone (a table deleted, a
	// merge's right half): not listed, yet older than one it lists, as
	// partition ids follow the meta log. One created since the snapshot
	// was read (SetReplicas) is newer, and stays. Without this, the
	// replicas and leader hints of every partition ever seen stayed.
	gone := func(id uint64) bool { return !listed[id] && id < maxID }
	maps.DeleteFunc(c.replicas, func(id uint64, _ []uint64) bool { return gone(id) })
	maps.DeleteFunc(c.leaders, func(id, _ uint64) bool { return gone(id) })
	c.snap = &Snapshot{Tables: s.Tables, Nodes: c.sortedNodesLocked(), MetaReplicas: c.replicas[MetaPartition],
		DoctorLease: s.DoctorLease, DoctorSettings: s.DoctorSettings, Settings: s.Settings, ClusterVersion: s.ClusterVersion}
}

// Snapshot returns the cached directory. It is immutable.
func (c *Cache) Snapshot() *Snapshot {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.snap
}

// AddNode records a node learnt outside a refresh (at join, at heartbeat).
func (c *Cache) AddNode(n *partitapb.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nodes[n.GetId()] = n
	c.snap = &Snapshot{Tables: c.snap.Tables, Nodes: c.sortedNodesLocked(), MetaReplicas: c.snap.MetaReplicas,
		DoctorLease: c.snap.DoctorLease, DoctorSettings: c.snap.DoctorSettings, Settings: c.snap.Settings, ClusterVersion: c.snap.ClusterVersion}
}

// SetReplicas records the voters of a partition learnt outside a refresh
// (a partition just created).
func (c *Cache) SetReplicas(partition uint64, voters []uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.replicas[partition] = slices.Clone(voters)
}

func (c *Cache) sortedNodesLocked() []*partitapb.Node {
	out := make([]*partitapb.Node, 0, len(c.nodes))
	for _, n := range c.nodes {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b *partitapb.Node) int { return cmp.Compare(a.GetId(), b.GetId()) })
	return out
}

// PeerAddr returns the node-to-node address of node id.
func (c *Cache) PeerAddr(id uint64) (string, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n, ok := c.nodes[id]
	if !ok || n.GetPeerAddr() == "" {
		return "", fmt.Errorf("%w: %d", ErrUnknownNode, id)
	}
	return n.GetPeerAddr(), nil
}

// Nodes returns every known node, by id.
func (c *Cache) Nodes() []*partitapb.Node {
	return c.Snapshot().Nodes
}

// MetaReplicas returns the meta partition's voters as last seen.
func (c *Cache) MetaReplicas() []uint64 { return c.Replicas(MetaPartition) }

// Replicas returns the voters of partition as last seen.
func (c *Cache) Replicas(partition uint64) []uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Clone(c.replicas[partition])
}

// Leader returns the leader hint of partition (0: none).
func (c *Cache) Leader(partition uint64) uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.leaders[partition]
}

// SetLeader records a leader hint; node 0 forgets it.
func (c *Cache) SetLeader(partition, node uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if node == 0 {
		delete(c.leaders, partition)
	} else {
		c.leaders[partition] = node
	}
}
