package doctor

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	pcluster "github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/doctor/gate"
	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/topology"
	"github.com/partitadb/partita/topology/ingest"
)

// learnerWorld is partition 7 with voters 1, 2, 3 led by n1 and a learner
// on n4 that an operation added; n1 fails its first slow status calls,
// as a loaded node that misses the view's timeout does.
type learnerWorld struct {
	mu        sync.Mutex
	slow      int
	learners  []uint64
	destroyed []uint64
	// promoteIn: n1's answers before n4's learner shows promoted to
	// voter (0: never); removed: voters removed.
	promoteIn int
	promoted  bool
	removed   []uint64
}

func (w *learnerWorld) status(node uint64) (topology.LocalReplicas, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if node != 1 {
		return topology.LocalReplicas{Node: node}, nil
	}
	if w.slow > 0 {
		w.slow--
		return topology.LocalReplicas{}, context.DeadlineExceeded
	}
	voters, learners := []uint64{1, 2, 3}, slices.Clone(w.learners)
	if w.promoted {
		voters, learners = append(voters, 4), slices.DeleteFunc(learners, func(l uint64) bool { return l == 4 })
	}
	if w.promoteIn > 0 {
		if w.promoteIn--; w.promoteIn == 0 {
			w.promoted = true
		}
	}
	return topology.LocalReplicas{Node: 1, Replicas: []topology.LocalReplica{{Partition: 7, Leader: true, Lead: 1, Term: 2,
		Applied: 10, Voters: voters, Learners: learners}}}, nil
}

type learnerCluster struct {
	refuseAll
	w *learnerWorld
}

func (c learnerCluster) Directory(context.Context) *directory.Snapshot {
	var nodes []*partitapb.Node
	for id := range uint64(4) {
		nodes = append(nodes, &partitapb.Node{Id: id + 1, PeerAddr: "127.0.0.1:1", HeartbeatUnixNanos: time.Now().UnixNano()})
	}
	return &directory.Snapshot{Nodes: nodes, MetaReplicas: []uint64{1},
		Tables: []*partitapb.Table{{Name: "t", Partitions: []*partitapb.Partition{{Id: 7, Generation: 1, Replicas: []uint64{1, 2, 3}}}}}}
}
func (c learnerCluster) Now() time.Time                   { return time.Now() }
func (c learnerCluster) Node(id uint64) operator.Replicas { return learnerReplicas{w: c.w, id: id} }

type learnerReplicas struct {
	refuseAll
	w  *learnerWorld
	id uint64
}

func (r learnerReplicas) ReplicaStatus(context.Context) (topology.LocalReplicas, error) {
	return r.w.status(r.id)
}
func (r learnerReplicas) RemoveVoter(_ context.Context, partition, node uint64) (pcluster.Membership, error) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	if r.id != 1 || partition != 7 {
		return pcluster.Membership{}, errors.New("not the leader")
	}
	if r.w.promoted && node == 4 {
		r.w.removed = append(r.w.removed, node)
	}
	r.w.learners = slices.DeleteFunc(r.w.learners, func(l uint64) bool { return l == node })
	return pcluster.Membership{Voters: []uint64{1, 2, 3}, Learners: slices.Clone(r.w.learners)}, nil
}
func (r learnerReplicas) DestroyReplica(context.Context, uint64) error {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	r.w.destroyed = append(r.w.destroyed, r.id)
	return nil
}

// learnerDoctor is a Doctor of epoch 4 acting on w, with its records.
func learnerDoctor(t *testing.T, w *learnerWorld) (*Doctor, *MemRecords) {
	t.Helper()
	recs := &MemRecords{}
	cfg := DefaultConfig()
	cfg.Registerer = prometheus.NewRegistry()
	d, err := New(cfg, Deps{Epoch: func() uint64 { return 4 }, Cluster: func(uint64) operator.Cluster { return learnerCluster{w: w} },
		View: func() *ingest.ClusterView { return nil }, Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	return d, recs
}

// overdue records an AddReplica of n4 to p7 left running past its
// deadline by the Doctor of epoch 3, with steps done, has a Doctor of
// epoch 4 take over, and returns the entry as it ended.
func overdue(t *testing.T, w *learnerWorld, steps []StepRecord) Entry {
	t.Helper()
	d, recs := learnerDoctor(t, w)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer d.wg.Wait()
	now := time.Now()
	e := Entry{Epoch: 3, Op: checker.Op{Kind: checker.AddReplica, Partition: 7, Table: "t", To: 4, Reasons: []string{"test"}},
		Gate: gate.Green, State: Running, Steps: steps,
		Created: now.Add(-time.Hour), Updated: now.Add(-time.Hour), Deadline: now.Add(-time.Minute)}
	if err := recs.Put(ctx, &e); err != nil {
		t.Fatal(err)
	}
	if err := d.Cycle(ctx); err != nil { // takes over at epoch 4; the operation is overdue
		t.Fatal(err)
	}
	var got Entry
	waitDoctor(t, "the overdue operation to end", func() bool {
		if es, _ := recs.Entries(ctx, e.ID, 1); len(es) == 1 {
			got = es[0]
		}
		return got.State != "" && got.State != Running
	})
	return got
}

// learnerAdded is the timeline of an AddReplica of n4 to p7 that added
// its learner.
func learnerAdded() []StepRecord {
	at := time.Now().Add(-time.Hour)
	var out []StepRecord
	for _, s := range []operator.Step{operator.CreateReplica{Partition: 7, Node: 4}, operator.AddLearner{Partition: 7, Node: 4}} {
		out = append(out, StepRecord{Name: s.String(), Start: at, End: at, Attempts: 1})
	}
	return out
}

// An operation resumed past its deadline is rolled back even when the
// partition's leader is missing from the first views the rollback takes
// (its node slow to answer): the rollback waits for a view that shows the
// learner it must remove. Deciding on the first view, it found nothing to
// undo, ended the operation failed and left the learner behind.
func TestRollbackWaitsForTheLeadersView(t *testing.T) {
	w := &learnerWorld{slow: 3, learners: []uint64{4}}
	got := overdue(t, w, learnerAdded())
	if got.State != RolledBack {
		t.Fatalf("the overdue operation ended %s (%s), want rolled back", got.State, got.Outcome)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.learners) != 0 || !slices.Equal(w.destroyed, []uint64{4}) {
		t.Fatalf("learners %v, replicas destroyed on %v: want the learner removed and n4's replica destroyed", w.learners, w.destroyed)
	}
}

// An overdue operation whose learner is gone already (a Doctor before
// rolled it back, and lost its lease before recording the end) ends
// rolled back, touching nothing; one that never added its learner ends
// failed, as it did.
func TestRollbackOfAnUndoneOperation(t *testing.T) {
	w := &learnerWorld{}
	if got := overdue(t, w, learnerAdded()); got.State != RolledBack || !strings.Contains(got.Outcome, "rolled back already") {
		t.Fatalf("with its learner gone, the overdue operation ended %s (%s), want rolled back already", got.State, got.Outcome)
	}
	if got := overdue(t, w, nil); got.State != Failed {
		t.Fatalf("without a learner added, the overdue operation ended %s (%s), want failed", got.State, got.Outcome)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.destroyed) != 0 {
		t.Fatalf("replicas destroyed on %v: nothing was left to undo", w.destroyed)
	}
}

// The rollback's steps are checked against a fresh view, as the
// operation's own are: a learner promoted to voter after the rollback
// planned its removal (by a Doctor that resumed the operation) is left
// in place, and its replica is not destroyed. Unchecked, the rollback
// removed the new voter and destroyed its replica.
func TestRollbackLeavesAPromotedLearner(t *testing.T) {
	// n4 shows promoted from n1's second answer on: the rollback's plan
	// reads the first, the undo's step check the second.
	w := &learnerWorld{learners: []uint64{4}, promoteIn: 1}
	d, recs := learnerDoctor(t, w)
	ctx := context.Background()
	now := time.Now()
	e := Entry{Epoch: 4, Op: checker.Op{Kind: checker.AddReplica, Partition: 7, Table: "t", To: 4, Reasons: []string{"test"}},
		Gate: gate.Green, State: Running, Steps: learnerAdded(), Created: now, Updated: now, Deadline: now.Add(time.Minute)}
	if err := recs.Put(ctx, &e); err != nil {
		t.Fatal(err)
	}
	d.m.running.Inc()
	d.fail(ctx, operator.NewEnv(learnerCluster{w: w}, nil), &run{entry: e, started: now, cancel: func() {}, epoch: 4},
		errors.New("promote-learner: refused"))
	es, _ := recs.Entries(ctx, e.ID, 1)
	if len(es) != 1 {
		t.Fatalf("entries %+v", es)
	}
	got := es[0]
	if got.State != Failed || !strings.Contains(got.Outcome, "promoted since") {
		t.Fatalf("the operation ended %s (%s), want failed: the learner was promoted", got.State, got.Outcome)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.removed) != 0 || len(w.destroyed) != 0 {
		t.Fatalf("voters removed %v, replicas destroyed on %v: want n4 left a voter", w.removed, w.destroyed)
	}
	if i := slices.IndexFunc(got.Steps, func(s StepRecord) bool { return strings.HasPrefix(s.Name, "rollback: remove-learner") }); i < 0 || got.Steps[i].Err == "" {
		t.Fatalf("the timeline's steps %+v: want the refused rollback step recorded", got.Steps)
	}
}
