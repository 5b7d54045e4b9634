package node_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/node"
)

// TestMergeUnderLoad merges partitions of a table on three nodes while
// writers run and the AWS SDK's Scan paginator walks it: no acknowledged
// write is lost, the Scan sees every item exactly once, every item is
// readable through every node, and every node's admin view shows the
// merged layout.
func TestMergeUnderLoad(t *testing.T) {
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
	initial := len(splitPartitions(t, n1))
	if initial < 3 {
		t.Fatalf("%d partitions: too few to merge twice", initial)
	}
	acked := runWriters(ctx, t, nodes)
	merges := 0
	merge := func(via *node.Node) {
		t.Helper()
		p := splitPartitions(t, n1)[0]
		path := fmt.Sprintf("/cluster/partitions/%d/merge?%s", p.ID, url.Values{"table": {splitTable}}.Encode())
		var res admin.MergeResult
		if code := adminDo(t, via, http.MethodPost, path, &res); code != http.StatusOK || res.Right == 0 {
			t.Fatalf("merge of partition %d: %d %+v", p.ID, code, res)
		}
		merges++
	}

	// A Scan, 10 items a page, with a merge after the first and third.
	seen := map[string]int{}
	pager := dynamodb.NewScanPaginator(client(n3), &dynamodb.ScanInput{TableName: aws.String(splitTable), Limit: aws.Int32(10),
		ConsistentRead: aws.Bool(true), FilterExpression: aws.String("attribute_not_exists(w)")})
	for page := 0; pager.HasMorePages(); page++ {
		out, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("scan page %d: %v", page, err)
		}
		countItems(seen, out.Items)
		if page == 1 || page == 3 {
			merge(nodes[page%3])
		}
	}
	exactlyOnce(t, "scan", seen, splitPKs*splitSKs)
	writes := acked()
	if len(writes) == 0 {
		t.Fatal("no write was acknowledged during the merges")
	}
	for i, k := range writes {
		out, err := client(nodes[i%3]).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(splitTable), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: k.pk}, "sk": &types.AttributeValueMemberN{Value: fmt.Sprint(k.sk)}}})
		if err != nil || out.Item == nil {
			t.Fatalf("acknowledged write %s/%d lost: %v %v", k.pk, k.sk, out, err)
		}
	}
	t.Logf("%d acknowledged writes during %d merges, none lost", len(writes), merges)
	for i := range splitPKs * splitSKs {
		out, err := client(nodes[(i+1)%3]).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(splitTable),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pkName(i / splitSKs)}, "sk": &types.AttributeValueMemberN{Value: fmt.Sprint(i % splitSKs)}}})
		if err != nil {
			t.Fatalf("get %d: %v", i, err)
		}
		if out.Item == nil {
			// An eventually consistent read may lag; a consistent one may not.
			out, err = client(nodes[(i+1)%3]).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(splitTable), ConsistentRead: aws.Bool(true),
				Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pkName(i / splitSKs)}, "sk": &types.AttributeValueMemberN{Value: fmt.Sprint(i % splitSKs)}}})
			if err != nil || out.Item == nil {
				t.Fatalf("item %d missing after the merges: %v", i, err)
			}
		}
	}
	want := initial - merges
	for _, n := range nodes {
		waitUntil(t, "every node's view of the merged layout", func() bool { return len(splitPartitions(t, n)) == want })
	}
}

type writtenKey struct {
	pk string
	sk int
}

// runWriters writes new items (attribute w), two writers through every
// node, until the returned function is called, for at most 30 s and 2,000
// items each, and
// returns the keys whose writes were acknowledged.
func runWriters(ctx context.Context, t *testing.T, nodes []*node.Node) func() []writtenKey {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var acked []writtenKey
	for w := range 2 * len(nodes) {
		n := nodes[w%len(nodes)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := client(n)
			for i := 0; i < 2000 && ctx.Err() == nil; i++ {
				k := writtenKey{pk: fmt.Sprintf("w%d-%d", w, i%37), sk: i}
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(splitTable), Item: map[string]types.AttributeValue{
					"pk": &types.AttributeValueMemberS{Value: k.pk}, "sk": &types.AttributeValueMemberN{Value: fmt.Sprint(k.sk)},
					"w": &types.AttributeValueMemberBOOL{Value: true},
				}})
				if err == nil {
					mu.Lock()
					acked = append(acked, k)
					mu.Unlock()
				} else if ctx.Err() == nil {
					t.Errorf("write %v: %v", k, err)
				}
			}
		}()
	}
	return func() []writtenKey {
		cancel()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return acked
	}
}
