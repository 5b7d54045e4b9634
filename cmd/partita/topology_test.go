package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/topology/history"
	"github.com/partitadb/partita/topology/ingest"
)

// TestCtlTopology: the view of the reports the meta leader received,
// asked of another node (redirected), as a table and as JSON.
func TestCtlTopology(t *testing.T) {
	t.Parallel()
	n1 := startCtlMember(t)
	n2 := startCtlMember(t, n1.PeerAddr())
	g := ingest.Synthetic{Nodes: 2, Replicas: 2, Interval: time.Second, Start: time.Now().Add(-time.Second)}
	eventually(t, func() error {
		if n1.TopologyReceiver() != n1.ID() || n2.TopologyReceiver() != n1.ID() {
			return errorString("the nodes do not agree that node 1 leads the meta partition yet")
		}
		return nil
	})
	for _, id := range []uint64{n1.ID(), n2.ID()} {
		if err := n1.ReceiveTopology(g.Snapshot(id, 1)); err != nil {
			t.Fatal(err)
		}
	}
	var info admin.TopologyInfo
	eventually(t, func() error { // until node 2 knows node 1's admin address
		ctlJSON(t, n2, &info, "topology")
		if !info.Receiver {
			return errorString("node 2 answers with its own view")
		}
		return nil
	})
	if info.Node != n1.ID() || !info.Receiver || len(info.View.Nodes) != 2 || len(info.View.Partitions) != 4 {
		t.Fatalf("topology via node 2: %+v", info)
	}
	if n, _ := info.View.Node(n2.ID()); n.Liveness != directory.Alive || n.Leaders != 2 {
		t.Fatalf("node 2 in the view: %+v", n)
	}
	out, err := ctl(t, n2, "topology")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"view of node 1 (receives the reports); ingested 2 snapshots", "LIVENESS", "NODES  ALIVE  SUSPECT", "REPLICAS (NODE:ROLE:LAG)", "1:leader:0"} {
		if !strings.Contains(out, want) {
			t.Errorf("output misses %q:\n%s", want, out)
		}
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

// TestDoctorReplay: a bucket's history replayed at a moment and walked.
func TestDoctorReplay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	url := "file://" + dir + "?create_dir=1&metadata=skip"
	ctx := context.Background()
	b, err := blob.OpenBucket(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 3, 15, 59, 0, 0, time.UTC)
	g := ingest.Synthetic{Nodes: 3, Replicas: 2, Interval: time.Second, Start: start}
	for node := uint64(1); node <= 3; node++ {
		for seq := uint64(1); seq <= 120; seq++ {
			if node == 3 && seq > 60 {
				break // node 3 dies at 16:00:00
			}
			s := g.Snapshot(node, seq)
			data, err := proto.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			key := history.Name{Node: node, Taken: time.Unix(0, s.UnixNanos), Started: start, Seq: seq}.Key()
			if err := b.WriteAll(ctx, key, data, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	b.Close()
	run := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		root := newRootCmd()
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(append([]string{"doctor", "replay", "--bucket", url, "--interval", "1s", "--dead-after", "10s"}, args...))
		if err := root.ExecuteContext(ctx); err != nil {
			t.Fatalf("replay %v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	var v ingest.ClusterView
	if err := json.Unmarshal([]byte(run("--at", "2026-12-03T15:59:50Z", "-o", "json")), &v); err != nil {
		t.Fatal(err)
	}
	if n, ok := v.Node(3); !ok || n.Liveness != directory.Alive || n.Seq != 50 {
		t.Fatalf("node 3 at 15:59:50: %+v", n)
	}
	out := run("--at", "2026-12-03T16:00:30Z")
	if !strings.Contains(out, "3 nodes") || !strings.Contains(out, "dead") {
		t.Fatalf("replay at 16:00:30:\n%s", out)
	}
	out = run("--from", "2026-12-03T15:59:58Z", "--to", "2026-12-03T16:00:20Z", "--step", "1s")
	for _, want := range []string{
		"2026-12-03T15:59:58Z node 3 node_appeared: - -> alive",
		"2026-12-03T16:00:03Z node 3 node_liveness: alive -> suspect",
		"2026-12-03T16:00:11Z node 3 node_liveness: suspect -> dead",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("walk misses %q:\n%s", want, out)
		}
	}
}
