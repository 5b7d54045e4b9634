package fsm_test

import (
	"testing"

	"github.com/cockroachdb/datadriven"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
)

// TestReplicationFactor runs testdata/replication_factor.txt: the
// cluster's replication factor (SetReplicationFactor) beside the cluster
// version and the Doctor's other settings, each command applied to three
// replicas of the meta partition, which must answer alike and hold the
// same settings after it. The script's commands are doctor_ops.txt's
// (TestDoctorOps), and:
//
//	version from=V to=W at=T                 SetClusterVersion
//	replication factor=F [if-absent] [by=X] [reason=R] [doctor-epoch=E] at=T
//
// Each prints the result (ok or the error, and the settings it carries),
// then the settings record.
func TestReplicationFactor(t *testing.T) {
	replicas := []*engine.Engine{openEngine(t), openEngine(t), openEngine(t)}
	datadriven.RunTest(t, "testdata/replication_factor.txt", func(t *testing.T, td *datadriven.TestData) string {
		cmd := opsScriptCommand(t, td)
		var out string
		for i, eng := range replicas {
			got := describeOpsResult(applyKeeping(t, eng, proto.Clone(cmd).(*partitapb.Command), fsm.DoctorOpsKept))
			got += describeSettings(t, eng)
			if i > 0 && got != out {
				t.Fatalf("replica %d decided\n%s\nreplica 0 decided\n%s", i, got, out)
			}
			out = got
		}
		return out
	})
}
