package harness

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/raft/v3"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/transport"
)

// Config configures a Cluster.
type Config struct {
	// Nodes is the number of nodes, with ids 1..Nodes. Default 3.
	Nodes int
	// Seed drives every random choice the harness makes: message faults,
	// crash images, workloads and fault schedules built from the cluster.
	Seed uint64
	// TickInterval is the raft tick of every store. Default 10ms, so that
	// elections take about 100-200ms.
	TickInterval time.Duration
	// ElectionTicks and HeartbeatTicks override the replica defaults when
	// non-zero.
	ElectionTicks, HeartbeatTicks int
	// OnDisk puts each node's Pebble engine in a directory under
	// t.TempDir(). A crash then loses only what the process held (kill -9).
	// By default engines live on Pebble's crash-simulating in-memory
	// filesystem, and a crash loses every write that was not synced (a
	// power cut).
	OnDisk bool
	// UnsyncedSurvivalPercent is, for in-memory engines, the probability
	// that each unsynced block or directory entry survives a crash. 0 keeps
	// exactly the synced state.
	UnsyncedSurvivalPercent int
	// SeparateRaftLog gives every engine a raft log of its own
	// (engine.Options.SeparateRaftLog) instead of keeping the raft logs in
	// Pebble.
	SeparateRaftLog bool
	// Wait bounds every wait of the harness (a leader, a catch-up).
	// Default 10s.
	Wait time.Duration
	// Logger receives the stores' logs. Default: discarded.
	Logger *slog.Logger
	// Tune, if set, adjusts each node's store configuration (log
	// truncation bounds, workers) before the store opens.
	Tune func(*store.Config)
}

func (c *Config) fill() {
	if c.Nodes == 0 {
		c.Nodes = 3
	}
	if c.TickInterval == 0 {
		c.TickInterval = 10 * time.Millisecond
	}
	if c.Wait == 0 {
		c.Wait = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Cluster is Nodes raft stores in one process joined by a transport.Inmem
// network. The harness sits between each store and the network (see link),
// which lets it isolate a paused node, cut links even to crashed nodes, and
// silence a crashed node at once. All methods are safe for concurrent use.
type Cluster struct {
	t     testing.TB
	cfg   Config
	net   *transport.Inmem
	nodes []*node

	mu     sync.Mutex
	rng    *rand.Rand
	cut    map[[2]uint64]bool
	opSeq  uint64
	splits uint64 // right halves made by Split
	closed bool
}

// node is one node's slot: its disk survives crashes; its engine and store
// are replaced by each restart.
type node struct {
	id  uint64
	dir string
	fs  *engine.MemFS // nil when on disk

	// mu guards the incarnation. Readers of eng hold it shared, so a crash
	// (exclusive) never closes an engine under a read.
	mu   sync.RWMutex
	eng  *engine.Engine
	st   *store.Store
	link *link
	// clock is the node's lease clock, which JumpClock moves; it outlives
	// restarts, like a machine's.
	clock leaseClock
	// crashes counts the node's crashes. A crash bumps it before it takes
	// the disk image: an answer the store gives after that instant comes
	// from a process that, for the cluster, is already dead.
	crashes atomic.Uint64
}

// New starts a cluster of cfg.Nodes nodes with no partitions, and stops it
// when the test ends.
func New(t testing.TB, cfg Config) *Cluster {
	t.Helper()
	cfg.fill()
	c := &Cluster{
		t: t, cfg: cfg,
		net: transport.NewInmem(cfg.Seed),
		rng: rand.New(rand.NewPCG(cfg.Seed, 0x5eed)),
		cut: make(map[[2]uint64]bool),
	}
	for i := range cfg.Nodes {
		n := &node{id: uint64(i + 1), dir: "/data"}
		if cfg.OnDisk {
			n.dir = filepath.Join(t.TempDir(), fmt.Sprintf("n%d", n.id))
		} else {
			n.fs = engine.NewCrashableMemFS()
		}
		c.nodes = append(c.nodes, n)
	}
	t.Cleanup(c.Close)
	for _, n := range c.nodes {
		if err := c.start(n); err != nil {
			t.Fatalf("harness: start node %d: %v", n.id, err)
		}
	}
	return c
}

// Nodes returns the node ids.
func (c *Cluster) Nodes() []uint64 {
	ids := make([]uint64, len(c.nodes))
	for i, n := range c.nodes {
		ids[i] = n.id
	}
	return ids
}

// Config returns the cluster's configuration, defaults filled in.
func (c *Cluster) Config() Config { return c.cfg }

func (c *Cluster) node(id uint64) *node {
	if id == 0 || id > uint64(len(c.nodes)) {
		c.t.Fatalf("harness: no node %d", id)
	}
	return c.nodes[id-1]
}

// StoreConfig returns the store configuration of node id.
func (c *Cluster) StoreConfig(id uint64) store.Config {
	sc := store.DefaultConfig()
	sc.NodeID, sc.TickInterval, sc.Logger = id, c.cfg.TickInterval, c.cfg.Logger.With("node", id)
	// Odd seeds (the one CI runs among them) drive each node's replicas
	// with one worker, the default; even seeds with two, whose rounds
	// overlap and skip the replicas the other holds.
	sc.Workers = 1 + int((c.cfg.Seed+1)%2)
	if c.cfg.ElectionTicks > 0 {
		sc.Replica.ElectionTicks = c.cfg.ElectionTicks
	}
	if c.cfg.HeartbeatTicks > 0 {
		sc.Replica.HeartbeatTicks = c.cfg.HeartbeatTicks
	}
	sc.Replica.LeaseClock = c.node(id).clock.now
	if c.cfg.Tune != nil {
		c.cfg.Tune(&sc)
	}
	return sc
}

// start opens n's engine and store and connects it. n.mu is held by the
// caller or n is not yet shared.
func (c *Cluster) start(n *node) error {
	eng, err := engine.Open(engine.Options{Dir: n.dir, FS: n.fs, Logger: c.cfg.Logger, SeparateRaftLog: c.cfg.SeparateRaftLog})
	if err != nil {
		return err
	}
	sc := c.StoreConfig(n.id)
	sc.Engine = eng
	st, err := store.NewStore(sc)
	if err != nil {
		return errors.Join(err, eng.Close())
	}
	l := &link{c: c, id: n.id, st: st}
	l.out = c.net.Connect(n.id, l)
	st.Start(l)
	n.eng, n.st, n.link = eng, st, l
	return nil
}

// Span returns the key span partition owns: all of table partition.
func Span(partition uint64) *partitapb.Span {
	lo, hi := engine.HashSpan(partition, 0, 0)
	return &partitapb.Span{Start: lo, End: hi}
}

// Bootstrap creates partition, owning Span(partition), on each of voters
// (every node when none).
func (c *Cluster) Bootstrap(partition uint64, voters ...uint64) {
	if len(voters) == 0 {
		voters = c.Nodes()
	}
	for _, id := range voters {
		st := c.Store(id)
		if st == nil {
			c.t.Fatalf("harness: bootstrap partition %d: node %d is down", partition, id)
		}
		if err := st.Bootstrap(partition, voters, Span(partition)); err != nil {
			c.t.Fatalf("harness: bootstrap partition %d on node %d: %v", partition, id, err)
		}
	}
}

// Store returns node id's running store, or nil when it is down (or id
// is 0).
func (c *Cluster) Store(id uint64) *store.Store {
	if id == 0 {
		return nil
	}
	n := c.node(id)
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.st
}

// WithEngine calls fn with node id's engine, if the node is up and still
// runs the incarnation st (any incarnation when st is nil). The engine stays
// open during fn. It reports whether fn ran.
func (c *Cluster) WithEngine(id uint64, st *store.Store, fn func(*engine.Engine) error) (bool, error) {
	n := c.node(id)
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.st == nil || (st != nil && n.st != st) {
		return false, nil
	}
	return true, fn(n.eng)
}

// LeaderNow returns the node that leads partition with the highest term
// among running, unpaused nodes, or 0.
func (c *Cluster) LeaderNow(partition uint64) uint64 {
	var best, term uint64
	for _, n := range c.nodes {
		n.mu.RLock()
		st, l := n.st, n.link
		n.mu.RUnlock()
		if st == nil || l.isPaused() {
			continue
		}
		r := st.Replica(partition)
		if r == nil {
			continue
		}
		s := r.Status()
		if s.RaftState == raft.StateLeader && s.Term > term {
			best, term = n.id, s.Term
		}
	}
	return best
}

// Leader waits (up to Config.Wait) for a leader of partition and returns
// it; the test fails if none emerges.
func (c *Cluster) Leader(partition uint64) uint64 {
	c.t.Helper()
	var id uint64
	if !c.waitFor(func() bool { id = c.LeaderNow(partition); return id != 0 }) {
		c.t.Fatalf("harness: no leader of partition %d after %v", partition, c.cfg.Wait)
	}
	return id
}

// TransferLeader asks partition's leader to hand leadership to node to. It
// reports whether a leader was found to ask.
func (c *Cluster) TransferLeader(partition, to uint64) bool {
	st := c.Store(c.LeaderNow(partition))
	if st == nil {
		return false
	}
	return st.TransferLeader(partition, to) == nil
}

// waitFor polls cond until it holds or Config.Wait passes.
func (c *Cluster) waitFor(cond func() bool) bool {
	deadline := time.Now().Add(c.cfg.Wait)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(c.cfg.TickInterval / 2)
	}
	return true
}

// Close stops every node (cleanly, without a crash image) and waits for
// the network's delayed deliveries. New registers it with t.Cleanup.
func (c *Cluster) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	for _, n := range c.nodes {
		n.mu.Lock()
		c.stop(n, false)
		n.mu.Unlock()
	}
	c.net.Wait()
}

// nextOpID returns a cluster-unique command id.
func (c *Cluster) nextOpID() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opSeq++
	return fmt.Appendf(nil, "h%d", c.opSeq)
}
