package dynamo_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/settings"
)

// openStreamsNode starts a node with configure applied and no cleanup:
// the caller closes it (to restart it on the same data directory).
func openStreamsNode(t *testing.T, configure func(*node.Config)) *streamsNode {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.APIAddr = "127.0.0.1:0"
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Region = "eu-west-3"
	configure(&cfg)
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	creds := credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")
	return &streamsNode{
		db: dynamodb.New(dynamodb.Options{Region: "eu-west-3", BaseEndpoint: aws.String(n.APIURL()), Credentials: creds}),
		streams: dynamodbstreams.New(dynamodbstreams.Options{Region: "eu-west-3", BaseEndpoint: aws.String(n.APIURL()),
			Credentials: creds}),
		n: n,
	}
}

// streamARNs lists the ARNs of table's streams.
func (sn *streamsNode) streamARNs(t *testing.T, table string) []string {
	t.Helper()
	out, err := sn.streams.ListStreams(context.Background(), &dynamodbstreams.ListStreamsInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("ListStreams: %v", err)
	}
	var arns []string
	for _, s := range out.Streams {
		if aws.ToString(s.TableName) != table {
			t.Errorf("ListStreams: stream %s of table %q, want %q", aws.ToString(s.StreamArn), aws.ToString(s.TableName), table)
		}
		arns = append(arns, aws.ToString(s.StreamArn))
	}
	return arns
}

// checkDeletedStream checks the stream arn of the deleted table "gone" as
// DynamoDB shows one: listed, DISABLED, every shard closed, and read to
// its end: the writes before the delete and no record of the delete.
func (sn *streamsNode) checkDeletedStream(t *testing.T, arn string) {
	t.Helper()
	ctx := context.Background()
	if arns := sn.streamARNs(t, "gone"); !slices.Contains(arns, arn) {
		t.Fatalf("ListStreams lists %q, not the deleted table's %s", arns, arn)
	}
	d, err := sn.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("DescribeStream of the deleted table's stream: %v", err)
	}
	sd := d.StreamDescription
	if sd.StreamStatus != stypes.StreamStatusDisabled || aws.ToString(sd.TableName) != "gone" ||
		sd.StreamViewType != stypes.StreamViewTypeNewAndOldImages || len(sd.Shards) == 0 {
		t.Fatalf("DescribeStream: status %s, table %q, view %s, %d shards", sd.StreamStatus,
			aws.ToString(sd.TableName), sd.StreamViewType, len(sd.Shards))
	}
	events := map[string]int{}
	for _, sh := range sd.Shards {
		if sh.SequenceNumberRange.EndingSequenceNumber == nil {
			t.Fatalf("shard %s of a deleted table's stream is open", aws.ToString(sh.ShardId))
		}
		it, err := sn.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn),
			ShardId: sh.ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatalf("GetShardIterator %s: %v", aws.ToString(sh.ShardId), err)
		}
		recs, next := sn.readShard(t, it.ShardIterator)
		if next != nil {
			t.Errorf("shard %s read to its end still has a NextShardIterator", aws.ToString(sh.ShardId))
		}
		for _, r := range recs {
			events[string(r.EventName)+" "+streamKey(r)]++
		}
	}
	want := map[string]int{"INSERT a/1": 1, "INSERT b/1": 1, "INSERT c/1": 1, "INSERT d/1": 1, "MODIFY a/1": 1, "REMOVE b/1": 1}
	if len(events) != len(want) {
		t.Fatalf("records of the deleted table's stream: %v, want %v", events, want)
	}
	for k, n := range want {
		if events[k] != n {
			t.Fatalf("records of the deleted table's stream: %v, want %v", events, want)
		}
	}
}

// TestSDKStreamsDeletedTable: a deleted table's stream stays listed,
// DISABLED with closed shards, and readable to its end (without records
// of the delete) until the retention, through a restart and beside a new
// table of the same name with a stream of its own; after the retention
// the deleted-streams job removes it and its partitions.
func TestSDKStreamsDeletedTable(t *testing.T) {
	clock := &offsetClock{}
	dir := t.TempDir()
	configure := func(c *node.Config) {
		c.DataDir = dir
		c.Clock = clock.Now
		c.PartitionsPerTable = 2
		c.Settings = map[string]settings.Static{"changelog.retention": {Text: "1m", From: settings.FromFlag}}
	}
	sn := openStreamsNode(t, configure)
	t.Cleanup(func() {
		if err := sn.n.Close(); err != nil {
			t.Errorf("close node: %v", err)
		}
	})
	ctx := context.Background()
	oldARN := sn.streamTable(t, "gone", types.StreamViewTypeNewAndOldImages)
	put := func(pk, v string) {
		t.Helper()
		if _, err := sn.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("gone"),
			Item: map[string]types.AttributeValue{"pk": s(pk), "sk": num("1"), "v": s(v)}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, pk := range []string{"a", "b", "c", "d"} {
		put(pk, "one")
	}
	put("a", "two")
	if _, err := sn.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("gone"),
		Key: map[string]types.AttributeValue{"pk": s("b"), "sk": num("1")}}); err != nil {
		t.Fatal(err)
	}
	del, err := sn.db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("gone")})
	if err != nil {
		t.Fatal(err)
	}
	if del.TableDescription.TableStatus != types.TableStatusDeleting || aws.ToString(del.TableDescription.LatestStreamArn) != oldARN {
		t.Fatalf("DeleteTable: status %s, stream %s", del.TableDescription.TableStatus, aws.ToString(del.TableDescription.LatestStreamArn))
	}

	// The table is gone at once; its stream is not.
	_, err = sn.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("gone")})
	wantCode(t, "DescribeTable of the deleted table", err, "ResourceNotFoundException")
	list, err := sn.db.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil || len(list.TableNames) != 0 {
		t.Fatalf("ListTables after the delete: %v %v", list.TableNames, err)
	}
	sn.checkDeletedStream(t, oldARN)

	// The name is free again; the new table's stream is another.
	newARN := sn.streamTable(t, "gone", types.StreamViewTypeKeysOnly)
	if newARN == oldARN {
		t.Fatalf("the new table's stream has the deleted table's ARN %s", newARN)
	}
	put("z", "new")
	scan, err := sn.db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("gone")})
	if err != nil || scan.Count != 1 {
		t.Fatalf("Scan of the new table: %d items, %v", scan.Count, err)
	}
	if arns := sn.streamARNs(t, "gone"); len(arns) != 2 {
		t.Fatalf("ListStreams: %q, want the deleted table's and the new one's", arns)
	}
	if recs := sn.readStream(t, newARN); len(recs) != 1 || streamKey(recs[0]) != "z/1" {
		t.Fatalf("the new table's stream: %+v", recs)
	}
	sn.checkDeletedStream(t, oldARN)

	// Kept through a restart.
	if err := sn.n.Close(); err != nil {
		t.Fatal(err)
	}
	sn = openStreamsNode(t, configure)
	sn.checkDeletedStream(t, oldARN)
	shard := sn.shards(t, oldARN)[0].ShardId
	it, err := sn.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(oldARN),
		ShardId: shard, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}

	// After the retention (1 minute) the job removes the stream and the
	// deleted table's two partitions; the new table keeps its own.
	replicas := sn.n.Replicas()
	clock.Jump(61 * time.Second)
	if err := sn.n.Jobs().RunNow(node.DeletedStreamsJob); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for sn.n.Replicas() != replicas-2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d replicas 30 s after the retention, want %d", sn.n.Replicas(), replicas-2)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, err = sn.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(oldARN)})
	if streamsErrCode(err) != "ResourceNotFoundException" {
		t.Fatalf("DescribeStream after the retention: %v", err)
	}
	_, err = sn.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
	if streamsErrCode(err) != "ResourceNotFoundException" {
		t.Fatalf("GetRecords after the retention: %v", err)
	}
	if arns := sn.streamARNs(t, "gone"); len(arns) != 1 || arns[0] != newARN {
		t.Fatalf("ListStreams after the retention: %q, want %s", arns, newARN)
	}
}
