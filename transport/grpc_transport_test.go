package transport_test

import (
	"context"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partitadb/partita/transport"
)

func TestGRPCConfigValidate(t *testing.T) {
	cfg := transport.DefaultConfig()
	if err := cfg.Validate(); err == nil {
		t.Fatal("a config without NodeID and Resolve validated")
	}
	cfg.NodeID, cfg.Resolve = 1, newDirectory().resolve
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.BackoffMax = cfg.BackoffMin / 2
	if err := cfg.Validate(); err == nil {
		t.Fatal("BackoffMax < BackoffMin validated")
	}
}

func TestGRPCMessagesFlowBetweenThreeNodesInBatches(t *testing.T) {
	dir := newDirectory()
	recs := []*recorder{{}, {}, {}}
	var nodes []*node
	for i, r := range recs {
		nodes = append(nodes, startNode(t, dir, uint64(i+1), "", r))
	}
	const perLink = 500
	for _, from := range nodes {
		for _, to := range nodes {
			if from == to {
				continue
			}
			var msgs []transport.Message
			for i := range perLink {
				msgs = append(msgs, msg(uint64(i%3+1), from.id, to.id, uint64(i)))
			}
			from.tr.Send(to.id, msgs)
		}
	}
	for i, r := range recs {
		eventually(t, "every message delivered", func() bool { return len(r.messages()) == 2*perLink })
		// Per sender and partition, messages arrive in the order sent.
		next := map[[2]uint64]uint64{}
		for _, m := range r.messages() {
			if m.Raft.To != uint64(i+1) {
				t.Fatalf("node %d received a message for node %d", i+1, m.Raft.To)
			}
			key := [2]uint64{m.Raft.From, m.Partition}
			if m.Raft.Index != next[key]*3+m.Partition-1 {
				t.Fatalf("node %d: from %d partition %d: index %d out of order", i+1, key[0], key[1], m.Raft.Index)
			}
			if string(m.Raft.Entries[0].Data) != "entry "+strconv.FormatUint(m.Raft.Index, 10) {
				t.Fatalf("entry data %q for index %d", m.Raft.Entries[0].Data, m.Raft.Index)
			}
			next[key]++
		}
		// The queue filled while the stream was connecting: batches.
		if r.largestBatch() < 2 {
			t.Errorf("node %d: largest batch %d, want coalesced batches", i+1, r.largestBatch())
		}
	}
	for _, n := range nodes {
		sent, batches := n.metric(t, "partita_transport_messages_sent_total"), n.metric(t, "partita_transport_batches_sent_total")
		if sent != 2*perLink || batches >= sent {
			t.Errorf("node %d: %v messages sent in %v batches", n.id, sent, batches)
		}
		if got := n.metric(t, "partita_transport_messages_received_total"); got != 2*perLink {
			t.Errorf("node %d: received %v", n.id, got)
		}
		if got := n.metric(t, "partita_transport_messages_dropped_total"); got != 0 {
			t.Errorf("node %d: dropped %v", n.id, got)
		}
	}
}

// blackhole accepts connections and never answers, like a hung node.
func blackhole(t *testing.T) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		lis.Close()
		<-done
	})
	return lis.Addr().String()
}

// sendWithin sends count single messages to node to and fails the test if
// that takes longer than the failsafe (Send blocked).
func sendWithin(t *testing.T, tr transport.Transport, to uint64, count int) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range count {
			tr.Send(to, []transport.Message{msg(1, 1, to, uint64(i))})
		}
	}()
	select {
	case <-done:
	case <-time.After(failsafe):
		t.Fatal("Send blocked")
	}
}

func TestGRPCHungPeerDoesNotBlockSend(t *testing.T) {
	dir := newDirectory()
	var unreachable atomic.Int64
	a := startNode(t, dir, 1, "", &recorder{}, func(c *transport.Config) {
		c.QueueSize, c.DialTimeout = 16, 200*time.Millisecond
		c.Unreachable = func(id uint64) {
			if id == 2 {
				unreachable.Add(1)
			}
		}
	})
	dir.set(2, blackhole(t))
	const count = 5000
	sendWithin(t, a.tr, 2, count)
	if a.metric(t, "partita_transport_messages_dropped_total", "reason", "queue_full") == 0 {
		t.Error("no message dropped for a full queue")
	}
	eventually(t, "every message dropped", func() bool {
		return a.metric(t, "partita_transport_messages_dropped_total") == count
	})
	eventually(t, "node 2 reported unreachable", func() bool { return unreachable.Load() > 0 })
	if got := a.metric(t, "partita_transport_messages_sent_total"); got != 0 {
		t.Errorf("%v messages sent to a hung node", got)
	}
}

func TestGRPCStalledStreamDropsInsteadOfBlocking(t *testing.T) {
	dir := newDirectory()
	slow := &recorder{gate: make(chan struct{})}
	startNode(t, dir, 2, "", slow)
	a := startNode(t, dir, 1, "", &recorder{}, func(c *transport.Config) { c.QueueSize = 64 })
	// Large messages fill the stream's flow-control window while node 2's
	// handler is stuck.
	big := msg(1, 1, 2, 0)
	big.Raft.Entries[0].Data = make([]byte, 64<<10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 2000 {
			a.tr.Send(2, []transport.Message{big})
		}
	}()
	select {
	case <-done:
	case <-time.After(failsafe):
		t.Fatal("Send blocked on a stalled stream")
	}
	if a.metric(t, "partita_transport_messages_dropped_total", "reason", "queue_full") == 0 {
		t.Error("no message dropped behind a stalled stream")
	}
	close(slow.gate)
	before := len(slow.messages())
	eventually(t, "delivery resumes", func() bool {
		a.tr.Send(2, []transport.Message{msg(1, 1, 2, 1)})
		return len(slow.messages()) > before
	})
}

func TestGRPCReconnectsWhenPeerRestartsOrMoves(t *testing.T) {
	dir := newDirectory()
	var unreachable atomic.Int64
	a := startNode(t, dir, 1, "", &recorder{}, func(c *transport.Config) {
		c.Unreachable = func(uint64) { unreachable.Add(1) }
	})
	r := &recorder{}
	b := startNode(t, dir, 2, "", r)
	deliver := func(what string, rec *recorder) {
		t.Helper()
		n := len(rec.messages())
		eventually(t, what, func() bool {
			a.tr.Send(2, []transport.Message{msg(1, 1, 2, 7)})
			return len(rec.messages()) > n
		})
	}
	deliver("first delivery", r)

	// Restart on the same address.
	b.close(t)
	sendWithin(t, a.tr, 2, 10)
	eventually(t, "node 2 reported unreachable", func() bool { return unreachable.Load() > 0 })
	r2 := &recorder{}
	b2 := startNode(t, dir, 2, b.addr, r2)
	deliver("delivery after restart", r2)

	// Move to a new address: Resolve is asked again on reconnection.
	b2.close(t)
	r3 := &recorder{}
	b3 := startNode(t, dir, 2, "", r3)
	if b3.addr == b.addr {
		t.Fatal("node 2 did not move")
	}
	deliver("delivery after the move", r3)
	if got := a.metric(t, "partita_transport_connects_total"); got < 3 {
		t.Errorf("%v streams opened, want at least 3", got)
	}
}

func TestGRPCCloseStopsEverything(t *testing.T) {
	dir := newDirectory()
	a := startNode(t, dir, 1, "", &recorder{}, func(c *transport.Config) { c.CloseGrace = 100 * time.Millisecond })
	slow := &recorder{gate: make(chan struct{})}
	startNode(t, dir, 2, "", slow)
	dir.set(3, blackhole(t))
	a.tr.Send(2, []transport.Message{msg(1, 1, 2, 0)})
	a.tr.Send(3, []transport.Message{msg(1, 1, 3, 0)})
	eventually(t, "node 2's handler busy", func() bool { return a.metric(t, "partita_transport_messages_sent_total") == 1 })
	start := time.Now()
	a.close(t) // a stream and a dial in flight
	if d := time.Since(start); d > failsafe/2 {
		t.Errorf("Close took %v", d)
	}
	a.tr.Send(2, []transport.Message{msg(1, 1, 2, 1)}) // dropped, no panic
	if got := a.metric(t, "partita_transport_messages_dropped_total", "reason", "closed"); got != 1 {
		t.Errorf("%v messages dropped after Close, want 1", got)
	}
	close(slow.gate)
}

// A node that restarted on a new port is answered there as soon as its
// stream announces it, while the receiver's directory still lists the old
// port; once the directory's answer changes, the directory wins again.
func TestGRPCAnswersTheAddressAStreamAnnounces(t *testing.T) {
	addrA := deadAddr(t) // free now; node 1 listens on it below
	dirA, dirB := newDirectory(), newDirectory()
	ra, rb := &recorder{}, &recorder{}
	a := startNode(t, dirA, 1, addrA, ra, func(c *transport.Config) { c.Advertise = addrA })
	b := startNode(t, dirB, 2, "", rb)
	dirA.set(2, b.addr)
	stale := deadAddr(t)
	dirB.set(1, stale) // node 2 still lists node 1 at its old port

	sendWithin(t, b.tr, 1, 20)
	time.Sleep(200 * time.Millisecond)
	if n := len(ra.messages()); n != 0 {
		t.Fatalf("node 1 received %d messages sent to its old address", n)
	}
	reaches(t, "node 1's stream reaches node 2", a, b, rb)
	reaches(t, "node 2 answers node 1 at the announced address", b, a, ra)

	// Node 1 moves again, and this time node 2's directory lists the new
	// address before node 1 says anything: the old announcement no longer
	// overrides it.
	a.close(t)
	addrA2 := deadAddr(t)
	ra2 := &recorder{}
	startNode(t, dirA, 1, addrA2, ra2, func(c *transport.Config) { c.Advertise = addrA2 })
	dirB.set(1, addrA2)
	eventually(t, "node 2 reaches node 1 at the directory's new address", func() bool {
		b.tr.Send(1, []transport.Message{msg(1, 2, 1, 3)})
		return len(ra2.messages()) > 0
	})
}

// When every node moved, no listed address answers: a node that
// introduces itself at another's new address (which it was given to
// join) is answered there, and learns the other's address from the
// answer, though neither directory lists either new address. A third
// node introduced there hears where the second is, and introduces itself
// to it in turn.
func TestGRPCIntroduceWhenEveryNodeMoved(t *testing.T) {
	addrA, addrB, addrC := deadAddr(t), deadAddr(t), deadAddr(t)
	dirA, dirB, dirC := newDirectory(), newDirectory(), newDirectory()
	ra, rb, rc := &recorder{}, &recorder{}, &recorder{}
	a := startNode(t, dirA, 1, addrA, ra, func(c *transport.Config) { c.Advertise = addrA })
	b := startNode(t, dirB, 2, addrB, rb, func(c *transport.Config) { c.Advertise = addrB })
	c := startNode(t, dirC, 3, addrC, rc, func(c *transport.Config) { c.Advertise = addrC })
	// Each lists the others at their old addresses, where nobody serves.
	old1, old2, old3 := deadAddr(t), deadAddr(t), deadAddr(t)
	dirA.set(2, old2)
	dirA.set(3, old3)
	dirB.set(1, old1)
	dirB.set(3, old3)
	dirC.set(1, old1)
	dirC.set(2, old2)

	if got, _ := a.tr.Resolve(2); got == addrB {
		t.Fatalf("node 1 resolves node 2 at %s before any introduction", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), failsafe)
	defer cancel()
	elsewhere, err := b.tr.Introduce(ctx, addrA, map[uint64]string{3: mustResolve(t, dirB, 3)})
	if err != nil {
		t.Fatal(err)
	}
	if len(elsewhere) != 0 {
		t.Fatalf("node 1 reaches %v elsewhere than node 2 before anyone introduced", elsewhere)
	}
	if got, err := a.tr.Resolve(2); got != addrB || err != nil {
		t.Fatalf("node 1 resolves node 2 at %q (%v) after the introduction, want %s", got, err, addrB)
	}
	if got, err := b.tr.Resolve(1); got != addrA || err != nil {
		t.Fatalf("node 2 resolves node 1 at %q (%v) from the answer, want %s", got, err, addrA)
	}
	if n := len(ra.messages()); n != 0 {
		t.Fatalf("the introduction delivered %d raft messages", n)
	}
	reaches(t, "node 1 reaches node 2 at its new address", a, b, rb)
	reaches(t, "node 2 reaches node 1 at its new address", b, a, ra)

	// Node 3, introduced to node 1, hears where node 2 is: first from
	// node 2's own introduction, then from node 1's directory, which
	// caught up. It does not take node 1's word for it, but introduces
	// itself there.
	for _, caughtUp := range []bool{false, true} {
		if caughtUp {
			dirA.set(2, addrB)
		}
		elsewhere, err = c.tr.Introduce(ctx, addrA, map[uint64]string{2: mustResolve(t, dirC, 2)})
		if err != nil || len(elsewhere) != 1 || elsewhere[2] != addrB {
			t.Fatalf("node 3's introduction to node 1 (directory caught up: %v): heard %v (%v), want node 2 at %s",
				caughtUp, elsewhere, err, addrB)
		}
	}
	if got, _ := c.tr.Resolve(2); got == addrB {
		t.Fatal("node 3 took node 1's word for node 2's address")
	}
	if _, err := c.tr.Introduce(ctx, elsewhere[2], nil); err != nil {
		t.Fatal(err)
	}
	if got, err := c.tr.Resolve(2); got != addrB || err != nil {
		t.Fatalf("node 3 resolves node 2 at %q (%v), want %s", got, err, addrB)
	}
	if got, err := b.tr.Resolve(3); got != addrC || err != nil {
		t.Fatalf("node 2 resolves node 3 at %q (%v), want %s", got, err, addrC)
	}

	// Nobody at the address: an error, within the dial timeout.
	if _, err := b.tr.Introduce(ctx, deadAddr(t), nil); err == nil {
		t.Fatal("introducing to an address nobody serves succeeded")
	}
	// A transport without an address to announce cannot introduce itself.
	d := startNode(t, newDirectory(), 4, "", &recorder{})
	if _, err := d.tr.Introduce(ctx, addrA, nil); err == nil {
		t.Fatal("introducing without Advertise succeeded")
	}
}

func mustResolve(t *testing.T, d *directory, id uint64) string {
	t.Helper()
	addr, err := d.resolve(id)
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// deadAddr returns a loopback address nobody listens on (free now).
func deadAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lis.Close()
	return lis.Addr().String()
}

// reaches waits until a message from node from reaches node to, whose
// handler is rec.
func reaches(t *testing.T, what string, from, to *node, rec *recorder) {
	t.Helper()
	eventually(t, what, func() bool {
		from.tr.Send(to.id, []transport.Message{msg(1, from.id, to.id, 1)})
		return len(rec.messages()) > 0
	})
}
