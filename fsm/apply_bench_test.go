package fsm_test

import (
	"strconv"
	"testing"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// BenchmarkApplyPut measures the write path of one PutItem: an indexed
// batch, the read of the old item, the write and the commit (no fsync).
func BenchmarkApplyPut(b *testing.B) {
	eng, err := engine.Open(engine.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	cmds := make([]*partitapb.Command, 1024)
	for i := range cmds {
		pk := "user#" + strconv.Itoa(i)
		k, err := engine.DataKey(nil, 1, item.S(pk), item.Value{})
		if err != nil {
			b.Fatal(err)
		}
		cmds[i] = put(k, item.Item{"pk": item.S(pk), "v": item.S("0123456789abcdef")}, nil)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		batch := eng.NewIndexedBatch()
		res, err := fsm.Apply(batch, rangeOf(part), cmds[i%len(cmds)])
		if err != nil || res.GetError() != nil {
			b.Fatalf("apply: %v %v", res, err)
		}
		if err := eng.CommitNoSync(batch); err != nil {
			b.Fatal(err)
		}
	}
}
