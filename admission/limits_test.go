package admission

import (
	"testing"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

func TestLimitsFrom(t *testing.T) {
	snap := &directory.Snapshot{Tables: []*partitapb.Table{
		{Id: 7, Name: "prov", BillingMode: "PROVISIONED", ReadCapacityUnits: 40, WriteCapacityUnits: 100,
			CreationUnixNanos: 5, Partitions: []*partitapb.Partition{{Id: 10}, {Id: 11}, {Id: 12}, {Id: 13}}},
		{Id: 8, Name: "legacy", ReadCapacityUnits: 5, WriteCapacityUnits: 5, Partitions: []*partitapb.Partition{{Id: 20}}},
		{Id: 9, Name: "od", BillingMode: "PAY_PER_REQUEST", Partitions: []*partitapb.Partition{{Id: 30}}},
	}}
	led := map[uint64]bool{10: true, 12: true, 20: true}
	ledHere := func(p uint64) bool { return led[p] }

	got, ok := LimitsFrom(snap, 11, ledHere)
	if !ok || got.Table != "prov" || got.TableID != 7 || !got.Provisioned || got.ReadUnits != 40 || got.WriteUnits != 100 ||
		got.Share != 0.5 || got.Created.UnixNano() != 5 {
		t.Errorf("partition 11: %+v, %v", got, ok)
	}
	if got, ok := LimitsFrom(snap, 20, ledHere); !ok || !got.Provisioned || got.WriteUnits != 5 || got.Share != 1 {
		t.Errorf("a table without a billing mode is provisioned: %+v, %v", got, ok)
	}
	if got, ok := LimitsFrom(snap, 30, ledHere); !ok || got.Provisioned || got.Table != "od" {
		t.Errorf("on-demand: %+v, %v", got, ok)
	}
	// Leadership just won, before this node counts it: a share, not zero.
	if got, _ := LimitsFrom(snap, 13, func(uint64) bool { return false }); got.Share != 0.25 {
		t.Errorf("share with nothing led here = %v, want 0.25", got.Share)
	}
	for _, p := range []uint64{directory.MetaPartition, 99} {
		if _, ok := LimitsFrom(snap, p, ledHere); ok {
			t.Errorf("partition %d limited", p)
		}
	}
	if _, ok := LimitsFrom(nil, 10, ledHere); ok {
		t.Error("a nil snapshot limits")
	}
}
