package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/topology"
)

// voterSampler reads every partition's voters through a node's admin
// endpoint, again and again, and keeps the fewest voters any partition
// with a known leader was seen with.
type voterSampler struct {
	via    *node.Node
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	samples int
	fewest  int
	worst   string // the partition and voters of the fewest
}

func startVoterSampler(via *node.Node) *voterSampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &voterSampler{via: via, cancel: cancel, done: make(chan struct{}), fewest: 1 << 30}
	go func() {
		defer close(s.done)
		for ctx.Err() == nil {
			s.sample(ctx)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return s
}

// sample reads the partitions once; a failed read (a node busy) counts
// no sample.
func (s *voterSampler) sample(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, s.via.AdminURL()+"/cluster/partitions", nil)
	if err != nil {
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	var parts []topology.PartitionInfo
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&parts) != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples++
	for _, p := range parts {
		if p.Leader != 0 && len(p.Voters) < s.fewest {
			s.fewest, s.worst = len(p.Voters), fmt.Sprintf("partition %d: voters %v, leader %d", p.ID, p.Voters, p.Leader)
		}
	}
}

// stop ends the sampling and returns how many samples it took and the
// fewest voters it saw.
func (s *voterSampler) stop() (samples, fewest int, worst string) {
	s.cancel()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples, s.fewest, s.worst
}

// nodeListed says the directory, as via shows it, lists id, and whether
// it is decommissioning.
func nodeListed(t *testing.T, via *node.Node, id uint64) (listed, decommissioning bool) {
	t.Helper()
	var nodes []topology.NodeInfo
	if code := adminDo(t, via, http.MethodGet, "/cluster/nodes", &nodes); code != http.StatusOK {
		t.Fatalf("/cluster/nodes: status %d", code)
	}
	for _, n := range nodes {
		if n.ID == id {
			return true, !n.Decommissioning.IsZero()
		}
	}
	return false, false
}

// TestDecommissionByTheDoctor: four nodes with Doctors, a table of four
// partitions, three voters each. A node (the active Doctor's when it is
// not the first node's) is marked for decommissioning: its Doctor hands
// the lease over, and the active Doctor moves each of its replicas (kind
// decommission), then removes its record (kind remove-node), without the
// operator waiting on the call. Throughout, no partition is ever seen
// with fewer than three voters; at the end every partition has three,
// none on the node, its record is gone, its replicas destroyed, and every
// write made before reads back.
func TestDecommissionByTheDoctor(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("moves every replica of a node")
	}
	n1 := startHealer(t, "")
	nodes := []*node.Node{n1, startHealer(t, "", n1.PeerAddr()), startHealer(t, "", n1.PeerAddr()),
		startHealer(t, "", n1.PeerAddr())}
	waitFor(t, func() error {
		if len(n1.MetaVoters()) != 3 {
			return fmt.Errorf("meta voters %v", n1.MetaVoters())
		}
		return nil
	})
	c := client(n1)
	createCapacityTable(t, c, "leave", 0, 0)
	for i := range 100 {
		if err := putN(c, "leave", i); err != nil {
			t.Fatal(err)
		}
	}
	all := func() []topology.PartitionInfo { return partitions(t, n1, "") } // the meta partition's and every table's
	waitWithin(t, 2*time.Minute, func() error { return healthy(all()) })
	// The balancer settles the fourth node's share first: the test is
	// about the decommission, not a balance move racing it.
	waitWithin(t, 2*time.Minute, func() error { return quiet(t, n1) })

	// The victim holds voters: the active Doctor's node if it does,
	// whose Doctor then hands the lease over. The test reads through
	// another node (via).
	var victim *node.Node
	for _, n := range nodes {
		if slices.ContainsFunc(all(), func(p topology.PartitionInfo) bool { return slices.Contains(p.Voters, n.ID()) }) &&
			(victim == nil || n.Doctor().IsActive()) {
			victim = n
		}
	}
	if victim == nil {
		t.Fatal("no node to decommission")
	}
	via := nodes[0]
	if via == victim {
		via = nodes[1]
	}
	c = client(via)
	all = func() []topology.PartitionInfo { return partitions(t, via, "") }
	gone, wasActive := victim.ID(), victim.Doctor().IsActive()
	held := 0
	for _, p := range all() {
		if slices.Contains(p.Voters, gone) {
			held++
		}
	}

	sampler := startVoterSampler(via)
	defer sampler.stop()
	began := time.Now()
	var res operator.DecommissionResult
	if code := adminDo(t, via, http.MethodPost, fmt.Sprintf("/cluster/nodes/%d/decommission?reason=test", gone), &res); code != http.StatusOK {
		t.Fatalf("decommission: status %d", code)
	}
	if res.Mode != operator.DecommissionByDoctor || res.Decommissioning.IsZero() || res.Reason != "test" || len(res.Remaining) != held || res.Removed {
		t.Fatalf("decommission answered %+v; node %d held %d partitions", res, gone, held)
	}
	// Every node's view shows the mark once its directory caught up (a
	// refresh), until the record goes.
	waitWithin(t, 30*time.Second, func() error {
		if listed, marked := nodeListed(t, via, gone); listed && !marked {
			return fmt.Errorf("node %d listed, not decommissioning", gone)
		}
		return nil
	})
	// Asked again: harmless, the first mark stays.
	var again operator.DecommissionResult
	if code := adminDo(t, via, http.MethodPost, fmt.Sprintf("/cluster/nodes/%d/decommission", gone), &again); code != http.StatusOK ||
		!again.Decommissioning.Equal(res.Decommissioning) || again.Reason != "test" {
		t.Fatalf("decommission again: status %d, %+v", code, again)
	}

	waitWithin(t, 3*time.Minute, func() error {
		if listed, _ := nodeListed(t, via, gone); listed {
			var st operator.DecommissionResult
			adminDo(t, via, http.MethodGet, fmt.Sprintf("/cluster/nodes/%d/decommission", gone), &st)
			return fmt.Errorf("node %d still listed: %d partitions left %+v, waiting %q", gone, len(st.Remaining), st.Remaining, st.Waiting)
		}
		return nil
	})
	t.Logf("node %d (active Doctor at the mark: %v) decommissioned in %v (%d partitions)", gone, wasActive,
		time.Since(began).Round(100*time.Millisecond), held)
	if victim.Doctor().IsActive() {
		t.Fatal("the decommissioned node's Doctor is active")
	}
	waitWithin(t, time.Minute, func() error { return healthy(all(), gone) })
	samples, fewest, worst := sampler.stop()
	if samples < 10 || fewest < 3 {
		t.Fatalf("%d samples of the partitions' voters; the fewest voters seen: %d (%s)", samples, fewest, worst)
	}
	t.Logf("%d samples of every partition's voters, none below %d", samples, fewest)

	// The record goes in the removal's step; the operation is recorded
	// succeeded just after.
	var moves, removals []admin.TimelineEntry
	waitWithin(t, 30*time.Second, func() error {
		moves = timeline(t, via, "kind="+string(checker.Decommission)+"&state=succeeded")
		removals = timeline(t, via, "kind="+string(checker.RemoveNode)+"&state=succeeded")
		if len(removals) == 0 {
			return fmt.Errorf("no removal of node %d recorded succeeded", gone)
		}
		return nil
	})
	if len(moves) == 0 || len(moves) > held || len(removals) != 1 || removals[0].From != gone {
		var ops []string
		for _, e := range timeline(t, via, "") {
			ops = append(ops, fmt.Sprintf("%d %s p%d %d->%d %s created %s %q %+v", e.ID, e.Kind, e.Partition, e.From, e.To, e.State,
				e.Created.Format("15:04:05.000"), e.Inputs, e.Steps))
		}
		t.Fatalf("timeline: %d decommission moves (node %d held %d partitions), removals %+v; every entry: %s", len(moves), gone, held, removals, strings.Join(ops, "\n"))
	}
	for _, e := range timeline(t, via, "kind="+string(checker.RemoveReplica)) {
		if e.From != gone {
			t.Fatalf("the Doctor removed another node's voter during the decommission: %+v", e)
		}
	}
	waitWithin(t, 30*time.Second, func() error {
		if got := victim.Replicas(); got != 0 {
			var ops []string
			for _, e := range timeline(t, via, "") {
				ops = append(ops, fmt.Sprintf("%s p%d %d->%d %s %s %+v", e.Kind, e.Partition, e.From, e.To, e.State, e.Outcome, e.Steps))
			}
			return fmt.Errorf("the decommissioned node still hosts %d replicas: %v; timeline %v", got, node.HostedReplicas(victim), ops)
		}
		return nil
	})
	for i := range 100 {
		if _, err := getN(c, "leave", i); err != nil {
			t.Fatal(err)
		}
	}
	// Its record gone, the node is no member: asked again, it is unknown.
	if code := adminDo(t, via, http.MethodPost, fmt.Sprintf("/cluster/nodes/%d/decommission", gone), &again); code != http.StatusNotFound {
		t.Fatalf("decommission of a removed node: status %d, want 404", code)
	}
}

// TestRecommission: a node marked and then recommissioned takes no part
// in a decommission any more: its mark is gone, it stays listed, and a
// recommission of a node the directory does not know is refused.
func TestRecommission(t *testing.T) {
	t.Parallel()
	n1 := startAdminMember(t)
	n2 := startAdminMember(t, n1.PeerAddr())
	waitFor(t, func() error {
		if listed, _ := nodeListed(t, n1, n2.ID()); !listed {
			return fmt.Errorf("node %d not listed yet", n2.ID())
		}
		return nil
	})
	var res operator.DecommissionResult
	if code := adminDo(t, n1, http.MethodPost, fmt.Sprintf("/cluster/nodes/%d/decommission", n2.ID()), &res); code != http.StatusOK ||
		res.Decommissioning.IsZero() || res.Waiting == "" {
		t.Fatalf("decommission: status %d, %+v (no Doctor runs: it should say so)", code, res)
	}
	// The node's heartbeats go on, and keep the mark.
	time.Sleep(3 * time.Second)
	if _, marked := nodeListed(t, n1, n2.ID()); !marked {
		t.Fatal("the mark did not survive the node's heartbeats")
	}
	var back operator.DecommissionResult
	if code := adminDo(t, n2, http.MethodPost, fmt.Sprintf("/cluster/nodes/%d/recommission", n2.ID()), &back); code != http.StatusOK ||
		!back.Decommissioning.IsZero() {
		t.Fatalf("recommission: status %d, %+v", code, back)
	}
	waitFor(t, func() error {
		if listed, marked := nodeListed(t, n1, n2.ID()); !listed || marked {
			return fmt.Errorf("after the recommission: listed %v, decommissioning %v", listed, marked)
		}
		return nil
	})
	if code := adminDo(t, n1, http.MethodPost, "/cluster/nodes/99/recommission", &res); code != http.StatusNotFound {
		t.Fatalf("recommission of an unknown node: status %d", code)
	}
}
