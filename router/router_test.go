package router_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/route"
	"github.com/partitadb/partita/router"
	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/transport"
)

// singleNode is a one-node raft store placing every partition on itself.
type singleNode struct{ *store.Store }

func (s singleNode) CreatePartition(_ context.Context, p *partitapb.Partition) error {
	return s.Bootstrap(p.GetId(), []uint64{1}, directory.Spans(p)...)
}

func (s singleNode) DestroyPartition(_ context.Context, id uint64) error { return s.Destroy(id) }

func startStore(t *testing.T) (*engine.Engine, singleNode) {
	t.Helper()
	eng, err := engine.Open(engine.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := store.DefaultConfig()
	cfg.NodeID, cfg.Engine = 1, eng
	s, err := store.NewStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Start(transport.NewInmem(1).Connect(1, s))
	t.Cleanup(func() { s.Stop(); eng.Close() })
	if err := s.Bootstrap(directory.MetaPartition, []uint64{1}, directory.MetaSpans()...); err != nil {
		t.Fatal(err)
	}
	return eng, singleNode{s}
}

func newRouter(t *testing.T) *router.Router {
	t.Helper()
	_, s := startStore(t)
	return routerOn(t, s, route.LocalStore(s.Store), 8)
}

// routerOn returns a router over the single node s whose requests reach it
// through local, its config changed by tweaks.
func routerOn(t *testing.T, s singleNode, local route.Local, partitions uint32, tweaks ...func(*router.Config)) *router.Router {
	t.Helper()
	scfg := route.DefaultConfig()
	scfg.Self, scfg.Local, scfg.Directory = 1, local, directory.NewCache()
	sender, err := route.New(scfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := router.DefaultConfig()
	cfg.Sender, cfg.Host, cfg.PartitionsPerTable = sender, s, partitions
	for _, tweak := range tweaks {
		tweak(&cfg)
	}
	r, err := router.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.SetClusterVersion(clusterversion.Latest)
	return r
}

func table() *partitapb.Table {
	return &partitapb.Table{
		Name:      "t",
		KeySchema: []*partitapb.KeyElement{{AttributeName: "pk", KeyType: "HASH"}, {AttributeName: "sk", KeyType: "RANGE"}},
	}
}

// recordingStore counts proposals per partition and forwards them.
type recordingStore struct {
	route.Local
	seen map[uint64]int
}

func (p *recordingStore) Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	p.seen[partition]++
	return p.Local.Propose(ctx, partition, cmd)
}

func TestWritesSpreadOverPartitionsAndReadBack(t *testing.T) {
	_, s := startStore(t)
	rec := &recordingStore{Local: route.LocalStore(s.Store), seen: map[uint64]int{}}
	r := routerOn(t, s, rec, 8)
	ctx := context.Background()
	tbl, err := r.CreateTable(ctx, table())
	if err != nil {
		t.Fatal(err)
	}
	if tbl.GetStatus() != "CREATING" {
		t.Fatalf("CreateTable answered status %q, want CREATING", tbl.GetStatus())
	}
	if got, _ := r.Table(ctx, "t"); got.GetStatus() != "ACTIVE" {
		t.Fatalf("table status after create = %q, want ACTIVE", got.GetStatus())
	}
	const n = 200
	for i := range n {
		key := item.Item{"pk": item.S(fmt.Sprint("user", i)), "sk": item.N(item.MustNumber(fmt.Sprint(i)))}
		it := item.Item{"pk": key["pk"], "sk": key["sk"], "v": item.S("x")}
		sk, err := r.StorageKey(tbl, key)
		if err != nil {
			t.Fatal(err)
		}
		cmd := &partitapb.Command{Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: sk, Item: item.EncodeItem(it)}}}
		if res, err := r.Write(ctx, tbl, key, cmd); err != nil || res.GetError() != nil {
			t.Fatalf("write %d: %v %v", i, err, res.GetError())
		}
		got, err := r.Get(ctx, tbl, key, true)
		if err != nil || !item.Equal(item.M(got), item.M(it)) {
			t.Fatalf("read back %d: %v %v", i, got, err)
		}
	}
	used := 0
	for _, p := range tbl.GetPartitions() {
		if rec.seen[p.GetId()] > 0 {
			used++
		}
	}
	if used != len(tbl.GetPartitions()) {
		t.Fatalf("%d items used %d of %d partitions: %v", n, used, len(tbl.GetPartitions()), rec.seen)
	}
	items, _, err := r.TableStats(ctx, tbl)
	if err != nil || items != n {
		t.Fatalf("TableStats items = %d (%v), want %d", items, err, n)
	}
}

func TestDeleteTableDropsDataAndRecord(t *testing.T) {
	eng, st := startStore(t)
	r := routerOn(t, st, route.LocalStore(st.Store), router.DefaultConfig().PartitionsPerTable)
	ctx := context.Background()
	tbl, err := r.CreateTable(ctx, table())
	if err != nil {
		t.Fatal(err)
	}
	key := item.Item{"pk": item.S("a"), "sk": item.S("b")}
	sk, _ := r.StorageKey(tbl, key)
	cmd := &partitapb.Command{Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: sk, Item: item.EncodeItem(key)}}}
	if _, err := r.Write(ctx, tbl, key, cmd); err != nil {
		t.Fatal(err)
	}
	if _, err := r.DeleteTable(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	var perr *partitapb.Error
	if _, err := r.Table(ctx, "t"); !errors.As(err, &perr) || perr.GetCode() != partitapb.Error_TABLE_NOT_FOUND {
		t.Fatalf("Table after delete: %v", err)
	}
	if _, err := r.DeleteTable(ctx, "t"); !errors.As(err, &perr) || perr.GetCode() != partitapb.Error_TABLE_NOT_FOUND {
		t.Fatalf("second DeleteTable: %v", err)
	}
	if _, err := eng.Get(sk); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("item survived its table: %v", err)
	}
	// Its partitions have no replica left: the read finds the table gone
	// (the deadline only guards against a hang).
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := r.Get(rctx, tbl, key, false); !errors.As(err, &perr) || perr.GetCode() != partitapb.Error_TABLE_NOT_FOUND {
		t.Fatalf("reading through a deleted table's record: %v, want TABLE_NOT_FOUND", err)
	}
	if _, err := r.CreateTable(ctx, table()); err != nil {
		t.Fatalf("recreate: %v", err)
	}
	if _, err := r.CreateTable(ctx, table()); !errors.As(err, &perr) || perr.GetCode() != partitapb.Error_TABLE_IN_USE {
		t.Fatalf("duplicate create: %v", err)
	}
}

// TestDeleteTableWhoseReplicasWentFirst: once a table's record is
// deleted, a node's reconciler may destroy its replicas of the table's
// partitions before DeleteTable's DestroyRange reaches them. DeleteTable
// gives up on those (their items went with their replicas) instead of
// retrying until its caller's deadline, and still destroys the data of
// the others: no item of the table is left.
func TestDeleteTableWhoseReplicasWentFirst(t *testing.T) {
	eng, st := startStore(t)
	r := routerOn(t, st, route.LocalStore(st.Store), 4)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tbl, err := r.CreateTable(ctx, table())
	if err != nil {
		t.Fatal(err)
	}
	parts := tbl.GetPartitions()
	// One item in every partition.
	keys := map[uint64][]byte{}
	for i := 0; len(keys) < len(parts) && i < 1000; i++ {
		it := item.Item{"pk": item.S(fmt.Sprint("k", i)), "sk": item.S("s")}
		sk, err := r.StorageKey(tbl, it)
		if err != nil {
			t.Fatal(err)
		}
		p := owner(parts, sk)
		if _, ok := keys[p]; ok || p == 0 {
			continue
		}
		cmd := &partitapb.Command{Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: sk, Item: item.EncodeItem(it)}}}
		if _, err := r.Write(ctx, tbl, it, cmd); err != nil {
			t.Fatal(err)
		}
		keys[p] = sk
	}
	if len(keys) != len(parts) {
		t.Fatalf("items in %d of %d partitions", len(keys), len(parts))
	}
	gone := parts[0].GetId()
	if err := st.Destroy(gone); err != nil {
		t.Fatal(err)
	}
	if _, err := r.DeleteTable(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("DeleteTable waited out its caller's deadline for a partition with no replica left")
	}
	for p, sk := range keys {
		if _, err := eng.Get(sk); !errors.Is(err, engine.ErrNotFound) {
			t.Fatalf("partition %d's item survived its table: %v", p, err)
		}
	}
}

// owner returns the partition of parts whose spans hold key (0: none).
func owner(parts []*partitapb.Partition, key []byte) uint64 {
	for _, p := range parts {
		for _, sp := range directory.Spans(p) {
			if bytes.Compare(sp.GetStart(), key) <= 0 && bytes.Compare(key, sp.GetEnd()) < 0 {
				return p.GetId()
			}
		}
	}
	return 0
}

func TestConfigValidate(t *testing.T) {
	cfg := router.DefaultConfig()
	if err := cfg.Validate(); err == nil {
		t.Fatal("config without engine and proposer validated")
	}
}
