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
	old, new, sizes bool
}

func (f *flagStore) Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	if cmd.GetPutItem() != nil {
		f.old, f.new, f.sizes = cmd.GetRecordOld(), cmd.GetRecordNew(), cmd.GetRecordSizes()
	}
	return f.Local.Propose(ctx, partition, cmd)
}

// TestRecordedImagesWaitForTheirVersion: a write asks its record to keep
// the item images (Command.record_old, record_new) only once the cluster
// version allows it, and its sizes (record_sizes) only once a later one
// does; before, an older binary's replica would record none, and the
// replicas' records would differ.
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
	type flags struct{ old, new, sizes bool }
	write := func() flags {
		t.Helper()
		cmd := &partitapb.Command{RecordOld: true, RecordNew: true, RecordSizes: true,
			Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: sk, Item: item.EncodeItem(key)}}}
		if res, err := r.Write(ctx, tbl, key, cmd); err != nil || res.GetError() != nil {
			t.Fatalf("write: %v %v", err, res.GetError())
		}
		return flags{f.old, f.new, f.sizes}
	}
	for _, c := range []struct {
		v    clusterversion.Version
		want flags
	}{
		{clusterversion.RecordedImages - 1, flags{}},
		{clusterversion.RecordedImages, flags{true, true, false}},
		{clusterversion.RecordedSizes, flags{true, true, true}},
	} {
		r.SetClusterVersion(c.v)
		if got := write(); got != c.want {
			t.Errorf("at version %d the write asked its record for %+v, want %+v", c.v, got, c.want)
		}
	}
}
