package fsm

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// TestNextTxnRecord walks the record's status changes: it only moves
// forward, an abort by anyone but the coordinator waits for the deadline,
// and a missing record aborts so that no late coordinator commits it.
func TestNextTxnRecord(t *testing.T) {
	const (
		pending   = partitapb.TxnStatus_TXN_PENDING
		committed = partitapb.TxnStatus_TXN_COMMITTED
		aborted   = partitapb.TxnStatus_TXN_ABORTED
		none      = partitapb.TxnStatus_TXN_STATUS_UNSPECIFIED
		deadline  = 100
	)
	rec := func(s partitapb.TxnStatus) *partitapb.TxnRecord {
		if s == none {
			return nil
		}
		return &partitapb.TxnRecord{Status: s, DeadlineUnixNanos: deadline}
	}
	cases := []struct {
		name        string
		from, op    partitapb.TxnStatus
		coordinator bool
		now         int64
		want        partitapb.TxnStatus
		refused     bool
	}{
		{"create", none, pending, true, 10, pending, false},
		{"create again", pending, pending, true, 10, pending, false},
		{"create an aborted one", aborted, pending, true, 10, aborted, true},
		{"commit", pending, committed, true, 10, committed, false},
		{"commit late, not aborted", pending, committed, true, 500, committed, false},
		{"commit twice", committed, committed, true, 10, committed, false},
		{"commit an aborted one", aborted, committed, true, 10, aborted, true},
		{"coordinator aborts", pending, aborted, true, 10, aborted, false},
		{"recovery before the deadline", pending, aborted, false, 10, pending, false},
		{"recovery after the deadline", pending, aborted, false, 500, aborted, false},
		{"recovery of a committed one", committed, aborted, false, 500, committed, false},
		{"recovery without a record", none, aborted, false, 500, aborted, false},
	}
	for _, tc := range cases {
		s := &partitapb.TxnSetStatus{Status: tc.op, Coordinator: tc.coordinator, DeadlineUnixNanos: deadline}
		next, res := nextTxnRecord(rec(tc.from), s, tc.now)
		if got := next.GetStatus(); got != tc.want {
			t.Errorf("%s: status %v, want %v", tc.name, got, tc.want)
		}
		if refused := res.GetError().GetCode() == partitapb.Error_TXN_ABORTED; refused != tc.refused {
			t.Errorf("%s: refused %v (%v), want %v", tc.name, refused, res.GetError(), tc.refused)
		}
		if res.GetTxnRecord().GetStatus() != tc.want {
			t.Errorf("%s: result record %v, want %v", tc.name, res.GetTxnRecord(), tc.want)
		}
	}
}

// TestTxnBusyHoldsRangeChanges: a partition with an intent, or a pending
// or committed record, is busy (splits and merges wait); aborted records
// alone, or another partition's intents, are not.
func TestTxnBusyHoldsRangeChanges(t *testing.T) {
	eng, err := engine.Open(engine.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	b := eng.NewIndexedBatch()
	defer b.Close()
	a := NewApplier(b, &partitapb.Descriptor{Partition: 7})
	busy := func(what string, want bool) {
		t.Helper()
		if got, err := a.txnBusy(); err != nil || got != want {
			t.Fatalf("%s: busy %v (%v), want %v", what, got, err, want)
		}
	}
	set := func(k []byte, m proto.Message) {
		raw, _ := proto.Marshal(m)
		if err := b.Set(k, raw); err != nil {
			t.Fatal(err)
		}
	}
	busy("empty", false)
	set(TxnIntentKey(8, []byte("dk")), &partitapb.TxnIntent{TxnId: []byte("t0")})
	busy("another partition's intent", false)
	set(TxnRecordKey(7, []byte("t1")), &partitapb.TxnRecord{Status: partitapb.TxnStatus_TXN_ABORTED})
	busy("an aborted record", false)
	set(TxnRecordKey(7, []byte("t2")), &partitapb.TxnRecord{Status: partitapb.TxnStatus_TXN_COMMITTED})
	busy("a committed record", true)
	if err := b.Delete(TxnRecordKey(7, []byte("t2"))); err != nil {
		t.Fatal(err)
	}
	busy("the committed record forgotten", false)
	set(TxnIntentKey(7, []byte("dk")), &partitapb.TxnIntent{TxnId: []byte("t3")})
	busy("an intent", true)
	res, err := a.refuseWhileTxnBusy("split")
	if err != nil || res.GetError().GetCode() != partitapb.Error_VALIDATION {
		t.Fatalf("split while busy: %v %v, want VALIDATION", res, err)
	}
}
