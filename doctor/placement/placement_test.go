package placement_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/placement"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/topology"
)

// TestPlacement runs testdata/*.txt:
//
//	node id=N zone=Z [age=D] [no-peer] [decommissioning]
//	                                     a node whose heartbeat is D old
//	partition id=P replicas=(..) [voters=(..)]
//	unreachable N...                     nodes that did not answer
//	order                                Order's nodes
//	target partition=P from=N            Target's choice
func TestPlacement(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		now := time.Unix(1_000_000, 0)
		snap := &directory.Snapshot{}
		var parts []topology.PartitionInfo
		unreachable := map[uint64]bool{}
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			switch td.Cmd {
			case "node":
				var id uint64
				var zone, age string
				td.ScanArgs(t, "id", &id)
				td.ScanArgs(t, "zone", &zone)
				hb := now
				if td.MaybeScanArgs(t, "age", &age) {
					d, err := time.ParseDuration(age)
					if err != nil {
						t.Fatal(err)
					}
					hb = now.Add(-d)
				}
				rec := &partitapb.Node{Id: id, Zone: zone, PeerAddr: fmt.Sprintf("n%d:1", id), HeartbeatUnixNanos: hb.UnixNano()}
				if td.HasArg("no-peer") {
					rec.PeerAddr = ""
				}
				if td.HasArg("decommissioning") {
					rec.DecommissioningUnixNanos = now.Add(-time.Minute).UnixNano()
				}
				snap.Nodes = append(snap.Nodes, rec)
				return ""
			case "partition":
				var id uint64
				td.ScanArgs(t, "id", &id)
				p := topology.PartitionInfo{ID: id, Replicas: ids(t, td, "replicas")}
				p.Voters = p.Replicas
				if td.HasArg("voters") {
					p.Voters = ids(t, td, "voters")
				}
				parts = append(parts, p)
				return ""
			case "unreachable":
				for _, a := range td.CmdArgs {
					unreachable[parseID(t, a.Key)] = true
				}
				return ""
			case "order":
				order, err := placement.Order(snap, now)
				if err != nil {
					return err.Error()
				}
				return fmt.Sprint(order)
			case "target":
				var id, from uint64
				td.ScanArgs(t, "partition", &id)
				td.ScanArgs(t, "from", &from)
				for _, p := range parts {
					if p.ID == id {
						to, err := placement.Target(snap, now, parts, p, from, func(n uint64) bool { return !unreachable[n] })
						if err != nil {
							return err.Error()
						}
						return fmt.Sprint(to)
					}
				}
				t.Fatalf("no partition %d", id)
			}
			t.Fatalf("unknown command %q", td.Cmd)
			return ""
		})
	})
}

func ids(t *testing.T, td *datadriven.TestData, key string) []uint64 {
	arg, ok := td.Arg(key)
	if !ok {
		t.Fatalf("missing %s", key)
	}
	var out []uint64
	for _, v := range arg.Vals {
		for _, f := range strings.Split(v, ",") {
			out = append(out, parseID(t, strings.TrimSpace(f)))
		}
	}
	return out
}

func parseID(t *testing.T, s string) uint64 {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
