package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/raft/v3/raftpb"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/partitadb/partita/admission"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/transport"
)

// Config configures a raft Store.
type Config struct {
	// NodeID is this node's id, the raft id of every replica it hosts.
	NodeID uint64
	// AvoidLeading, when set, names the nodes a leadership handed over
	// without a target goes to only when no other live voter can take it
	// (nodes being decommissioned).
	AvoidLeading func(node uint64) bool
	// Engine is the node's storage.
	Engine *engine.Engine
	// TickInterval is the period of raft's logical clock.
	TickInterval time.Duration
	// Workers is the number of goroutines processing replicas.
	Workers int
	// BatchReplicas bounds the replicas processed in one round (one fsync).
	BatchReplicas int
	// Replica is the template of every replica's configuration (timeouts,
	// cache); Partition, ID, Engine and Logger are filled in.
	Replica replica.Config
	// Logger receives the store's logs.
	Logger *slog.Logger
	// Registerer receives the store's metrics (nil: not registered).
	Registerer prometheus.Registerer
	// Tracer starts the spans of proposals, their apply and read indexes
	// (nil: a noop tracer).
	Tracer trace.Tracer
	// Admission throttles the item commands and reads this node serves
	// (nil: none).
	Admission *admission.Controller
	// LegacyWrites makes this node's leaders propose item writes as
	// Commands that every replica evaluates, the only format of nodes
	// before proposer evaluation, which cannot apply Effects entries. Set
	// it on every node while a cluster upgrades from such nodes; by
	// default a leader evaluates item writes and proposes their Effects.
	// SetLegacyWrites changes it live (the cluster version's gate).
	LegacyWrites bool
	// LeaseReads lets this node's leaders serve strongly consistent reads
	// from a leader lease, without a ReadIndex round trip, while the lease
	// is valid (replica/lease.go; raft.lease-reads turns it on and off
	// live). Default: on.
	LeaseReads bool
	// EagerCommit lists the partitions whose leaders send every follower
	// each new commit index at once, even with Replica.LazyCommit: those
	// whose followers' state a node reads locally and must follow the
	// leader within a round trip (the meta partition's directory).
	EagerCommit []uint64
}

// DefaultConfig returns a store ticking every 100ms (elections after 1s),
// with one worker: one round at a time batches more writes under each
// fsync than two overlapping rounds did (docs/performance-analysis.md,
// "One store worker").
func DefaultConfig() Config {
	return Config{
		TickInterval:  100 * time.Millisecond,
		Workers:       1,
		BatchReplicas: 64,
		Replica:       replica.DefaultConfig(),
		Logger:        slog.New(slog.DiscardHandler),
		LeaseReads:    true,
	}
}

// Validate rejects missing dependencies and impossible settings.
func (c Config) Validate() error {
	switch {
	case c.NodeID == 0:
		return errors.New("store: NodeID must be non-zero")
	case c.Engine == nil:
		return errors.New("store: Engine is required")
	case c.TickInterval <= 0 || c.Workers < 1 || c.BatchReplicas < 1:
		return errors.New("store: TickInterval, Workers and BatchReplicas must be positive")
	case c.Logger == nil:
		return errors.New("store: Logger is required")
	}
	return nil
}

// ErrNoReplica is returned for a partition this node does not host.
var ErrNoReplica = errors.New("store: no replica of the partition on this node")

// Store hosts a node's replicas and drives them: a tick loop, and workers
// that process replicas with work in batches, persisting all their log
// appends with one fsync.
type Store struct {
	cfg   Config
	sched *scheduler
	m     *metrics
	tr    transport.Transport

	mu       sync.RWMutex
	replicas map[uint64]*replica.Replica
	// createMu makes looking for a replica and opening it one step, for
	// the paths that create replicas (splits, snapshots, additions).
	createMu sync.Mutex
	// claimMu orders the decisions that give a replica a range on this
	// node: staging a snapshot against the ranges the others claim
	// (split.go).
	claimMu sync.Mutex
	load    sync.Map // partition -> *loadCounters (load.go)
	signals appliedSignals

	tickInterval atomic.Int64 // nanoseconds (SetTickInterval)
	ticksHeld    atomic.Bool  // HoldTicks
	tickReset    chan struct{}

	stop chan struct{}
	// legacyWrites: Config.LegacyWrites as it is now (SetLegacyWrites).
	legacyWrites atomic.Bool
	wg           sync.WaitGroup
	// destroying, when set (tests), runs in destroyClaimed between the
	// replica's removal from the map and the clearing of its state.
	destroying func(partition uint64)
}

// NewStore opens every replica found in the engine. Start runs it.
func NewStore(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Tracer == nil {
		cfg.Tracer = noop.NewTracerProvider().Tracer("")
	}
	s := &Store{cfg: cfg, sched: newScheduler(), replicas: make(map[uint64]*replica.Replica), stop: make(chan struct{}),
		tickReset: make(chan struct{}, 1)}
	s.tickInterval.Store(int64(cfg.TickInterval))
	s.legacyWrites.Store(cfg.LegacyWrites)
	s.initLeases()
	s.initLazyCommit()
	// Admission charges a put by the larger of the item's two sizes: its
	// leaders must read the item a put replaces.
	s.cfg.Replica.ExactPuts = s.cfg.Replica.ExactPuts || s.cfg.Admission != nil
	s.m = newMetrics(s)
	if err := s.m.register(cfg.Registerer); err != nil {
		return nil, fmt.Errorf("store: register metrics: %w", err)
	}
	ids, err := s.storedPartitions()
	if err != nil {
		return nil, err
	}
	if ids, err = s.removeTombstoned(ids); err != nil {
		return nil, err
	}
	// Replicas opened at start hold their votes for a lease: before the
	// restart they may have acknowledged a leader that still holds one.
	for _, id := range ids {
		if _, err := s.openReplicaHolding(id, s.voteHold()); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Start runs the store, sending messages over tr.
func (s *Store) Start(tr transport.Transport) {
	s.tr = tr
	s.wg.Add(1 + s.cfg.Workers)
	go s.tickLoop()
	for range s.cfg.Workers {
		go s.worker()
	}
}

// Stop stops the tick loop and the workers and waits for them. Pending
// proposals are abandoned (their callers' contexts end them).
func (s *Store) Stop() {
	// Under createMu: a replica being created when Stop begins is open,
	// and halted below, before the caller may close the engine; none is
	// created after.
	s.createMu.Lock()
	close(s.stop)
	s.createMu.Unlock()
	s.sched.close()
	s.wg.Wait()
	// No evaluation of a write reads the engine after Stop: the caller
	// may close it.
	for _, r := range s.Replicas() {
		r.Halt()
	}
}

// SetLegacyWrites sets, from the next write on, whether this node's
// leaders propose item writes as Commands (see Config.LegacyWrites).
func (s *Store) SetLegacyWrites(legacy bool) { s.legacyWrites.Store(legacy) }

// LegacyWrites says whether this node's leaders propose item writes as
// Commands.
func (s *Store) LegacyWrites() bool { return s.legacyWrites.Load() }

// storedPartitions lists the partitions with raft state in the engine.
func (s *Store) storedPartitions() ([]uint64, error) {
	var ids []uint64
	err := s.eachLocalPartition(func(id uint64) error {
		if _, err := engine.Get(s.cfg.Engine.Reader(), engine.LocalKey(id, "hs")); err == nil {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.loggedPartitions(ids)
}

// eachLocalPartition calls fn with the id of every partition that has a
// local key in the engine (engine.LocalKey), in order, and stops at fn's
// first error.
func (s *Store) eachLocalPartition(fn func(id uint64) error) error {
	it, err := s.cfg.Engine.NewIter(engine.LocalRange())
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; {
		k := it.Key()
		if len(k) < 9 {
			ok = it.Next()
			continue
		}
		id := binary.BigEndian.Uint64(k[1:9])
		if err := fn(id); err != nil {
			return err
		}
		if id == ^uint64(0) {
			break
		}
		ok = it.SeekGE(engine.LocalKey(id+1, ""))
	}
	return it.Error()
}

// loggedPartitions adds to ids, the partitions with raft state in Pebble,
// those whose state is only in the engine's raft log of its own (a replica
// created empty that has voted), and forgets the log of those destroyed
// here (the removal is written after the destruction; a crash between the
// two leaves it undone).
func (s *Store) loggedPartitions(ids []uint64) ([]uint64, error) {
	l := s.cfg.Engine.RaftLog()
	if l == nil {
		return ids, nil
	}
	b := s.cfg.Engine.NewIndexedBatch()
	for _, id := range l.Partitions() {
		if slices.Contains(ids, id) {
			continue
		}
		if _, err := s.cfg.Engine.Get(tombstoneKey(id)); err == nil {
			b.LogAfter().Remove(id)
			continue
		} else if !errors.Is(err, engine.ErrNotFound) {
			b.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, s.cfg.Engine.Commit(b)
}

func (s *Store) openReplica(partition uint64) (*replica.Replica, error) {
	return s.openReplicaHolding(partition, 0)
}

// openReplicaHolding opens partition's replica, which drops vote requests
// for voteHold if it has a raft term on disk (replica.Config.VoteHold).
func (s *Store) openReplicaHolding(partition uint64, voteHold time.Duration) (*replica.Replica, error) {
	if r := s.Replica(partition); r != nil {
		return r, nil
	}
	rc := s.cfg.Replica
	rc.Partition, rc.ID, rc.Engine, rc.Logger = partition, s.cfg.NodeID, s.cfg.Engine, s.cfg.Logger
	rc.VoteHold = voteHold
	if slices.Contains(s.cfg.EagerCommit, partition) {
		rc.LazyCommit = nil
	}
	r, err := replica.Open(rc)
	if err != nil {
		return nil, err
	}
	// A group whose only voter is this node elects it at once, instead of
	// after an election timeout.
	if cs := r.ConfState(); len(cs.Voters) == 1 && cs.Voters[0] == s.cfg.NodeID {
		if err := r.Campaign(); err != nil {
			return nil, fmt.Errorf("store: partition %d: campaign: %w", partition, err)
		}
	}
	s.mu.Lock()
	s.replicas[partition] = r
	s.mu.Unlock()
	s.sched.enqueue(partition)
	return r, nil
}

// Destroy removes this node's replica of partition: its raft state, its
// replicated state and the data under its spans that no other replica on
// this node owns (replica_gc.go), leaving its tombstone.
func (s *Store) Destroy(partition uint64) error { return s.destroy(partition, nil) }

// destroy removes partition's replica and its local state and data,
// leaving a tombstone of value tomb.
func (s *Store) destroy(partition uint64, tomb []byte) error {
	s.claimMu.Lock()
	defer s.claimMu.Unlock()
	return s.destroyClaimed(partition, tomb, nil)
}

// destroyClaimed is destroy for a caller that holds claimMu: from the
// replica's removal from the map to the commit of its destruction, no
// snapshot may be staged over the range it leaves. The data under keep
// stays, as if another replica owned it.
func (s *Store) destroyClaimed(partition uint64, tomb []byte, keep []*partitapb.Span) error {
	s.mu.Lock()
	r := s.replicas[partition]
	delete(s.replicas, partition)
	s.mu.Unlock()
	s.forgetLoad(partition)
	if r == nil {
		return nil
	}
	r.Lock()
	defer r.Unlock()
	r.Close()
	if s.destroying != nil {
		s.destroying(partition)
	}
	return s.clearReplica(partition, tomb, keep)
}

// clearReplica deletes partition's local state and the data under its
// spans that no other replica here owns (nor keep), and leaves its
// tombstone, in one batch. The caller holds claimMu, or is NewStore.
func (s *Store) clearReplica(partition uint64, tomb []byte, keep []*partitapb.Span) error {
	// createMu: no replica is bootstrapped, added or opened while the
	// store decides what the others own and clears the rest.
	s.createMu.Lock()
	defer s.createMu.Unlock()
	if s.Replica(partition) != nil {
		// Added back (AddEmptyReplica) since it left the map: the new
		// replica took over its state, which stays.
		s.cfg.Logger.Info("destroying a replica: it was added back meanwhile, its state stays", "partition", partition)
		return nil
	}
	b := s.cfg.Engine.NewIndexedBatch()
	if err := b.DeleteRange(engine.LocalKey(partition, ""), engine.LocalKey(partition+1, "")); err != nil {
		b.Close()
		return fmt.Errorf("store: destroy partition %d: %w", partition, err)
	}
	cleared, kept, err := s.clearData(b, partition, keep)
	if err != nil {
		b.Close()
		return fmt.Errorf("store: destroy partition %d: %w", partition, err)
	}
	// The tombstone keeps a stale view of the placement from bootstrapping
	// the replica again (partition ids are never reused).
	if err := b.Set(tombstoneKey(partition), tomb); err != nil {
		b.Close()
		return fmt.Errorf("store: destroy partition %d: %w", partition, err)
	}
	if lb := b.LogAfter(); lb != nil {
		lb.Remove(partition) // once the destruction is durable
	}
	if err := s.cfg.Engine.Commit(b); err != nil {
		return fmt.Errorf("store: destroy partition %d: %w", partition, err)
	}
	s.cfg.Logger.Info("destroyed a replica", "partition", partition, "spans_cleared", cleared, "spans_kept", kept)
	return nil
}

// ErrDestroyed is returned by Bootstrap for a partition whose replica was
// destroyed on this node.
var ErrDestroyed = errors.New("store: the partition's replica was destroyed on this node")

// ErrStopped: the store was stopped, and creates no replica any more.
var ErrStopped = errors.New("store: stopped")

// creating refuses to create a replica once the store is stopped (its
// engine may be closed). The caller holds createMu.
func (s *Store) creating(partition uint64) error {
	select {
	case <-s.stop:
		return fmt.Errorf("store: partition %d: %w", partition, ErrStopped)
	default:
		return nil
	}
}

func tombstoneKey(partition uint64) []byte { return replica.TombstoneKey(partition) }

// Bootstrap creates this node's replica of a new partition whose voters
// are voters (this node among them) and which owns spans (what its
// snapshots carry). Every voter bootstraps the same way.
func (s *Store) Bootstrap(partition uint64, voters []uint64, spans ...*partitapb.Span) error {
	if len(spans) == 0 {
		// Without spans its snapshots would carry no data, and a follower
		// catching up by snapshot would silently keep stale items.
		return fmt.Errorf("store: partition %d: bootstrap needs the spans it owns", partition)
	}
	s.createMu.Lock()
	defer s.createMu.Unlock()
	if err := s.creating(partition); err != nil {
		return err
	}
	if _, err := s.cfg.Engine.Get(tombstoneKey(partition)); err == nil {
		return fmt.Errorf("store: partition %d: %w", partition, ErrDestroyed)
	}
	if s.Replica(partition) != nil {
		return fmt.Errorf("store: partition %d already exists here", partition)
	}
	b := s.cfg.Engine.NewIndexedBatch()
	if err := replica.Bootstrap(b, partition, voters, spans); err != nil {
		b.Close()
		return err
	}
	if err := s.cfg.Engine.Commit(b); err != nil {
		return err
	}
	_, err := s.openReplica(partition)
	return err
}

// AddEmptyReplica creates an uninitialised replica of partition that waits
// for its leader to send it state (a learner being added).
func (s *Store) AddEmptyReplica(partition uint64) error {
	s.createMu.Lock()
	defer s.createMu.Unlock()
	if err := s.creating(partition); err != nil {
		return err
	}
	if s.Replica(partition) != nil {
		return nil
	}
	b := s.cfg.Engine.NewIndexedBatch() // a replica added back: forget its tombstone
	if err := b.Delete(tombstoneKey(partition)); err != nil {
		b.Close()
		return fmt.Errorf("store: partition %d: %w", partition, err)
	}
	if err := s.cfg.Engine.Commit(b); err != nil {
		return err
	}
	_, err := s.openReplica(partition)
	return err
}

// Replica returns the replica of partition, or nil.
func (s *Store) Replica(partition uint64) *replica.Replica {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.replicas[partition]
}

// Replicas returns every hosted replica.
func (s *Store) Replicas() []*replica.Replica {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*replica.Replica, 0, len(s.replicas))
	for _, r := range s.replicas {
		out = append(out, r)
	}
	return out
}

// Propose replicates cmd in partition and returns its apply result. It
// fails with *replica.NotLeaderError when this node does not lead the
// partition, and with replica.ErrAmbiguous or ctx's error when the outcome
// is unknown (retry with the same command id).
func (s *Store) Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (res *partitapb.Result, err error) {
	ctx, span := s.startSpan(ctx, "raft.propose", partition)
	defer func() { endSpan(span, err) }()
	start := time.Now()
	defer func() { s.countWrite(partition, cmd, res, err, time.Since(start)) }()
	r := s.Replica(partition)
	if r == nil {
		if into := s.MergedInto(partition); into != 0 {
			return &partitapb.Result{Error: wrongRangeMerged(partition, into)}, nil
		}
		return nil, fmt.Errorf("store: partition %d: %w", partition, ErrNoReplica)
	}
	ticket, err := s.admitWrite(partition, cmd)
	if err != nil {
		s.m.proposals.WithLabelValues("throttled").Inc()
		return nil, err
	}
	if cmd.GetSplitRange() != nil {
		awaitSplitReady(ctx, r)
	}
	evaluate := (!s.legacyWrites.Load() && fsm.IsItemWrite(cmd)) || fsm.IsTxnCommand(cmd)
	for attempt := 1; ; attempt++ {
		var ch <-chan replica.Outcome
		if evaluate {
			ch, err = proposeEvaluated(ctx, r, cmd)
		} else {
			ch, err = r.Propose(cmd)
		}
		// Whatever happened, the command is in the log or never will be: any
		// later proposal of it is a retry. (Written only when set: an
		// earlier forwarding of cmd may still be encoding it.)
		if cmd.GetFirstAttempt() {
			cmd.FirstAttempt = false
		}
		if err != nil {
			s.m.proposals.WithLabelValues(outcome(err)).Inc()
			return nil, err
		}
		s.sched.enqueue(partition)
		select {
		case o := <-ch:
			if o.Err == nil && partitapb.IsStaleEvaluation(o.Result.GetError()) {
				s.m.proposals.WithLabelValues("reevaluated").Inc()
				if attempt < maxEvaluations {
					continue
				}
				// Nothing was written: the sender retries.
				return nil, fmt.Errorf("store: partition %d: evaluated %d times: %w", partition, attempt, replica.ErrAmbiguous)
			}
			s.m.proposals.WithLabelValues(outcome(o.Err)).Inc()
			s.traceApply(ctx, partition, o)
			chargeWrite(ticket, o.Result)
			return o.Result, o.Err
		case <-ctx.Done():
			r.Abandon(cmd, ch)
			s.m.proposals.WithLabelValues("ambiguous").Inc()
			return nil, fmt.Errorf("store: partition %d: %w", partition, ctx.Err())
		}
	}
}

// maxEvaluations bounds the evaluations of one item write whose Effects
// keep being refused as stale (each refusal means another write of the
// partition applied out of its evaluation's order: rare).
const maxEvaluations = 8

// proposeEvaluated proposes the item write cmd through r's evaluation,
// waiting while r leads but has not yet applied an entry of its term.
func proposeEvaluated(ctx context.Context, r *replica.Replica, cmd *partitapb.Command) (<-chan replica.Outcome, error) {
	for {
		ch, err := r.ProposeEvaluated(ctx, cmd)
		if !errors.Is(err, replica.ErrNotReady) {
			return ch, err
		}
		t := time.NewTimer(time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("store: partition %d: %w", r.Partition(), ctx.Err())
		case <-t.C:
		}
	}
}

// splitReadyWait bounds how long a split waits for the partition's
// followers to catch up on the previous one (replica.SplitReady): less
// than the hop timeout of a forwarded proposal. A follower still behind
// then will need a snapshot.
const splitReadyWait = 2 * time.Second

// awaitSplitReady holds a split proposed to r until its followers are
// ready for it, for at most splitReadyWait: so that a burst of splits,
// each of the previous right half, does not become a burst of snapshots.
func awaitSplitReady(ctx context.Context, r *replica.Replica) {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	deadline := time.Now().Add(splitReadyWait)
	for !r.SplitReady() && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func okOrError(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

// outcome labels a proposal's error for metrics.
func outcome(err error) string {
	var nl *replica.NotLeaderError
	switch {
	case err == nil:
		return "applied"
	case errors.As(err, &nl):
		return "not_leader"
	case errors.Is(err, replica.ErrAmbiguous):
		return "ambiguous"
	default:
		return "error"
	}
}

// ReadIndex returns once this node's replica of partition has applied
// every write committed before the call: a read of local state after it is
// linearizable. Only the leader serves it.
func (s *Store) ReadIndex(ctx context.Context, partition uint64) (err error) {
	_, span := s.startSpan(ctx, "raft.read_index", partition)
	defer func() { endSpan(span, err) }()
	r := s.Replica(partition)
	if r == nil {
		return s.noReplica(partition)
	}
	ch, err := r.ReadIndex()
	if err != nil {
		return err
	}
	s.sched.enqueue(partition)
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		r.AbandonRead(ch)
		return fmt.Errorf("store: partition %d: read index: %w", partition, ctx.Err())
	}
}

// ProposeConfChange proposes a membership change of partition.
func (s *Store) ProposeConfChange(partition uint64, cc raftpb.ConfChangeV2) error {
	r := s.Replica(partition)
	if r == nil {
		return fmt.Errorf("store: partition %d: %w", partition, ErrNoReplica)
	}
	if err := r.ProposeConfChange(cc); err != nil {
		return err
	}
	s.sched.enqueue(partition)
	return nil
}

// TransferLeader asks partition's leader (this node) to hand over to node.
func (s *Store) TransferLeader(partition, to uint64) error {
	r := s.Replica(partition)
	if r == nil {
		return fmt.Errorf("store: partition %d: %w", partition, ErrNoReplica)
	}
	r.TransferLeader(to)
	s.sched.enqueue(partition)
	return nil
}

// Campaign makes this node's replica of partition start an election.
func (s *Store) Campaign(partition uint64) error {
	r := s.Replica(partition)
	if r == nil {
		return fmt.Errorf("store: partition %d: %w", partition, ErrNoReplica)
	}
	if err := r.Campaign(); err != nil {
		return err
	}
	s.sched.enqueue(partition)
	return nil
}

// HandleRaft implements transport.Handler.
func (s *Store) HandleRaft(msgs []transport.Message) {
	for _, m := range msgs {
		if m.Raft.To != s.cfg.NodeID {
			s.dropMisaddressed(m.Partition, m.Raft)
			continue
		}
		r := s.Replica(m.Partition)
		if r == nil {
			continue // not hosted (yet); the sender retries
		}
		more, err := r.Step(m.Raft)
		if err != nil {
			s.cfg.Logger.Debug("dropping raft message", "partition", m.Partition, "err", err)
			continue
		}
		if more {
			s.sched.enqueue(m.Partition)
		}
	}
}

// ErrMisaddressed: a raft message or snapshot named another node.
var ErrMisaddressed = errors.New("store: addressed to another node")

// dropMisaddressed counts and logs a raft message sent to another node.
// A peer that reaches this node at an address another node had (a port
// reused, a node moved) must not have its messages stepped: raft does
// not check a message's recipient, and a heartbeat promising a commit
// index beyond this replica's log would crash it.
func (s *Store) dropMisaddressed(partition uint64, m raftpb.Message) {
	s.m.misaddressed.Inc()
	s.cfg.Logger.Debug("dropping a raft message for another node", "partition", partition, "to", m.To, "from", m.From, "type", m.Type)
}

// snapshotTimeout bounds streaming one snapshot.
const snapshotTimeout = 10 * time.Minute

// sendSnapshot streams a snapshot to a follower and reports the outcome to
// raft, which retries with a new snapshot after a failure.
func (s *Store) sendSnapshot(r *replica.Replica, m raftpb.Message, src *replica.SnapshotSource) {
	defer s.wg.Done()
	defer src.Close()
	err := s.streamSnapshot(r.Partition(), m, src)
	if err != nil {
		s.cfg.Logger.Warn("sending snapshot failed", "partition", r.Partition(), "to", m.To, "err", err)
	}
	r.ReportSnapshot(m.To, err == nil)
	s.m.snapshotsSent.WithLabelValues(okOrError(err)).Inc()
	s.sched.enqueue(r.Partition())
}

func (s *Store) streamSnapshot(partition uint64, m raftpb.Message, src *replica.SnapshotSource) error {
	sender, ok := s.tr.(transport.SnapshotSender)
	if !ok {
		return errors.New("store: the transport cannot send snapshots")
	}
	data, err := src.Reader()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), snapshotTimeout)
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return sender.SendSnapshot(ctx, m.To, transport.Snapshot{Partition: partition, Raft: m, Data: data})
}

// HandleSnapshot implements transport.SnapshotHandler: it stages the
// snapshot's data on the partition's replica (creating an empty one if
// this node has none yet) and steps its MsgSnap. A snapshot whose range
// overlaps what another replica here owns or is about to own is refused
// (ErrRangeClaimed; see split.go).
func (s *Store) HandleSnapshot(snap transport.Snapshot) error {
	if snap.Raft.To != s.cfg.NodeID {
		s.dropMisaddressed(snap.Partition, snap.Raft)
		return fmt.Errorf("store: a snapshot for node %d reached node %d: %w", snap.Raft.To, s.cfg.NodeID, ErrMisaddressed)
	}
	data, err := replica.ReadSnapshot(s.cfg.Engine, snap.Partition, snap.Data)
	if err == nil {
		err = s.stageSnapshot(snap, data)
	}
	s.m.snapshotsRecv.WithLabelValues(okOrError(err)).Inc()
	return err
}

func (s *Store) stageSnapshot(snap transport.Snapshot, data *replica.SnapshotData) error {
	s.claimMu.Lock()
	defer s.claimMu.Unlock()
	if err := s.dropMergedClaimants(snap.Partition, data.Descriptor()); err != nil {
		data.Close()
		return err
	}
	if other := s.claimant(snap.Partition, data.Descriptor().GetSpans()); other != 0 {
		data.Close()
		return fmt.Errorf("store: snapshot of partition %d overlaps partition %d: %w", snap.Partition, other, ErrRangeClaimed)
	}
	if s.Replica(snap.Partition) == nil && s.Destroyed(snap.Partition) {
		// Destroyed here (moved away, merged): a leader that still lists
		// this node must not bring it back. Adding it again starts with
		// an explicit creation (AddEmptyReplica), which clears the
		// tombstone.
		data.Close()
		return fmt.Errorf("store: snapshot of partition %d: %w", snap.Partition, ErrDestroyed)
	}
	if err := s.AddEmptyReplica(snap.Partition); err != nil {
		data.Close()
		return err
	}
	r := s.Replica(snap.Partition)
	if r == nil {
		data.Close()
		return fmt.Errorf("store: partition %d: %w", snap.Partition, ErrNoReplica)
	}
	more, err := r.StageSnapshotData(snap.Raft, data)
	if err != nil {
		return err
	}
	if more {
		s.sched.enqueue(snap.Partition)
	}
	return nil
}

func (s *Store) tickLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.TickInterval())
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-s.tickReset:
			t.Reset(s.TickInterval())
		case <-t.C:
			if s.ticksHeld.Load() {
				continue
			}
			for _, r := range s.Replicas() {
				if r.Tick() {
					s.sched.enqueue(r.Partition())
				}
			}
		}
	}
}

// worker processes batches of replicas until the store stops.
func (s *Store) worker() {
	defer s.wg.Done()
	for {
		ids := s.sched.next(s.cfg.BatchReplicas)
		if ids == nil {
			return
		}
		start := time.Now()
		out, again, merged, err := s.process(ids)
		s.m.roundDuration.Observe(time.Since(start).Seconds())
		s.m.roundReplicas.Observe(float64(len(ids)))
		if err != nil {
			s.cfg.Logger.Error("processing replicas failed", "err", err)
		}
		// Sent with no replica locked: a transport may deliver synchronously.
		for to, msgs := range out {
			s.tr.Send(to, msgs)
		}
		for _, p := range again {
			s.sched.enqueue(p)
		}
		if err := s.destroyMerged(merged); err != nil {
			s.cfg.Logger.Error("removing merged replicas failed", "err", err)
		}
	}
}

type round struct {
	r  *replica.Replica
	rd replica.Ready
	ok bool
}

// settleable says the round may answer its applied writes before the
// batch is durable (Replica.Settle).
func (rd round) settleable() bool { return rd.ok && rd.rd.Settleable() }

// process runs one round over the replicas ids: collect their Ready (log
// appends, hard states, applies of committed entries) into one batch, send
// the messages that need not wait for it, make it durable with one fsync,
// then answer and advance. It returns the remaining messages to send, by
// destination, the replicas with more work, and those that merges made
// this round absorbed (to remove once no replica is held). A replica another worker
// is processing is skipped: that worker's round covers its work.
func (s *Store) process(ids []uint64) (map[uint64][]transport.Message, []uint64, []uint64, error) {
	rounds := make([]round, 0, len(ids))
	for _, id := range ids {
		if r := s.Replica(id); r != nil && r.TryLock() {
			rounds = append(rounds, round{r: r})
		}
	}
	defer func() {
		for _, rd := range rounds {
			rd.r.Unlock()
		}
	}()
	b := s.cfg.Engine.NewIndexedBatch()
	var firstErr error
	sync := false
	early := make(map[uint64][]transport.Message)
	for i := range rounds {
		rd, ok, err := rounds[i].r.Collect(b)
		if err != nil {
			firstErr = errors.Join(firstErr, err)
			continue
		}
		rounds[i].rd, rounds[i].ok = rd, ok
		sync = sync || rd.MustSync
		p := rounds[i].r.Partition()
		for _, m := range rd.Early {
			early[m.To] = append(early[m.To], transport.Message{Partition: p, Raft: m})
		}
	}
	// No replica's raft state is locked here (only rounds are held), so a
	// transport delivering synchronously cannot deadlock.
	for to, msgs := range early {
		s.tr.Send(to, msgs)
	}
	commit := s.cfg.Engine.CommitNoSync
	settle := sync && s.cfg.Engine.KeepsLogInPebble() && slices.ContainsFunc(rounds, round.settleable)
	if sync && !settle {
		commit = s.cfg.Engine.CommitLogSync
	}
	if err := commit(b); err != nil {
		return nil, nil, nil, errors.Join(firstErr, err) // nothing persisted: no message may leave
	}
	if settle {
		// The applied writes are answered before the fsync that the
		// round's new entries wait for (Replica.Settle): their own entries
		// are committed already, so their answers need not wait for
		// other writes' appends.
		for i := range rounds {
			if rounds[i].settleable() {
				rounds[i].r.Settle(&rounds[i].rd)
			}
		}
		if err := s.cfg.Engine.SyncWAL(); err != nil {
			return nil, nil, nil, errors.Join(firstErr, err) // not persisted: no message may leave
		}
	}
	out := make(map[uint64][]transport.Message)
	var again, merged []uint64
	for _, rd := range rounds {
		if !rd.ok {
			continue
		}
		p := rd.r.Partition()
		more, err := rd.r.Finish(rd.rd, func(msgs []raftpb.Message) {
			for _, m := range msgs {
				out[m.To] = append(out[m.To], transport.Message{Partition: p, Raft: m})
			}
		}, func(m raftpb.Message, src *replica.SnapshotSource) {
			s.wg.Add(1)
			go s.sendSnapshot(rd.r, m, src)
		})
		if err != nil {
			firstErr = errors.Join(firstErr, err)
		}
		if more {
			again = append(again, p)
		}
		firstErr = errors.Join(firstErr, s.openSplits(rd.rd))
		merged = append(merged, rd.rd.Merged...)
		if rd.rd.Changed() {
			s.signals.signal(p)
		}
	}
	return out, again, merged, firstErr
}
