package fsm_test

import (
	"strconv"
	"testing"

	"github.com/partitadb/partita/directory"
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

// BenchmarkCreateDoctorOpAtBound measures creating a Doctor operation
// record when the timeline is full (fsm.DoctorOpsKept terminal records):
// the write, the count record and the deletion of the oldest record. With
// stuck=N, the N oldest records are still in flight, so every create
// steps over them before it finds a terminal one.
func BenchmarkCreateDoctorOpAtBound(b *testing.B) {
	for _, stuck := range []int{0, 100} {
		b.Run("stuck="+strconv.Itoa(stuck), func(b *testing.B) { benchCreateDoctorOp(b, stuck) })
	}
}

func benchCreateDoctorOp(b *testing.B, stuck int) {
	eng, err := engine.Open(engine.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	create := func(state partitapb.DoctorOp_State) {
		batch := eng.NewIndexedBatch()
		cmd := &partitapb.Command{Op: &partitapb.Command_PutDoctorOp{PutDoctorOp: &partitapb.PutDoctorOp{
			Op: &partitapb.DoctorOp{Kind: "replace-replica", State: state, Reasons: []string{"node 3 is dead"}}}}}
		res, err := fsm.Apply(batch, rangeOf(directory.MetaPartition), cmd)
		if err != nil || res.GetError() != nil {
			b.Fatalf("apply: %v %v", res, err)
		}
		if err := eng.CommitNoSync(batch); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < fsm.DoctorOpsKept; i++ {
		state := partitapb.DoctorOp_SUCCEEDED
		if i < stuck {
			state = partitapb.DoctorOp_RUNNING
		}
		create(state)
	}
	b.ReportAllocs()
	for b.Loop() {
		create(partitapb.DoctorOp_SUCCEEDED)
	}
}
