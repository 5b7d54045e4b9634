package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/settings"
	"github.com/partitadb/partita/topology"
	"github.com/partitadb/partita/topology/ingest"
)

// TestCtlConfigRollout: three nodes in zones a, b and c under a steady
// write load. A harmless value rolls out through every zone and ends as
// one cluster override; a harmful one (fsyncs 300 ms slower), rolled out
// first to the zone that leads most of the table and takes the writes,
// halts after that zone, whose health regressed (its p99 or its
// timeouts), and the zone gets back the override it had before the
// rollout. (The p99 margin is widened to 150 ms: a race build
// on a loaded machine jitters by tens of milliseconds.)
func TestCtlConfigRollout(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("watches the cluster for several soaks")
	}
	var nodes []*node.Node
	for i, zone := range []string{"a", "b", "c"} {
		var join []string
		if i > 0 {
			join = []string{nodes[0].PeerAddr()}
		}
		nodes = append(nodes, startCtlMemberWith(t, func(c *node.Config) {
			c.Zone, c.TopologyInterval = zone, 200*time.Millisecond
		}, join...))
	}
	n1 := nodes[0]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(n1.APIURL()), Credentials: aws.AnonymousCredentials{}})
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("load"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	// The table's partitions, not the meta partition's: in two CI runs the
	// meta leader reported one node as both voter and learner for the
	// whole wait (Voters [1 2 3], Learners [3]), a state under
	// investigation that this test, about rollouts, does not depend on.
	var parts []topology.PartitionInfo
	eventually(t, func() error {
		ctlJSON(t, n1, &parts, "partitions", "--table", "load")
		return caughtUp(parts)
	})
	// A slow disk harms the clients where it holds leaders: a follower's
	// slow fsync is outvoted by the other two replicas. The harmful
	// rollout starts with the zone that leads most of the table.
	leads := map[uint64]int{}
	for _, p := range parts {
		if p.Table == "load" {
			leads[p.Leader]++
		}
	}
	zones := []string{"a", "b", "c"}
	first := 0
	for i := range nodes {
		if leads[uint64(i+1)] > leads[uint64(first+1)] {
			first = i
		}
	}
	harmStages := "zone:" + zones[first]
	for i, z := range zones {
		if i != first {
			harmStages += ",zone:" + z
		}
	}
	// The writes enter at the harmed zone's node: a stage is judged by
	// the requests its own nodes serve, so writes entering elsewhere
	// would show the harm only in a stage not yet changed (CI: n1 led
	// nothing, zone b went first and served 1 request in its soak).
	// write has n writers put through node i until the returned stop;
	// tally says what they saw (CI: a harmful rollout saw 0 requests in
	// every stage, and nothing told whether the writers had stalled).
	write := func(i, n int) (stop func(), tally func() string) {
		writer := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(nodes[i].APIURL()), Credentials: aws.AnonymousCredentials{}})
		done := make(chan struct{})
		var wg sync.WaitGroup
		var ok, failed atomic.Int64
		var lastErr atomic.Value
		for w := range n {
			wg.Go(func() {
				for j := 0; j < 100_000; j++ {
					select {
					case <-done:
						return
					default:
					}
					start := time.Now()
					_, err := writer.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("load"), Item: map[string]types.AttributeValue{
						"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("n", i, "w", w, "-", j%200)}}})
					if err != nil {
						failed.Add(1)
						lastErr.Store(fmt.Sprintf("%s at %s after %v", err, start.Format("15:04:05.000"), time.Since(start).Round(time.Millisecond)))
					} else {
						ok.Add(1)
					}
				}
			})
		}
		return func() { close(done); wg.Wait() }, func() string {
			return fmt.Sprintf("writers through n%d: %d acknowledged, %d failed (last: %v)", i+1, ok.Load(), failed.Load(), lastErr.Load())
		}
	}
	stopFirst, tally := write(first, 4)
	defer stopFirst()
	// During the harmless rollout, every zone serves writes of its own:
	// its last stage is judged against itself alone, and the p99 of the
	// handful of requests a zone without writers serves is their slowest,
	// which one stall of a loaded machine sets (CI: halted on "p99 500ms
	// against 100ms" at the last stage).
	var others []func()
	for i := range nodes {
		if i != first {
			stop, _ := write(i, 2)
			others = append(others, stop)
		}
	}

	rollout := func(args ...string) (string, error) {
		return ctl(t, n1, append([]string{"config", "rollout"}, append([]string{"--soak", "3s", "--sample", "200ms", "--min-p99-rise", "150ms"}, args...)...)...)
	}
	// Judged on its other signals where a stage served no request: a
	// stage's requests are counted at its nodes' leaders, and a node that
	// leads none of the table's partitions (elections and the balancer
	// move them on a loaded machine) serves none whatever its writers
	// send (under load: zone c served 1 request before the change and 0
	// after, and the harmless change halted as idle).
	// And with a p99 allowed a second more than before: the last stage is
	// judged against itself alone, and a loaded machine's stall in its
	// soak slowed a handful of requests to 250 ms against 50 ms before
	// (7 of 8 over the limit of 200 ms), a harmless change halted.
	out, err := rollout("request.timeout", "20s", "--stages", "zone:a,zone:b,zone:c", "--min-requests", "0", "--min-p99-rise", "1s")
	for _, stop := range others {
		stop()
	}
	if err != nil || !strings.Contains(out, "done: request.timeout=20s for the whole cluster") {
		t.Fatalf("harmless rollout: %v\n%s", err, out)
	}
	var st admin.ConfigState
	ctlJSON(t, n1, &st, "config", "list")
	if len(st.Overrides) != 1 || st.Overrides[0].Scope != "cluster" || st.Overrides[0].Value != "20s" {
		t.Fatalf("after the harmless rollout: %+v\n%s", st.Overrides, out)
	}

	harmed := "zone:" + zones[first]
	if _, err := ctl(t, n1, "config", "set", "fault.fsync-delay", "1ms", "--scope", harmed); err != nil {
		t.Fatal(err)
	}
	out, err = rollout("fault.fsync-delay", "300ms", "--stages", harmStages)
	// Halted on the harm, not unjudged for want of requests.
	if err == nil || !strings.Contains(out, "stage "+harmed+" regressed") || strings.Contains(out, "needed to judge") ||
		strings.Contains(out, "stage 2 of 3") || !strings.Contains(out, "halted and undone") {
		t.Fatalf("harmful rollout over %s (leaders by node %v; %s): %v\n%s", harmStages, leads, tally(), err, out)
	}
	ctlJSON(t, n1, &st, "config", "list")
	for _, o := range st.Overrides {
		if o.Key == "fault.fsync-delay" && (o.Scope != harmed || o.Value != "1ms") {
			t.Fatalf("after the halted rollout: %+v\n%s", st.Overrides, out)
		}
	}
	t.Logf("harmful rollout:\n%s", out)

	// Both rollouts are in the Doctor's timeline, stage by stage, the
	// halted one with why it stopped.
	tl, err := ctl(t, n1, "doctor", "timeline", "--kind", "config")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"rollout of request.timeout=20s, stage 3 of 3", "rollout of request.timeout=20s, end: done",
		"rollout of fault.fsync-delay=300ms, stage 1 of 3", "rollout of fault.fsync-delay=300ms, end: halted and undone"} {
		if !strings.Contains(tl, want) {
			t.Errorf("the timeline lacks %q:\n%s", want, tl)
		}
	}
}

// The Doctor's alerts count per stage: each node judged sick once per
// soak, whatever the number of samples that saw it; a sick node outside
// the stages counts for none. A stage with a new alert regresses.
func TestRolloutCountsDoctorAlerts(t *testing.T) {
	t.Parallel()
	stages := []settings.Scope{{Kind: settings.ScopeZone, Name: "a"}, {Kind: settings.ScopeNode, Name: "3"}}
	v := &ingest.ClusterView{Nodes: []ingest.NodeView{{ID: 1, Zone: "a"}, {ID: 2, Zone: "a"}, {ID: 3, Zone: "b"}, {ID: 4, Zone: "c"}}}
	acc := newHealthAccum(stages, time.Time{})
	acc.addSick(v, []uint64{1, 4})
	acc.addSick(v, []uint64{1, 2, 3})
	h := acc.health(time.Minute)
	if a, n3 := h[stages[0]].Alerts, h[stages[1]].Alerts; a != 2 || n3 != 1 {
		t.Fatalf("alerts: zone a %d, node 3 %d; want 2 and 1", a, n3)
	}
	ro := &settings.Rollout{Key: "fault.fsync-delay", Value: "1s", Stages: stages, Margins: settings.DefaultMargins()}
	if regs := ro.Judge(settings.Health{}, h[stages[0]], nil); len(regs) == 0 {
		t.Fatal("a stage with two new Doctor alerts was judged healthy")
	}
}

// A soak counts only the snapshots whose interval began after it did,
// each once however many samples see it: a change's effect is not
// diluted by the load from before it, nor counted twice.
func TestRolloutCountsFreshSnapshotsOnce(t *testing.T) {
	t.Parallel()
	start := time.Unix(1000, 0)
	zoneA := settings.Scope{Kind: settings.ScopeZone, Name: "a"}
	view := func(seq uint64, taken time.Time, p99 time.Duration) *ingest.ClusterView {
		return &ingest.ClusterView{
			Nodes: []ingest.NodeView{{ID: 1, Zone: "a", Seq: seq, Taken: taken, Interval: 5 * time.Second}},
			Partitions: []ingest.PartitionView{{ID: 7, Table: "t", Replicas: []ingest.ReplicaView{
				{Node: 1, Load: ingest.Load{WritesPerSec: 100, LatencyP99: p99, Latency: []ingest.LatencyBucket{
					{GT: 5 * time.Millisecond, LE: 10 * time.Millisecond, Count: 495}, {GT: time.Second, LE: p99, Count: 5}}}},
				{Node: 2, Load: ingest.Load{WritesPerSec: 100, Latency: []ingest.LatencyBucket{{LE: time.Millisecond, Count: 500}}}}}}},
		}
	}
	acc := newHealthAccum([]settings.Scope{zoneA}, start)
	acc.add(view(1, start.Add(2*time.Second), 10*time.Millisecond)) // began 3 s before the soak
	if acc.covered() {
		t.Fatal("covered by a snapshot from before the soak")
	}
	acc.add(view(2, start.Add(7*time.Second), 2*time.Second))
	acc.add(view(2, start.Add(7*time.Second), 2*time.Second)) // the same snapshot, sampled again
	if !acc.covered() {
		t.Fatal("not covered after a snapshot of the soak")
	}
	h := acc.health(10 * time.Second)[zoneA]
	if h.Requests != 500 || h.P99 != 2*time.Second {
		t.Fatalf("stage health %+v: want 500 requests (one snapshot of 5 s at 100/s) at p99 2s", h)
	}
	// The stage's requests by latency, once: node 2, in no stage, counts
	// for none.
	if want := []settings.LatencyBucket{{GT: 5 * time.Millisecond, LE: 10 * time.Millisecond, Count: 495}, {GT: time.Second, LE: 2 * time.Second, Count: 5}}; !slices.Equal(h.Latency, want) {
		t.Fatalf("stage latency %+v, want %+v", h.Latency, want)
	}
}
