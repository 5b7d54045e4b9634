package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestIndexCreatedWithTableOnThreeNodes: tables created with a global
// index on three nodes, items put through every node as soon as
// CreateTable answers. Such an index is never backfilled, so each of
// those first writes must reach it from its partition's change log,
// whichever node leads the partition and whatever that node's copy of
// the directory held when its index job first ran. The index ends equal
// to the projection of a scan of each table.
func TestIndexCreatedWithTableOnThreeNodes(t *testing.T) {
	t.Parallel()
	nodes := startThree(t, func(_ int, cfg *Config) {
		// Replicas created soon after the node's directory shows a new
		// table's partitions, often before its index tables.
		cfg.ReconcileInterval, cfg.PartitionsPerTable = 100*time.Millisecond, 2
	})
	dbs := []*dynamodb.Client{gsiClient(nodes[0].APIURL()), gsiClient(nodes[1].APIURL()), gsiClient(nodes[2].APIURL())}
	const tables, items = 6, 20
	for k := range tables {
		table := fmt.Sprint("tab", k)
		if _, err := dbs[k%3].CreateTable(context.Background(), &dynamodb.CreateTableInput{TableName: aws.String(table),
			AttributeDefinitions: []types.AttributeDefinition{
				{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:   []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
			BillingMode: types.BillingModePayPerRequest,
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
				IndexName:  aws.String("byG"),
				KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
			}}}); err != nil {
			t.Fatal(err)
		}
		for i := range items {
			putG(t, dbs[0], table, fmt.Sprint("item", i), fmt.Sprint("g", i%4))
		}
	}
	for k := range tables {
		table := fmt.Sprint("tab", k)
		var last string
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if last = indexMismatch(t, dbs[0], table); last == "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the index misses writes made right after CreateTable: %s", table, last)
			}
		}
	}
}
