package dynamo

import "testing"

// A write decodes only the images its response reads.
func TestWriteOptionsImages(t *testing.T) {
	s := func(v string) *string { return &v }
	for _, c := range []struct {
		name     string
		o        writeOptions
		old, new bool
	}{
		{"none", writeOptions{}, false, false},
		{"ALL_OLD", writeOptions{ReturnValues: s("ALL_OLD")}, true, false},
		{"UPDATED_OLD", writeOptions{ReturnValues: s("UPDATED_OLD")}, true, false},
		{"ALL_NEW", writeOptions{ReturnValues: s("ALL_NEW")}, false, true},
		{"UPDATED_NEW", writeOptions{ReturnValues: s("UPDATED_NEW")}, false, true},
		{"NONE", writeOptions{ReturnValues: s("NONE")}, false, false},
		{"old on a failed condition", writeOptions{ReturnValuesOnConditionCheckFailure: s("ALL_OLD")}, true, false},
		{"capacity", writeOptions{ReturnConsumedCapacity: s("TOTAL")}, true, true},
		{"capacity by index", writeOptions{ReturnConsumedCapacity: s("INDEXES")}, true, true},
		{"no capacity", writeOptions{ReturnConsumedCapacity: s("NONE")}, false, false},
		{"batch sizes", writeOptions{sizes: true}, true, true},
	} {
		if old, new := c.o.images(); old != c.old || new != c.new {
			t.Errorf("%s: images() = %v, %v, want %v, %v", c.name, old, new, c.old, c.new)
		}
	}
}

// A write's record keeps only the images its response returns as
// attributes (Command.record_old, record_new): sizes alone keep none.
func TestWriteOptionsReturned(t *testing.T) {
	s := func(v string) *string { return &v }
	for _, c := range []struct {
		name     string
		o        writeOptions
		old, new bool
	}{
		{"none", writeOptions{}, false, false},
		{"ALL_OLD", writeOptions{ReturnValues: s("ALL_OLD")}, true, false},
		{"UPDATED_OLD", writeOptions{ReturnValues: s("UPDATED_OLD")}, true, false},
		{"ALL_NEW", writeOptions{ReturnValues: s("ALL_NEW")}, false, true},
		{"UPDATED_NEW", writeOptions{ReturnValues: s("UPDATED_NEW")}, false, true},
		{"NONE", writeOptions{ReturnValues: s("NONE")}, false, false},
		{"old on a failed condition", writeOptions{ReturnValuesOnConditionCheckFailure: s("ALL_OLD")}, true, false},
		{"new and old on a failed condition", writeOptions{ReturnValues: s("ALL_NEW"), ReturnValuesOnConditionCheckFailure: s("ALL_OLD")}, true, true},
		{"capacity", writeOptions{ReturnConsumedCapacity: s("TOTAL")}, false, false},
		{"batch sizes", writeOptions{sizes: true}, false, false},
	} {
		if old, new := c.o.returned(); old != c.old || new != c.new {
			t.Errorf("%s: returned() = %v, %v, want %v, %v", c.name, old, new, c.old, c.new)
		}
	}
}
