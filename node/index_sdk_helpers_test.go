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

// startThree starts a cluster of three nodes on loopback, each configured
// by configure (i is the node's position; the first starts the cluster,
// the others join it), and waits until the meta partition has three
// voters.
func startThree(t *testing.T, configure func(i int, cfg *Config)) []*Node {
	t.Helper()
	var nodes []*Node
	for i := range 3 {
		cfg := DefaultConfig()
		cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.AdminAddr = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
		configure(i, &cfg)
		if i > 0 {
			cfg.Join = []string{nodes[0].PeerAddr()}
		}
		n, err := Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Close() })
		nodes = append(nodes, n)
	}
	waitFor(t, "meta on three voters", func() bool { return len(nodes[0].MetaVoters()) == 3 })
	return nodes
}
