package transport

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Faults are the misbehaviours an Inmem network injects into every message.
type Faults struct {
	// DropRate is the probability in [0, 1] that a message is lost.
	DropRate float64
	// DuplicateRate is the probability that a message is delivered twice.
	DuplicateRate float64
	// MaxDelay delays each delivery by a random duration up to MaxDelay;
	// delayed messages may overtake each other (reordering).
	MaxDelay time.Duration
}

// Inmem is an in-process network of nodes. It is safe for concurrent use.
type Inmem struct {
	mu       sync.Mutex
	handlers map[uint64]*inmemNode
	cut      map[[2]uint64]bool // directed links that drop everything
	groups   []map[uint64]bool  // partitions: a node in a group is cut from every node outside it
	faults   Faults
	rng      *rand.Rand
	wg       sync.WaitGroup // delayed deliveries in flight
}

// NewInmem returns an empty network; seed drives the fault injection.
func NewInmem(seed uint64) *Inmem {
	return &Inmem{
		handlers: make(map[uint64]*inmemNode),
		cut:      make(map[[2]uint64]bool),
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
}

// inmemNode is a connected node's handler and the deliveries to it in
// progress.
type inmemNode struct {
	h        Handler
	inflight sync.WaitGroup
}

// Connect attaches node id's handler and returns the node's Transport.
// Connecting an id again replaces its handler (a restarted node).
func (n *Inmem) Connect(id uint64, h Handler) Transport {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.handlers[id] = &inmemNode{h: h}
	return &inmemEndpoint{net: n, from: id}
}

// Disconnect detaches node id: messages to it are dropped (a crashed
// node). It returns once no delivery to it is in progress, as a server's
// transport stops serving before it closes: the caller may then stop the
// node's handler and close its storage.
func (n *Inmem) Disconnect(id uint64) {
	n.mu.Lock()
	node := n.handlers[id]
	delete(n.handlers, id)
	n.mu.Unlock()
	if node != nil {
		node.inflight.Wait()
	}
}

// begin admits a delivery to node to while it is connected; the caller
// calls the returned node's inflight.Done once the handler returns.
// n.mu is held.
func (n *Inmem) begin(to uint64) (*inmemNode, bool) {
	node, ok := n.handlers[to]
	if ok {
		node.inflight.Add(1)
	}
	return node, ok
}

// deliver hands msgs to node to, if it is connected.
func (n *Inmem) deliver(to uint64, msgs []Message) {
	n.mu.Lock()
	node, ok := n.begin(to)
	n.mu.Unlock()
	if !ok {
		return
	}
	defer node.inflight.Done()
	node.h.HandleRaft(msgs)
}

// SetFaults changes the faults injected from now on.
func (n *Inmem) SetFaults(f Faults) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.faults = f
}

// Partition cuts every link between a node of group and a node outside
// it, both ways, including nodes that connect later, until Heal.
func (n *Inmem) Partition(group ...uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	in := make(map[uint64]bool, len(group))
	for _, id := range group {
		in[id] = true
	}
	n.groups = append(n.groups, in)
}

// isCut reports whether messages from a to b are dropped; n.mu is held.
func (n *Inmem) isCut(a, b uint64) bool {
	if n.cut[[2]uint64{a, b}] {
		return true
	}
	for _, g := range n.groups {
		if g[a] != g[b] {
			return true
		}
	}
	return false
}

// Cut drops every message from a to b (one direction).
func (n *Inmem) Cut(a, b uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut[[2]uint64{a, b}] = true
}

// Heal restores every link.
func (n *Inmem) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut = make(map[[2]uint64]bool)
	n.groups = nil
}

// Wait blocks until every delayed delivery has happened.
func (n *Inmem) Wait() { n.wg.Wait() }

// deliveries decides, under the lock, what becomes of one message: the
// delay of each copy to deliver (none if dropped).
func (n *Inmem) deliveries(from, to uint64) []time.Duration {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.handlers[to]; !ok || n.isCut(from, to) {
		return nil
	}
	f := n.faults
	if f.DropRate > 0 && n.rng.Float64() < f.DropRate {
		return nil
	}
	copies := 1
	if f.DuplicateRate > 0 && n.rng.Float64() < f.DuplicateRate {
		copies = 2
	}
	delays := make([]time.Duration, copies)
	for i := range delays {
		if f.MaxDelay > 0 {
			delays[i] = time.Duration(n.rng.Int64N(int64(f.MaxDelay)))
		}
	}
	return delays
}

type inmemEndpoint struct {
	net  *Inmem
	from uint64
}

// Send implements Transport. Each message is subject to the faults
// separately. A delayed message reaches the node connected when its delay
// ends, if any.
func (e *inmemEndpoint) Send(to uint64, msgs []Message) {
	var now []Message
	for _, m := range msgs {
		for _, d := range e.net.deliveries(e.from, to) {
			if d == 0 {
				now = append(now, m)
				continue
			}
			e.net.wg.Add(1)
			time.AfterFunc(d, func() {
				defer e.net.wg.Done()
				e.net.deliver(to, []Message{m})
			})
		}
	}
	if len(now) > 0 {
		e.net.deliver(to, now)
	}
}

// SendSnapshot implements SnapshotSender: it hands s to the receiving
// node's SnapshotHandler directly (a cut link or a missing node fails it).
func (e *inmemEndpoint) SendSnapshot(ctx context.Context, to uint64, s Snapshot) error {
	e.net.mu.Lock()
	var node *inmemNode
	ok := !e.net.isCut(e.from, to)
	if ok {
		node, ok = e.net.begin(to)
	}
	e.net.mu.Unlock()
	if !ok {
		return fmt.Errorf("transport: node %d unreachable", to)
	}
	defer node.inflight.Done()
	sh, ok := node.h.(SnapshotHandler)
	if !ok {
		return fmt.Errorf("transport: node %d does not take snapshots", to)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return sh.HandleSnapshot(s)
}
