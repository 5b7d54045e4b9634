package harness

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/route"
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
// partition through the production route.Sender: it follows leader hints,
// moves on from nodes that are down, and retries a command whose outcome is
// unknown with the same command id (the replicas apply it at most once).
// The cluster's stores are its Remote, reached in process. A Client is used
// by one goroutine at a time.
type Client struct {
	c *Cluster
	// Attempt bounds one attempt on one node (the Sender's HopTimeout).
	// Default: 25 ticks.
	Attempt time.Duration
	dir     *directory.Cache
	next    int // round-robin cursor when nothing better is known
	sender  *route.Sender
	built   time.Duration // the Attempt sender was built with
}

// NewClient returns a client of the cluster.
func (c *Cluster) NewClient() *Client {
	return &Client{c: c, Attempt: 25 * c.cfg.TickInterval, dir: directory.NewCache()}
}

// NewCommandID returns a command id unique in the cluster.
func (cl *Client) NewCommandID() []byte { return cl.c.nextOpID() }

// route returns the Sender, built with the current Attempt.
func (cl *Client) route() *route.Sender {
	if cl.sender != nil && cl.built == cl.Attempt {
		return cl.sender
	}
	cfg := route.DefaultConfig()
	cfg.Remote, cfg.Directory = cl.c.Remote(), cl.dir
	cfg.Replicas = func(uint64) []uint64 { return cl.c.Nodes() }
	cfg.Pick = func(n int) int { cl.next = (cl.next + 1) % n; return cl.next }
	cfg.HopTimeout, cfg.RequestTimeout = cl.Attempt, 0
	cfg.Backoff, cfg.MaxBackoff = cl.c.cfg.TickInterval, cl.c.cfg.TickInterval
	s, err := route.New(cfg)
	if err != nil {
		panic(err) // the configuration above is valid
	}
	cl.sender, cl.built = s, cl.Attempt
	return s
}

// peek seeds the leader hint of partition with the node leading it now, as
// a client that was told would know.
func (cl *Client) peek(partition uint64) {
	if cl.dir.Leader(partition) == 0 {
		cl.dir.SetLeader(partition, cl.c.LeaderNow(partition))
	}
}

// Propose applies cmd (its Id must be set) to partition and returns its
// Result. It retries until ctx ends, then fails with ErrUnknown if an
// attempt may have reached a log, else ErrNotApplied. Other errors are
// unexpected failures of the store.
func (cl *Client) Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	if len(cmd.GetId()) == 0 {
		return nil, errors.New("harness: a command needs an id")
	}
	cl.peek(partition)
	res, err := cl.route().Propose(ctx, partition, cmd)
	switch {
	case err == nil:
		return res, nil
	case errors.Is(err, route.ErrOutcomeUnknown):
		return nil, fmt.Errorf("%w: %w", ErrUnknown, err)
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%w: %w", ErrNotApplied, err)
	}
	return nil, fmt.Errorf("harness: propose: %w", err)
}

// Read runs fn on the engine of partition's leader once the leader has
// applied every write committed before the call (its lease, or
// ReadIndex: store.Store.ReadBarrier, as consistent reads do): what fn reads
// of the partition is linearizable. It retries on other nodes until ctx
// ends.
func (cl *Client) Read(ctx context.Context, partition uint64, fn func(*engine.Engine) error) error {
	return cl.read(ctx, partition, func(_ func() *partitapb.Descriptor, eng *engine.Engine) error { return fn(eng) })
}

// read is Read with the range of the replica read, as of its committed
// state, at fn's disposal.
func (cl *Client) read(ctx context.Context, partition uint64, fn func(func() *partitapb.Descriptor, *engine.Engine) error) error {
	cl.peek(partition)
	err := cl.route().Do(ctx, partition, true, func(ctx context.Context, id uint64) error {
		st := cl.c.Store(id)
		if st == nil {
			return fmt.Errorf("%w: node %d is down", store.ErrNoReplica, id)
		}
		if err := st.ReadBarrier(ctx, partition); err != nil {
			return err
		}
		// Read the same incarnation: a restarted node may not yet have
		// re-applied what the read index covers.
		desc := func() *partitapb.Descriptor {
			d, _ := st.Descriptor(partition)
			return d
		}
		ran, err := cl.c.WithEngine(id, st, func(eng *engine.Engine) error { return fn(desc, eng) })
		if !ran {
			return fmt.Errorf("%w: node %d restarted", store.ErrNoReplica, id)
		}
		return errRead{err}
	})
	var re errRead
	switch {
	case errors.As(err, &re):
		return re.err
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("%w: read: %w", ErrNotApplied, err)
	}
	return fmt.Errorf("harness: read: %w", err)
}

// errRead carries fn's outcome (nil included) out of the Sender, which
// must not retry it.
type errRead struct{ err error }

func (e errRead) Error() string { return fmt.Sprintf("harness: read: %v", e.err) }

// Remote reaches the cluster's stores in process, as a node's cluster
// client reaches its peers: a stopped node's store answers
// store.ErrNoReplica.
func (c *Cluster) Remote() route.Remote { return stores{c} }

// stores is Cluster.Remote.
type stores struct{ c *Cluster }

// call runs fn on node id's store. An answer produced after the node
// crashed never reaches the client: the harness takes a crashed node's
// disk image at the crash, while its store winds down, and what the store
// answers from writes it made durable after the image would otherwise
// reach a client and then vanish with the image (a real crash stops both
// at once). Such an answer becomes an ambiguous failure.
func (s stores) call(id uint64, fn func(*store.Store) error) error {
	n := s.c.node(id)
	n.mu.RLock()
	st, crashes := n.st, n.crashes.Load()
	n.mu.RUnlock()
	if st == nil {
		return fmt.Errorf("%w: node %d is down", store.ErrNoReplica, id)
	}
	err := fn(st)
	if n.crashes.Load() != crashes {
		return fmt.Errorf("%w: node %d crashed before its answer left", replica.ErrAmbiguous, id)
	}
	return err
}

func (s stores) Propose(ctx context.Context, node, partition uint64, cmd *partitapb.Command) (res *partitapb.Result, err error) {
	err = s.call(node, func(st *store.Store) error {
		res, err = st.Propose(ctx, partition, cmd)
		return err
	})
	return res, err
}

func (s stores) Get(ctx context.Context, node, partition uint64, key []byte, consistent bool) (v []byte, err error) {
	err = s.call(node, func(st *store.Store) error {
		v, err = st.Get(ctx, partition, key, consistent)
		return err
	})
	return v, err
}

func (s stores) Walk(ctx context.Context, node uint64, req store.WalkRequest) (res store.WalkResult, err error) {
	err = s.call(node, func(st *store.Store) error {
		res, err = st.Walk(ctx, req)
		return err
	})
	return res, err
}
