package replica

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
)

// Config configures a Replica.
type Config struct {
	// Partition is the raft group's id.
	Partition uint64
	// ID is this replica's raft id: the id of the node hosting it.
	ID uint64
	// Engine is the node's storage.
	Engine *engine.Engine
	// ElectionTicks and HeartbeatTicks are raft's timeouts in ticks.
	ElectionTicks  int
	HeartbeatTicks int
	// CacheBytes bounds the in-memory cache of recent log entries.
	CacheBytes int
	// MaxSizePerMsg bounds the entries in one append message.
	MaxSizePerMsg uint64
	// MaxLogEntries and MaxLogBytes bound a replica's raft log: entries
	// applied and acknowledged by every live follower are trimmed at once;
	// beyond these bounds, entries a slow follower still needs are trimmed
	// too, and that follower gets a snapshot. MaxLogEntries gives way to a
	// live follower being sent a snapshot or behind the last split;
	// MaxLogBytes to nothing (truncate.go).
	MaxLogEntries uint64
	MaxLogBytes   uint64
	// LogBounds, if set, overrides MaxLogBytes and MaxLogEntries while
	// the replica runs (shared by a store's replicas: the node's run-time
	// settings raft.log-max-bytes and raft.log-max-entries).
	LogBounds *LogBounds
	// TruncateStep is the least number of entries one trim removes.
	TruncateStep uint64
	// NewGroupGrace is how long the leader of a group born of a split,
	// its log never trimmed, keeps it whole for the followers it has not
	// heard from since it opened: the replicas a split is still creating
	// on slower nodes, which start at the group's first index and would
	// otherwise need a snapshot (within MaxLogBytes). A follower still
	// silent after it holds nothing.
	NewGroupGrace time.Duration
	// Logger receives the replica's logs.
	Logger *slog.Logger
	// RecordWindow is how long the at-most-once records of evaluated
	// writes are kept, by their commands' time: a retry of a command older
	// than that is refused (its outcome unknown) rather than applied
	// twice. It must exceed the longest a sender retries one command,
	// plus the clock skew between nodes. 0 keeps them all.
	RecordWindow time.Duration
	// Leases, if set, lets this replica serve strongly consistent reads
	// from a leader lease (lease.go); shared by a store's replicas.
	Leases *Leases
	// LeaseClock is the monotonic clock leases are measured with.
	// Default: time.Now (whose readings carry the monotonic clock).
	LeaseClock func() time.Time
	// VoteHold is how long a replica that opens with a raft term on disk
	// (a restart) drops vote requests: at least the longest lease a
	// leader it acknowledged before the restart may still hold. 0: none.
	VoteHold time.Duration
	// ChangeLogs, if set, names the change log view and retention of each
	// table (shared by a store's replicas); without it no write is logged.
	ChangeLogs *ChangeLogs
	// Now stamps the apply times reported in a proposal's Outcome (for
	// tracing only: apply itself never reads a clock). Default: time.Now.
	Now func() time.Time
	// LazyCommit, while it holds true: when the entries that commit are
	// item writes, a leader does not send a follower that holds its whole
	// log an append carrying nothing but the new commit index; the
	// follower learns it from the next append or heartbeat (ready.go,
	// caughtUpFollowers). Shared by a store's replicas, so that
	// raft.lazy-commit turns it on and off live; nil: off. On by default.
	LazyCommit *atomic.Bool
	// ExactPuts has this node's leaders read the item every put replaces,
	// even a put that could be written blind (fsm.Blind): set where
	// capacity is charged, by the larger of the item's two sizes.
	ExactPuts bool
}

// lazyCommitOn is a lazy commit switch turned on (DefaultConfig's).
func lazyCommitOn() *atomic.Bool {
	on := new(atomic.Bool)
	on.Store(true)
	return on
}

// lazyCommit says whether Config.LazyCommit is on.
func (r *Replica) lazyCommit() bool { return r.cfg.LazyCommit != nil && r.cfg.LazyCommit.Load() }

// DefaultConfig returns raft timeouts of 10 ticks to elect, 1 to heartbeat.
func DefaultConfig() Config {
	return Config{
		ElectionTicks: 10, HeartbeatTicks: 1,
		CacheBytes: 4 << 20, MaxSizePerMsg: 1 << 20,
		MaxLogEntries: 10000, MaxLogBytes: 16 << 20, TruncateStep: 64, NewGroupGrace: 30 * time.Second,
		RecordWindow: 10 * time.Minute,
		Logger:       slog.New(slog.DiscardHandler),
		Now:          time.Now,
		LeaseClock:   time.Now,
		LazyCommit:   lazyCommitOn(),
	}
}

// Validate rejects contradictory settings.
func (c Config) Validate() error {
	switch {
	case c.Partition == 0 || c.ID == 0:
		return errors.New("replica: Partition and ID must be non-zero")
	case c.Engine == nil:
		return errors.New("replica: Engine is required")
	case c.HeartbeatTicks < 1 || c.ElectionTicks <= c.HeartbeatTicks:
		return fmt.Errorf("replica: ElectionTicks (%d) must exceed HeartbeatTicks (%d) >= 1", c.ElectionTicks, c.HeartbeatTicks)
	case c.Logger == nil:
		return errors.New("replica: Logger is required")
	case c.MaxLogEntries < c.TruncateStep || c.TruncateStep < 1:
		return errors.New("replica: need 1 <= TruncateStep <= MaxLogEntries")
	case c.NewGroupGrace < 0:
		return errors.New("replica: NewGroupGrace must not be negative")
	}
	return nil
}

// Errors of Propose and of the outcomes it delivers.
var (
	// ErrAmbiguous: the proposal may or may not have applied (this replica
	// lost leadership before it did). Retrying with the same command id is
	// safe.
	ErrAmbiguous = errors.New("replica: outcome unknown, leadership changed")
	// ErrRemoved: the replica was removed from its group.
	ErrRemoved = errors.New("replica: removed")
)

// NotLeaderError is returned by Propose on a replica that is not the
// leader; Leader is the leader this replica knows of (0: none).
type NotLeaderError struct {
	Partition, Leader uint64
}

func (e *NotLeaderError) Error() string {
	return fmt.Sprintf("replica: partition %d: not leader (leader hint %d)", e.Partition, e.Leader)
}

// Outcome is what a proposal produced.
type Outcome struct {
	Result *partitapb.Result
	Err    error
	// ApplyStart and ApplyEnd bracket the command's apply on this replica:
	// from evaluating it to committing its batch (zero when Err is set).
	ApplyStart, ApplyEnd time.Time
}

// Replica is one replica of one partition.
type Replica struct {
	// proc is held for a processing round, from Collect to Finish; mu
	// guards the raft state and is held only briefly, so proposals and
	// messages are taken while a round's batch is being made durable.
	proc sync.Mutex
	mu   sync.Mutex
	// known are the partition's facts as committed (nil: read them
	// again), set under knownMu (changelog.go).
	known   atomic.Pointer[facts]
	knownMu sync.Mutex
	// state is the applied state as of the last committed round that
	// applied only writes' Effects (nil: unknown, read it again), so that
	// the next such round reads none of it (fsm.AppliedState). Only a
	// round touches it: Collect takes it, Finish puts the round's back.
	state *fsm.AppliedState
	cfg   Config
	raw   *raft.RawNode
	st    *raftStorage

	applied  uint64
	lead     uint64
	waiters  map[string][]chan Outcome // by command id
	reads    map[string]*readWaiter    // by read request id
	removed  bool
	readSeq  uint64
	outgoing []*SnapshotSource // made for MsgSnaps not yet sent
	// engineDone: Halt ran, and the engine may be closed; no snapshot of
	// it is made after.
	engineDone    bool
	leaderChanges uint64
	staged        *stagedSnapshot // received, waiting for raft to accept
	// desc is the replica's range as of its applied state: what apply
	// fences commands to. It changes only with that state (a snapshot).
	desc *partitapb.Descriptor
	// published is desc as of the last committed round: what reads are
	// fenced to and what the store compares incoming snapshots with.
	published *partitapb.Descriptor
	contact   map[uint64]time.Time // when each peer last answered (topology_status.go)
	// beatAnswered are the followers whose heartbeat answers were stepped
	// since the last Collect (caughtUpFollowers, with LazyCommit).
	beatAnswered map[uint64]bool
	opened       time.Time // when Open made the replica: contact's floor
	inflight     bool      // a round applied entries (or a snapshot) into a batch not yet committed
	acks         ackClock  // followers' acknowledgement latency, while leading (ack_latency.go)
	// ticks counts Tick calls; heardTick is the tick at which each peer
	// last answered (truncate.go: which followers hold the log).
	ticks     uint64
	heardTick map[uint64]uint64
	// splitIdx is the log index of the last split this replica applied
	// (0: none): the leader keeps the log for live followers behind it.
	splitIdx uint64
	// leadSince is when this replica last became leader (zero while it
	// is not): its followers' contact clocks start no earlier.
	leadSince time.Time
	// Proposer evaluation (evaluate.go): the item latches, the writes
	// evaluated and proposed while leading (by command id), the term of
	// the last applied entry, the last lease index handed out and the
	// term it was last resumed from the applied state.
	latch   *latches
	halt    sync.RWMutex // held (read) by an evaluation, taken by Halt
	halted  bool
	evals   map[string]*evaluated
	pending map[string]*pending // by item key
	// collFlight: the item collections' size changes in flight, by size
	// record key (see collectionInFlight).
	collFlight map[string]int64
	// records filters the ids with an at-most-once record, spared a probe
	// by readRecord (record_filter.go).
	records *recordFilter
	// fills owns the goroutine filling records (fillRecords); fillStarted,
	// when set (tests), runs at its start.
	fills            fillOwner
	fillStarted      func()
	appliedTerm      uint64
	nextLAI, laiTerm uint64
	// collectedTo is the last collect_before this replica proposed, or
	// the floor it read at the start of its term if higher: while it
	// leads, at or above the applied floor.
	collectedTo int64
	// lease is the leader's lease for reads; voteHold the time until
	// which a restarted replica drops vote requests (lease.go).
	lease    lease
	voteHold time.Time
	// trimAt is when this replica, leading, next trims its change log
	// (unix nanoseconds; withChange).
	trimAt atomic.Int64
}

// Open loads (or, with no raft state on disk, starts empty) the replica
// described by cfg. An empty replica waits to be given state by its leader,
// unless Bootstrap wrote its initial state first.
func Open(cfg Config) (*Replica, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LeaseClock == nil {
		cfg.LeaseClock = time.Now
	}
	applied, appliedTerm, err := readApplied(cfg.Engine.Reader(), cfg.Partition)
	if err != nil {
		return nil, err
	}
	st, err := loadRaftStorage(cfg.Engine, cfg.Partition, cfg.CacheBytes, applied, appliedTerm)
	if err != nil {
		return nil, err
	}
	desc, err := readDescriptor(cfg.Engine.Reader(), cfg.Partition)
	if err != nil {
		return nil, err
	}
	splitIdx, err := readSplitIndex(cfg.Engine.Reader(), cfg.Partition)
	if err != nil {
		return nil, err
	}
	raw, err := raft.NewRawNode(&raft.Config{
		ID:                        cfg.ID,
		ElectionTick:              cfg.ElectionTicks,
		HeartbeatTick:             cfg.HeartbeatTicks,
		Storage:                   st,
		Applied:                   applied,
		MaxSizePerMsg:             cfg.MaxSizePerMsg,
		MaxInflightMsgs:           256,
		MaxUncommittedEntriesSize: 64 << 20,
		CheckQuorum:               true,
		PreVote:                   true,
		DisableProposalForwarding: true,
		StepDownOnRemoval:         true,
		Logger:                    raftLogger{log: cfg.Logger.With("partition", cfg.Partition), partition: cfg.Partition, node: cfg.ID},
	})
	if err != nil {
		return nil, fmt.Errorf("replica: partition %d: %w", cfg.Partition, err)
	}
	r := &Replica{
		cfg: cfg, raw: raw, st: st, applied: applied, desc: desc, published: desc, splitIdx: splitIdx,
		waiters: make(map[string][]chan Outcome),
		reads:   make(map[string]*readWaiter),
		opened:  cfg.Now(),
		latch:   newLatches(),
		evals:   make(map[string]*evaluated),
		pending: make(map[string]*pending),
		// collFlight is empty until this replica leads.
		collFlight: make(map[string]int64),
		records:    newRecordFilter(int64(cmp.Or(cfg.RecordWindow, 10*time.Minute))),
	}
	st.snapshot = r.makeSnapshot
	if cfg.VoteHold > 0 && st.hard.Term > 0 {
		r.voteHold = cfg.LeaseClock().Add(cfg.VoteHold)
	}
	return r, nil
}

// Partition is the replica's partition id.
func (r *Replica) Partition() uint64 { return r.cfg.Partition }

// Lock and TryLock take the replica for a processing round (Collect to
// Finish); Unlock releases it.
func (r *Replica) Lock()         { r.proc.Lock() }
func (r *Replica) TryLock() bool { return r.proc.TryLock() }
func (r *Replica) Unlock()       { r.proc.Unlock() }

// Tick advances the replica's logical clock; it reports whether the replica
// now has work for the store.
func (r *Replica) Tick() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ticks++
	r.raw.Tick()
	return r.raw.HasReady()
}

// Step hands the replica a message from a peer; it reports whether the
// replica now has work.
func (r *Replica) Step(m raftpb.Message) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.noteContact(m)
	if m.Type == raftpb.MsgHeartbeatResp && r.lazyCommit() {
		if r.beatAnswered == nil {
			r.beatAnswered = map[uint64]bool{}
		}
		r.beatAnswered[m.From] = true
	}
	if r.holdsVote(m) {
		return false, nil
	}
	if err := r.raw.Step(m); err != nil && !errors.Is(err, raft.ErrStepPeerNotFound) {
		return false, fmt.Errorf("replica: partition %d: step: %w", r.cfg.Partition, err)
	}
	return r.raw.HasReady(), nil
}

// Status returns raft's view of the replica.
func (r *Replica) Status() raft.Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.raw.Status()
}

// Leader returns the leader this replica knows of (0: none).
func (r *Replica) Leader() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.raw.BasicStatus().Lead
}

// Applied returns the index of the last applied entry.
func (r *Replica) Applied() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.applied
}

// Campaign makes the replica start an election now.
func (r *Replica) Campaign() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.raw.Campaign()
}

// TransferLeader asks the leader to hand leadership to replica to.
func (r *Replica) TransferLeader(to uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.raw.TransferLeader(to)
}

// ReportUnreachable tells raft that a message to id could not be sent.
func (r *Replica) ReportUnreachable(id uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.raw.ReportUnreachable(id)
}

// Close fails every waiting proposal and read with ErrRemoved; the caller
// holds the replica (Lock) and drops it.
func (r *Replica) Close() {
	r.stopFill()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removed = true
	r.failAll(ErrRemoved)
	r.releaseOutgoing()
}

// releaseOutgoing closes the snapshots made for MsgSnaps that will not be
// sent now. The caller holds mu.
func (r *Replica) releaseOutgoing() {
	for _, src := range r.outgoing {
		_ = src.Close()
	}
	r.outgoing = nil
}

// ReportSnapshot tells raft how streaming a snapshot to follower id ended.
func (r *Replica) ReportSnapshot(id uint64, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	status := raft.SnapshotFinish
	if !ok {
		status = raft.SnapshotFailure
	}
	r.raw.ReportSnapshot(id, status)
}

// Stats are a replica's figures for metrics.
type Stats struct {
	Leader        bool
	Term          uint64
	Applied       uint64
	LogEntries    uint64
	LogBytes      uint64
	LeaderChanges uint64
	Voters        int
	Learners      int
	// Lead is the leader this replica knows of (0: none).
	Lead uint64
	// ActiveVoters, on the leader, counts the voters (itself included) it
	// heard from within the last election timeout; 0 on a follower.
	ActiveVoters int
}

// Stats returns the replica's figures.
func (r *Replica) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.raw.BasicStatus()
	s := Stats{
		Leader: st.RaftState == raft.StateLeader, Term: st.Term, Applied: r.applied,
		LogEntries: r.st.lastIdx - r.st.truncIdx, LogBytes: r.st.logBytes,
		LeaderChanges: r.leaderChanges,
		Voters:        len(r.st.conf.Voters), Learners: len(r.st.conf.Learners),
		Lead: st.Lead,
	}
	if s.Leader {
		s.ActiveVoters = r.activeVoters()
	}
	return s
}

// activeVoters counts the voters whose progress the leader saw recently.
func (r *Replica) activeVoters() int {
	n := 0
	r.raw.WithProgress(func(id uint64, typ raft.ProgressType, pr tracker.Progress) {
		if typ == raft.ProgressTypePeer && !pr.IsLearner && (pr.RecentActive || id == r.cfg.ID) {
			n++
		}
	})
	return n
}

// LogBounds overrides the log bounds of the replicas that share it, while
// they run: for every replica, or for the replicas of given tables. Its
// zero value overrides nothing. Safe for concurrent use.
type LogBounds struct {
	bytes, entries atomic.Uint64
	tables         atomic.Pointer[map[uint64]TableLogBounds]
}

// TableLogBounds are one table's log bounds (0: the bound of every
// replica).
type TableLogBounds struct{ Bytes, Entries uint64 }

// Set overrides the byte and entry bounds (0: the replica's Config).
func (b *LogBounds) Set(bytes, entries uint64) {
	b.bytes.Store(bytes)
	b.entries.Store(entries)
}

// SetTables overrides the bounds of the replicas of the tables named by
// id, above Set's (nil: none).
func (b *LogBounds) SetTables(tables map[uint64]TableLogBounds) {
	b.tables.Store(&tables)
}

// table is the bounds of the table whose range desc holds, if any.
func (b *LogBounds) table(desc *partitapb.Descriptor) TableLogBounds {
	m := b.tables.Load()
	if m == nil || len(*m) == 0 || len(desc.GetSpans()) == 0 {
		return TableLogBounds{}
	}
	if id, _, _, ok := fsm.ParseHashSpan(desc.GetSpans()[0]); ok {
		return (*m)[id]
	}
	return TableLogBounds{}
}

// maxLogBytes and maxLogEntries are the bounds in force: its table's
// LogBounds, else LogBounds' for every replica, else the Config's. The
// entry bound never falls below a trim step. The caller holds r.mu.
func (r *Replica) maxLogBytes() uint64 {
	if b := r.cfg.LogBounds; b != nil {
		if v := b.table(r.desc).Bytes; v > 0 {
			return v
		}
		if v := b.bytes.Load(); v > 0 {
			return v
		}
	}
	return r.cfg.MaxLogBytes
}

func (r *Replica) maxLogEntries() uint64 {
	if b := r.cfg.LogBounds; b != nil {
		if v := b.table(r.desc).Entries; v > 0 {
			return max(v, r.cfg.TruncateStep)
		}
		if v := b.entries.Load(); v > 0 {
			return max(v, r.cfg.TruncateStep)
		}
	}
	return r.cfg.MaxLogEntries
}
