package harness

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/transport"
)

// maxHeld bounds the batches a paused node's link holds each way; beyond
// it, messages are dropped (raft retransmits).
const maxHeld = 4096

// link stands between one incarnation of a node's store and the network,
// both ways: it is the store's Transport and the network's Handler for the
// node. It drops everything once the incarnation is killed, holds
// everything while the node is paused, and applies the cluster's cut links.
//
// It never holds its lock while calling out: the in-memory network
// delivers synchronously, so two links calling each other under their
// locks could deadlock.
type link struct {
	c   *Cluster
	id  uint64
	st  *store.Store
	out transport.Transport

	mu     sync.Mutex
	dead   bool
	paused bool
	inbox  [][]transport.Message
	outbox []heldBatch

	// delivering counts the calls into the store in progress. kill waits
	// for them: the store and its engine close right after, and a message
	// let in before the kill must not reach a closed engine.
	delivering sync.WaitGroup
}

type heldBatch struct {
	to   uint64
	msgs []transport.Message
}

var (
	_ transport.Transport       = (*link)(nil)
	_ transport.SnapshotSender  = (*link)(nil)
	_ transport.Handler         = (*link)(nil)
	_ transport.SnapshotHandler = (*link)(nil)
)

// errLinkDown fails a snapshot to or from a node that is down, paused or
// cut off; raft retries it later.
var errLinkDown = errors.New("harness: link down")

// SendSnapshot implements transport.SnapshotSender for the store. A
// paused node neither sends nor receives snapshots (a stream to or from a
// stopped process stalls; failing it is the same to raft).
func (l *link) SendSnapshot(ctx context.Context, to uint64, s transport.Snapshot) error {
	if !l.up() || l.c.isCut(l.id, to) {
		return fmt.Errorf("snapshot from node %d: %w", l.id, errLinkDown)
	}
	sender, ok := l.out.(transport.SnapshotSender)
	if !ok {
		return errors.New("harness: the network cannot send snapshots")
	}
	return sender.SendSnapshot(ctx, to, s)
}

// HandleSnapshot implements transport.SnapshotHandler for the network.
func (l *link) HandleSnapshot(s transport.Snapshot) error {
	l.mu.Lock()
	if l.dead || l.paused {
		l.mu.Unlock()
		return fmt.Errorf("snapshot to node %d: %w", l.id, errLinkDown)
	}
	l.delivering.Add(1)
	l.mu.Unlock()
	defer l.delivering.Done()
	return l.st.HandleSnapshot(s)
}

// up reports whether the incarnation is alive and not paused.
func (l *link) up() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.dead && !l.paused
}

// Send implements transport.Transport for the store.
func (l *link) Send(to uint64, msgs []transport.Message) {
	l.mu.Lock()
	switch {
	case l.dead:
		l.mu.Unlock()
		return
	case l.paused:
		if len(l.outbox) < maxHeld {
			l.outbox = append(l.outbox, heldBatch{to, msgs})
		}
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	if !l.c.isCut(l.id, to) {
		l.out.Send(to, msgs)
	}
}

// HandleRaft implements transport.Handler for the network.
func (l *link) HandleRaft(msgs []transport.Message) {
	l.mu.Lock()
	switch {
	case l.dead:
		l.mu.Unlock()
		return
	case l.paused:
		if len(l.inbox) < maxHeld {
			l.inbox = append(l.inbox, msgs)
		}
		l.mu.Unlock()
		return
	}
	l.delivering.Add(1)
	l.mu.Unlock()
	defer l.delivering.Done()
	l.st.HandleRaft(msgs)
}

// kill silences the incarnation for good: anything it sends from now on
// is lost, as if the process died at this instant. It returns once no
// delivery into the store is in progress.
func (l *link) kill() {
	l.mu.Lock()
	l.dead = true
	l.inbox, l.outbox = nil, nil
	l.mu.Unlock()
	l.delivering.Wait()
}

func (l *link) pause() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.paused = true
}

func (l *link) isPaused() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.paused
}

// resume delivers what was held, late (the cluster has moved on since),
// and lets messages through again.
func (l *link) resume() {
	l.mu.Lock()
	if !l.paused {
		l.mu.Unlock()
		return
	}
	l.paused = false
	in, out := l.inbox, l.outbox
	l.inbox, l.outbox = nil, nil
	l.mu.Unlock()
	for _, b := range out {
		l.Send(b.to, b.msgs)
	}
	for _, msgs := range in {
		l.HandleRaft(msgs)
	}
}
