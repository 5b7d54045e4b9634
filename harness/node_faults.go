package harness

import (
	"math/rand/v2"

	"github.com/partitadb/partita/engine"

	"github.com/partitadb/partita/transport"
)

// The faults a test injects by hand: crashes and restarts, pauses, network
// partitions and message faults. A Nemesis injects them on a schedule.

// stop silences n, stops its store and closes its engine. With crash, an
// in-memory engine's disk is first replaced by a crash image: only what
// was synced (plus, by chance, some of the rest) survives.
func (c *Cluster) stop(n *node, crash bool) {
	if n.st == nil {
		return
	}
	if crash {
		n.crashes.Add(1)
	}
	n.link.kill()
	c.net.Disconnect(n.id)
	var image *engine.MemFS
	if crash && n.fs != nil {
		c.mu.Lock()
		var rng *rand.Rand
		if c.cfg.UnsyncedSurvivalPercent > 0 {
			rng = rand.New(rand.NewPCG(c.rng.Uint64(), c.rng.Uint64()))
		}
		c.mu.Unlock()
		image = n.fs.CrashClone(c.cfg.UnsyncedSurvivalPercent, rng)
	}
	n.st.Stop()
	if err := n.eng.Close(); err != nil {
		c.t.Errorf("harness: close engine of node %d: %v", n.id, err)
	}
	if image != nil {
		n.fs = image
	}
	n.eng, n.st, n.link = nil, nil, nil
}

// Crash stops node id abruptly: from this instant it sends and receives
// nothing, and its disk keeps only synced writes.
func (c *Cluster) Crash(id uint64) {
	n := c.node(id)
	n.mu.Lock()
	defer n.mu.Unlock()
	c.stop(n, true)
}

// Restart reopens a crashed node from its disk. Restarting a running node
// does nothing.
func (c *Cluster) Restart(id uint64) {
	n := c.node(id)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.st != nil {
		return
	}
	if err := c.start(n); err != nil {
		c.t.Errorf("harness: restart node %d: %v", id, err)
	}
}

// Up reports whether node id is running (crashed nodes are not).
func (c *Cluster) Up(id uint64) bool {
	n := c.node(id)
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.st != nil
}

// Pause isolates node id as if its process were stopped: messages to and
// from it are held, and delivered when it resumes. Its clock still ticks.
func (c *Cluster) Pause(id uint64) {
	n := c.node(id)
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.link != nil {
		n.link.pause()
	}
}

// Resume ends a Pause and delivers the messages held meanwhile.
func (c *Cluster) Resume(id uint64) {
	n := c.node(id)
	n.mu.RLock()
	l := n.link
	n.mu.RUnlock()
	if l != nil {
		l.resume()
	}
}

// Partition cuts every link between a node of group and a node outside it,
// both ways, including links of nodes that are down now and restart later.
func (c *Cluster) Partition(group ...uint64) {
	in := make(map[uint64]bool, len(group))
	for _, id := range group {
		in[id] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range c.nodes {
		for _, b := range c.nodes {
			if in[a.id] != in[b.id] {
				c.cut[[2]uint64{a.id, b.id}] = true
			}
		}
	}
}

// Cut drops every message from node a to node b.
func (c *Cluster) Cut(a, b uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut[[2]uint64{a, b}] = true
}

// Heal restores every link cut by Partition or Cut.
func (c *Cluster) Heal() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = make(map[[2]uint64]bool)
}

func (c *Cluster) isCut(from, to uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cut[[2]uint64{from, to}]
}

// SetFaults sets the message faults of the network (drop, duplicate,
// delay and reorder).
func (c *Cluster) SetFaults(f transport.Faults) { c.net.SetFaults(f) }

// RestoreAll undoes every fault: heals the network, clears message
// faults, resumes paused and frozen nodes and restarts crashed ones.
func (c *Cluster) RestoreAll() {
	c.Heal()
	c.SetFaults(transport.Faults{})
	for _, id := range c.Nodes() {
		c.Thaw(id)
		c.Restart(id)
	}
}
