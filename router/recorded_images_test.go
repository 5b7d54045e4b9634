package router_test

import (
	"context"
	"testing"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/route"
)

// flagStore remembers the record flags of the last item write it
// forwarded to its store.
type flagStore struct {
	route.Local
	old, new bool
}

func (f *flagStore) Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	if cmd.GetPutItem() != nil {
		f.old, f.new = cmd.GetRecordOld(), cmd.GetRecordNew()
	}
	return f.Local.Propose(ctx, partition, cmd)
}

// TestRecordedImagesWaitForTheirVersion: a write asks its record to keep
// the item images (Command.record_old, record_new) only once the cluster
// version allows it; before, an older binary's replica would record
// none, and the replicas' records would differ.
func TestRecordedImagesWaitForTheirVersion(t *testing.T) {
	_, s := startStore(t)
	f := &flagStore{Local: route.LocalStore(s.Store)}
	r := routerOn(t, s, f, 2)
	ctx := context.Background()
	tbl, err := r.CreateTable(ctx, table())
	if err != nil {
		t.Fatal(err)
	}
	key := item.Item{"pk": item.S("a"), "sk": item.N(item.MustNumber("1"))}
	sk, err := r.StorageKey(tbl, key)
	if err != nil {
		t.Fatal(err)
	}
	write := func() (bool, bool) {
		t.Helper()
		cmd := &partitapb.Command{RecordOld: true, RecordNew: true,
			Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: sk, Item: item.EncodeItem(key)}}}
		if res, err := r.Write(ctx, tbl, key, cmd); err != nil || res.GetError() != nil {
			t.Fatalf("write: %v %v", err, res.GetError())
		}
		return f.old, f.new
	}
	r.SetClusterVersion(clusterversion.RecordedImages - 1)
	if old, new := write(); old || new {
		t.Errorf("at version %d the write asked for images (old %v, new %v)", clusterversion.RecordedImages-1, old, new)
	}
	r.SetClusterVersion(clusterversion.RecordedImages)
	if old, new := write(); !old || !new {
		t.Errorf("at version %d the write asked for old %v, new %v, want both", clusterversion.RecordedImages, old, new)
	}
}
