package node_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/topology"
)

const (
	splitTable = "splits"
	splitPKs   = 12
	splitSKs   = 8
)

// TestSplitUnderPaginators splits partitions of a table on three nodes
// while the AWS SDK's paginators walk it: a Scan, the segments of a
// parallel Scan and a Query see every item exactly once, writes and reads
// go on through every node, and every node's admin view shows the new
// layout.
func TestSplitUnderPaginators(t *testing.T) {
	t.Parallel()
	n1 := startAdminMember(t)
	n2 := startAdminMember(t, n1.PeerAddr())
	n3 := startAdminMember(t, n1.PeerAddr())
	nodes := []*node.Node{n1, n2, n3}
	waitUntil(t, "meta on three voters", func() bool { return len(n1.MetaVoters()) == 3 })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	createSplitTable(ctx, t, n2)
	for i := range splitPKs * splitSKs {
		putSplitItem(ctx, t, nodes[i%3], i/splitSKs, i%splitSKs)
	}
	initial, splits := len(splitPartitions(t, n1)), 0
	split := func(at string) {
		t.Helper()
		parts := splitPartitions(t, n1)
		p := parts[len(parts)-1] // the highest range: a split of a split, after the first
		if at != "" {
			p = ownerOf(t, parts, at)
		}
		path := fmt.Sprintf("/cluster/partitions/%d/split?%s", p.ID, url.Values{"table": {splitTable}, "at": {at}}.Encode())
		var res admin.SplitResult
		if code := adminDo(t, nodes[splits%3], http.MethodPost, path, &res); code != http.StatusOK || res.Right == 0 {
			t.Fatalf("split of partition %d: %d %+v", p.ID, code, res)
		}
		splits++
	}

	// A Scan, 10 items a page, with a split after every other page.
	seen := map[string]int{}
	pager := dynamodb.NewScanPaginator(client(n3), &dynamodb.ScanInput{TableName: aws.String(splitTable), Limit: aws.Int32(10), ConsistentRead: aws.Bool(true)})
	for page := 0; pager.HasMorePages(); page++ {
		out, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("scan page %d: %v", page, err)
		}
		countItems(seen, out.Items)
		if page%2 == 1 && splits < 4 {
			split("")
		}
	}
	exactlyOnce(t, "scan", seen, splitPKs*splitSKs)

	// A parallel Scan: three segments, each split under.
	seen = map[string]int{}
	for seg := range 3 {
		pager := dynamodb.NewScanPaginator(client(nodes[seg]), &dynamodb.ScanInput{TableName: aws.String(splitTable), Limit: aws.Int32(7),
			Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(3)})
		for page := 0; pager.HasMorePages(); page++ {
			out, err := pager.NextPage(ctx)
			if err != nil {
				t.Fatalf("segment %d page %d: %v", seg, page, err)
			}
			countItems(seen, out.Items)
			if page == 1 {
				split("")
			}
		}
	}
	exactlyOnce(t, "parallel scan", seen, splitPKs*splitSKs)

	// A Query, 3 items a page, its partition key's partition split at it
	// between pages.
	seen = map[string]int{}
	q := dynamodb.NewQueryPaginator(client(n1), &dynamodb.QueryInput{TableName: aws.String(splitTable), Limit: aws.Int32(3),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pkName(5)}}})
	for page := 0; q.HasMorePages(); page++ {
		out, err := q.NextPage(ctx)
		if err != nil {
			t.Fatalf("query page %d: %v", page, err)
		}
		countItems(seen, out.Items)
		if page == 0 {
			split(pkName(5))
		}
	}
	exactlyOnce(t, "query", seen, splitSKs)

	// Writes and reads through every node, by the new layout.
	for i := range splitPKs {
		putSplitItem(ctx, t, nodes[(i+1)%3], i, splitSKs)
	}
	for i := range splitPKs {
		out, err := client(nodes[i%3]).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(splitTable), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pkName(i)}, "sk": &types.AttributeValueMemberN{Value: fmt.Sprint(splitSKs)}}})
		if err != nil || out.Item == nil {
			t.Fatalf("get %d after the splits: %v %v", i, out, err)
		}
	}
	want := len(splitPartitions(t, n1))
	if want != initial+splits || splits < 8 {
		t.Fatalf("%d partitions after %d splits of %d", want, splits, initial)
	}
	for _, n := range nodes {
		waitUntil(t, "every node's view of the new layout", func() bool { return len(splitPartitions(t, n)) == want })
	}
}

func pkName(i int) string { return fmt.Sprintf("pk%02d", i) }

func createSplitTable(ctx context.Context, t *testing.T, n *node.Node) {
	t.Helper()
	_, err := client(n).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(splitTable),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
}

func putSplitItem(ctx context.Context, t *testing.T, n *node.Node, pk, sk int) {
	t.Helper()
	_, err := client(n).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(splitTable), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pkName(pk)}, "sk": &types.AttributeValueMemberN{Value: fmt.Sprint(sk)},
	}})
	if err != nil {
		t.Fatalf("put %d/%d: %v", pk, sk, err)
	}
}

func splitPartitions(t *testing.T, n *node.Node) []topology.PartitionInfo {
	t.Helper()
	var parts []topology.PartitionInfo
	if code := adminDo(t, n, http.MethodGet, "/cluster/partitions?table="+splitTable, &parts); code != http.StatusOK {
		t.Fatalf("partitions: %d", code)
	}
	slices.SortFunc(parts, func(a, b topology.PartitionInfo) int {
		switch {
		case a.HashStart < b.HashStart:
			return -1
		case a.HashStart > b.HashStart:
			return 1
		}
		return 0
	})
	return parts
}

// ownerOf returns the partition of parts (sorted by range) whose range
// holds the hash of the partition key pk.
func ownerOf(t *testing.T, parts []topology.PartitionInfo, pk string) topology.PartitionInfo {
	t.Helper()
	h := item.Hash(item.S(pk))
	for i := len(parts) - 1; i >= 0; i-- {
		if parts[i].HashStart <= h {
			return parts[i]
		}
	}
	t.Fatalf("no partition holds %s", pk)
	return topology.PartitionInfo{}
}

func countItems(seen map[string]int, items []map[string]types.AttributeValue) {
	for _, it := range items {
		seen[it["pk"].(*types.AttributeValueMemberS).Value+"/"+it["sk"].(*types.AttributeValueMemberN).Value]++
	}
}

func exactlyOnce(t *testing.T, what string, seen map[string]int, want int) {
	t.Helper()
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s: item %s seen %d times", what, k, n)
		}
	}
	if len(seen) != want {
		t.Fatalf("%s: %d distinct items, want %d", what, len(seen), want)
	}
}

// TestSplitBySize runs one node (partita dev) whose split job splits
// partitions past a tiny size: a table created with one partition ends
// with several, every item is still there exactly once, and a table of a
// single partition key, however big, stays whole.
func TestSplitBySize(t *testing.T) {
	t.Parallel()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.AdminAddr = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	cfg.PartitionsPerTable, cfg.PartitionMaxBytes, cfg.SplitInterval = 1, 4<<10, 100*time.Millisecond
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	createSplitTable(ctx, t, n)
	pad := strings.Repeat("x", 200)
	db := client(n)
	put := func(pk string, sk int) {
		t.Helper()
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(splitTable), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberN{Value: fmt.Sprint(sk)},
			"pad": &types.AttributeValueMemberS{Value: pad},
		}}); err != nil {
			t.Fatalf("put %s/%d: %v", pk, sk, err)
		}
	}
	for i := range 200 {
		put(pkName(i), 0)
	}
	waitUntil(t, "splits by size", func() bool { return len(splitPartitions(t, n)) >= 4 })
	seen := map[string]int{}
	pager := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(splitTable), Limit: aws.Int32(25)})
	for pager.HasMorePages() {
		out, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		countItems(seen, out.Items)
	}
	exactlyOnce(t, "scan after size splits", seen, 200)

	// One heavy partition key: its partition may split off the keys
	// beside it, then splits no more (no split inside one key, nor an
	// endless run of empty ones).
	for sk := range 60 {
		put("hot", sk+1)
	}
	time.Sleep(2 * time.Second) // twenty cycles of the job
	before := splitPartitions(t, n)
	time.Sleep(time.Second)
	after := splitPartitions(t, n)
	if len(after) != len(before) {
		t.Fatalf("still splitting: %d partitions, then %d", len(before), len(after))
	}
	q, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(splitTable), KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "hot"}}})
	if err != nil || q.Count != 60 {
		t.Fatalf("query of the hot key: %v %v", q, err)
	}
	t.Logf("%d partitions after the size splits", len(after))
}
