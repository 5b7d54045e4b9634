package node_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/topology"
)

// TestGlobalIndexUnderSplitsAndNodeLoss maintains two indexes of a table
// on three nodes while writers overwrite and delete random items through
// two of them, the base table's partitions split twice and merge once
// (the merged half's log adopted), a partition of an index splits, and
// the third
// node, leading some base and index partitions, stops. At the end each
// index equals the entries computed from a scan of the base table: no
// change lost, none applied out of order.
func TestGlobalIndexUnderSplitsAndNodeLoss(t *testing.T) {
	t.Parallel()
	n1 := startAdminMember(t)
	n2 := startAdminMember(t, n1.PeerAddr())
	n3 := startAdminMember(t, n1.PeerAddr())
	waitUntil(t, "meta on three voters", func() bool { return len(n1.MetaVoters()) == 3 })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	gsiTable(t, client(n2))

	var stop atomic.Bool
	var writes atomic.Int64
	var wg sync.WaitGroup
	for w, n := range []*node.Node{n1, n2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := client(n)
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for !stop.Load() {
				pk, sk := fmt.Sprint("p", rng.IntN(20)), rng.IntN(4)
				var err error
				if rng.IntN(6) == 0 {
					_, err = db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{
						"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberN{Value: fmt.Sprint(sk)}}})
				} else {
					_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: randomOrder(rng, pk, sk)})
				}
				if err == nil {
					writes.Add(1)
				}
			}
		}()
	}
	waitWrites := func(n int64) {
		t.Helper()
		target := writes.Load() + n
		waitUntil(t, "writes", func() bool { return writes.Load() >= target })
	}
	split := func(table string) {
		t.Helper()
		var parts []topology.PartitionInfo
		q := url.Values{"table": {table}}.Encode()
		if code := adminDo(t, n1, http.MethodGet, "/cluster/partitions?"+q, &parts); code != http.StatusOK || len(parts) == 0 {
			t.Fatalf("partitions of %q: %d", table, code)
		}
		slices.SortFunc(parts, func(a, b topology.PartitionInfo) int { return int(b.ID) - int(a.ID) })
		path := fmt.Sprintf("/cluster/partitions/%d/split?%s", parts[0].ID, q)
		var res admin.SplitResult
		if code := adminDo(t, n1, http.MethodPost, path, &res); code != http.StatusOK || res.Right == 0 {
			t.Fatalf("split of partition %d: %d %+v", parts[0].ID, code, res)
		}
	}
	merge := func() {
		t.Helper()
		var parts []topology.PartitionInfo
		if code := adminDo(t, n1, http.MethodGet, "/cluster/partitions?table=orders", &parts); code != http.StatusOK || len(parts) < 2 {
			t.Fatalf("partitions: %d, %d", code, len(parts))
		}
		slices.SortFunc(parts, func(a, b topology.PartitionInfo) int { return cmp.Compare(a.HashStart, b.HashStart) })
		path := fmt.Sprintf("/cluster/partitions/%d/merge?%s", parts[0].ID, url.Values{"table": {"orders"}}.Encode())
		var res admin.MergeResult
		if code := adminDo(t, n2, http.MethodPost, path, &res); code != http.StatusOK || res.Right == 0 {
			t.Fatalf("merge of partition %d: %d %+v", parts[0].ID, code, res)
		}
	}
	began := time.Now()
	step := func(what string) { t.Logf("%v: %s", time.Since(began).Round(time.Millisecond), what) }
	waitWrites(100)
	split("orders")
	step("split")
	waitWrites(100)
	split(directory.IndexTableName("orders", "byCustomer"))
	step("index split")
	waitWrites(100)
	split("orders")
	step("split")
	waitWrites(100)
	merge()
	step("merge")
	waitWrites(100)
	if err := n3.Close(); err != nil {
		t.Fatal(err)
	}
	step("node 3 stopped")
	waitWrites(100)
	stop.Store(true)
	wg.Wait()
	step("writers stopped")
	waitIndexes(t, client(n1))
	step("indexes converged")
	t.Logf("%d writes acknowledged; %d items in the base table", writes.Load(), len(scanAll(t, client(n1), nil)))
	if ctx.Err() != nil {
		t.Fatal(ctx.Err())
	}
}
