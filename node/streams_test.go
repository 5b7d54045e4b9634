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
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/topology"
)

// streamsClient is the SDK's streams client pointed at n's endpoint.
func streamsClient(n *node.Node) *dynamodbstreams.Client {
	return dynamodbstreams.New(dynamodbstreams.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(n.APIURL()),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""),
	})
}

// readAllShards reads every shard of stream arn through c, each from
// TRIM_HORIZON to its end (a closed shard) or to its last record (an
// open one), parents before children.
func readAllShards(ctx context.Context, t *testing.T, c *dynamodbstreams.Client, arn string) (recs []stypes.Record, shards []stypes.Shard) {
	t.Helper()
	var start *string
	for {
		d, err := c.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn), ExclusiveStartShardId: start})
		if err != nil {
			t.Fatalf("DescribeStream: %v", err)
		}
		shards = append(shards, d.StreamDescription.Shards...)
		if start = d.StreamDescription.LastEvaluatedShardId; start == nil {
			break
		}
	}
	known := map[string]bool{}
	for _, sh := range shards {
		known[aws.ToString(sh.ShardId)] = true
	}
	done := map[string]bool{}
	for len(done) < len(shards) {
		progress := false
		for _, sh := range shards {
			id := aws.ToString(sh.ShardId)
			if done[id] || sh.ParentShardId != nil && known[*sh.ParentShardId] && !done[*sh.ParentShardId] {
				continue
			}
			recs = append(recs, readShardToEnd(ctx, t, c, arn, sh)...)
			done[id], progress = true, true
		}
		if !progress {
			t.Fatalf("shards with a parent cycle: %+v", shards)
		}
	}
	return recs, shards
}

func readShardToEnd(ctx context.Context, t *testing.T, c *dynamodbstreams.Client, arn string, sh stypes.Shard) []stypes.Record {
	t.Helper()
	out, err := c.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: sh.ShardId,
		ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatalf("GetShardIterator %s: %v", aws.ToString(sh.ShardId), err)
	}
	var recs []stypes.Record
	for it := out.ShardIterator; it != nil; {
		page, err := c.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(50)})
		if err != nil {
			t.Fatalf("GetRecords of %s: %v", aws.ToString(sh.ShardId), err)
		}
		recs = append(recs, page.Records...)
		it = page.NextShardIterator
		if len(page.Records) == 0 && sh.SequenceNumberRange.EndingSequenceNumber == nil {
			break // an open shard, read to its last record
		}
	}
	return recs
}

// streamWrites maps each item's partition key to the values v its
// records carry, in stream order.
func streamWrites(t *testing.T, recs []stypes.Record) map[string][]int {
	t.Helper()
	out := map[string][]int{}
	for _, r := range recs {
		pk := r.Dynamodb.Keys["pk"].(*stypes.AttributeValueMemberS).Value
		v, err := strconv.Atoi(r.Dynamodb.NewImage["v"].(*stypes.AttributeValueMemberN).Value)
		if err != nil {
			t.Fatal(err)
		}
		out[pk] = append(out[pk], v)
	}
	return out
}

// streamedTable creates table with a NEW_IMAGE stream through via and
// returns the stream's ARN once its partitions are settled.
func streamedTable(ctx context.Context, t *testing.T, via, admin *node.Node, table string) string {
	t.Helper()
	out, err := client(via).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() error { return settled(partitions(t, admin, table)) })
	return aws.ToString(out.TableDescription.LatestStreamArn)
}

// The stream writers: each writes its items v = 1..streamWritesPerItem,
// item after item, through node w%3.
const streamWriters, streamItemsPerWriter = 4, 3

// writeStream runs the stream writers on table and calls each of hooks[v]
// once every writer has written its items' values up to v-1 (the writers
// go on meanwhile); it returns once every write is acknowledged.
func writeStream(ctx context.Context, t *testing.T, nodes []*node.Node, table string, writesPerItem int, hooks map[int]func()) {
	t.Helper()
	reached := map[int]*sync.WaitGroup{}
	for v := range hooks {
		reached[v] = &sync.WaitGroup{}
		reached[v].Add(streamWriters)
	}
	var wg sync.WaitGroup
	errs := make(chan error, streamWriters)
	for w := range streamWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := client(nodes[w%3])
			for v := 1; v <= writesPerItem; v++ {
				if r := reached[v]; r != nil {
					r.Done()
				}
				for i := range streamItemsPerWriter {
					_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
						"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("w%d-i%d", w, i)},
						"v":  &types.AttributeValueMemberN{Value: strconv.Itoa(v)}}})
					if err != nil {
						errs <- err
						for later, r := range reached { // release the hooks still waiting
							if later > v {
								r.Done()
							}
						}
						return
					}
				}
			}
		}()
	}
	for v := 1; v <= writesPerItem; v++ {
		if hook := hooks[v]; hook != nil {
			reached[v].Wait()
			hook()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("write: %v", err)
	}
}

// partitionOf returns the partition of table holding the item with
// partition key pk.
func partitionOf(t *testing.T, via *node.Node, table, pk string) topology.PartitionInfo {
	t.Helper()
	h := item.Hash(item.S(pk))
	for _, q := range partitions(t, via, table) {
		if q.HashStart <= h && (q.HashEnd == 0 || h < q.HashEnd) {
			return q
		}
	}
	t.Fatalf("no partition of %s holds %s", table, pk)
	return topology.PartitionInfo{}
}

// checkStreamWrites checks that recs hold every stream writer's item's
// writes 1..writesPerItem exactly once and in order.
func checkStreamWrites(t *testing.T, recs []stypes.Record, writesPerItem int) {
	t.Helper()
	got := streamWrites(t, recs)
	want := make([]int, writesPerItem)
	for v := range want {
		want[v] = v + 1
	}
	for w := range streamWriters {
		for i := range streamItemsPerWriter {
			pk := fmt.Sprintf("w%d-i%d", w, i)
			if fmt.Sprint(got[pk]) != fmt.Sprint(want) {
				t.Errorf("item %s: writes %v in the stream, want %v", pk, got[pk], want)
			}
		}
	}
	if len(got) != streamWriters*streamItemsPerWriter {
		t.Errorf("%d items in the stream, want %d", len(got), streamWriters*streamItemsPerWriter)
	}
}

// drainNode moves every leadership off n (through admin), so that what
// n serves it reads from its peers, and waits until the view shows none
// on n; it returns the first drain's result. A drain moves what n leads
// when it runs: under load an election can hand a leadership back to n
// (or a transfer find n not leading mid-election) before the view shows
// the move (CI: "partition 3 still led by drained node 1" right after a
// drain that moved all it led), so it drains again, up to three times,
// as an operator would.
func drainNode(t *testing.T, admin, n *node.Node, table string) operator.DrainResult {
	t.Helper()
	var first operator.DrainResult
	for attempt := 1; ; attempt++ {
		var drained operator.DrainResult
		if code := adminDo(t, admin, http.MethodPost, fmt.Sprintf("/cluster/nodes/%d/drain", n.ID()), &drained); code != http.StatusOK {
			t.Fatalf("drain: status %d", code)
		}
		if attempt == 1 {
			first = drained
		}
		var led []uint64
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			led = led[:0]
			for _, p := range partitions(t, admin, table) {
				if p.Leader == n.ID() {
					led = append(led, p.ID)
				}
			}
			if len(led) == 0 {
				return first
			}
			if time.Now().After(deadline) {
				break
			}
		}
		if attempt == 3 {
			t.Fatalf("partitions %v still led by drained node %d after %d drains (the last: %+v)", led, n.ID(), attempt, drained)
		}
		t.Logf("drain %d of node %d left partitions %v led by it (%+v); draining again", attempt, n.ID(), led, drained)
	}
}

// TestStreamsThreeNodesSplitMidStream: a table with a stream on three
// nodes, written by four clients through every node while one of its
// partitions splits. Read from a node that leads none of the table's
// partitions, the stream has every item's writes exactly once and in
// order across the parent shard and its children, which name it.
func TestStreamsThreeNodesSplitMidStream(t *testing.T) {
	t.Parallel()
	nodes := threeAdminMembers(t)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const table, writesPerItem = "streamed", 12
	arn := streamedTable(ctx, t, n2, n1, table)

	// Split the partition of one item while the writers are halfway.
	var p topology.PartitionInfo
	writeStream(ctx, t, nodes, table, writesPerItem, map[int]func(){writesPerItem/2 + 1: func() {
		p = partitionOf(t, n1, table, "w0-i0")
		path := fmt.Sprintf("/cluster/partitions/%d/split?%s", p.ID, url.Values{"table": {table}}.Encode())
		var split admin.SplitResult
		if code := adminDo(t, n1, http.MethodPost, path, &split); code != http.StatusOK || split.Right == 0 {
			t.Errorf("split of partition %d: %d %+v", p.ID, code, split)
		}
	}})

	// Read everything from node 3, after it hands its leaderships over.
	drainNode(t, n1, n3, table)
	recs, shards := readAllShards(ctx, t, streamsClient(n3), arn)
	checkStreamWrites(t, recs, writesPerItem)
	// The split closed the parent's shard; both halves' shards name it.
	parent := fmt.Sprintf("shardId-%020d-%020d", p.ID, 1)
	var closedParent bool
	var children int
	for _, sh := range shards {
		if aws.ToString(sh.ShardId) == parent && sh.SequenceNumberRange.EndingSequenceNumber != nil {
			closedParent = true
		}
		if aws.ToString(sh.ParentShardId) == parent {
			children++
		}
	}
	if !closedParent || children != 2 {
		t.Errorf("after the split of partition %d: parent shard closed %v, %d children, shards %+v", p.ID, closedParent, children, shards)
	}
}

// TestStreamsThreeNodesSplitThenMerge: a partition of a streamed table
// splits a third of the way through the writes and merges back two
// thirds of the way. The merged-away right half's shard stays listed,
// closed, and readable to its end from a node that leads nothing (its
// log is the one the left half adopted); the merged shard names the left
// half's segment as its parent and is listed after both halves' shards;
// reading parents first, every write is there once and in order per key.
func TestStreamsThreeNodesSplitThenMerge(t *testing.T) {
	t.Parallel()
	nodes := threeAdminMembers(t)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const table, writesPerItem = "merged", 15
	arn := streamedTable(ctx, t, n2, n1, table)

	var left, right uint64
	writeStream(ctx, t, nodes, table, writesPerItem, map[int]func(){
		6: func() {
			left = partitionOf(t, n1, table, "w0-i0").ID
			path := fmt.Sprintf("/cluster/partitions/%d/split?%s", left, url.Values{"table": {table}}.Encode())
			var split admin.SplitResult
			if code := adminDo(t, n1, http.MethodPost, path, &split); code != http.StatusOK || split.Right == 0 {
				t.Errorf("split of partition %d: %d %+v", left, code, split)
			}
			right = split.Right
		},
		11: func() {
			waitFor(t, func() error { return settled(partitions(t, n1, table)) })
			path := fmt.Sprintf("/cluster/partitions/%d/merge?%s", left, url.Values{"table": {table}}.Encode())
			var merge admin.MergeResult
			if code := adminDo(t, n2, http.MethodPost, path, &merge); code != http.StatusOK || merge.Right != right {
				t.Errorf("merge of partition %d: %d %+v, want right half %d", left, code, merge, right)
			}
		},
	})
	for _, p := range partitions(t, n1, table) {
		if p.ID == right {
			t.Fatalf("partition %d still in the table after the merge", right)
		}
	}

	drainNode(t, n1, n3, table)
	c := streamsClient(n3)
	recs, shards := readAllShards(ctx, t, c, arn)
	checkStreamWrites(t, recs, writesPerItem)

	// The right half's shard: closed, its parent the split's, read to the
	// end, and listed before the merged shard.
	pos := map[string]int{}
	byID := map[string]stypes.Shard{}
	for i, sh := range shards {
		pos[aws.ToString(sh.ShardId)] = i
		byID[aws.ToString(sh.ShardId)] = sh
	}
	shardOf := func(p, start uint64) string { return fmt.Sprintf("shardId-%020d-%020d", p, start) }
	rs, ok := byID[shardOf(right, 1)]
	switch {
	case !ok:
		t.Fatalf("the merged-away partition %d's shard is not listed: %+v", right, shards)
	case rs.SequenceNumberRange.EndingSequenceNumber == nil:
		t.Errorf("the merged-away shard %s is open", aws.ToString(rs.ShardId))
	case aws.ToString(rs.ParentShardId) != shardOf(left, 1):
		t.Errorf("the merged-away shard names parent %s, want %s", aws.ToString(rs.ParentShardId), shardOf(left, 1))
	}
	fromRight := readShardToEnd(ctx, t, c, arn, rs)
	if len(fromRight) == 0 {
		t.Errorf("no record in the merged-away shard %s", aws.ToString(rs.ShardId))
	}
	var merged []stypes.Shard
	for _, sh := range shards {
		id := aws.ToString(sh.ShardId)
		if strings.HasPrefix(id, fmt.Sprintf("shardId-%020d-", left)) && id != shardOf(left, 1) {
			merged = append(merged, sh)
		}
	}
	if len(merged) != 2 {
		t.Fatalf("partition %d has shards %+v besides its first, want the split's and the merge's", left, merged)
	}
	m := merged[1]
	if m.SequenceNumberRange.EndingSequenceNumber != nil || aws.ToString(m.ParentShardId) != aws.ToString(merged[0].ShardId) {
		t.Errorf("merged shard %+v: want open, parent %s", m, aws.ToString(merged[0].ShardId))
	}
	if pos[aws.ToString(m.ShardId)] < pos[aws.ToString(rs.ShardId)] {
		t.Errorf("merged shard listed before the right half's: %+v", shards)
	}
}

// TestStreamsThreeNodesEnabling: a stream enabled through one node of
// three while four clients write through every node. Its status goes
// ENABLING then ENABLED only once every partition's change floor covers
// the stream (the leaders on the other nodes, whose directory refresh is
// paused, do not know the stream: their writes are refused at apply and
// evaluated again with the floor); read from another node, every write
// started after the stream showed ENABLED is in it exactly once, each
// item's writes are in order, and none acknowledged before the enabling
// is there (point-in-time recovery logs them).
func TestStreamsThreeNodesEnabling(t *testing.T) {
	t.Parallel()
	nodes := threeAdminMembers(t)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const table = "enabling"
	// Point-in-time recovery makes every partition log its writes before
	// the stream (old images only): none may show in the stream.
	recoveredTable(ctx, t, n2, n1, table)
	// Nodes 1 and 3 keep the table's record they have now: their leaders
	// and routers learn of the stream only from the change floors.
	pauseDirectoryRefresh(t, n1, n3)

	type write struct {
		pk string
		v  int
	}
	var enabling, enabled atomic.Bool
	var mu sync.Mutex
	late := map[write]bool{}  // acknowledged writes -> started after ENABLED
	early := map[write]bool{} // acknowledged before the UpdateTable was sent
	var wg sync.WaitGroup
	const afterEach = 30
	for w := range streamWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := client(nodes[w%3])
			after := 0
			for v := 1; after < afterEach; v++ {
				started := enabled.Load()
				for i := range streamItemsPerWriter {
					pk := fmt.Sprintf("w%d-i%d", w, i)
					if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
						"pk": &types.AttributeValueMemberS{Value: pk}, "v": &types.AttributeValueMemberN{Value: strconv.Itoa(v)}}}); err != nil {
						t.Errorf("PutItem %s %d: %v", pk, v, err)
						return
					}
					mu.Lock()
					late[write{pk, v}] = started
					if !enabling.Load() {
						early[write{pk, v}] = true
					}
					mu.Unlock()
				}
				if started {
					after++
				}
			}
		}()
	}
	// Enable once the writers are under way.
	waitUntil(t, "first writes", func() bool { mu.Lock(); defer mu.Unlock(); return len(late) >= 20 })
	mu.Lock()
	enabling.Store(true)
	mu.Unlock()
	out, err := client(n2).UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.TableDescription.LatestStreamArn)
	sc := streamsClient(n1)
	statuses := map[stypes.StreamStatus]bool{}
	waitUntil(t, "stream ENABLED", func() bool {
		d, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("DescribeStream: %v", err)
		}
		statuses[d.StreamDescription.StreamStatus] = true
		return d.StreamDescription.StreamStatus == stypes.StreamStatusEnabled
	})
	enabled.Store(true)
	wg.Wait()
	if t.Failed() {
		return
	}
	for st := range statuses {
		if st != stypes.StreamStatusEnabling && st != stypes.StreamStatusEnabled {
			t.Errorf("stream status %s while enabling", st)
		}
	}

	recs, _ := readAllShards(ctx, t, streamsClient(n3), arn)
	seen := map[write]int{}
	for pk, vs := range streamWrites(t, recs) {
		for i, v := range vs {
			seen[write{pk, v}]++
			if i > 0 && v <= vs[i-1] {
				t.Errorf("item %s: writes %v in the stream, out of order", pk, vs)
				break
			}
		}
	}
	for w, n := range seen {
		if n != 1 {
			t.Errorf("write %+v is %d times in the stream", w, n)
		}
		if _, ok := late[w]; !ok {
			t.Errorf("write %+v is in the stream, not acknowledged", w)
		}
		if early[w] {
			t.Errorf("write %+v, acknowledged before the stream was enabled, is in it", w)
		}
	}
	missing, after := 0, 0
	for w, started := range late {
		if started {
			after++
			if seen[w] == 0 {
				missing++
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of the %d writes started after ENABLED are missing from the stream", missing, after)
	}
	t.Logf("%d writes, %d in the stream, %d after ENABLED; statuses seen %v", len(late), len(seen), after, statuses)
}

// threeAdminMembers starts three members on loopback (the first starts the
// cluster, the others join it) and waits for the meta partition's three
// voters.
func threeAdminMembers(t *testing.T) []*node.Node {
	t.Helper()
	n1 := startAdminMember(t)
	nodes := []*node.Node{n1, startAdminMember(t, n1.PeerAddr()), startAdminMember(t, n1.PeerAddr())}
	waitUntil(t, "meta on three voters", func() bool { return len(n1.MetaVoters()) == 3 })
	return nodes
}

// pauseDirectoryRefresh pauses the directory refresh and the settings
// catch-up of nodes: their routers and leaders keep the table records and
// change logs they have, as a node whose refresh is late does.
func pauseDirectoryRefresh(t *testing.T, nodes ...*node.Node) {
	t.Helper()
	for _, n := range nodes {
		for _, job := range []string{node.DirectoryJob, node.SettingsCatchUpJob} {
			if err := n.Jobs().Pause(job); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// recoveredTable creates table, keyed by the string pk, through via, waits
// until admin shows its partitions settled, and turns point-in-time
// recovery on: every partition then logs its writes (old images) before
// any stream.
func recoveredTable(ctx context.Context, t *testing.T, via, admin *node.Node, table string) {
	t.Helper()
	if _, err := client(via).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() error { return settled(partitions(t, admin, table)) })
	if _, err := client(via).UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(table),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
}
