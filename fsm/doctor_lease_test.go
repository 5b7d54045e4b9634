package fsm_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// TestDoctorLease runs testdata/doctor_lease.txt: Doctor lease commands
// and Doctor-issued directory commands, each applied to three replicas of
// the meta partition; the replicas must return the same results and hold
// the same lease record after every command.
//
//	acquire node=N [epoch=E] at=T for=D    AcquireDoctorLease at unix_nanos T
//	release node=N epoch=E
//	create-table name=T                    a table of one partition
//	set-replicas [doctor-epoch=E] table=T replicas=1,2,3
//	remove-node [doctor-epoch=E] id=N
//	put-node                               a new node
//
// Each prints the result (ok or the error) and then the lease record.
func TestDoctorLease(t *testing.T) {
	replicas := []*engine.Engine{openEngine(t), openEngine(t), openEngine(t)}
	datadriven.RunTest(t, "testdata/doctor_lease.txt", func(t *testing.T, td *datadriven.TestData) string {
		cmd := leaseScriptCommand(t, replicas[0], td)
		var out string
		for i, eng := range replicas {
			got := describeResult(apply(t, eng, directory.MetaPartition, proto.Clone(cmd).(*partitapb.Command)))
			got += describeLease(t, eng)
			if i > 0 && got != out {
				t.Fatalf("replica %d decided\n%s\nreplica 0 decided\n%s", i, got, out)
			}
			out = got
		}
		return out
	})
}

func leaseScriptCommand(t *testing.T, eng *engine.Engine, td *datadriven.TestData) *partitapb.Command {
	u := func(key string) uint64 {
		var v uint64
		if td.HasArg(key) {
			td.ScanArgs(t, key, &v)
		}
		return v
	}
	cmd := &partitapb.Command{UnixNanos: int64(u("at")), DoctorEpoch: u("doctor-epoch")}
	switch td.Cmd {
	case "acquire":
		cmd.Op = &partitapb.Command_AcquireDoctorLease{AcquireDoctorLease: &partitapb.AcquireDoctorLease{
			Node: u("node"), Epoch: u("epoch"), DurationNanos: int64(u("for"))}}
	case "release":
		cmd.Op = &partitapb.Command_ReleaseDoctorLease{ReleaseDoctorLease: &partitapb.ReleaseDoctorLease{
			Node: u("node"), Epoch: u("epoch")}}
	case "create-table":
		var name string
		td.ScanArgs(t, "name", &name)
		cmd.Op = &partitapb.Command_CreateTable{CreateTable: &partitapb.CreateTable{
			Table: &partitapb.Table{Name: name, Status: "ACTIVE"}, PartitionCount: 1}}
	case "set-replicas":
		var name string
		var ids []string
		td.ScanArgs(t, "table", &name)
		td.ScanArgs(t, "replicas", &ids)
		p := tablePartition(t, eng, name)
		op := &partitapb.SetReplicas{Table: name, Partition: p.GetId(), ExpectedGeneration: p.GetGeneration()}
		for _, id := range ids {
			var v uint64
			fmt.Sscan(id, &v)
			op.Replicas = append(op.Replicas, v)
		}
		cmd.Op = &partitapb.Command_SetReplicas{SetReplicas: op}
	case "remove-node":
		cmd.Op = &partitapb.Command_RemoveNode{RemoveNode: &partitapb.RemoveNode{Id: u("id")}}
	case "put-node":
		cmd.Op = &partitapb.Command_PutNode{PutNode: &partitapb.PutNode{Node: &partitapb.Node{Zone: "z"}}}
	default:
		t.Fatalf("unknown command %q", td.Cmd)
	}
	return cmd
}

func tablePartition(t *testing.T, eng *engine.Engine, name string) *partitapb.Partition {
	tbl, err := directory.ReadTable(eng.Reader(), name)
	if err != nil || tbl == nil {
		t.Fatalf("table %s: %v", name, err)
	}
	return tbl.GetPartitions()[0]
}

func describeResult(res *partitapb.Result) string {
	var b strings.Builder
	if e := res.GetError(); e != nil {
		fmt.Fprintf(&b, "error %s: %s\n", e.GetCode(), e.GetMessage())
	} else {
		b.WriteString("ok\n")
	}
	if l := res.GetDoctorLease(); l != nil {
		fmt.Fprintf(&b, "result %s\n", leaseString(l))
	}
	return b.String()
}

func describeLease(t *testing.T, eng *engine.Engine) string {
	l, err := directory.ReadDoctorLease(eng.Reader())
	if err != nil {
		t.Fatal(err)
	}
	if l == nil {
		return "lease none\n"
	}
	return "lease " + leaseString(l) + "\n"
}

func leaseString(l *partitapb.DoctorLease) string {
	return fmt.Sprintf("holder=%d epoch=%d expiry=%d acquired=%d",
		l.GetHolder(), l.GetEpoch(), l.GetExpiryUnixNanos(), l.GetAcquiredUnixNanos())
}
