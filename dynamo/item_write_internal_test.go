package dynamo

import "testing"

// A write decodes only the images its response reads (images), and its
// record keeps only those it returns as attributes (returned:
// Command.record_old, record_new), sizes alone none.
func TestWriteOptionsImages(t *testing.T) {
	s := func(v string) *string { return &v }
	type pair struct{ old, new bool }
	for _, c := range []struct {
		name             string
		o                writeOptions
		images, returned pair
	}{
		{"none", writeOptions{}, pair{}, pair{}},
		{"ALL_OLD", writeOptions{ReturnValues: s("ALL_OLD")}, pair{true, false}, pair{true, false}},
		{"UPDATED_OLD", writeOptions{ReturnValues: s("UPDATED_OLD")}, pair{true, false}, pair{true, false}},
		{"ALL_NEW", writeOptions{ReturnValues: s("ALL_NEW")}, pair{false, true}, pair{false, true}},
		{"UPDATED_NEW", writeOptions{ReturnValues: s("UPDATED_NEW")}, pair{false, true}, pair{false, true}},
		{"NONE", writeOptions{ReturnValues: s("NONE")}, pair{}, pair{}},
		{"old on a failed condition", writeOptions{ReturnValuesOnConditionCheckFailure: s("ALL_OLD")}, pair{true, false}, pair{true, false}},
		{"new, and old on a failed condition", writeOptions{ReturnValues: s("ALL_NEW"), ReturnValuesOnConditionCheckFailure: s("ALL_OLD")},
			pair{true, true}, pair{true, true}},
		{"capacity", writeOptions{ReturnConsumedCapacity: s("TOTAL")}, pair{true, true}, pair{}},
		{"capacity by index", writeOptions{ReturnConsumedCapacity: s("INDEXES")}, pair{true, true}, pair{}},
		{"no capacity", writeOptions{ReturnConsumedCapacity: s("NONE")}, pair{}, pair{}},
		{"batch sizes", writeOptions{sizes: true}, pair{true, true}, pair{}},
	} {
		if old, new := c.o.images(); (pair{old, new}) != c.images {
			t.Errorf("%s: images() = %v, %v, want %+v", c.name, old, new, c.images)
		}
		if old, new := c.o.returned(); (pair{old, new}) != c.returned {
			t.Errorf("%s: returned() = %v, %v, want %+v", c.name, old, new, c.returned)
		}
	}
}
