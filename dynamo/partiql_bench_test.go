package dynamo_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// BenchmarkSDKSelect1KB reads the partition BenchmarkSDKQuery1KB reads,
// through PartiQL: a SELECT paged by NextToken.
func BenchmarkSDKSelect1KB(b *testing.B) {
	c := benchFixture(b)
	in := &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM bench WHERE pk = ?`), Parameters: []types.AttributeValue{s("p")}}
	benchPages(b, func(start avMap) (int, avMap, error) {
		if start == nil {
			in.NextToken = nil
		}
		out, err := c.ExecuteStatement(context.Background(), in)
		if err != nil {
			return 0, nil, err
		}
		in.NextToken = out.NextToken
		if out.NextToken == nil {
			return len(out.Items), nil, nil
		}
		return len(out.Items), avMap{}, nil
	})
}

// BenchmarkSDKSelectByKey reads one item by its full key through PartiQL;
// BenchmarkSDKGetItemByKey is the same read through GetItem.
func BenchmarkSDKSelectByKey(b *testing.B) {
	c := benchFixture(b)
	in := &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM bench WHERE pk = 'p' AND sk = ?`)}
	b.ResetTimer()
	for i := range b.N {
		in.Parameters = []types.AttributeValue{num(strconv.Itoa(i % benchItems))}
		out, err := c.ExecuteStatement(context.Background(), in)
		if err != nil || len(out.Items) != 1 {
			b.Fatalf("select: %v", err)
		}
	}
}

func BenchmarkSDKGetItemByKey(b *testing.B) {
	c := benchFixture(b)
	b.ResetTimer()
	for i := range b.N {
		out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("bench"),
			Key: avMap{"pk": s("p"), "sk": num(strconv.Itoa(i % benchItems))}})
		if err != nil || out.Item == nil {
			b.Fatalf("get: %v", err)
		}
	}
}
