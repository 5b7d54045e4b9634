package member

import (
	"slices"
	"testing"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

func TestMetaCandidatesSpreadOverZones(t *testing.T) {
	snap := &directory.Snapshot{Nodes: []*partitapb.Node{
		{Id: 1, Zone: "a"}, {Id: 2, Zone: "a"}, {Id: 3, Zone: "b"}, {Id: 4, Zone: "c"}, {Id: 5, Zone: "b"},
	}}
	var got []uint64
	for _, rec := range metaCandidates(snap, []uint64{1}) {
		got = append(got, rec.GetId())
	}
	// Zones b and c hold no voter: their nodes first, by id; then zone a's.
	want := []uint64{3, 4, 5, 2}
	if !slices.Equal(got, want) {
		t.Fatalf("candidates %v, want %v", got, want)
	}
}

// TestMetaCandidatesSkipDecommissioning: a decommissioning node never
// takes a meta voter, though its zone holds none.
func TestMetaCandidatesSkipDecommissioning(t *testing.T) {
	snap := &directory.Snapshot{Nodes: []*partitapb.Node{
		{Id: 1, Zone: "a"}, {Id: 2, Zone: "a"}, {Id: 3, Zone: "b", DecommissioningUnixNanos: 1}, {Id: 4, Zone: "c"},
	}}
	var got []uint64
	for _, rec := range metaCandidates(snap, []uint64{1}) {
		got = append(got, rec.GetId())
	}
	if want := []uint64{4, 2}; !slices.Equal(got, want) {
		t.Fatalf("candidates %v, want %v", got, want)
	}
}
