package node_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/node"
)

// streamWrite is one write of a stream writer: item pk set to v.
type streamWrite struct {
	pk string
	v  int
}

// phasedWriters are streamWriters clients writing through the nodes in
// turn, each moving its items through versions 1, 2, ... until afterEach
// rounds begun after finish was called. They note every write started,
// those acknowledged before change was called (early), and those started
// after finish was called (late). The maps are read once finish returns.
type phasedWriters struct {
	changing, done       atomic.Bool
	mu                   sync.Mutex
	started, early, late map[streamWrite]bool
	wg                   sync.WaitGroup
}

func startPhasedWriters(ctx context.Context, t *testing.T, nodes []*node.Node, table string, afterEach int) *phasedWriters {
	ws := &phasedWriters{started: map[streamWrite]bool{}, early: map[streamWrite]bool{}, late: map[streamWrite]bool{}}
	for w := range streamWriters {
		ws.wg.Add(1)
		go func() {
			defer ws.wg.Done()
			c := client(nodes[w%3])
			after := 0
			for v := 1; after < afterEach; v++ {
				isLate := ws.done.Load()
				for i := range streamItemsPerWriter {
					wr := streamWrite{fmt.Sprintf("w%d-i%d", w, i), v}
					ws.mu.Lock()
					ws.started[wr] = true
					if isLate {
						ws.late[wr] = true
					}
					ws.mu.Unlock()
					if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
						"pk": &types.AttributeValueMemberS{Value: wr.pk}, "v": &types.AttributeValueMemberN{Value: strconv.Itoa(v)}}}); err != nil {
						t.Errorf("PutItem %+v: %v", wr, err)
						return
					}
					ws.mu.Lock()
					if !ws.changing.Load() {
						ws.early[wr] = true
					}
					ws.mu.Unlock()
				}
				if isLate {
					after++
				}
			}
		}()
	}
	return ws
}

// waitEarly waits until n writes were acknowledged.
func (ws *phasedWriters) waitEarly(t *testing.T, n int) {
	t.Helper()
	waitUntil(t, "first writes", func() bool { ws.mu.Lock(); defer ws.mu.Unlock(); return len(ws.early) >= n })
}

// change ends the early writes: a write acknowledged from now on is not.
func (ws *phasedWriters) change() {
	ws.mu.Lock()
	ws.changing.Store(true)
	ws.mu.Unlock()
}

// finish makes the rounds begun from now on late, and waits for the
// writers to end.
func (ws *phasedWriters) finish() {
	ws.done.Store(true)
	ws.wg.Wait()
}

// checkStreamedWrites checks the writes recs hold (what) against the
// writers' acknowledgments: none twice, each item's in order, each one
// acknowledged (or in flight: started), every one of want there, none of
// never.
func checkStreamedWrites(t *testing.T, what string, recs []stypes.Record, started, want, never map[streamWrite]bool, wantWhy, neverWhy string) map[streamWrite]int {
	t.Helper()
	var imaged []stypes.Record
	for _, r := range recs {
		if r.Dynamodb.NewImage["v"] == nil {
			// Logged for another reader of the log only (point-in-time
			// recovery's old images): before the stream.
			t.Errorf("%s: record %s of %v without the stream's new image", what, aws.ToString(r.Dynamodb.SequenceNumber), r.Dynamodb.Keys["pk"])
			continue
		}
		imaged = append(imaged, r)
	}
	seen := map[streamWrite]int{}
	for pk, vs := range streamWrites(t, imaged) {
		for i, v := range vs {
			seen[streamWrite{pk, v}]++
			if i > 0 && v <= vs[i-1] {
				t.Errorf("%s: item %s: writes %v, out of order", what, pk, vs)
				break
			}
		}
	}
	for w, n := range seen {
		switch {
		case n != 1:
			t.Errorf("%s: write %+v is there %d times", what, w, n)
		case !started[w]:
			t.Errorf("%s: write %+v is there, never written", what, w)
		case never[w]:
			t.Errorf("%s: write %+v, %s, is there", what, w, neverWhy)
		}
	}
	missing := 0
	for w := range want {
		if seen[w] == 0 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%s: %d of the %d writes %s are missing", what, missing, len(want), wantWhy)
	}
	return seen
}

// What TestStreamsThreeNodesDisabling checks of the writes.
const (
	disablingWhy = "acknowledged before the disabling UpdateTable was sent"
	disabledWhy  = "started after the stream showed DISABLED"
)

// TestStreamsThreeNodesDisabling: the mirror of
// TestStreamsThreeNodesEnabling. A table created with a stream, written
// by four clients through every node of three, two of which keep the
// table's record they had (directory refresh and settings catch-up
// paused: their routers and leaders go on logging the stream's view).
// The stream is disabled through the third: DISABLING, then DISABLED
// once every partition is cut. Read from a paused node, every write
// acknowledged before the disabling UpdateTable was sent is in the stream
// exactly once, each item's in order, and no write started after the
// stream showed DISABLED is, although the paused nodes logged them.
// A reader polling one paused node with iterators taken while the stream
// was enabled sees the same, and its shards end.
func TestStreamsThreeNodesDisabling(t *testing.T) {
	t.Parallel()
	nodes := threeAdminMembers(t)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const table = "disabling"
	arn := streamedTable(ctx, t, n2, n1, table)
	pauseDirectoryRefresh(t, n1, n3)

	ws := startPhasedWriters(ctx, t, nodes, table, 10)

	// A reader on paused node 3 holds an iterator at TRIM_HORIZON of each
	// shard, taken while the stream is enabled, and polls them through
	// the disabling until each shard ends.
	sc3 := streamsClient(n3)
	d, err := sc3.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	iters := map[string]*string{}
	for _, sh := range d.StreamDescription.Shards {
		out, err := sc3.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: sh.ShardId,
			ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		iters[aws.ToString(sh.ShardId)] = out.ShardIterator
	}
	var polled []stypes.Record
	var writersDone atomic.Bool
	pollerDone := make(chan struct{})
	go func() {
		defer close(pollerDone)
		// Once the writers are done and the stream DISABLED, a shard gets
		// a bounded number of polls to end.
		for idle := 0; len(iters) > 0 && idle < 50; {
			if writersDone.Load() {
				idle++
			}
			for id, it := range iters {
				page, err := sc3.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it})
				if err != nil {
					t.Errorf("GetRecords of %s on node 3: %v", id, err)
					return
				}
				polled = append(polled, page.Records...)
				if page.NextShardIterator == nil {
					delete(iters, id)
				} else {
					iters[id] = page.NextShardIterator
				}
			}
		}
	}()

	ws.waitEarly(t, 40)
	ws.change()
	if _, err := client(n2).UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(false)}}); err != nil {
		t.Fatal(err)
	}
	sc := streamsClient(n1)
	statuses := map[stypes.StreamStatus]bool{}
	waitUntil(t, "stream DISABLED", func() bool {
		d, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("DescribeStream: %v", err)
		}
		statuses[d.StreamDescription.StreamStatus] = true
		return d.StreamDescription.StreamStatus == stypes.StreamStatusDisabled
	})
	ws.finish()
	writersDone.Store(true)
	<-pollerDone
	if t.Failed() {
		return
	}
	for st := range statuses {
		if st != stypes.StreamStatusDisabling && st != stypes.StreamStatusDisabled {
			t.Errorf("stream status %s while disabling", st)
		}
	}
	never := ws.late

	recs, shards := readAllShards(ctx, t, streamsClient(n3), arn)
	for _, sh := range shards {
		if sh.SequenceNumberRange.EndingSequenceNumber == nil {
			t.Errorf("shard %s of the DISABLED stream is open", aws.ToString(sh.ShardId))
		}
	}
	seen := checkStreamedWrites(t, "the stream read from node 3", recs, ws.started, ws.early, never, disablingWhy, disabledWhy)
	if len(iters) > 0 {
		t.Errorf("the poller's shards %v on node 3 did not end after the stream was DISABLED", len(iters))
	}
	checkStreamedWrites(t, "the stream polled on node 3", polled, ws.started, ws.early, never, disablingWhy, disabledWhy)
	t.Logf("%d writes, %d before the UpdateTable, %d after DISABLED, %d in the stream; statuses seen %v",
		len(ws.started), len(ws.early), len(never), len(seen), statuses)
}

// TestStreamsThreeNodesSplitWhileEnabling: a stream enabled while the
// stream-status job is paused on every node (ENABLING), one of the
// table's partitions split meanwhile, then the job resumed: the stream
// goes ENABLED, and read from a node drained of every leadership, every
// write started after ENABLED is in it exactly once, each item's in
// order across the parent shard and its children, and none acknowledged
// before the enabling UpdateTable was sent is (point-in-time recovery
// logs them). The split's parent shard, all before the stream's start,
// is not listed: the halves' shards are the stream's first.
func TestStreamsThreeNodesSplitWhileEnabling(t *testing.T) {
	t.Parallel()
	nodes := threeAdminMembers(t)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const table = "splitenabling"
	recoveredTable(ctx, t, n2, n1, table)
	for _, n := range nodes {
		if err := n.Jobs().Pause(node.StreamStatusJob); err != nil {
			t.Fatal(err)
		}
	}
	// Nodes 1 and 3 keep the table's record they have now, as in
	// TestStreamsThreeNodesEnabling: their leaders and routers learn of
	// the stream (and of the split) only from the change floors and the
	// replicas' refusals.
	pauseDirectoryRefresh(t, n1, n3)

	ws := startPhasedWriters(ctx, t, nodes, table, 10)

	ws.waitEarly(t, 20)
	ws.change()
	out, err := client(n2).UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.TableDescription.LatestStreamArn)
	sc := streamsClient(n1)
	status := func() stypes.StreamStatus {
		d, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("DescribeStream: %v", err)
		}
		return d.StreamDescription.StreamStatus
	}
	if st := status(); st != stypes.StreamStatusEnabling {
		t.Fatalf("stream %s with the stream-status job paused, want ENABLING", st)
	}

	// Split the partition of one item while the stream is ENABLING.
	p := partitionOf(t, n1, table, "w0-i0")
	path := fmt.Sprintf("/cluster/partitions/%d/split?%s", p.ID, url.Values{"table": {table}}.Encode())
	var split admin.SplitResult
	if code := adminDo(t, n1, http.MethodPost, path, &split); code != http.StatusOK || split.Right == 0 {
		t.Fatalf("split of partition %d: %d %+v", p.ID, code, split)
	}
	waitFor(t, func() error { return settled(partitions(t, n1, table)) })
	if st := status(); st != stypes.StreamStatusEnabling {
		t.Fatalf("stream %s after the split with the stream-status job paused, want ENABLING", st)
	}
	for _, n := range nodes {
		if err := n.Jobs().Resume(node.StreamStatusJob); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "stream ENABLED", func() bool { return status() == stypes.StreamStatusEnabled })
	ws.finish()
	if t.Failed() {
		return
	}

	drainNode(t, n1, n3, table)
	recs, shards := readAllShards(ctx, t, streamsClient(n3), arn)
	want := ws.late
	seen := checkStreamedWrites(t, "the stream", recs, ws.started, want, ws.early,
		"started after ENABLED", "acknowledged before the enabling UpdateTable was sent")
	// The split's parent shard ended before the stream started (every
	// partition was cut after the split): it is not the stream's, not
	// listed, and the halves' shards name no parent.
	parent := fmt.Sprintf("shardId-%020d-%020d", p.ID, 1)
	halves := 0
	for _, sh := range shards {
		id := aws.ToString(sh.ShardId)
		if id == parent || aws.ToString(sh.ParentShardId) == parent {
			t.Errorf("shard %s (parent %s) listed: the split's parent shard %s predates the stream", id, aws.ToString(sh.ParentShardId), parent)
		}
		if strings.HasPrefix(id, fmt.Sprintf("shardId-%020d-", p.ID)) || strings.HasPrefix(id, fmt.Sprintf("shardId-%020d-", split.Right)) {
			halves++
		}
	}
	if halves != 2 {
		t.Errorf("after the split of partition %d: %d shards of its halves, want 2: %+v", p.ID, halves, shards)
	}
	t.Logf("%d writes, %d before the UpdateTable, %d after ENABLED, %d in the stream", len(ws.started), len(ws.early), len(want), len(seen))
}
