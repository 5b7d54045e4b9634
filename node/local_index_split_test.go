package node_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/admin"
)

// TestLocalIndexAcrossSplits splits the partitions of a table with a
// local secondary index while its items change: the entries of a
// partition key move with its items (a split never separates them), so
// after every split a strongly consistent Query of the index answers all
// of a key's items in index order, and a Scan of the index sees every
// entry exactly once.
func TestLocalIndexAcrossSplits(t *testing.T) {
	t.Parallel()
	n := startAdminMember(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := client(n)
	keys := []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}}
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(splitTable),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String("l"), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: keys,
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{{IndexName: aws.String("byL"),
			KeySchema:  []types.KeySchemaElement{keys[0], {AttributeName: aws.String("l"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}}},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	const pks, sks = 12, 6
	// l of (pk, sk) at round r: sk*10 descending for even rounds, so each
	// round reverses or keeps the index order of a key's items.
	lOf := func(sk, round int) int {
		if round%2 == 0 {
			return 100 - sk*10
		}
		return sk * 10
	}
	put := func(round int) {
		t.Helper()
		for i := range pks * sks {
			pk, sk := i/sks, i%sks
			it := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pkName(pk)},
				"sk": &types.AttributeValueMemberN{Value: fmt.Sprint(sk)}, "l": &types.AttributeValueMemberN{Value: fmt.Sprint(lOf(sk, round))}}
			if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(splitTable), Item: it}); err != nil {
				t.Fatalf("put %d/%d: %v", pk, sk, err)
			}
		}
	}
	check := func(round int) {
		t.Helper()
		for pk := range pks {
			out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(splitTable), IndexName: aws.String("byL"), ConsistentRead: aws.Bool(true),
				KeyConditionExpression:    aws.String("pk = :p"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: pkName(pk)}}})
			if err != nil {
				t.Fatalf("query %s: %v", pkName(pk), err)
			}
			var got, want []string
			for _, it := range out.Items {
				got = append(got, it["sk"].(*types.AttributeValueMemberN).Value)
			}
			for sk := range sks {
				want = append(want, fmt.Sprint(sk))
				if round%2 == 0 {
					want[sk] = fmt.Sprint(sks - 1 - sk)
				}
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("round %d: byL of %s: sort keys %v, want %v", round, pkName(pk), got, want)
			}
		}
		seen := map[string]int{}
		pager := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(splitTable), IndexName: aws.String("byL"), Limit: aws.Int32(7)})
		for pager.HasMorePages() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				t.Fatalf("scan byL: %v", err)
			}
			countItems(seen, page.Items)
		}
		exactlyOnce(t, fmt.Sprintf("round %d: scan of byL", round), seen, pks*sks)
	}
	put(0)
	check(0)
	for round, at := range []string{pkName(3), pkName(7), pkName(10)} {
		parts := splitPartitions(t, n)
		p := ownerOf(t, parts, at)
		path := fmt.Sprintf("/cluster/partitions/%d/split?%s", p.ID, url.Values{"table": {splitTable}, "at": {at}}.Encode())
		var res admin.SplitResult
		if code := adminDo(t, n, http.MethodPost, path, &res); code != http.StatusOK || res.Right == 0 {
			t.Fatalf("split of partition %d at %s: %d %+v", p.ID, at, code, res)
		}
		check(round)
		put(round + 1)
		check(round + 1)
	}
	d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(splitTable)})
	if err != nil || aws.ToInt64(d.Table.ItemCount) != pks*sks {
		t.Fatalf("DescribeTable after the splits: %v items (%v), want %d: index entries are not items", aws.ToInt64(d.Table.ItemCount), err, pks*sks)
	}
	// The index's statistics, divided between the halves, still add up.
	if li := d.Table.LocalSecondaryIndexes; len(li) != 1 || aws.ToInt64(li[0].ItemCount) != pks*sks {
		t.Fatalf("DescribeTable after the splits: LocalSecondaryIndexes %+v, want byL with %d entries", li, pks*sks)
	}
}
