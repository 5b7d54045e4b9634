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
