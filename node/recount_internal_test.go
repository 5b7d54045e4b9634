package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/fsm"
)

// TestBlindPutsSettleByRecount: plain PutItems (and a BatchWriteItem's
// puts) of existing items are written blind and counted as inserts; the recount job brings
// DescribeTable's ItemCount and TableSizeBytes back to the items stored,
// while a put asking for its old item still gets it.
func TestBlindPutsSettleByRecount(t *testing.T) {
	t.Parallel()
	n := startDev(t, func(c *Config) { c.RecountInterval = 300 * time.Millisecond })
	ctx := context.Background()
	db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(n.APIURL()),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("blind"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest}); err != nil {
		t.Fatal(err)
	}
	// The recount job is paused while the puts go in, so that the excess
	// they count shows before it settles.
	pauseJob(t, n, RecountJob)
	const keys, rounds = 8, 5
	var size int64
	for r := range rounds {
		for k := range keys {
			v := fmt.Sprintf("round %d", r)
			if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("blind"), Item: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", k)}, "v": &types.AttributeValueMemberS{Value: v}}}); err != nil {
				t.Fatal(err)
			}
			if r == rounds-1 {
				size += int64(len("pk") + len(fmt.Sprint("k", k)) + len("v") + len(v))
			}
		}
	}
	// A BatchWriteItem asking for no capacity writes its puts blind too.
	var batch []types.WriteRequest
	for k := range keys {
		batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", k)}, "v": &types.AttributeValueMemberS{Value: fmt.Sprintf("round %d", rounds-1)}}}})
	}
	if bo, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"blind": batch}}); err != nil || len(bo.UnprocessedItems) > 0 {
		t.Fatalf("batch: %v, unprocessed %v", err, bo.UnprocessedItems)
	}
	out, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("blind"), ReturnValues: types.ReturnValueAllOld,
		Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k0"}, "v": &types.AttributeValueMemberS{Value: fmt.Sprintf("round %d", rounds-1)}}})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := out.Attributes["v"].(*types.AttributeValueMemberS); !ok || v.Value != fmt.Sprintf("round %d", rounds-1) {
		t.Fatalf("ReturnValues ALL_OLD returned %v", out.Attributes)
	}
	count := func() (int64, int64) {
		d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("blind")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToInt64(d.Table.ItemCount), aws.ToInt64(d.Table.TableSizeBytes)
	}
	blind := func() (n2 int64, recounted bool) {
		for _, r := range n.store.Replicas() {
			st, err := fsm.ReadStats(n.eng.Reader(), r.Partition())
			if err != nil {
				t.Fatal(err)
			}
			n2 += st.Blind
			recounted = recounted || st.RecountedAt > 0
		}
		return n2, recounted
	}
	if items, _ := count(); items != keys*(rounds+1) {
		t.Errorf("before the recount: ItemCount %d, want the %d blind puts counted as inserts", items, keys*(rounds+1))
	}
	if b, _ := blind(); b != keys*(rounds+1) {
		t.Errorf("before the recount: %d blind puts counted, want %d", b, keys*(rounds+1))
	}
	if err := n.jobs.Resume(RecountJob); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		items, bytes := count()
		b, recounted := blind()
		if items == keys && bytes == size && b == 0 && recounted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the recounts: ItemCount %d, TableSizeBytes %d, %d blind puts unsettled (recounted: %v); want %d items, %d bytes",
				items, bytes, b, recounted, keys, size)
		}
	}
}
