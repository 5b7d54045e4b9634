package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/route"
	"github.com/partitadb/partita/router"
	"github.com/partitadb/partita/store"
)

// Routers in the harness. A Coordinator is a real router.Router, as a
// node's process runs one, whose requests reach the cluster's stores in
// process (Cluster.Remote: a crashed node's answer is ambiguous, a down
// node answers nothing) and whose tables live in the meta partition,
// bootstrapped by BootstrapMeta. Several coordinators over one cluster are
// several nodes' routers: each runs transactions (router.TransactWrite,
// TransactGet) as their coordinator, and Kill stops one mid-transaction as
// if its process died there.

// TxnClock is the clock of the harness's routers: real time plus an
// offset that Advance moves forward, so that a test makes transactions'
// deadlines pass without waiting for them.
type TxnClock struct{ offset atomic.Int64 }

// Now is the clock's time.
func (k *TxnClock) Now() time.Time { return time.Now().Add(time.Duration(k.offset.Load())) }

// Advance moves the clock forward by d.
func (k *TxnClock) Advance(d time.Duration) { k.offset.Add(int64(d)) }

// BootstrapMeta creates the meta partition (the directory: table records)
// on every node, as a cluster's first node does, and waits for its
// leader.
func (c *Cluster) BootstrapMeta() {
	c.t.Helper()
	for _, id := range c.Nodes() {
		st := c.Store(id)
		if st == nil {
			c.t.Fatalf("harness: bootstrap the meta partition: node %d is down", id)
		}
		if err := st.Bootstrap(directory.MetaPartition, c.Nodes(), directory.MetaSpans()...); err != nil {
			c.t.Fatalf("harness: bootstrap the meta partition on node %d: %v", id, err)
		}
	}
	c.Leader(directory.MetaPartition)
}

// host places a new table's partitions on every node: the router's Host.
// Tables are created before faults start: every node must be up.
type host struct{ c *Cluster }

func (h host) CreatePartition(_ context.Context, p *partitapb.Partition) error {
	for _, id := range h.c.Nodes() {
		st := h.c.Store(id)
		if st == nil {
			return fmt.Errorf("harness: create partition %d: node %d is down", p.GetId(), id)
		}
		if err := st.Bootstrap(p.GetId(), h.c.Nodes(), directory.Spans(p)...); err != nil {
			return fmt.Errorf("harness: create partition %d on node %d: %w", p.GetId(), id, err)
		}
	}
	return nil
}

func (h host) DestroyPartition(_ context.Context, partition uint64) error {
	var errs []error
	for _, id := range h.c.Nodes() {
		if st := h.c.Store(id); st != nil {
			errs = append(errs, st.Destroy(partition))
		}
	}
	return errors.Join(errs...)
}

// KillPoint is where Kill stops a coordinator: at its next transaction's
// step of that kind.
type KillPoint int

// The kill points of a coordinator.
const (
	// KillNone kills nothing.
	KillNone KillPoint = iota
	// KillAfterFirstPrepare: one prepare reached the cluster (its answer
	// is lost), the others may or may not.
	KillAfterFirstPrepare
	// KillBeforeCommit: every prepare answered; the commit never leaves.
	KillBeforeCommit
	// KillAfterCommit: the commit point applied; no intent is resolved by
	// the coordinator.
	KillAfterCommit
	// KillAfterFirstResolve: committed (or aborted), one intent resolved.
	KillAfterFirstResolve
)

func (k KillPoint) String() string {
	return [...]string{"none", "after-first-prepare", "before-commit", "after-commit", "after-first-resolve"}[k]
}

// ErrKilled is the error of a request of a killed coordinator: the
// process is gone; what it sent may still apply.
var ErrKilled = errors.New("harness: coordinator killed")

// Coordinator is one router process over the cluster. Arm sets where it
// dies; once dead every request it makes fails at once (wrapping
// context.Canceled, so that its Sender stops retrying). A dead
// coordinator stays dead: NewCoordinator starts another process.
type Coordinator struct {
	*router.Router
	c      *Cluster
	sender *route.Sender
	dead   atomic.Bool

	mu     sync.Mutex
	armed  KillPoint
	stall  time.Duration // of the next prepare (Stall)
	clock  *TxnClock
	cancel context.CancelFunc // of the request in flight (Begin)
	killed KillPoint          // where it died (KillNone: alive)
}

// NewCoordinator starts a router over the cluster with clock k. Its
// Sender retries like a node's, with hops bounded by 25 ticks.
func (c *Cluster) NewCoordinator(k *TxnClock) *Coordinator {
	return c.NewSkewedCoordinator(k, 0)
}

// NewSkewedCoordinator is NewCoordinator with a router whose clock reads
// k plus skew: a machine whose clock is off.
func (c *Cluster) NewSkewedCoordinator(k *TxnClock, skew time.Duration) *Coordinator {
	co := &Coordinator{c: c, clock: k}
	scfg := route.DefaultConfig()
	scfg.Remote, scfg.Directory = coordinatorRemote{co}, directory.NewCache()
	scfg.Replicas = func(uint64) []uint64 { return c.Nodes() }
	scfg.HopTimeout = 25 * c.cfg.TickInterval
	scfg.Backoff, scfg.MaxBackoff = c.cfg.TickInterval/2, 5*c.cfg.TickInterval
	sender, err := route.New(scfg)
	if err != nil {
		c.t.Fatalf("harness: coordinator sender: %v", err)
	}
	rcfg := router.DefaultConfig()
	now := func() time.Time { return k.Now().Add(skew) }
	rcfg.Sender, rcfg.Host, rcfg.Now, rcfg.Logger = sender, host{c}, now, c.cfg.Logger.With("router", "harness")
	r, err := router.New(rcfg)
	if err != nil {
		c.t.Fatalf("harness: coordinator router: %v", err)
	}
	r.SetClusterVersion(clusterversion.Latest)
	co.Router, co.sender = r, sender
	return co
}

// Split splits partition of the named table in the middle of its range,
// as `partita ctl partition split` does, and returns the table's record
// afterwards.
func (co *Coordinator) Split(ctx context.Context, table string, partition uint64) (*partitapb.Table, error) {
	t, err := co.FreshTable(ctx, table)
	if err != nil {
		return nil, err
	}
	t, err = co.sender.Split(ctx, route.SplitRequest{Table: t, Partition: partition, Voters: co.c.Nodes()})
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	return t, nil
}

// Arm makes the coordinator die at point p of its next transaction.
func (co *Coordinator) Arm(p KillPoint) {
	co.mu.Lock()
	defer co.mu.Unlock()
	co.armed = p
}

// Stall makes the coordinator stop for d before sending the next prepare
// (of its next transaction), as a process that the operating system
// paused there for longer than a transaction's deadline: the routers'
// clock jumps past the deadline as the stall starts, so that others may
// recover the transaction meanwhile. The transaction's other prepares go
// on.
func (co *Coordinator) Stall(d time.Duration) {
	co.mu.Lock()
	defer co.mu.Unlock()
	co.stall = d
}

// stallBefore stalls a prepare if Stall asked for it.
func (co *Coordinator) stallBefore(ctx context.Context, cmd *partitapb.Command) {
	if cmd.GetTxnPrepare() == nil {
		return
	}
	co.mu.Lock()
	d := co.stall
	co.stall = 0
	co.mu.Unlock()
	if d > 0 {
		co.clock.Advance(router.TxnDeadline + time.Second)
		sleep(ctx, d)
	}
}

// Begin returns the context of one request of the coordinator: killing
// the coordinator cancels it.
func (co *Coordinator) Begin(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	co.mu.Lock()
	co.cancel = cancel
	co.mu.Unlock()
	if co.dead.Load() {
		cancel()
	}
	return ctx, cancel
}

// Killed reports where the coordinator died (KillNone: it is alive).
func (co *Coordinator) Killed() KillPoint {
	co.mu.Lock()
	defer co.mu.Unlock()
	return co.killed
}

// kill stops the coordinator at point p.
func (co *Coordinator) kill(p KillPoint) {
	co.mu.Lock()
	defer co.mu.Unlock()
	if co.dead.Swap(true) {
		return
	}
	co.killed, co.armed = p, KillNone
	if co.cancel != nil {
		co.cancel()
	}
}

// before and after say, for a proposal of cmd, whether the coordinator
// dies before sending it or once it is sent.
func (co *Coordinator) before(cmd *partitapb.Command) bool {
	co.mu.Lock()
	armed := co.armed
	co.mu.Unlock()
	if armed == KillBeforeCommit && isCommit(cmd) {
		co.kill(armed)
		return true
	}
	return false
}

func (co *Coordinator) after(cmd *partitapb.Command) {
	co.mu.Lock()
	armed := co.armed
	co.mu.Unlock()
	switch {
	case armed == KillAfterFirstPrepare && cmd.GetTxnPrepare() != nil,
		armed == KillAfterCommit && isCommit(cmd),
		armed == KillAfterFirstResolve && len(cmd.GetTxnResolve().GetTxnId()) > 0:
		co.kill(armed)
	}
}

func isCommit(cmd *partitapb.Command) bool {
	s := cmd.GetTxnSetStatus()
	return s != nil && s.GetCoordinator() && s.GetStatus() == partitapb.TxnStatus_TXN_COMMITTED
}

// coordinatorRemote is the cluster's stores as one coordinator reaches
// them: nothing once it is dead.
type coordinatorRemote struct{ co *Coordinator }

func (r coordinatorRemote) gone() error { return fmt.Errorf("%w: %w", ErrKilled, context.Canceled) }

func (r coordinatorRemote) Propose(ctx context.Context, node, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	r.co.stallBefore(ctx, cmd)
	if r.co.dead.Load() || r.co.before(cmd) {
		return nil, r.gone()
	}
	res, err := r.co.c.Remote().Propose(ctx, node, partition, cmd)
	r.co.after(cmd)
	if r.co.dead.Load() {
		return nil, r.gone() // the answer dies with the process
	}
	return res, err
}

func (r coordinatorRemote) Get(ctx context.Context, node, partition uint64, key []byte, consistent bool) ([]byte, error) {
	if r.co.dead.Load() {
		return nil, r.gone()
	}
	return r.co.c.Remote().Get(ctx, node, partition, key, consistent)
}

func (r coordinatorRemote) Walk(ctx context.Context, node uint64, req store.WalkRequest) (store.WalkResult, error) {
	if r.co.dead.Load() {
		return store.WalkResult{}, r.gone()
	}
	return r.co.c.Remote().Walk(ctx, node, req)
}

// TxnLeftovers counts the transaction intents that the running replicas
// of partition hold (summed over the replicas), and the records by
// status (each record once, whichever replicas hold it).
func (c *Cluster) TxnLeftovers(partition uint64) (intents int, records map[partitapb.TxnStatus]int, err error) {
	seen := map[string]partitapb.TxnStatus{}
	for _, id := range c.Nodes() {
		st := c.Store(id)
		if st == nil || st.Replica(partition) == nil {
			continue
		}
		_, err := c.WithEngine(id, st, func(eng *engine.Engine) error {
			lo := engine.LocalKey(partition, engine.ReplicatedLocal+"X")
			hi := engine.LocalKey(partition, engine.ReplicatedLocal+"Y")
			it, err := eng.NewIter(lo, hi)
			if err != nil {
				return err
			}
			defer it.Close()
			intentLo, intentHi := fsm.TxnIntentKey(partition, nil), engine.LocalKey(partition, engine.ReplicatedLocal+"Xj")
			recLo, recHi := fsm.TxnRecordKey(partition, nil), engine.LocalKey(partition, engine.ReplicatedLocal+"Xs")
			for ok := it.First(); ok; ok = it.Next() {
				k := it.Key()
				switch {
				case bytes.Compare(k, intentLo) >= 0 && bytes.Compare(k, intentHi) < 0:
					intents++
				case bytes.Compare(k, recLo) >= 0 && bytes.Compare(k, recHi) < 0:
					rec := &partitapb.TxnRecord{}
					if err := proto.Unmarshal(it.Value(), rec); err != nil {
						return fmt.Errorf("harness: corrupt transaction record: %w", err)
					}
					seen[string(k)] = rec.GetStatus()
				}
			}
			return it.Error()
		})
		if err != nil {
			return 0, nil, fmt.Errorf("harness: scan transactions of partition %d on node %d: %w", partition, id, err)
		}
	}
	records = map[partitapb.TxnStatus]int{}
	for _, s := range seen {
		records[s]++
	}
	return intents, records, nil
}
