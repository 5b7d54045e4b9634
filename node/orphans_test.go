package node_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
)

// TestOrphanedDataSweptAtStart: keys of a table id no partition has, left
// in a node's data directory while it was down (as a replica removed by
// an older binary leaves its data), are gone soon after the node starts
// again, by the orphaned-data job's first run; the node's own table keeps
// every item.
func TestOrphanedDataSweptAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n := start(t, dir)
	ctx := context.Background()
	db := client(n)
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("kept"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	const items = 30
	for i := range items {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("kept"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	const orphanTable = 1 << 40 // no table has this id
	eng, err := engine.Open(engine.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	b := eng.NewIndexedBatch()
	for i := range 20 {
		k, _ := engine.DataKey(nil, orphanTable, item.S(fmt.Sprint("o", i)), item.Value{})
		if err := b.Set(k, item.EncodeItem(item.Item{"pk": item.S(fmt.Sprint("o", i))})); err != nil {
			t.Fatal(err)
		}
	}
	if err := eng.Commit(b); err != nil {
		t.Fatal(err)
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}

	n = start(t, dir)
	waitFor(t, func() error {
		if v := metric(t, n, `partita_store_orphaned_spans_cleared_total`); v != 1 {
			return fmt.Errorf("%v orphaned spans cleared, want 1", v)
		}
		return nil
	})
	out, err := client(n).Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("kept"), Select: types.SelectCount})
	if err != nil {
		t.Fatal(err)
	}
	if out.Count != items {
		t.Errorf("the table holds %d items after the sweep, want %d", out.Count, items)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if eng, err = engine.Open(engine.Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	start, end := engine.HashSpan(orphanTable, 0, 0)
	it, err := eng.NewIter(start, end)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if it.First() {
		t.Errorf("an orphaned key is left: %x", it.Key())
	}
}
