package operator_test

import (
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/topology"
)

// TestPlans runs testdata/plans.txt:
//
//	move partition=P table=T from=N to=M [unreachable]   MoveReplica's steps
func TestPlans(t *testing.T) {
	datadriven.RunTest(t, "testdata/plans.txt", func(t *testing.T, td *datadriven.TestData) string {
		switch td.Cmd {
		case "move":
			var partition, from, to uint64
			var table string
			td.ScanArgs(t, "partition", &partition)
			td.ScanArgs(t, "table", &table)
			td.ScanArgs(t, "from", &from)
			td.ScanArgs(t, "to", &to)
			p := topology.PartitionInfo{ID: partition, Table: table}
			return operator.MoveReplica(p, from, to, !td.HasArg("unreachable")).String()
		}
		t.Fatalf("unknown command %q", td.Cmd)
		return ""
	})
}
