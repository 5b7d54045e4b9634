package harness

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/store"
)

// Errors of a Client.
var (
	// ErrUnknown: the command may or may not have applied (every attempt
	// that might have reached a log ended without an answer). It will
	// apply at most once.
	ErrUnknown = errors.New("harness: outcome unknown")
	// ErrNotApplied: no attempt reached a leader's log before the deadline;
	// the command did not apply and never will.
	ErrNotApplied = errors.New("harness: not applied")
)

// Client sends commands and linearizable reads to whichever node leads a
// partition, as a router would: it follows leader hints, moves on from
// nodes that are down, and retries a command whose outcome is unknown with
// the same command id (the replicas apply it at most once). A Client is
// used by one goroutine at a time.
type Client struct {
	c *Cluster
	// Attempt bounds one attempt on one node. Default: 25 ticks.
	Attempt time.Duration
	hint    map[uint64]uint64 // partition -> node believed to lead
	next    uint64            // round-robin cursor when there is no hint
}

// NewClient returns a client of the cluster.
func (c *Cluster) NewClient() *Client {
	return &Client{c: c, Attempt: 25 * c.cfg.TickInterval, hint: make(map[uint64]uint64)}
}

// NewCommandID returns a command id unique in the cluster.
func (cl *Client) NewCommandID() []byte { return cl.c.nextOpID() }

// target returns the node to try next for partition.
func (cl *Client) target(partition uint64) uint64 {
	if id := cl.hint[partition]; id != 0 {
		return id
	}
	if id := cl.c.LeaderNow(partition); id != 0 {
		return id
	}
	cl.next = cl.next%uint64(len(cl.c.nodes)) + 1
	return cl.next
}

// moveOn forgets the hint for partition after a failure on node id,
// adopting the new hint if the node named one.
func (cl *Client) moveOn(partition, id, hint uint64) {
	if hint != 0 && hint != id {
		cl.hint[partition] = hint
		return
	}
	delete(cl.hint, partition)
	cl.next = id
}

// Propose applies cmd (its Id must be set) to partition and returns its
// Result. It retries until ctx ends, then fails with ErrUnknown if an
// attempt may have reached a log, else ErrNotApplied. Other errors are
// unexpected failures of the store.
func (cl *Client) Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	if len(cmd.GetId()) == 0 {
		return nil, errors.New("harness: a command needs an id")
	}
	maybe := false
	for ctx.Err() == nil {
		id := cl.target(partition)
		st := cl.c.Store(id)
		if st == nil {
			cl.moveOn(partition, id, 0)
			cl.pause(ctx)
			continue
		}
		actx, cancel := context.WithTimeout(ctx, cl.Attempt)
		res, err := st.Propose(actx, partition, cmd)
		cancel()
		if err == nil {
			cl.hint[partition] = id
			return res, nil
		}
		var nl *replica.NotLeaderError
		switch {
		case errors.As(err, &nl):
			cl.moveOn(partition, id, nl.Leader)
		case errors.Is(err, replica.ErrAmbiguous), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
			errors.Is(err, replica.ErrRemoved): // removed with the proposal pending: it may apply elsewhere
			maybe = true
			cl.moveOn(partition, id, 0)
		case errors.Is(err, store.ErrNoReplica):
			cl.moveOn(partition, id, 0)
		default:
			return nil, fmt.Errorf("harness: propose to node %d: %w", id, err)
		}
		cl.pause(ctx)
	}
	if maybe {
		return nil, fmt.Errorf("%w: %w", ErrUnknown, ctx.Err())
	}
	return nil, fmt.Errorf("%w: %w", ErrNotApplied, ctx.Err())
}

// Read runs fn on the engine of partition's leader once the leader has
// applied every write committed before the call (ReadIndex): what fn reads
// of the partition is linearizable. It retries on other nodes until ctx
// ends.
func (cl *Client) Read(ctx context.Context, partition uint64, fn func(*engine.Engine) error) error {
	for ctx.Err() == nil {
		id := cl.target(partition)
		st := cl.c.Store(id)
		if st == nil {
			cl.moveOn(partition, id, 0)
			cl.pause(ctx)
			continue
		}
		actx, cancel := context.WithTimeout(ctx, cl.Attempt)
		err := st.ReadIndex(actx, partition)
		cancel()
		if err == nil {
			// Read the same incarnation: a restarted node may not yet
			// have re-applied what the read index covers.
			ran, err := cl.c.WithEngine(id, st, fn)
			if ran {
				cl.hint[partition] = id
				return err
			}
			cl.moveOn(partition, id, 0)
			continue
		}
		var nl *replica.NotLeaderError
		switch {
		case errors.As(err, &nl):
			cl.moveOn(partition, id, nl.Leader)
		case errors.Is(err, replica.ErrAmbiguous), errors.Is(err, context.DeadlineExceeded),
			errors.Is(err, context.Canceled), errors.Is(err, store.ErrNoReplica), errors.Is(err, replica.ErrRemoved):
			cl.moveOn(partition, id, 0)
		default:
			return fmt.Errorf("harness: read index on node %d: %w", id, err)
		}
		cl.pause(ctx)
	}
	return fmt.Errorf("%w: read: %w", ErrNotApplied, ctx.Err())
}

// pause waits a tick (or until ctx ends) before the next attempt.
func (cl *Client) pause(ctx context.Context) {
	t := time.NewTimer(cl.c.cfg.TickInterval)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
