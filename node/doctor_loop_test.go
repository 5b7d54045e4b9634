package node_test

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/topology"
	"github.com/partitadb/partita/topology/history"
)

// startHealer starts a cluster node whose Doctor acts fast: topology
// every 200ms, a cycle every 300ms, a node dead for 2s replaced.
func startHealer(t *testing.T, bucket string, join ...string) *node.Node {
	t.Helper()
	return startHealerWith(t, bucket, nil, join...)
}

// startHealerWith is startHealer with tweak applied to the config.
func startHealerWith(t *testing.T, bucket string, tweak func(*node.Config), join ...string) *node.Node {
	t.Helper()
	cfg := node.DefaultConfig()
	if bucket != "" {
		cfg.TopologyBucket = bucket
	}
	cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.AdminAddr, cfg.Join = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", join
	cfg.ReconcileInterval, cfg.TopologyInterval = 100*time.Millisecond, 200*time.Millisecond
	// A 4 s lease: the holder steps down when no renewal succeeded for
	// two thirds of it, and with 1.5 s a loaded machine's slow meta
	// writes made the lease change hands over 50 times in one test
	// (every takeover abandons and resumes the operations in flight).
	// These tests are about repairs; a clean stop hands the lease over
	// at once anyway.
	cfg.Doctor, cfg.DoctorLease = true, 4*time.Second
	cfg.DoctorOptions = node.DoctorConfig{Interval: 300 * time.Millisecond, DeadAfter: 2 * time.Second,
		ReplicaDownAfter: 3 * time.Second, OpDeadline: time.Minute}
	if tweak != nil {
		tweak(&cfg)
	}
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// healthy says every partition (the meta partition's too) has a leader
// and three caught-up voters, none on a node of avoid, and the directory
// lists the voters.
func healthy(parts []topology.PartitionInfo, avoid ...uint64) error {
	for _, p := range parts {
		switch {
		case p.Leader == 0:
			return fmt.Errorf("partition %d has no leader", p.ID)
		case len(p.Voters) != 3 || len(p.Learners) > 0:
			return fmt.Errorf("partition %d: voters %v, learners %v", p.ID, p.Voters, p.Learners)
		case slices.ContainsFunc(p.Voters, func(id uint64) bool { return slices.Contains(avoid, id) }):
			return fmt.Errorf("partition %d: voters %v include one of %v", p.ID, p.Voters, avoid)
		case !slices.Equal(sorted(p.Replicas), sorted(p.Voters)):
			return fmt.Errorf("partition %d: directory %v, voters %v", p.ID, p.Replicas, p.Voters)
		}
		for _, r := range p.Status {
			if slices.Contains(p.Voters, r.Node) && r.Lag > settledLag {
				return fmt.Errorf("partition %d: replica %+v lags", p.ID, r)
			}
		}
	}
	return nil
}

// quiet says the active Doctor proposes nothing and runs nothing.
func quiet(t *testing.T, via *node.Node) error {
	t.Helper()
	var p admin.DoctorPlan
	if code := adminDo(t, via, http.MethodGet, "/doctor/plan", &p); code != http.StatusOK {
		return fmt.Errorf("plan: status %d", code)
	}
	if p.Plan.Waiting != "" || len(p.Plan.Ops) > 0 || len(p.Running) > 0 {
		return fmt.Errorf("the Doctor is busy: %+v, %d running", p.Plan, len(p.Running))
	}
	return nil
}

func timeline(t *testing.T, via *node.Node, query string) []admin.TimelineEntry {
	t.Helper()
	var es []admin.TimelineEntry
	if code := adminDo(t, via, http.MethodGet, "/doctor/timeline?"+query, &es); code != http.StatusOK {
		t.Fatalf("timeline: status %d", code)
	}
	return es
}

// TestDoctorReplacesADeadNode: four nodes, a table of four partitions
// with three replicas each. A node dies (a Doctor standby, hosting
// replicas); the Doctor replaces every replica it held on the others,
// records each operation in the timeline, and every write acknowledged
// before the death is read back.
func TestDoctorReplacesADeadNode(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for a node to be judged dead")
	}
	bucketDir := t.TempDir()
	bucket := "file://" + bucketDir
	n1 := startHealer(t, bucket)
	nodes := []*node.Node{n1, startHealer(t, bucket, n1.PeerAddr()), startHealer(t, bucket, n1.PeerAddr()),
		startHealer(t, bucket, n1.PeerAddr())}
	waitFor(t, func() error {
		if len(n1.MetaVoters()) != 3 {
			return fmt.Errorf("meta voters %v", n1.MetaVoters())
		}
		return nil
	})
	c := client(n1)
	createCapacityTable(t, c, "heal", 0, 0)
	for i := range 100 {
		if err := putN(c, "heal", i); err != nil {
			t.Fatal(err)
		}
	}
	all := func() []topology.PartitionInfo {
		return append(partitions(t, n1, ""), partitions(t, n1, "heal")...)
	}
	waitFor(t, func() error { return healthy(all()) })
	// Let the Doctor finish balancing the new nodes first: the test is
	// about the death, not a race with a balance move toward the victim.
	waitWithin(t, 2*time.Minute, func() error { return quiet(t, n1) })

	// The victim: a node hosting replicas, neither n1 (the test reads
	// through it) nor the active Doctor's.
	var victim *node.Node
	for _, n := range nodes[1:] {
		if e := n.Doctor(); e.IsActive() {
			continue
		}
		for _, p := range all() {
			if slices.Contains(p.Voters, n.ID()) {
				victim = n
			}
		}
	}
	if victim == nil {
		t.Fatal("no node to kill")
	}
	dead := victim.ID()
	// A run-time override of doctor.dead-after holds the Doctor back
	// (its plan says so) until it is removed.
	if code, _ := configDo(t, n1, "set", url.Values{"key": {"doctor.dead-after"}, "value": {"1h"}}); code != http.StatusOK {
		t.Fatalf("set doctor.dead-after: %d", code)
	}
	waitSetting(t, nodes, "doctor.dead-after", "1h0m0s", "override v1 (cluster)")
	if err := victim.Close(); err != nil {
		t.Fatal(err)
	}
	// Its clean stop is in the directory (the Doctor gives such a node
	// its restart grace, 0 in this test's config).
	waitWithin(t, 30*time.Second, func() error {
		var listed []topology.NodeInfo
		if code := adminDo(t, n1, http.MethodGet, "/cluster/nodes", &listed); code != http.StatusOK {
			return fmt.Errorf("/cluster/nodes: %d", code)
		}
		for _, ni := range listed {
			if ni.ID == dead && ni.Stopped.IsZero() {
				return fmt.Errorf("the stopped node's record has no stop time: %+v", ni)
			}
		}
		return nil
	})
	waitWithin(t, time.Minute, func() error {
		var p admin.DoctorPlan
		adminDo(t, n1, http.MethodGet, "/doctor/plan", &p)
		for _, w := range p.Plan.WhyNots {
			if strings.Contains(w.Reason, fmt.Sprintf("n%d dead for", dead)) && strings.Contains(w.Reason, "replaced after 1h0m0s") {
				return nil
			}
		}
		return fmt.Errorf("no plan holding back under the override: %+v", p.Plan.WhyNots)
	})
	if n := len(timeline(t, n1, "kind=replace-replica")); n != 0 {
		t.Fatalf("%d replacements under doctor.dead-after=1h", n)
	}
	if code, _ := configDo(t, n1, "unset", url.Values{"key": {"doctor.dead-after"}}); code != http.StatusOK {
		t.Fatalf("unset doctor.dead-after: %d", code)
	}
	// Two minutes, as the other Doctor loop tests wait: each replacement
	// waits for a cycle and the rate limits, on a loaded machine too.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		err := healthy(all(), dead)
		if running := timeline(t, n1, "state=running"); err == nil && len(running) > 0 {
			err = fmt.Errorf("%d operations still running", len(running))
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			var ops []string
			for _, e := range timeline(t, n1, "") {
				ops = append(ops, fmt.Sprintf("%d %s p%d from=%d to=%d %s %v", e.ID, e.Kind, e.Partition, e.From, e.To, e.State, e.Outcome))
			}
			var p admin.DoctorPlan
			adminDo(t, n1, http.MethodGet, "/doctor/plan", &p)
			t.Fatalf("not healed 2m after node %d died: %v; the timeline: %v; the plan: %+v", dead, err, ops, p.Plan)
		}
	}
	done := timeline(t, n1, "kind=replace-replica&state=succeeded")
	if len(done) == 0 {
		t.Fatalf("healed with no replace-replica recorded: %+v", timeline(t, n1, ""))
	}
	for _, e := range done {
		if e.From != dead || len(e.Steps) == 0 || e.Epoch == 0 {
			t.Fatalf("odd timeline entry %+v (dead node %d)", e, dead)
		}
	}
	// An operation toward the victim, started in the instant before its
	// death showed, may fail (and roll back); no other may.
	for _, state := range []string{"failed", "rolled-back"} {
		for _, e := range timeline(t, n1, "state="+state) {
			if e.To != dead {
				t.Fatalf("%s operation: %+v", state, e)
			}
		}
	}
	// The finished operations are in the topology bucket too.
	waitFor(t, func() error {
		var found []string
		err := filepath.WalkDir(filepath.Join(bucketDir, filepath.FromSlash(history.TimelineRoot)), func(path string, d fs.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(path, "-succeeded.pb") {
				found = append(found, path)
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("listing the bucket: %w", err)
		}
		if len(found) < len(done) {
			return fmt.Errorf("%d succeeded entries in the bucket, %d in the timeline", len(found), len(done))
		}
		raw, err := os.ReadFile(found[0])
		if err != nil {
			return err
		}
		var op partitapb.DoctorOp
		if err := proto.Unmarshal(raw, &op); err != nil {
			return fmt.Errorf("bucket entry %s: %w", found[0], err)
		}
		if op.GetState() != partitapb.DoctorOp_SUCCEEDED || len(op.GetSteps()) == 0 {
			return fmt.Errorf("bucket entry %s: %v", found[0], &op)
		}
		return nil
	})
	ctx := context.Background()
	for i := range 100 {
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("heal"), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}}})
		if err != nil || out.Item == nil {
			t.Fatalf("item %d after the repair: %v, %v", i, out, err)
		}
	}
}

// TestDoctorGatesAndApproval: a table created while the cluster had one
// node has one replica per partition; after two nodes join, the Doctor
// adds the missing replicas. With add-replica's gate red, each addition
// waits for an operator's approval, shown in the plan and the timeline;
// approved, it runs. Paused, the Doctor starts nothing.
func TestDoctorGatesAndApproval(t *testing.T) {
	t.Parallel()
	n1 := startHealer(t, "")
	c := client(n1)
	createCapacityTable(t, c, "grow", 0, 0)
	var ok map[string]any
	for _, path := range []string{"/doctor/gates/add-replica?color=red&reason=test", "/doctor/pause?reason=joining"} {
		if code := adminDo(t, n1, http.MethodPost, path, &ok); code != http.StatusOK {
			t.Fatalf("POST %s: status %d", path, code)
		}
	}
	var gates admin.DoctorSettings
	if code := adminDo(t, n1, http.MethodGet, "/doctor/gates", &gates); code != http.StatusOK ||
		gates.Gates["add-replica"] != "red" || gates.Overrides["add-replica"] != "red" || !gates.Paused {
		t.Fatalf("gates: %d %+v", code, gates)
	}
	if code := adminDo(t, n1, http.MethodPost, "/doctor/gates/add-replica?color=purple", &ok); code != http.StatusBadRequest {
		t.Fatalf("a purple gate: status %d, want 400", code)
	}
	n2, n3 := startHealer(t, "", n1.PeerAddr()), startHealer(t, "", n1.PeerAddr())
	_ = n3
	// Paused: the plan proposes additions but holds them.
	waitFor(t, func() error {
		var p admin.DoctorPlan
		if code := adminDo(t, n2, http.MethodGet, "/doctor/plan", &p); code != http.StatusOK {
			return fmt.Errorf("plan: status %d", code)
		}
		for _, o := range p.Plan.Ops {
			if o.Op.Kind == "add-replica" && o.Decision == "hold" {
				return nil
			}
		}
		return fmt.Errorf("no add-replica held in %+v", p.Plan)
	})
	if es := timeline(t, n1, "state=running"); len(es) > 0 {
		t.Fatalf("operations started while paused: %+v", es)
	}
	if code := adminDo(t, n1, http.MethodPost, "/doctor/resume", &ok); code != http.StatusOK {
		t.Fatalf("resume: status %d", code)
	}
	// Red: the additions wait for approval; approve them as they come.
	approved := 0
	// Two minutes: each addition waits for a Doctor cycle, its approval
	// and its steps, a partition at a time, on a loaded machine too.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		for _, e := range timeline(t, n1, "state=awaiting-approval") {
			if e.Kind != "add-replica" || e.Gate != "red" {
				t.Fatalf("awaiting approval: %+v", e)
			}
			if code := adminDo(t, n1, http.MethodPost, fmt.Sprintf("/doctor/operations/%d/approve?by=test", e.ID), &ok); code != http.StatusOK {
				t.Fatalf("approve %d: status %d", e.ID, code)
			}
			approved++
		}
		if healthy(append(partitions(t, n1, ""), partitions(t, n1, "grow")...)) == nil {
			break
		}
		if time.Now().After(deadline) {
			var ops []string
			for _, e := range timeline(t, n1, "") {
				ops = append(ops, fmt.Sprintf("%d %s p%d to=%d %s %v", e.ID, e.Kind, e.Partition, e.To, e.State, e.Outcome))
			}
			t.Fatalf("not grown to 3 replicas: %v (approved %d); the timeline: %v", healthy(partitions(t, n1, "grow")), approved, ops)
		}
	}
	if approved == 0 {
		t.Fatal("grew without any approval under a red gate")
	}
	for _, e := range timeline(t, n1, "kind=add-replica&state=succeeded") {
		if e.DecidedBy != "test" {
			t.Fatalf("an addition ran without the test's approval: %+v", e)
		}
	}
	// Deciding twice is refused: the operation is no longer awaiting.
	if es := timeline(t, n1, "kind=add-replica&state=succeeded"); len(es) > 0 {
		if code := adminDo(t, n1, http.MethodPost, fmt.Sprintf("/doctor/operations/%d/reject", es[0].ID), &ok); code != http.StatusConflict {
			t.Fatalf("rejecting a finished operation: status %d, want 409", code)
		}
	}
}

// TestDoctorMovesLeadersOffASlowDisk: four nodes under writes; one node's
// fsyncs turn slow (400ms). Its fsync p99 far above its peers', and its
// followers seen slow by more than one leader (at the default settings:
// late acknowledgements, not a lag in entries), the Doctor moves its
// leaderships away ("surgical" failover) and removes none of its
// replicas; healed, the node gets no leaders back within its recovery
// period.
func TestDoctorMovesLeadersOffASlowDisk(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs writes until the Doctor acts")
	}
	delays := make([]*atomic.Int64, 4)
	tweak := func(i int) func(*node.Config) {
		delays[i] = new(atomic.Int64)
		return func(c *node.Config) {
			c.FsyncDelay = func() time.Duration { return time.Duration(delays[i].Load()) }
		}
	}
	n1 := startHealerWith(t, "", tweak(0))
	nodes := []*node.Node{n1}
	for i := 1; i < 4; i++ {
		nodes = append(nodes, startHealerWith(t, "", tweak(i), n1.PeerAddr()))
	}
	c := client(n1)
	createCapacityTable(t, c, "slow", 0, 0)
	all := func() []topology.PartitionInfo { return append(partitions(t, n1, ""), partitions(t, n1, "slow")...) }
	waitFor(t, func() error { return healthy(all()) })
	// The victim: a node that leads a partition, other than n1 (the
	// writes go through it).
	victim := -1
	for i := 1; i < 4 && victim < 0; i++ {
		for _, p := range all() {
			if p.Leader == nodes[i].ID() {
				victim = i
				break
			}
		}
	}
	if victim < 0 {
		t.Fatal("no node but n1 leads a partition")
	}
	slow := nodes[victim].ID()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_ = putN(c, "slow", w*1000000+i)
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	injected := time.Now().UTC()
	delays[victim].Store(int64(400 * time.Millisecond)) // far above the peers even on a loaded machine
	// A loaded machine (the whole suite in parallel) slows everything the
	// Doctor waits for: two minutes.
	waitWithin(t, 2*time.Minute, func() error {
		for _, p := range all() {
			if p.Leader == slow {
				var plan admin.DoctorPlan
				adminDo(t, n1, http.MethodGet, "/doctor/plan", &plan)
				return fmt.Errorf("n%d still leads partition %d; the Doctor's plan: %+v", slow, p.ID, plan)
			}
		}
		return nil
	})
	// The leadership moves before the operation's entry records the end.
	// Leader balance may move some too (elections around the slow node
	// leave others without leaders); at least one must be the sick-node
	// checker's, and none may go to the slow node.
	waitWithin(t, 2*time.Minute, func() error {
		// Since the fault: leader balance may have given the node a
		// leadership before its disk turned slow.
		moved := timeline(t, n1, fmt.Sprintf("kind=transfer-leader&state=succeeded&node=%d&since=%s", slow, injected.Format(time.RFC3339Nano)))
		sick := 0
		for _, e := range moved {
			switch {
			case e.To == slow:
				t.Fatalf("a leader moved to the slow node: %+v", e)
			case e.Checker == "sick-node":
				sick++
			case e.Checker != "balance-leaders":
				t.Fatalf("a leader moved for another reason: %+v", e)
			}
		}
		if sick > 0 {
			return nil
		}
		// Elections on a loaded machine may have taken its leaderships
		// before the Doctor moved any (CI: n2 led nothing, and the
		// checker had moved n4's, whose disk the load had slowed): then
		// the Doctor must still judge it sick.
		var plan admin.DoctorPlan
		adminDo(t, n1, http.MethodGet, "/doctor/plan", &plan)
		if slices.Contains(plan.Plan.Sick, slow) {
			t.Logf("n%d lost its leaderships before the sick-node checker moved one; the Doctor judges it sick", slow)
			return nil
		}
		return fmt.Errorf("n%d leads nothing, but the sick-node checker moved no leader off it nor judges it sick (%v): %+v", slow, plan.Plan.Sick, timeline(t, n1, ""))
	})
	// Its replicas stay: the sick-node checker moves them only after
	// SickReplicasAfter (10 min), and nothing else may replace or remove
	// them (the node is alive). A balance move started before the disk
	// turned slow may still land; it is no repair of the slow node.
	for _, e := range timeline(t, n1, fmt.Sprintf("node=%d", slow)) {
		if e.From == slow && e.State != "held" && e.State != "stale" && e.State != "rejected" &&
			(e.Kind == "replace-replica" || e.Kind == "remove-replica" || e.Checker == "sick-node" && e.Kind != "transfer-leader") {
			t.Fatalf("a replica of the slow node was moved: %+v", e)
		}
	}
	// Healed: within its recovery period it is given no leader back.
	delays[victim].Store(0)
	time.Sleep(3 * time.Second)
	// (A balance move that gave it a leader before the fault, in the
	// setup, is no return.)
	for _, e := range timeline(t, n1, fmt.Sprintf("kind=transfer-leader&node=%d&since=%s", slow, injected.Format(time.RFC3339Nano))) {
		if e.To == slow {
			t.Fatalf("a leader went back to n%d within its recovery period: %+v", slow, e)
		}
	}
}

// TestDoctorReplacesABrokenReplica: on four live nodes, one replica stops
// answering its group (its node drops the partition's raft messages); the
// Doctor judges it down from its leader's view and replaces it on another
// node, and the node's other replicas stay where they are.
func TestDoctorReplacesABrokenReplica(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for a replica to be judged down")
	}
	broken := make([]*atomic.Uint64, 4)
	tweak := func(i int) func(*node.Config) {
		broken[i] = new(atomic.Uint64)
		return func(c *node.Config) { c.DropRaft = func(p uint64) bool { return p == broken[i].Load() } }
	}
	n1 := startHealerWith(t, "", tweak(0))
	nodes := []*node.Node{n1}
	for i := 1; i < 4; i++ {
		nodes = append(nodes, startHealerWith(t, "", tweak(i), n1.PeerAddr()))
	}
	c := client(n1)
	createCapacityTable(t, c, "broken", 0, 0)
	all := func() []topology.PartitionInfo { return append(partitions(t, n1, ""), partitions(t, n1, "broken")...) }
	waitFor(t, func() error { return healthy(all()) })
	waitWithin(t, 2*time.Minute, func() error { return quiet(t, n1) })
	// A table partition with a follower on a node other than n1.
	var victim int
	var part uint64
	before := map[uint64][]uint64{}
	for _, p := range partitions(t, n1, "broken") {
		before[p.ID] = p.Voters
		for i := 1; i < 4 && part == 0; i++ {
			if id := nodes[i].ID(); slices.Contains(p.Voters, id) && p.Leader != id {
				victim, part = i, p.ID
			}
		}
	}
	if part == 0 {
		t.Fatal("no follower to break")
	}
	dead := nodes[victim].ID()
	for i := range 20 {
		if err := putN(c, "broken", i); err != nil {
			t.Fatal(err)
		}
	}
	broken[victim].Store(part)
	waitFor(t, func() error {
		parts := all()
		if err := healthy(parts); err != nil {
			return err
		}
		for _, p := range parts {
			if p.ID == part && slices.Contains(p.Voters, dead) {
				return fmt.Errorf("partition %d still has n%d: voters %v", part, dead, p.Voters)
			}
		}
		return nil
	})
	for _, p := range partitions(t, n1, "broken") {
		if p.ID != part && slices.Contains(before[p.ID], dead) && !slices.Contains(p.Voters, dead) {
			t.Fatalf("partition %d lost its healthy replica on n%d: voters %v, before %v", p.ID, dead, p.Voters, before[p.ID])
		}
	}
	var replaced []admin.TimelineEntry
	waitFor(t, func() error {
		replaced = timeline(t, n1, fmt.Sprintf("kind=replace-replica&state=succeeded&partition=%d", part))
		if len(replaced) != 1 || replaced[0].From != dead {
			return fmt.Errorf("replacements of partition %d: %+v", part, replaced)
		}
		return nil
	})
	if !strings.Contains(strings.Join(replaced[0].Reasons, " "), "live") {
		t.Fatalf("replaced for another reason than a replica down on a live node: %+v", replaced[0])
	}
	ctx := context.Background()
	for i := range 20 {
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("broken"), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}}})
		if err != nil || out.Item == nil {
			t.Fatalf("item %d after the repair: %v, %v", i, out, err)
		}
	}
}

// waitWithin polls cond (which explains what it waits for) for up to d.
func waitWithin(t *testing.T, d time.Duration, cond func() error) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err = cond(); err == nil {
			return
		}
	}
	t.Fatalf("timed out after %v: %v", d, err)
}
