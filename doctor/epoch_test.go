package doctor

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	pcluster "github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/doctor/gate"
	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/topology"
	"github.com/partitadb/partita/topology/ingest"
)

// leaseWorld is the part of a cluster an epoch test needs: the Doctor
// lease's epoch, which fences the replica operations as the directory
// does, and leader transfers that fail while busy is set.
type leaseWorld struct {
	epoch atomic.Uint64
	busy  atomic.Bool

	mu        sync.Mutex
	transfers map[uint64]int // attempts by the epoch they carried
	done      map[uint64]int // transfers done, by epoch
}

func (w *leaseWorld) transfer(epoch uint64) (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.transfers[epoch]++
	if cur := w.epoch.Load(); epoch < cur {
		return 0, partitapb.Errorf(partitapb.Error_STALE_EPOCH, "doctor epoch %d is older than the lease's epoch %d", epoch, cur)
	}
	if w.busy.Load() {
		return 0, errors.New("the leader is busy")
	}
	w.done[epoch]++
	return 2, nil
}

func (w *leaseWorld) attempts(epoch uint64) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.transfers[epoch]
}

// refuseAll refuses every operation of a cluster and of a node's
// replicas: a test's cluster embeds it and implements those it exercises.
type refuseAll struct{}

var errNotInTest = errors.New("not in this test")

func (refuseAll) SetReplicas(context.Context, string, uint64, []uint64, uint64) error {
	return errNotInTest
}
func (refuseAll) RemoveNode(context.Context, uint64) error            { return errNotInTest }
func (refuseAll) Split(context.Context, string, uint64, uint64) error { return errNotInTest }
func (refuseAll) Merge(context.Context, string, uint64, uint64) error { return errNotInTest }
func (refuseAll) CreateReplica(context.Context, uint64) error         { return errNotInTest }
func (refuseAll) DestroyReplica(context.Context, uint64) error        { return errNotInTest }
func (refuseAll) TransferLeadership(context.Context, uint64, uint64) (uint64, error) {
	return 0, errNotInTest
}
func (refuseAll) ReplicaStatus(context.Context) (topology.LocalReplicas, error) {
	return topology.LocalReplicas{}, errNotInTest
}
func (refuseAll) AddLearner(context.Context, uint64, uint64) (pcluster.Membership, error) {
	return pcluster.Membership{}, errNotInTest
}
func (refuseAll) PromoteLearner(context.Context, uint64, uint64) (pcluster.Membership, error) {
	return pcluster.Membership{}, errNotInTest
}
func (refuseAll) RemoveVoter(context.Context, uint64, uint64) (pcluster.Membership, error) {
	return pcluster.Membership{}, errNotInTest
}

// epochCluster is the cluster as a Doctor of one epoch acts on it.
type epochCluster struct {
	refuseAll
	w     *leaseWorld
	epoch uint64
	alone bool // n1 alone hosts p7 (n2 and n3 report no replica)
}

// Directory: three live nodes, and p7 on them (led by n1, whose
// leadership the tests transfer away: the step check wants another
// healthy voter to take it).
func (c epochCluster) Directory(context.Context) *directory.Snapshot {
	var nodes []*partitapb.Node
	for id := range uint64(3) {
		nodes = append(nodes, &partitapb.Node{Id: id + 1, PeerAddr: "127.0.0.1:1", HeartbeatUnixNanos: time.Now().UnixNano()})
	}
	return &directory.Snapshot{Nodes: nodes, MetaReplicas: []uint64{1},
		Tables: []*partitapb.Table{{Name: "t", Partitions: []*partitapb.Partition{{Id: 7, Generation: 1, Replicas: []uint64{1, 2, 3}}}}}}
}
func (c epochCluster) Now() time.Time                   { return t0 }
func (c epochCluster) Node(id uint64) operator.Replicas { return epochReplicas{c, id} }

type epochReplicas struct {
	epochCluster
	id uint64
}

func (r epochReplicas) TransferLeadership(context.Context, uint64, uint64) (uint64, error) {
	return r.w.transfer(r.epoch)
}
func (r epochReplicas) ReplicaStatus(context.Context) (topology.LocalReplicas, error) {
	if r.alone && r.id != 1 {
		return topology.LocalReplicas{Node: r.id}, nil
	}
	return topology.LocalReplicas{Node: r.id, Replicas: []topology.LocalReplica{{Partition: 7, Leader: r.id == 1, Lead: 1, Term: 2,
		Applied: 10, Voters: []uint64{1, 2, 3}}}}, nil
}

// A Doctor whose lease lapsed and which took it again between two of its
// cycles (epoch 4, then 5, without a cycle seeing it on standby) stops
// the operation it was running with epoch 4 at the first refusal of that
// epoch, raises no alert, and resumes the operation with epoch 5, which
// finishes it. Before, the old run went on retrying with epoch 4 through
// every backoff, and the operation ended failed.
func TestDoctorResumesAnOperationItsOldEpochRan(t *testing.T) {
	w := &leaseWorld{transfers: map[uint64]int{}, done: map[uint64]int{}}
	w.epoch.Store(4)
	w.busy.Store(true)
	recs := &MemRecords{}
	cfg := DefaultConfig()
	cfg.StepBackoff, cfg.StepAttempts = 200*time.Millisecond, 5
	d, ctx := epochDoctor(t, w, recs, cfg)
	// An operation a previous Doctor (epoch 3) left running.
	now := time.Now()
	e := Entry{Epoch: 3, Op: checker.Op{Kind: checker.TransferLeader, Partition: 7, From: 1, Reasons: []string{"test"}},
		Gate: gate.Green, State: Running, Created: now, Updated: now, Deadline: now.Add(time.Minute)}
	if err := recs.Put(ctx, &e); err != nil {
		t.Fatal(err)
	}
	if err := d.Cycle(ctx); err != nil { // takes over at epoch 4, resumes it
		t.Fatal(err)
	}
	waitDoctor(t, "an attempt with epoch 4", func() bool { return w.attempts(4) > 0 })

	// The lease lapses and this node takes it again, at epoch 5; the
	// transfer would now succeed.
	w.epoch.Store(5)
	w.busy.Store(false)
	before := w.attempts(4)
	if err := d.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	waitDoctor(t, "the operation to succeed", func() bool {
		es, _ := recs.Entries(ctx, e.ID, 1)
		return len(es) == 1 && es[0].State == Succeeded
	})
	if n := w.attempts(4) - before; n > 1 {
		t.Errorf("%d attempts with epoch 4 after epoch 5 began, want at most 1 (a refused epoch is not retried)", n)
	}
	if w.done[5] != 1 || w.done[4] != 0 {
		t.Errorf("transfers done by epoch: %v, want one by epoch 5", w.done)
	}
	if n := testutil.ToFloat64(d.m.alerts.WithLabelValues("failed")); n != 0 {
		t.Errorf("%v failure alerts, want none: a superseded epoch is no failure", n)
	}
	if n := testutil.ToFloat64(d.m.running); n != 0 {
		t.Errorf("%v operations counted running, want 0", n)
	}
}

// An operation the timeline shows running that no run carries (its run's
// last write to the timeline failed, or it was abandoned while the Doctor
// kept its lease) is adopted within adoptEvery cycles, without a
// takeover, and finished. Before, only a new epoch's first cycle looked,
// and such an entry stayed running for good.
func TestDoctorAdoptsAnOperationLeftRunning(t *testing.T) {
	w := &leaseWorld{transfers: map[uint64]int{}, done: map[uint64]int{}}
	w.epoch.Store(4)
	recs := &MemRecords{}
	// The Doctor's clock runs ahead of the wall clock by what the test
	// adds (the cluster's heartbeats are the wall clock's: a second
	// ahead, the nodes still look alive).
	var clock atomic.Int64
	cfg := DefaultConfig()
	cfg.Interval, cfg.StepBackoff = 100*time.Millisecond, 10*time.Millisecond
	cfg.Now = func() time.Time { return time.Now().Add(time.Duration(clock.Load())) }
	// Three entries that ended before: a look after the first reads from
	// the oldest entry not final at the look before.
	for range 3 {
		now := cfg.Now()
		done := Entry{Epoch: 3, Op: checker.Op{Kind: checker.TransferLeader, Partition: 8, From: 1}, Gate: gate.Green,
			State: Succeeded, Created: now, Updated: now}
		if err := recs.Put(context.Background(), &done); err != nil {
			t.Fatal(err)
		}
	}
	scans := &scanRecords{MemRecords: recs}
	d, ctx := epochDoctor(t, w, scans, cfg)
	if err := d.Cycle(ctx); err != nil { // takes over at epoch 4: nothing left running yet
		t.Fatal(err)
	}
	// An operation of this very epoch whose end was never recorded.
	now := cfg.Now()
	e := Entry{Epoch: 4, Op: checker.Op{Kind: checker.TransferLeader, Partition: 7, From: 1, Reasons: []string{"test"}},
		Gate: gate.Green, State: Running, Created: now, Updated: now, Deadline: now.Add(time.Hour)}
	if err := recs.Put(ctx, &e); err != nil {
		t.Fatal(err)
	}
	state := func() State {
		es, _ := recs.Entries(ctx, e.ID, 1)
		if len(es) != 1 {
			return ""
		}
		return es[0].State
	}
	// The next cycle, within adoptEvery cycles of the last look: not yet.
	if err := d.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if n := w.attempts(4); n != 0 || state() != Running {
		t.Fatalf("%d transfers, entry %s, before the next look", n, state())
	}
	clock.Add(int64(adoptEvery * cfg.Interval))
	if err := d.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	waitDoctor(t, "the operation left running to succeed", func() bool { return state() == Succeeded })
	if w.done[4] != 1 {
		t.Errorf("transfers done by epoch: %v, want one by epoch 4", w.done)
	}
	// Once ended, it is not taken up again.
	clock.Add(int64(adoptEvery * cfg.Interval))
	if err := d.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	d.wg.Wait()
	if n := w.attempts(4); n != 1 {
		t.Errorf("%d transfers, want 1", n)
	}
	// The takeover read the whole timeline; the next look, from the
	// first entry after the three final ones (the one left running); the
	// one after, from it again (it was running at the look before); the
	// last, from after it.
	clock.Add(int64(adoptEvery * cfg.Interval))
	if err := d.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := scans.froms(), []uint64{0, e.ID, e.ID, e.ID + 1}; !slices.Equal(got, want) {
		t.Errorf("timeline scans from ids %v, want %v", got, want)
	}
}

// scanRecords notes where each scan of the timeline (a read of a whole
// page) starts.
type scanRecords struct {
	*MemRecords
	mu   sync.Mutex
	from []uint64
}

func (r *scanRecords) Entries(ctx context.Context, from uint64, limit int) ([]Entry, error) {
	if limit == entriesPage {
		r.mu.Lock()
		r.from = append(r.from, from)
		r.mu.Unlock()
	}
	return r.MemRecords.Entries(ctx, from, limit)
}

func (r *scanRecords) froms() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.from)
}

// epochDoctor is a Doctor of cfg (its own metrics registry) on w's
// cluster and recs, and a context for its cycles; both end with the test,
// the context first.
func epochDoctor(t *testing.T, w *leaseWorld, recs Records, cfg Config) (*Doctor, context.Context) {
	t.Helper()
	cfg.Registerer = prometheus.NewRegistry()
	d, err := New(cfg, Deps{Epoch: w.epoch.Load, Cluster: func(epoch uint64) operator.Cluster { return epochCluster{w: w, epoch: epoch} },
		View: func() *ingest.ClusterView { return nil }, Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(d.wg.Wait)
	t.Cleanup(cancel)
	return d, ctx
}

// A step refused for a stale epoch is not retried.
func TestRunStepStopsAtAStaleEpoch(t *testing.T) {
	w := &leaseWorld{transfers: map[uint64]int{}, done: map[uint64]int{}}
	w.epoch.Store(9)
	cfg := DefaultConfig()
	cfg.StepBackoff, cfg.StepAttempts = time.Millisecond, 5
	d, err := New(cfg, Deps{Epoch: w.epoch.Load, Cluster: func(epoch uint64) operator.Cluster { return epochCluster{w: w, epoch: epoch} },
		View: func() *ingest.ClusterView { return nil }, Records: &MemRecords{}})
	if err != nil {
		t.Fatal(err)
	}
	env := operator.NewEnv(epochCluster{w: w, epoch: 8}, nil)
	var rec StepRecord
	err = d.runStep(context.Background(), env, &operator.TransferLeader{Partition: 7, From: 1}, &rec)
	if !staleEpoch(err) || rec.Attempts != 1 || w.attempts(8) != 1 {
		t.Fatalf("runStep: %v after %d attempts (%d calls), want STALE_EPOCH after 1", err, rec.Attempts, w.attempts(8))
	}
	// Any other error is retried up to StepAttempts.
	w.busy.Store(true)
	rec = StepRecord{}
	env = operator.NewEnv(epochCluster{w: w, epoch: 9}, nil)
	if err := d.runStep(context.Background(), env, &operator.TransferLeader{Partition: 7, From: 1}, &rec); err == nil || rec.Attempts != 5 {
		t.Fatalf("runStep: %v after %d attempts, want an error after 5", err, rec.Attempts)
	}
}

func waitDoctor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// A leadership handed off a node to a voter its leader picks (a move's
// hand-over) is checked too: with no other voter healthy to take it, the
// step holds, and the leader is never asked.
func TestTransferAwayWaitsForAHealthyVoter(t *testing.T) {
	w := &leaseWorld{transfers: map[uint64]int{}, done: map[uint64]int{}}
	w.epoch.Store(9)
	cfg := DefaultConfig()
	cfg.StepBackoff, cfg.StepAttempts = time.Millisecond, 2
	d, err := New(cfg, Deps{Epoch: w.epoch.Load, Cluster: func(epoch uint64) operator.Cluster { return epochCluster{w: w, epoch: epoch} },
		View: func() *ingest.ClusterView { return nil }, Records: &MemRecords{}})
	if err != nil {
		t.Fatal(err)
	}
	var rec StepRecord
	env := operator.NewEnv(epochCluster{w: w, epoch: 9, alone: true}, nil)
	err = d.runStep(context.Background(), env, &operator.TransferLeader{Partition: 7, From: 1}, &rec)
	if err == nil || !strings.Contains(err.Error(), "no voter of p7 but n1 is healthy") || w.attempts(9) != 0 {
		t.Fatalf("runStep: %v (%d transfers asked), want held with none asked", err, w.attempts(9))
	}
	env = operator.NewEnv(epochCluster{w: w, epoch: 9}, nil)
	if err := d.runStep(context.Background(), env, &operator.TransferLeader{Partition: 7, From: 1}, &rec); err != nil || w.done[9] != 1 {
		t.Fatalf("runStep with healthy voters: %v (%d done)", err, w.done[9])
	}
}
