package route_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/harness"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/route"
)

const partition = 7

// newSender returns a Sender reaching c's stores in process, with the
// cluster's nodes as every partition's replicas.
func newSender(t *testing.T, c *harness.Cluster, hop time.Duration) *route.Sender {
	t.Helper()
	cfg := route.DefaultConfig()
	cfg.Remote, cfg.Directory, cfg.HopTimeout = c.Remote(), directory.NewCache(), hop
	cfg.Replicas = func(uint64) []uint64 { return c.Nodes() }
	s, err := route.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func put(c *harness.Cluster, key string) *partitapb.Command {
	return c.NewClient().PutCommand(partition, key, "v", false, "")
}

func other(c *harness.Cluster, not uint64) uint64 {
	for _, id := range c.Nodes() {
		if id != not {
			return id
		}
	}
	return 0
}

func TestProposeFollowsHintsAndLearnsTheLeader(t *testing.T) {
	c := harness.New(t, harness.Config{Seed: 1})
	c.Bootstrap(partition)
	leader := c.Leader(partition)
	s := newSender(t, c, time.Second)
	s.Directory().SetLeader(partition, other(c, leader)) // a stale hint
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := s.Propose(ctx, partition, put(c, "a"))
	if err != nil || res.GetError() != nil {
		t.Fatalf("propose: %v %v", err, res.GetError())
	}
	if got := s.Directory().Leader(partition); got != leader {
		t.Fatalf("leader hint after success = %d, want %d", got, leader)
	}
}

func TestMovesOnFromAStoppedNode(t *testing.T) {
	c := harness.New(t, harness.Config{Seed: 2})
	c.Bootstrap(partition)
	down := other(c, c.Leader(partition))
	c.Crash(down)
	s := newSender(t, c, time.Second)
	s.Directory().SetLeader(partition, down)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Propose(ctx, partition, put(c, "a")); err != nil {
		t.Fatalf("propose with a hint at a stopped node: %v", err)
	}
}

func TestPausedLeaderCostsOneHop(t *testing.T) {
	c := harness.New(t, harness.Config{Seed: 3})
	c.Bootstrap(partition)
	old := c.Leader(partition)
	s := newSender(t, c, 200*time.Millisecond)
	s.Directory().SetLeader(partition, old)
	c.Pause(old)
	defer c.Resume(old)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := s.Propose(ctx, partition, put(c, "a")); err != nil {
		t.Fatalf("propose with a paused leader: %v", err)
	}
	if got := s.Directory().Leader(partition); got == old || got == 0 {
		t.Fatalf("leader hint = %d, want the new leader (old %d)", got, old)
	}
}

// lossy forwards proposals to the real stores and loses the answers of the
// first lose calls, as a connection that breaks after the request left.
type lossy struct {
	route.Remote
	lose int
}

func (l *lossy) Propose(ctx context.Context, node, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	res, err := l.Remote.Propose(ctx, node, partition, cmd)
	if l.lose > 0 { // the answer, success or failure, is lost
		l.lose--
		return nil, fmt.Errorf("%w: answer lost", cluster.ErrUnreachable)
	}
	return res, err
}

func lossySender(t *testing.T, c *harness.Cluster, lose int) *route.Sender {
	t.Helper()
	cfg := route.DefaultConfig()
	cfg.Remote, cfg.Directory = &lossy{Remote: c.Remote(), lose: lose}, directory.NewCache()
	cfg.Replicas = func(uint64) []uint64 { return c.Nodes() }
	s, err := route.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestOutcomeUnknownOnlyWhenAnAttemptMayHaveApplied checks the one fact a
// caller needs when a request runs out of time: an attempt whose answer
// was lost may have applied; attempts to stopped nodes cannot have.
func TestOutcomeUnknownOnlyWhenAnAttemptMayHaveApplied(t *testing.T) {
	c := harness.New(t, harness.Config{Seed: 4})
	c.Bootstrap(partition)
	s := lossySender(t, c, 1<<30)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err := s.Propose(ctx, partition, put(c, "a"))
	cancel()
	if !errors.Is(err, route.ErrOutcomeUnknown) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("every answer lost: %v, want ErrOutcomeUnknown and the deadline", err)
	}
	for _, id := range c.Nodes() {
		c.Crash(id)
	}
	s = newSender(t, c, 50*time.Millisecond)
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = s.Propose(ctx, partition, put(c, "b"))
	if err == nil || errors.Is(err, route.ErrOutcomeUnknown) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("every node stopped: %v, want the deadline without ErrOutcomeUnknown", err)
	}
}

// TestRetriesApplyAtMostOnce checks that a command whose answers were lost
// is retried with its id and answered with its first outcome: a
// conditional put that applied on the first attempt does not fail its
// condition on the retry.
func TestRetriesApplyAtMostOnce(t *testing.T) {
	c := harness.New(t, harness.Config{Seed: 6})
	c.Bootstrap(partition)
	s := lossySender(t, c, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := c.NewClient().PutCommand(partition, "once", "v", true, "")
	res, err := s.Propose(ctx, partition, cmd)
	if err != nil || res.GetError() != nil {
		t.Fatalf("conditional put after two lost answers: %v %v", err, res.GetError())
	}
	if v, err := c.NewClient().Get(ctx, partition, "once"); err != nil || v != "v" {
		t.Fatalf("read back: %q %v", v, err)
	}
}

func TestRequestTimeoutBoundsAContextWithoutDeadline(t *testing.T) {
	c := harness.New(t, harness.Config{Seed: 5, Nodes: 1})
	c.Bootstrap(partition)
	c.Crash(1)
	cfg := route.DefaultConfig()
	cfg.Remote, cfg.Directory, cfg.RequestTimeout = c.Remote(), directory.NewCache(), 200*time.Millisecond
	cfg.Replicas = func(uint64) []uint64 { return c.Nodes() }
	s, err := route.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), partition, []byte("k"), true); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("get with every node down: %v, want the request timeout", err)
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := route.DefaultConfig()
	if _, err := route.New(cfg); err == nil {
		t.Fatal("a Sender without directory and targets was built")
	}
	cfg.Directory = directory.NewCache()
	if _, err := route.New(cfg); err == nil {
		t.Fatal("a Sender without Local or Remote was built")
	}
	cfg.MaxHops = 0
	if err := cfg.Validate(); err == nil {
		t.Fatal("MaxHops 0 validated")
	}
}

// silentNode forwards proposals to the real stores, except those to one
// node, which it holds until the hop's deadline, as a node that accepts
// connections and never answers; it counts every node's calls.
type silentNode struct {
	route.Remote
	silent uint64
	mu     sync.Mutex
	calls  []uint64
}

func (r *silentNode) Propose(ctx context.Context, node, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	r.mu.Lock()
	r.calls = append(r.calls, node)
	r.mu.Unlock()
	if node == r.silent {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return r.Remote.Propose(ctx, node, partition, cmd)
}

// TestSilentNodeCostsOneHopPerAttempt checks that an attempt does not wait
// again on a node that timed out, even while stale hints name it: the
// silent node appears at most once in any MaxHops consecutive hops.
func TestSilentNodeCostsOneHopPerAttempt(t *testing.T) {
	c := harness.New(t, harness.Config{Seed: 7})
	c.Bootstrap(partition)
	old := c.Leader(partition)
	rec := &silentNode{Remote: c.Remote(), silent: old}
	cfg := route.DefaultConfig()
	cfg.Remote, cfg.Directory, cfg.HopTimeout = rec, directory.NewCache(), 20*time.Millisecond // shorter than an election
	cfg.Replicas = func(uint64) []uint64 { return c.Nodes() }
	s, err := route.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Directory().SetLeader(partition, old)
	c.Pause(old) // the others elect a new leader
	defer c.Resume(old)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := s.Propose(ctx, partition, put(c, "a")); err != nil {
		t.Fatalf("propose with a silent leader: %v", err)
	}
	hops := route.DefaultConfig().MaxHops
	for i := range rec.calls {
		window := rec.calls[i:min(i+hops, len(rec.calls))]
		n := 0
		for _, id := range window {
			if id == old {
				n++
			}
		}
		if n > 1 {
			t.Fatalf("the silent leader %d was asked twice within %d hops: %v", old, hops, rec.calls)
		}
	}
}

// refusing is a Remote whose first calls reach a node that refuses them
// unrun: the address the caller had is another node's by now.
type refusing struct {
	route.Remote
	refuse atomic.Int64
}

func (r *refusing) Propose(ctx context.Context, node, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	if r.refuse.Add(-1) >= 0 {
		return nil, fmt.Errorf("%w: Propose to node %d: a call for node %d reached another node", cluster.ErrWrongPeer, node, node)
	}
	return r.Remote.Propose(ctx, node, partition, cmd)
}

// TestWrongPeerMovesOn: a call refused by the node at the address (not
// the node meant) ran nowhere: the Sender tries again elsewhere, and
// when every attempt is refused, the outcome is known (not applied).
func TestWrongPeerMovesOn(t *testing.T) {
	c := harness.New(t, harness.Config{Seed: 8})
	c.Bootstrap(partition)
	r := &refusing{Remote: c.Remote()}
	r.refuse.Store(2)
	cfg := route.DefaultConfig()
	cfg.Remote, cfg.Directory = r, directory.NewCache()
	cfg.Replicas = func(uint64) []uint64 { return c.Nodes() }
	s, err := route.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if res, err := s.Propose(ctx, partition, put(c, "a")); err != nil || res.GetError() != nil {
		t.Fatalf("after two refusals: %v %v", err, res.GetError())
	}
	r.refuse.Store(1 << 30)
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = s.Propose(ctx, partition, put(c, "b"))
	if err == nil || errors.Is(err, route.ErrOutcomeUnknown) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("every attempt refused: %v, want the deadline without ErrOutcomeUnknown", err)
	}
}
