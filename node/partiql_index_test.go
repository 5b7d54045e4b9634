package node_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// TestPartiQLOnGlobalIndexes: SELECT ... FROM "table"."index" on global
// secondary indexes reads what Query and Scan with IndexName read (as
// sets: entries of equal index keys come in no set order), page by page,
// projected as the index projects; a consistent read is refused as
// DynamoDB refuses it on a global index.
func TestPartiQLOnGlobalIndexes(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	defer n.Close()
	ctx := context.Background()
	db := client(n)
	gsiTable(t, db)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 60 {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"),
			Item: randomOrder(rng, fmt.Sprint("p", i%9), i)}); err != nil {
			t.Fatal(err)
		}
	}
	waitIndexes(t, db)
	sel := func(statement string, limit int32) []string {
		t.Helper()
		in := &dynamodb.ExecuteStatementInput{Statement: aws.String(statement)}
		if limit > 0 {
			in.Limit = aws.Int32(limit)
		}
		var out []string
		for {
			res, err := db.ExecuteStatement(ctx, in)
			if err != nil {
				t.Fatalf("%s: %v", statement, err)
			}
			for _, it := range res.Items {
				out = append(out, printItem(it))
			}
			if res.NextToken == nil {
				slices.Sort(out)
				return out
			}
			in.NextToken = res.NextToken
		}
	}
	query := func(index, cond string, values map[string]types.AttributeValue) []string {
		t.Helper()
		in := &dynamodb.QueryInput{TableName: aws.String("orders"), IndexName: aws.String(index),
			KeyConditionExpression: aws.String(cond), ExpressionAttributeValues: values, ExpressionAttributeNames: map[string]string{}}
		for short, name := range map[string]string{"#s": "status", "#t": "total"} {
			if strings.Contains(cond, short) {
				in.ExpressionAttributeNames[short] = name
			}
		}
		if len(in.ExpressionAttributeNames) == 0 {
			in.ExpressionAttributeNames = nil
		}
		var out []string
		for {
			res, err := db.Query(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range res.Items {
				out = append(out, printItem(it))
			}
			if res.LastEvaluatedKey == nil {
				slices.Sort(out)
				return out
			}
			in.ExclusiveStartKey = res.LastEvaluatedKey
		}
	}
	S := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	N := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	// A full index key some entry has: no item's key (an index key is not
	// unique), read as a query for it.
	some := scanAll(t, db, aws.String("byCustomer"))[0]
	someC, someT := some["customer"].(*types.AttributeValueMemberS).Value, some["total"].(*types.AttributeValueMemberN).Value
	cases := []struct {
		statement string
		want      []string
	}{
		{`SELECT * FROM "orders"."byCustomer" WHERE customer = 'c1'`,
			query("byCustomer", "customer = :c", map[string]types.AttributeValue{":c": S("c1")})},
		{`SELECT * FROM "orders"."byCustomer" WHERE customer = 'c2' AND total >= 3`,
			query("byCustomer", "customer = :c AND #t >= :t", map[string]types.AttributeValue{":c": S("c2"), ":t": N("3")})},
		{fmt.Sprintf(`SELECT * FROM "orders"."byCustomer" WHERE customer = '%s' AND total = %s`, someC, someT),
			query("byCustomer", "customer = :c AND #t = :t", map[string]types.AttributeValue{":c": S(someC), ":t": N(someT)})},
		{`SELECT * FROM "orders"."byStatus" WHERE status = 'open'`,
			query("byStatus", "#s = :s", map[string]types.AttributeValue{":s": S("open")})},
		{`SELECT * FROM "orders"."byStatus"`, func() []string {
			var out []string
			for _, it := range scanAll(t, db, aws.String("byStatus")) {
				out = append(out, printItem(it))
			}
			slices.Sort(out)
			return out
		}()},
	}
	for _, tc := range cases {
		if len(tc.want) == 0 {
			t.Fatalf("%s: the reference read found nothing: the case checks nothing", tc.statement)
		}
		for _, limit := range []int32{0, 4} {
			if got := sel(tc.statement, limit); !slices.Equal(got, tc.want) {
				t.Fatalf("%s (limit %d):\n got %v\nwant %v", tc.statement, limit, got, tc.want)
			}
		}
	}
	_, err := db.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{ConsistentRead: aws.Bool(true),
		Statement: aws.String(`SELECT * FROM "orders"."byStatus" WHERE status = 'open'`)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || ae.ErrorMessage() != "Consistent reads are not supported on global secondary indexes" {
		t.Fatalf("a consistent read of a global index: %v", err)
	}
}
