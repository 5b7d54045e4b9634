package member_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/member"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/route"
	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// harness is one real store holding the meta partition, with a member.
type harness struct {
	st     *store.Store
	eng    *engine.Engine
	sender *route.Sender
	m      *member.Member
	ids    atomic.Uint64
	skew   atomic.Int64 // nanoseconds the member's clock runs ahead
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessWith(t, nil)
}

// newHarnessWith is newHarness whose Sender reaches the store through
// wrap's Local (nil: the store itself).
func newHarnessWith(t testing.TB, wrap func(route.Local) route.Local) *harness {
	t.Helper()
	eng, err := engine.Open(engine.Options{Dir: "/d", FS: engine.NewMemFS()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := store.DefaultConfig()
	cfg.NodeID, cfg.Engine = 1, eng
	st, err := store.NewStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st.Start(transport.NewInmem(1).Connect(1, st))
	t.Cleanup(func() { st.Stop(); eng.Close() })
	if err := st.Bootstrap(directory.MetaPartition, []uint64{1}, directory.MetaSpans()...); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); st.Replica(directory.MetaPartition).Leader() != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the meta partition elected no leader")
		}
	}
	scfg := route.DefaultConfig()
	scfg.Self, scfg.Local, scfg.Directory = 1, route.LocalStore(st), directory.NewCache()
	if wrap != nil {
		scfg.Local = wrap(scfg.Local)
	}
	sender, err := route.New(scfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{st: st, eng: eng, sender: sender}
	h.m, err = member.New(member.Config{
		Self: 1, Store: st, Engine: eng, Sender: sender, Now: func() time.Time { return time.Now().Add(time.Duration(h.skew.Load())) },
		NewID: func() []byte { return fmt.Appendf(nil, "id-%d", h.ids.Add(1)) }, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// meta applies a directory command through the Sender.
func (h *harness) meta(t *testing.T, op *partitapb.Command) *partitapb.Result {
	t.Helper()
	op.Id, op.UnixNanos = fmt.Appendf(nil, "cmd-%d", h.ids.Add(1)), time.Now().UnixNano()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := h.sender.Propose(ctx, directory.MetaPartition, op)
	if err != nil || res.GetError() != nil {
		t.Fatalf("meta command: %v %v", err, res.GetError())
	}
	return res
}

func (h *harness) createTable(t *testing.T, name string) []uint64 {
	t.Helper()
	res := h.meta(t, &partitapb.Command{Op: &partitapb.Command_CreateTable{CreateTable: &partitapb.CreateTable{
		Table:          &partitapb.Table{Name: name},
		PartitionCount: 2, Nodes: []uint64{1}, ReplicationFactor: 1,
	}}})
	var ids []uint64
	for _, p := range res.GetTable().GetPartitions() {
		ids = append(ids, p.GetId())
	}
	return ids
}

func (h *harness) reconcile(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.m.Reconcile(ctx); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
}

// waitLeaders waits until this single node leads each of partitions: a
// replica the reconciler just created has yet to win its first election.
func (h *harness) waitLeaders(t *testing.T, partitions ...uint64) {
	t.Helper()
	for _, p := range partitions {
		for deadline := time.Now().Add(10 * time.Second); h.st.Replica(p) == nil || h.st.Replica(p).Leader() != 1; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("partition %d elected no leader", p)
			}
		}
	}
}

// TestReconcileFollowsTheDirectory: the reconciler creates the replicas the
// directory places here, removes those of a deleted table once a later
// partition shows the deletion is not merely unseen, and heartbeats this
// node's record.
func TestReconcileFollowsTheDirectory(t *testing.T) {
	h := newHarness(t)
	rec, err := h.m.Join(context.Background(), &partitapb.Node{Version: "test"})
	if err != nil || rec.GetId() != 1 {
		t.Fatalf("join: %v %v", rec, err)
	}
	h.m.SetRecord(&partitapb.Node{Id: 1, ApiAddr: "api:1", Version: "test"})

	first := h.createTable(t, "first")
	h.reconcile(t)
	for _, id := range first {
		if h.st.Replica(id) == nil {
			t.Fatalf("partition %d placed here has no replica after reconcile", id)
		}
	}
	if n := h.sender.Directory().Snapshot().Node(1); n.GetApiAddr() != "api:1" {
		t.Fatalf("heartbeat did not publish the record: %v", n)
	}

	h.meta(t, &partitapb.Command{Op: &partitapb.Command_DeleteTable{DeleteTable: &partitapb.DeleteTable{Name: "first"}}})
	h.reconcile(t)
	for _, id := range first {
		if h.st.Replica(id) == nil {
			t.Fatalf("partition %d removed while no later partition proves the deletion", id)
		}
	}
	second := h.createTable(t, "second")
	h.reconcile(t)
	for _, id := range first {
		if h.st.Replica(id) != nil {
			t.Fatalf("partition %d of the deleted table still has a replica", id)
		}
	}
	for _, id := range second {
		if h.st.Replica(id) == nil {
			t.Fatalf("partition %d of the new table has no replica", id)
		}
	}
}

// TestLocalDirectoryOfADestroyedMetaReplica: a meta replica destroyed here
// (moved away) while LocalDirectory read it has had its records cleared
// under the reads, so what they found may be missing some. LocalDirectory
// answers that this node has no meta replica instead, and the caller asks
// a meta voter elsewhere.
func TestLocalDirectoryOfADestroyedMetaReplica(t *testing.T) {
	h := newHarness(t)
	h.createTable(t, "t")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	snap, err := h.m.LocalDirectory(ctx, true)
	if err != nil || tablesIn(snap) != 1 {
		t.Fatalf("directory before the destroy: %v tables, %v", tablesIn(snap), err)
	}

	h.m.SetDirectoryRead(func() {
		if err := h.st.Destroy(directory.MetaPartition); err != nil {
			t.Errorf("destroy the meta replica: %v", err)
		}
	})
	snap, err = h.m.LocalDirectory(ctx, false)
	var nl *replica.NotLeaderError
	if !errors.As(err, &nl) || nl.Partition != directory.MetaPartition {
		t.Fatalf("LocalDirectory of a meta replica destroyed under its reads: %v tables, err %v; want a NotLeaderError for the meta partition", tablesIn(snap), err)
	}
	// What the guard is for: the destroy cleared the records, so a read
	// racing it could have found the table gone.
	tables, err := directory.ReadTables(h.eng.Reader())
	if err != nil || len(tables) != 0 {
		t.Fatalf("the destroyed meta replica's tables: %d left (%v), want none", len(tables), err)
	}
	h.m.SetDirectoryRead(nil)
	if _, err := h.m.LocalDirectory(ctx, false); !errors.As(err, &nl) {
		t.Fatalf("LocalDirectory with no meta replica here: %v, want a NotLeaderError", err)
	}
}

// tablesIn counts snap's tables; 0 for no snapshot.
func tablesIn(snap *directory.Snapshot) int {
	if snap == nil {
		return 0
	}
	return len(snap.Tables)
}
