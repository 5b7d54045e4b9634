package route

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/store"
)

// Target is one node's partition service: this node's store, or another
// node reached over RPC. Its methods fail with the errors of store and
// replica (a *replica.NotLeaderError with a hint, replica.ErrAmbiguous,
// store.ErrNoReplica, ...), which the Sender classifies.
type Target interface {
	// Propose replicates cmd on partition through the node's replica,
	// which must lead, and returns the apply result.
	Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error)
	// Get reads key from the node's replica of partition (nil when
	// absent), after a read barrier when consistent.
	Get(ctx context.Context, partition uint64, key []byte, consistent bool) ([]byte, error)
	// Walk reads a page of the node's replica of req.Partition.
	Walk(ctx context.Context, req store.WalkRequest) (store.WalkResult, error)
}

// Local is this node's store as the Sender sees it: where to send first.
type Local interface {
	Target
	// HasReplica says this node hosts a replica of partition.
	HasReplica(partition uint64) bool
	// LeaderOf is the leader this node's replica of partition knows (0:
	// none, or no replica).
	LeaderOf(partition uint64) uint64
}

// Remote reaches other nodes (cluster.Client does over gRPC).
type Remote interface {
	// Propose, Get and Walk run on node.
	Propose(ctx context.Context, node, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error)
	Get(ctx context.Context, node, partition uint64, key []byte, consistent bool) ([]byte, error)
	Walk(ctx context.Context, node uint64, req store.WalkRequest) (store.WalkResult, error)
}

// Sender sends requests to partitions. It is safe for concurrent use.
type Sender struct {
	cfg Config
}

// New returns a Sender; cfg must Validate.
func New(cfg Config) (*Sender, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Sender{cfg: cfg}, nil
}

// Directory is the cache the Sender reads replicas and hints from.
func (s *Sender) Directory() *directory.Cache { return s.cfg.Directory }

// Op runs one request on node (this node when node is Config.Self).
type Op func(ctx context.Context, node uint64) error

// Propose applies cmd on partition's leader and returns its result.
// Every attempt carries the same command id. (A Remote that forwards cmd
// over the network clears cmd.FirstAttempt: a forwarded command may reach
// the log after a retry of it does.)
func (s *Sender) Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (res *partitapb.Result, err error) {
	err = s.Do(ctx, partition, true, func(ctx context.Context, node uint64) error {
		res, err = s.target(node).Propose(ctx, partition, cmd)
		return err
	})
	return res, err
}

// Get reads key from partition: from its leader after a read barrier when
// consistent, else from any replica (this node's first).
func (s *Sender) Get(ctx context.Context, partition uint64, key []byte, consistent bool) (v []byte, err error) {
	err = s.Do(ctx, partition, consistent, func(ctx context.Context, node uint64) error {
		v, err = s.target(node).Get(ctx, partition, key, consistent)
		return err
	})
	return v, err
}

// Walk reads a page of req.Partition, like Get.
func (s *Sender) Walk(ctx context.Context, req store.WalkRequest) (res store.WalkResult, err error) {
	err = s.Do(ctx, req.Partition, req.Consistent, func(ctx context.Context, node uint64) error {
		res, err = s.target(node).Walk(ctx, req)
		return err
	})
	return res, err
}

// target returns the Target of node.
func (s *Sender) target(node uint64) Target {
	if node == s.cfg.Self && s.cfg.Local != nil {
		return s.cfg.Local
	}
	return s.remote(node)
}

// remote returns the Target of node reached through Config.Remote.
func (s *Sender) remote(node uint64) Target {
	if s.cfg.Remote == nil {
		return noTarget{node}
	}
	return remoteTarget{s.cfg.Remote, node}
}

// Do runs op against partition's leader (leaderOnly) or any replica,
// following hints and retrying until op succeeds, fails for good, or ctx
// (bounded by RequestTimeout when it has no deadline) ends.
func (s *Sender) Do(ctx context.Context, partition uint64, leaderOnly bool, op Op) error {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	a := attempt{s: s, partition: partition, leaderOnly: leaderOnly, op: op}
	backoff := s.cfg.Backoff
	for {
		err := a.run(ctx)
		if err == nil || !a.retry {
			return err
		}
		if cerr := a.checkGone(ctx); cerr != nil {
			return fmt.Errorf("route: partition %d: %w", partition, cerr)
		}
		if span := trace.SpanFromContext(ctx); span.IsRecording() {
			span.AddEvent("retry", trace.WithAttributes(attribute.String("error", err.Error())))
		}
		if werr := s.cfg.Wait(ctx, backoff); werr != nil {
			return a.failed(err, werr)
		}
		backoff = min(2*backoff, s.cfg.MaxBackoff)
	}
}

// Deadline bounds ctx by RequestTimeout when it has no deadline: for a
// caller whose one request spans several Sender calls.
func (s *Sender) Deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return s.deadline(ctx)
}

func (s *Sender) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || s.cfg.RequestTimeout == 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.cfg.RequestTimeout)
}

// attempt is the state of one request across its hops and retries.
type attempt struct {
	s          *Sender
	partition  uint64
	leaderOnly bool
	op         Op
	// retry says the last run failed in a way a later run may not.
	retry bool
	// maybe says some hop may have reached a leader's log.
	maybe bool
	// silent are the nodes that did not answer a hop in time: the attempt
	// does not wait on them again, whatever hints say. forgive clears them
	// at the next attempt: the others found no better node.
	silent  []uint64
	forgive bool
	// missing says the last run found no replica of the partition: none
	// listed, or each node asked had none. misses counts such runs, fails
	// all the failed runs (checkGone).
	missing       bool
	misses, fails int
}

// run makes up to MaxHops hops, following hints and moving on from nodes
// that cannot serve.
func (a *attempt) run(ctx context.Context) error {
	s := a.s
	dir := s.cfg.Directory
	if a.forgive {
		a.silent, a.forgive = nil, false
	}
	tried := make([]uint64, 0, s.cfg.MaxHops)
	target := a.avoidSilent(s.first(a.partition, a.leaderOnly), tried)
	var err error
	a.missing = true
	for hop := 0; hop < s.cfg.MaxHops; hop++ {
		if target == 0 {
			err = fmt.Errorf("%w %d", ErrNoTarget, a.partition)
			break
		}
		tried = append(tried, target)
		err = s.hop(ctx, target, a.op)
		a.missing = a.missing && noReplica(err)
		o, hint, maybe := classify(err, target)
		if ctxDone(ctx, err) {
			// Cut short by the caller: a proposal may be in flight.
			a.maybe, a.retry = true, false
			return a.failed(err, ctx.Err())
		}
		a.maybe = a.maybe || maybe
		switch o {
		case done:
			if err == nil && a.leaderOnly {
				dir.SetLeader(a.partition, target)
			}
			a.retry = false
			return err
		case followHint:
			dir.SetLeader(a.partition, hint)
			// A stale hint at a node that just timed out: the others are
			// electing a new leader; ask them.
			target = a.avoidSilent(hint, tried)
		case moveOn:
			dir.SetLeader(a.partition, 0)
			if errors.Is(err, ErrSlowNode) {
				a.silent = append(a.silent, target)
			}
			target = a.avoidSilent(s.other(a.partition, tried), tried)
		case retryLater:
			a.retry = true
			return err
		}
	}
	a.retry = true
	return err
}

// avoidSilent returns target, or another replica not tried yet when this
// attempt found target silent. When there is none, the attempt ends and
// the next one, after a backoff, forgives the silent nodes: a slow leader
// (a node restarting, say) beats none, and a dead one has been replaced
// by then. When every replica was silent it forgives them at once.
func (a *attempt) avoidSilent(target uint64, tried []uint64) uint64 {
	if target == 0 || !slices.Contains(a.silent, target) {
		return target
	}
	if a.s.other(a.partition, a.silent) == 0 {
		a.silent = nil
		return target
	}
	t := a.s.other(a.partition, slices.Concat(tried, a.silent))
	if t == 0 {
		a.forgive = true
	}
	return t
}

// failed is the error of a request that stops retrying because its
// context ended (ctxErr) after last.
func (a *attempt) failed(last, ctxErr error) error {
	err := fmt.Errorf("route: partition %d: %w", a.partition, errors.Join(last, ctxErr))
	if a.maybe {
		return fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
	}
	return err
}

// hop runs op on node, bounded by HopTimeout unless node is this one.
func (s *Sender) hop(ctx context.Context, node uint64, op Op) error {
	if node == s.cfg.Self && s.cfg.Local != nil || s.cfg.HopTimeout == 0 {
		return op(ctx, node)
	}
	hctx, cancel := context.WithTimeout(ctx, s.cfg.HopTimeout)
	defer cancel()
	err := op(hctx, node)
	if err != nil && hctx.Err() != nil && ctx.Err() == nil {
		return fmt.Errorf("%w: node %d: %w", ErrSlowNode, node, err)
	}
	return err
}

// first picks the node to ask first: this node for a read it can serve,
// else the leader hint, else the leader this node's replica knows, else
// a replica the directory lists.
func (s *Sender) first(partition uint64, leaderOnly bool) uint64 {
	local := s.cfg.Local != nil && s.cfg.Local.HasReplica(partition)
	if !leaderOnly && local {
		return s.cfg.Self
	}
	if l := s.cfg.Directory.Leader(partition); l != 0 {
		return l
	}
	if local {
		if l := s.cfg.Local.LeaderOf(partition); l != 0 {
			return l
		}
		return s.cfg.Self
	}
	reps := s.cfg.Replicas(partition)
	if len(reps) == 0 {
		return 0
	}
	return reps[s.cfg.Pick(len(reps))]
}

// other picks a replica of partition not in tried, the one after the
// last tried in the directory's order (0: none left).
func (s *Sender) other(partition uint64, tried []uint64) uint64 {
	reps := s.cfg.Replicas(partition)
	if len(reps) == 0 {
		return 0
	}
	start := 0
	if len(tried) > 0 {
		start = slices.Index(reps, tried[len(tried)-1]) + 1
	}
	for i := range reps {
		if r := reps[(start+i)%len(reps)]; !slices.Contains(tried, r) {
			return r
		}
	}
	return 0
}

// remoteTarget is a Remote bound to one node.
type remoteTarget struct {
	r    Remote
	node uint64
}

func (t remoteTarget) Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	return t.r.Propose(ctx, t.node, partition, cmd)
}

func (t remoteTarget) Get(ctx context.Context, partition uint64, key []byte, consistent bool) ([]byte, error) {
	return t.r.Get(ctx, t.node, partition, key, consistent)
}

func (t remoteTarget) Walk(ctx context.Context, req store.WalkRequest) (store.WalkResult, error) {
	return t.r.Walk(ctx, t.node, req)
}

// noTarget is a node a single node's Sender cannot reach.
type noTarget struct{ node uint64 }

func (t noTarget) err() error { return fmt.Errorf("%w: %d", directory.ErrUnknownNode, t.node) }

func (t noTarget) Propose(context.Context, uint64, *partitapb.Command) (*partitapb.Result, error) {
	return nil, t.err()
}

func (t noTarget) Get(context.Context, uint64, []byte, bool) ([]byte, error) { return nil, t.err() }

func (t noTarget) Walk(context.Context, store.WalkRequest) (store.WalkResult, error) {
	return store.WalkResult{}, t.err()
}

// Sleep waits d or until ctx ends: the default Config.Wait.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
