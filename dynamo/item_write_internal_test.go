package dynamo

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/partitapb"
)

// A write decodes only the images its response reads (images): those it
// returns, and both for its sizes only when the answer lacks them (an
// older binary's). Its record keeps the images it returns as attributes
// (returned: Command.record_old, record_new), and the sizes when the
// response counts them (counted: Command.record_sizes).
func TestWriteOptionsImages(t *testing.T) {
	s := func(v string) *string { return &v }
	type pair struct{ old, new bool }
	sized := &partitapb.Result{OldSize: proto.Int64(10), NewSize: proto.Int64(20)}
	unsized := &partitapb.Result{}
	for _, c := range []struct {
		name string
		o    writeOptions
		// images decoded with an answer carrying sizes, and without.
		images, unsized, returned pair
		counted                   bool
	}{
		{"none", writeOptions{}, pair{}, pair{}, pair{}, false},
		{"ALL_OLD", writeOptions{ReturnValues: s("ALL_OLD")}, pair{true, false}, pair{true, false}, pair{true, false}, false},
		{"UPDATED_OLD", writeOptions{ReturnValues: s("UPDATED_OLD")}, pair{true, false}, pair{true, false}, pair{true, false}, false},
		{"ALL_NEW", writeOptions{ReturnValues: s("ALL_NEW")}, pair{false, true}, pair{false, true}, pair{false, true}, false},
		{"UPDATED_NEW", writeOptions{ReturnValues: s("UPDATED_NEW")}, pair{false, true}, pair{false, true}, pair{false, true}, false},
		{"NONE", writeOptions{ReturnValues: s("NONE")}, pair{}, pair{}, pair{}, false},
		{"old on a failed condition", writeOptions{ReturnValuesOnConditionCheckFailure: s("ALL_OLD")},
			pair{true, false}, pair{true, false}, pair{true, false}, false},
		{"new, and old on a failed condition", writeOptions{ReturnValues: s("ALL_NEW"), ReturnValuesOnConditionCheckFailure: s("ALL_OLD")},
			pair{true, true}, pair{true, true}, pair{true, true}, false},
		{"capacity", writeOptions{ReturnConsumedCapacity: s("TOTAL")}, pair{}, pair{true, true}, pair{}, true},
		{"capacity by index", writeOptions{ReturnConsumedCapacity: s("INDEXES")}, pair{}, pair{true, true}, pair{}, true},
		{"capacity and ALL_OLD", writeOptions{ReturnConsumedCapacity: s("TOTAL"), ReturnValues: s("ALL_OLD")},
			pair{true, false}, pair{true, true}, pair{true, false}, true},
		{"no capacity", writeOptions{ReturnConsumedCapacity: s("NONE")}, pair{}, pair{}, pair{}, false},
		{"collection metrics", writeOptions{ReturnItemCollectionMetrics: s("SIZE")}, pair{}, pair{true, true}, pair{}, true},
		{"no collection metrics", writeOptions{ReturnItemCollectionMetrics: s("NONE")}, pair{}, pair{}, pair{}, false},
		{"batch sizes", writeOptions{sizes: true}, pair{}, pair{true, true}, pair{}, true},
	} {
		if old, new := c.o.images(sized); (pair{old, new}) != c.images {
			t.Errorf("%s: images(sized) = %v, %v, want %+v", c.name, old, new, c.images)
		}
		if old, new := c.o.images(unsized); (pair{old, new}) != c.unsized {
			t.Errorf("%s: images(unsized) = %v, %v, want %+v", c.name, old, new, c.unsized)
		}
		if old, new := c.o.returned(); (pair{old, new}) != c.returned {
			t.Errorf("%s: returned() = %v, %v, want %+v", c.name, old, new, c.returned)
		}
		if got := c.o.counted(); got != c.counted {
			t.Errorf("%s: counted() = %v, want %v", c.name, got, c.counted)
		}
	}
}

// The capacity of a write comes from the sizes its answer carries, and
// from its decoded images without them.
func TestWriteUnitsFromSizes(t *testing.T) {
	o := &writeOptions{ReturnConsumedCapacity: proto.String("TOTAL")}
	im, err := decodeImages(&partitapb.Result{OldSize: proto.Int64(1500), NewSize: proto.Int64(2100)}, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := im.units(); got != 3 {
		t.Fatalf("units from sizes 1,500 and 2,100 bytes: %v, want 3", got)
	}
	if im.old != nil || im.new != nil {
		t.Fatal("images decoded for the capacity of an answer with sizes")
	}
	im, err = decodeImages(&partitapb.Result{}, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := im.units(); got != 1 {
		t.Fatalf("units of an answer with neither sizes nor images: %v, want 1", got)
	}
}
