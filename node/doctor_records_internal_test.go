package node

import (
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/doctor"
	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/doctor/gate"
	"github.com/partitadb/partita/partitapb"
)

// TestDoctorEntryRecordRoundTrip: a timeline entry with every field set
// comes back from its directory record (through its encoding) equal. A
// field the record drops is what a Doctor resuming the operation, or
// running it once approved, would run without: a merge's neighbour or a
// split's point were, and a resumed merge absorbed another neighbour.
// Every field of the sample must be set, so that a field added to Entry
// or Op without a place in the record fails here.
func TestDoctorEntryRecordRoundTrip(t *testing.T) {
	at := func(s int64) time.Time { return time.Unix(0, 1_800_000_000_000_000_000+s*int64(time.Second)) }
	e := doctor.Entry{ID: 7, Epoch: 3,
		Op: checker.Op{Kind: checker.Merge, Partition: 4, Table: "t", From: 1, To: 2, At: 1 << 40, With: 5,
			Generation: 9, Voters: []uint64{1, 2, 3}, Learners: []uint64{4}, Priority: checker.PriorityMerge,
			Checker: "merge", Reasons: []string{"cold"}},
		Inputs: "partition 4 gen=9", Gate: gate.Yellow, State: doctor.Running, Validation: "held once",
		Steps:   []doctor.StepRecord{{Name: "merge table=t partition=4 with=5", Start: at(1), End: at(2), Err: "busy", Attempts: 2}},
		Created: at(0), Updated: at(3), Deadline: at(60), DecidedBy: "token:ops", Outcome: "not yet"}
	for _, v := range []reflect.Value{reflect.ValueOf(e), reflect.ValueOf(e.Op), reflect.ValueOf(e.Steps[0])} {
		for i := range v.NumField() {
			if v.Field(i).IsZero() {
				t.Fatalf("the sample leaves %s.%s unset", v.Type().Name(), v.Type().Field(i).Name)
			}
		}
	}
	b, err := proto.Marshal(entryProto(e))
	if err != nil {
		t.Fatal(err)
	}
	var rec partitapb.DoctorOp
	if err := proto.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	if got := entryOf(&rec); !reflect.DeepEqual(got, e) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, e)
	}
}
