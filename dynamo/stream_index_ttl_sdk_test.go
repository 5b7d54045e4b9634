package dynamo_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/partitadb/partita/node"
)

// TestSDKStreamIndexAndTTLTogether: one table with a global secondary
// index, a KEYS_ONLY stream and time to live. The change log keeps both
// images for the index, yet the stream shows keys only; the index follows
// the writes; the TTL sweeper's delete reaches the stream as a REMOVE and
// takes the item out of the index.
func TestSDKStreamIndexAndTTLTogether(t *testing.T) {
	sn := startStreamsNode(t, func(c *node.Config) { c.TTLInterval = 100 * time.Millisecond })
	ctx := context.Background()
	out, err := sn.db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String("all"),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("byG"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}},
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeKeysOnly},
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.TableDescription.LatestStreamArn)
	w := dynamodb.NewTableExistsWaiter(sn.db, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("all")}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := sn.db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("all"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("exp")}}); err != nil {
		t.Fatal(err)
	}
	put := func(sk int, exp int64) {
		t.Helper()
		if _, err := sn.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("all"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "p"}, "sk": &types.AttributeValueMemberN{Value: strconv.Itoa(sk)},
			"g": &types.AttributeValueMemberS{Value: "x"}, "exp": &types.AttributeValueMemberN{Value: strconv.FormatInt(exp, 10)}}}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().Unix()
	put(1, now+3600)
	put(2, now+3600)
	put(2, now-5) // expired: the sweeper deletes it

	indexed := func() int {
		t.Helper()
		q, err := sn.db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("all"), IndexName: aws.String("byG"),
			KeyConditionExpression:    aws.String("g = :g"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":g": &types.AttributeValueMemberS{Value: "x"}}})
		if err != nil {
			t.Fatal(err)
		}
		return len(q.Items)
	}
	var recs []stypes.Record
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		recs = sn.readStream(t, arn)
		if len(recs) == 4 && indexed() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %d stream records (want 4: two inserts, a modify, the TTL's remove), %d index entries (want 1)",
				len(recs), indexed())
		}
	}
	kinds := ""
	for _, r := range recs {
		kinds += string(r.EventName) + " "
		if len(r.Dynamodb.NewImage) > 0 || len(r.Dynamodb.OldImage) > 0 || r.Dynamodb.StreamViewType != stypes.StreamViewTypeKeysOnly {
			t.Errorf("a KEYS_ONLY stream's record carries images: %+v", r.Dynamodb)
		}
	}
	if kinds != "INSERT INSERT MODIFY REMOVE " {
		t.Errorf("events %q, want the two inserts, the modify and the sweeper's remove", kinds)
	}
}
