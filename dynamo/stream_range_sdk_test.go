package dynamo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/partitadb/partita/node"
)

// TestSDKStreamsShardRange: a stream enabled on a table whose change log
// already holds records (point-in-time recovery logs every write), then
// disabled while writes go on. DescribeStream's SequenceNumberRange of
// each shard is the stream's, not its log segment's: an iterator
// AT_SEQUENCE_NUMBER of the shard's StartingSequenceNumber reads the
// shard's first record of the stream (the first write after the
// enabling), the same as TRIM_HORIZON; once the stream is DISABLED, the
// shard's EndingSequenceNumber is its last record's, although the log
// goes on past it.
func TestSDKStreamsShardRange(t *testing.T) {
	sn := startStreamsNode(t, func(c *node.Config) { c.PartitionsPerTable = 2 })
	ctx := context.Background()
	const table = "ranges"
	if _, err := sn.db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	}); err != nil {
		t.Fatal(err)
	}
	w := dynamodb.NewTableExistsWaiter(sn.db, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := sn.db.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(table),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	// Sixteen items (both partitions get some), each written before the
	// stream (phase 1), while it is enabled (2), and after it is
	// disabled (3).
	putAll := func(phase int) {
		t.Helper()
		for i := range 16 {
			if _, err := sn.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
				"pk": s(fmt.Sprintf("k%d", i)), "phase": num(fmt.Sprint(phase))}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	phase := func(r stypes.Record) string {
		if n, ok := r.Dynamodb.NewImage["phase"].(*stypes.AttributeValueMemberN); ok {
			return n.Value
		}
		return "none"
	}
	putAll(1)
	out, err := sn.db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.TableDescription.LatestStreamArn)
	sn.waitStreamStatus(t, arn, stypes.StreamStatusEnabled)
	putAll(2)

	first := func(sh stypes.Shard, typ stypes.ShardIteratorType, seq *string) *stypes.Record {
		t.Helper()
		it, err := sn.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn),
			ShardId: sh.ShardId, ShardIteratorType: typ, SequenceNumber: seq})
		if err != nil {
			t.Fatalf("GetShardIterator %s %s: %v", aws.ToString(sh.ShardId), typ, err)
		}
		page, err := sn.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(1)})
		if err != nil {
			t.Fatalf("GetRecords %s %s: %v", aws.ToString(sh.ShardId), typ, err)
		}
		if len(page.Records) == 0 {
			return nil
		}
		return &page.Records[0]
	}
	describe := func() []stypes.Shard {
		t.Helper()
		d, err := sn.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		if len(d.StreamDescription.Shards) != 2 {
			t.Fatalf("shards %+v, want one a partition", d.StreamDescription.Shards)
		}
		return d.StreamDescription.Shards
	}
	for _, sh := range describe() {
		start := sh.SequenceNumberRange.StartingSequenceNumber
		at := first(sh, stypes.ShardIteratorTypeAtSequenceNumber, start)
		horizon := first(sh, stypes.ShardIteratorTypeTrimHorizon, nil)
		switch {
		case at == nil || horizon == nil:
			t.Errorf("shard %s: no record at its StartingSequenceNumber %s (%v) or TRIM_HORIZON (%v)", aws.ToString(sh.ShardId), aws.ToString(start), at, horizon)
		case aws.ToString(at.Dynamodb.SequenceNumber) != aws.ToString(start):
			t.Errorf("shard %s: StartingSequenceNumber %s, its first record's %s (phase %s)", aws.ToString(sh.ShardId),
				aws.ToString(start), aws.ToString(at.Dynamodb.SequenceNumber), phase(*at))
		case phase(*at) != "2" || aws.ToString(horizon.Dynamodb.SequenceNumber) != aws.ToString(start):
			t.Errorf("shard %s: first record %+v (phase %s), at TRIM_HORIZON %s, want the first write after the enabling",
				aws.ToString(sh.ShardId), at.Dynamodb, phase(*at), aws.ToString(horizon.Dynamodb.SequenceNumber))
		}
	}

	if _, err := sn.db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(false)}}); err != nil {
		t.Fatal(err)
	}
	sn.waitStreamStatus(t, arn, stypes.StreamStatusDisabled)
	putAll(3)
	for _, sh := range describe() {
		end := sh.SequenceNumberRange.EndingSequenceNumber
		if end == nil {
			t.Fatalf("shard %s of a DISABLED stream is open", aws.ToString(sh.ShardId))
		}
		it, err := sn.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn),
			ShardId: sh.ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		var last *stypes.Record
		for next := it.ShardIterator; next != nil; {
			page, err := sn.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: next})
			if err != nil {
				t.Fatal(err)
			}
			for i := range page.Records {
				if p := phase(page.Records[i]); p != "2" {
					t.Errorf("shard %s: a record of phase %s in the stream", aws.ToString(sh.ShardId), p)
				}
				last = &page.Records[i]
			}
			next = page.NextShardIterator
		}
		if last == nil || aws.ToString(last.Dynamodb.SequenceNumber) != aws.ToString(end) {
			t.Errorf("shard %s: EndingSequenceNumber %s, last record %v", aws.ToString(sh.ShardId), aws.ToString(end), last)
		}
	}
}
