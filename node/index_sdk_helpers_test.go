package node

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The global index tests' SDK steps: a client of endpoint, a table keyed
// by the string "pk", items with a string "g", and a KEYS_ONLY index
// "byG" on g added by UpdateTable.

func gsiClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
}

func createPKTable(t *testing.T, db *dynamodb.Client, table string) {
	t.Helper()
	if _, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{TableName: aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest}); err != nil {
		t.Fatal(err)
	}
}

func putG(t *testing.T, db *dynamodb.Client, table, pk, g string) {
	t.Helper()
	if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk}, "g": &types.AttributeValueMemberS{Value: g}}}); err != nil {
		t.Fatal(err)
	}
}

// addIndexByG adds the index; it does not wait for it (indexActive).
func addIndexByG(t *testing.T, db *dynamodb.Client, table string) {
	t.Helper()
	if _, err := db.UpdateTable(context.Background(), &dynamodb.UpdateTableInput{TableName: aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS}},
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName:  aws.String("byG"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}}}}); err != nil {
		t.Fatal(err)
	}
}

// indexActive waits for table's first global index to be ACTIVE.
func indexActive(t *testing.T, db *dynamodb.Client, table string) {
	t.Helper()
	waitFor(t, "the index to be ACTIVE", func() bool {
		d, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		return err == nil && d.Table.GlobalSecondaryIndexes[0].IndexStatus == types.IndexStatusActive
	})
}
