package member

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/route"
	"github.com/partitadb/partita/store"
)

// Config lists a Member's dependencies.
type Config struct {
	// Self is this node's id (required).
	Self uint64
	// Store hosts this node's replicas (required).
	Store *store.Store
	// Engine is the node's storage, where a meta replica's records are
	// read (required).
	Engine *engine.Engine
	// Sender reaches every partition; its directory cache is the node's
	// (required).
	Sender *route.Sender
	// Client reaches the other nodes (nil on a node without peers).
	Client *cluster.Client
	// Seeds are peer addresses to read the directory from while no meta
	// voter is known (the node's join addresses).
	Seeds []string
	// Now is the clock of heartbeats and liveness.
	Now func() time.Time
	// NewID returns a fresh command id.
	NewID func() []byte
	// Logger receives the member's logs.
	Logger *slog.Logger
	// OrphanGrace is how long a replica that counts itself a member, but
	// whose partition the directory lists without this node and which
	// knows no leader, is watched before its leader is asked whether it
	// was removed (0: a minute; collect_removed.go).
	OrphanGrace time.Duration
}

// Validate reports a missing dependency.
func (c Config) Validate() error {
	if c.Self == 0 || c.Store == nil || c.Engine == nil || c.Sender == nil || c.Now == nil || c.NewID == nil || c.Logger == nil {
		return errors.New("member: Config needs Self, Store, Engine, Sender, Now, NewID and Logger")
	}
	return nil
}

// Member is this node's part in the cluster. It is safe for concurrent
// use.
type Member struct {
	cfg Config
	dir *directory.Cache
	// bootMu serialises replica creation between the reconciler and
	// CreatePartition.
	bootMu sync.Mutex
	// record is this node's directory record with the addresses it serves
	// on, set once every listener is up (nil before).
	record atomic.Pointer[partitapb.Node]
	// removed tracks the replicas seen removed from their partition
	// (collect_removed.go).
	removed removedReplicas
	// recounts are this node's last recounts of partitions (recount.go).
	recounts recounts
	// directoryRead, when set (tests), runs in LocalDirectory between its
	// reads and its check that the meta replica read is still here.
	directoryRead func()
}

// New returns a Member; cfg must Validate.
func New(cfg Config) (*Member, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Member{cfg: cfg, dir: cfg.Sender.Directory(), removed: removedReplicas{since: map[uint64]removedSince{}},
		recounts: recounts{last: map[uint64]recountMark{}}}, nil
}

// SetRecord sets the record heartbeats publish: this node's addresses,
// zone and version.
func (m *Member) SetRecord(rec *partitapb.Node) { m.record.Store(rec) }

// Record is the record the node heartbeats with (nil before SetRecord).
// It is shared: SetRecord a changed copy.
func (m *Member) Record() *partitapb.Node { return m.record.Load() }

// Refresh reloads the directory cache from a meta replica (see
// route.Sender.Refresh).
func (m *Member) Refresh(ctx context.Context) error {
	return m.cfg.Sender.Refresh(ctx, source{m}, m.hasMeta(), m.cfg.Seeds)
}

// hasMeta says this node holds a meta replica with state: an empty one
// (a learner added while the node went down, waiting for its snapshot)
// knows no node, and reading it would leave the node unable to reach the
// meta leader that is to send the snapshot, or to heartbeat its new
// address there.
func (m *Member) hasMeta() bool {
	r := m.cfg.Store.Replica(directory.MetaPartition)
	return r != nil && len(r.ConfState().Voters) > 0
}

// RefreshConsistent is Refresh with a read barrier on a local meta
// replica, whose copy may lag its leader: the directory then holds every
// change acknowledged before the call (reads of other nodes' replicas
// pass a barrier already). Admin views read it this way, so that a
// change made through one node shows through any other. Without a
// barrier within barrierTimeout (no meta leader: an election, a cut), it
// reads the local copy as it is, as Refresh does.
func (m *Member) RefreshConsistent(ctx context.Context) error {
	if !m.hasMeta() {
		return m.Refresh(ctx)
	}
	bctx, cancel := context.WithTimeout(ctx, barrierTimeout)
	snap, err := m.LocalDirectory(bctx, true)
	cancel()
	if err != nil {
		return m.Refresh(ctx)
	}
	m.dir.Update(snap)
	return nil
}

// barrierTimeout bounds RefreshConsistent's read barrier.
const barrierTimeout = 500 * time.Millisecond

// source reads the directory from this node's meta replica or, through
// the cluster client, from another node's.
type source struct{ m *Member }

var _ route.Source = source{}

func (s source) Local(ctx context.Context) (*directory.Snapshot, error) {
	return s.m.LocalDirectory(ctx, false)
}

func (s source) Node(ctx context.Context, node uint64) (*directory.Snapshot, error) {
	if s.m.cfg.Client == nil {
		return nil, directory.ErrUnknownNode
	}
	return s.m.cfg.Client.Directory(ctx, node)
}

func (s source) At(ctx context.Context, addr string) (*directory.Snapshot, error) {
	if s.m.cfg.Client == nil {
		return nil, directory.ErrUnknownNode
	}
	return s.m.cfg.Client.DirectoryAt(ctx, addr)
}
