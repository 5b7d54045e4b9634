package fsm

import (
	"testing"

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
