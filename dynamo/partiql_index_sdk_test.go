package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// renderItems prints items in order, each as its sorted name=value list.
func renderItems(items []avMap) string {
	var lines []string
	for _, it := range items {
		var kv []string
		for k, v := range it {
			switch v := v.(type) {
			case *types.AttributeValueMemberS:
				kv = append(kv, k+"="+v.Value)
			case *types.AttributeValueMemberN:
				kv = append(kv, k+"="+v.Value)
			default:
				kv = append(kv, fmt.Sprintf("%s=%T", k, v))
			}
		}
		slices.Sort(kv)
		lines = append(lines, strings.Join(kv, " "))
	}
	return strings.Join(lines, "\n")
}

// selectAll runs statement page by page (limit items a page, 0: none)
// and returns every item.
func selectAll(t *testing.T, c *dynamodb.Client, statement string, limit int32, consistent bool) []avMap {
	t.Helper()
	in := &dynamodb.ExecuteStatementInput{Statement: aws.String(statement), ConsistentRead: aws.Bool(consistent)}
	if limit > 0 {
		in.Limit = aws.Int32(limit)
	}
	var out []avMap
	for {
		res, err := c.ExecuteStatement(context.Background(), in)
		if err != nil {
			t.Fatalf("%s: %v", statement, err)
		}
		out = append(out, res.Items...)
		if res.NextToken == nil {
			return out
		}
		in.NextToken = res.NextToken
	}
}

// TestSDKPartiQLOnLocalIndexes: SELECT ... FROM "table"."index" on local
// secondary indexes answers what the equivalent Query or Scan with
// IndexName answers, in the same order, whole or page by page: key
// conditions, a full index key, a filter and a projection the index does
// not project (read from the items), a scan, consistent reads.
func TestSDKPartiQLOnLocalIndexes(t *testing.T) {
	c := startNode(t)
	ctx := context.Background()
	lsiTable(t, c, "ltab")
	for _, pk := range []string{"a", "b"} {
		for sk := range 20 {
			it := avMap{"pk": s(pk), "sk": &types.AttributeValueMemberN{Value: fmt.Sprint(sk)},
				"extra": s(fmt.Sprint("e", sk%3)), "misc": s(fmt.Sprint("o", sk%2))}
			if sk%5 != 4 { // sparse: some items have no l
				it["l"] = &types.AttributeValueMemberN{Value: fmt.Sprint(sk % 7)}
			}
			it["t"] = s(fmt.Sprintf("t%02d", 19-sk))
			if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ltab"), Item: it}); err != nil {
				t.Fatal(err)
			}
		}
	}
	p := func(v string) types.AttributeValue { return s(v) }
	num := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	cases := []struct {
		name      string
		statement string
		query     dynamodb.QueryInput
		scan      *dynamodb.ScanInput
	}{
		{"partition", `SELECT * FROM "ltab"."byL" WHERE pk = 'a'`,
			dynamodb.QueryInput{IndexName: aws.String("byL")}, nil},
		{"range", `SELECT * FROM "ltab"."byL" WHERE pk = 'a' AND l BETWEEN 2 AND 4`,
			dynamodb.QueryInput{IndexName: aws.String("byL"), KeyConditionExpression: aws.String("pk = :p AND l BETWEEN :lo AND :hi"),
				ExpressionAttributeValues: avMap{":p": p("a"), ":lo": num("2"), ":hi": num("4")}}, nil},
		{"full index key", `SELECT * FROM "ltab"."byL" WHERE pk = 'a' AND l = 3`,
			dynamodb.QueryInput{IndexName: aws.String("byL"), KeyConditionExpression: aws.String("pk = :p AND l = :l"),
				ExpressionAttributeValues: avMap{":p": p("a"), ":l": num("3")}}, nil},
		{"descending", `SELECT * FROM "ltab"."byT" WHERE pk = 'b' ORDER BY t DESC`,
			dynamodb.QueryInput{IndexName: aws.String("byT"), ScanIndexForward: aws.Bool(false),
				ExpressionAttributeValues: avMap{":p": p("b")}, KeyConditionExpression: aws.String("pk = :p")}, nil},
		{"unprojected filter and projection", `SELECT pk, sk, misc FROM "ltab"."byL" WHERE pk = 'a' AND misc = 'o1'`,
			dynamodb.QueryInput{IndexName: aws.String("byL"), ProjectionExpression: aws.String("pk, sk, misc"),
				FilterExpression: aws.String("misc = :o"), ExpressionAttributeValues: avMap{":p": p("a"), ":o": p("o1")},
				KeyConditionExpression: aws.String("pk = :p")}, nil},
		{"scan", `SELECT * FROM "ltab"."byT"`, dynamodb.QueryInput{}, &dynamodb.ScanInput{IndexName: aws.String("byT")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want []avMap
			if tc.scan != nil {
				in := *tc.scan
				in.TableName = aws.String("ltab")
				res, err := c.Scan(ctx, &in)
				if err != nil {
					t.Fatal(err)
				}
				want = res.Items
			} else {
				want = lsiQuery(t, c, tc.query, 0)
			}
			if len(want) == 0 {
				t.Fatal("the reference read found nothing: the case checks nothing")
			}
			for _, limit := range []int32{0, 3} {
				for _, consistent := range []bool{false, true} {
					got := selectAll(t, c, tc.statement, limit, consistent)
					if a, b := renderItems(got), renderItems(want); a != b {
						t.Fatalf("limit %d, consistent %v:\n%s\nwant (Query/Scan with IndexName):\n%s", limit, consistent, a, b)
					}
				}
			}
		})
	}
	_, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "ltab"."nope" WHERE pk = 'a'`)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || ae.ErrorMessage() != "The table does not have the specified index: nope" {
		t.Fatalf("unknown index: %v", err)
	}
}
