package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/partitadb/partita/node"
)

// streamsNode is a real single node with both SDK clients pointed at its
// one endpoint.
type streamsNode struct {
	db      *dynamodb.Client
	streams *dynamodbstreams.Client
	n       *node.Node
}

func startStreamsNode(t testing.TB, configure func(*node.Config)) *streamsNode {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.APIAddr = "127.0.0.1:0"
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Region = "eu-west-3"
	if configure != nil {
		configure(&cfg)
	}
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close node: %v", err)
		}
	})
	creds := credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")
	return &streamsNode{
		db: dynamodb.New(dynamodb.Options{Region: "eu-west-3", BaseEndpoint: aws.String(n.APIURL()), Credentials: creds}),
		streams: dynamodbstreams.New(dynamodbstreams.Options{Region: "eu-west-3", BaseEndpoint: aws.String(n.APIURL()),
			Credentials: creds}),
		n: n,
	}
}

// streamTable creates table name (hash key pk S, sort key sk N) with a
// stream of view and returns its stream ARN.
func (sn *streamsNode) streamTable(t testing.TB, name string, view types.StreamViewType) string {
	t.Helper()
	ctx := context.Background()
	out, err := sn.db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN}},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: view},
	})
	if err != nil {
		t.Fatalf("CreateTable %s: %v", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(sn.db, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 10*time.Second); err != nil {
		t.Fatalf("wait for %s: %v", name, err)
	}
	return aws.ToString(out.TableDescription.LatestStreamArn)
}

// readShard reads shard from iterator it to its current end: every record
// GetRecords returns until a page comes back empty (or the shard closes).
func (sn *streamsNode) readShard(t testing.TB, it *string) ([]stypes.Record, *string) {
	t.Helper()
	var recs []stypes.Record
	for it != nil {
		out, err := sn.streams.GetRecords(context.Background(), &dynamodbstreams.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(7)})
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		recs = append(recs, out.Records...)
		it = out.NextShardIterator
		if len(out.Records) == 0 {
			break
		}
	}
	return recs, it
}

// readStream reads every shard of stream arn from TRIM_HORIZON, in
// DescribeStream's order.
func (sn *streamsNode) readStream(t testing.TB, arn string) []stypes.Record {
	t.Helper()
	var recs []stypes.Record
	for _, sh := range sn.shards(t, arn) {
		it, err := sn.streams.GetShardIterator(context.Background(), &dynamodbstreams.GetShardIteratorInput{
			StreamArn: aws.String(arn), ShardId: sh.ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatalf("GetShardIterator %s: %v", aws.ToString(sh.ShardId), err)
		}
		r, _ := sn.readShard(t, it.ShardIterator)
		recs = append(recs, r...)
	}
	return recs
}

// shards lists the shards of stream arn, page by page.
func (sn *streamsNode) shards(t testing.TB, arn string) []stypes.Shard {
	t.Helper()
	var out []stypes.Shard
	var start *string
	for {
		d, err := sn.streams.DescribeStream(context.Background(), &dynamodbstreams.DescribeStreamInput{
			StreamArn: aws.String(arn), ExclusiveStartShardId: start, Limit: aws.Int32(2)})
		if err != nil {
			t.Fatalf("DescribeStream: %v", err)
		}
		out = append(out, d.StreamDescription.Shards...)
		if start = d.StreamDescription.LastEvaluatedShardId; start == nil {
			return out
		}
	}
}

func streamKey(r stypes.Record) string {
	pk := r.Dynamodb.Keys["pk"].(*stypes.AttributeValueMemberS).Value
	sk := r.Dynamodb.Keys["sk"].(*stypes.AttributeValueMemberN).Value
	return pk + "/" + sk
}

func imageV(img map[string]stypes.AttributeValue) string {
	if len(img) == 0 {
		return "-"
	}
	v, ok := img["v"].(*stypes.AttributeValueMemberS)
	if !ok {
		return "(no v)"
	}
	return v.Value
}

// TestSDKStreamsViews writes an insert, a modify and a remove under each
// view type and reads them back with the streams client.
func TestSDKStreamsViews(t *testing.T) {
	sn := startStreamsNode(t, nil)
	ctx := context.Background()
	for _, view := range []types.StreamViewType{types.StreamViewTypeKeysOnly, types.StreamViewTypeNewImage,
		types.StreamViewTypeOldImage, types.StreamViewTypeNewAndOldImages} {
		t.Run(string(view), func(t *testing.T) {
			name := "views-" + string(view)
			arn := sn.streamTable(t, name, view)
			key := map[string]types.AttributeValue{"pk": s("a"), "sk": num("1")}
			put := func(v string) {
				if _, err := sn.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(name),
					Item: map[string]types.AttributeValue{"pk": s("a"), "sk": num("1"), "v": s(v)}}); err != nil {
					t.Fatal(err)
				}
			}
			put("one")
			put("two")
			if _, err := sn.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(name), Key: key}); err != nil {
				t.Fatal(err)
			}
			recs := sn.readStream(t, arn)
			var got []string
			for _, r := range recs {
				if aws.ToString(r.EventSource) != "aws:dynamodb" || aws.ToString(r.EventVersion) != "1.1" ||
					aws.ToString(r.AwsRegion) != "eu-west-3" || r.Dynamodb.StreamViewType != stypes.StreamViewType(view) ||
					r.Dynamodb.SizeBytes == nil || *r.Dynamodb.SizeBytes <= 0 || r.Dynamodb.ApproximateCreationDateTime == nil {
					t.Fatalf("record fields: %+v %+v", r, *r.Dynamodb)
				}
				got = append(got, fmt.Sprintf("%s %s new=%s old=%s", r.EventName, streamKey(r),
					imageV(r.Dynamodb.NewImage), imageV(r.Dynamodb.OldImage)))
			}
			want := map[types.StreamViewType][]string{
				types.StreamViewTypeKeysOnly:        {"INSERT a/1 new=- old=-", "MODIFY a/1 new=- old=-", "REMOVE a/1 new=- old=-"},
				types.StreamViewTypeNewImage:        {"INSERT a/1 new=one old=-", "MODIFY a/1 new=two old=-", "REMOVE a/1 new=- old=-"},
				types.StreamViewTypeOldImage:        {"INSERT a/1 new=- old=-", "MODIFY a/1 new=- old=one", "REMOVE a/1 new=- old=two"},
				types.StreamViewTypeNewAndOldImages: {"INSERT a/1 new=one old=-", "MODIFY a/1 new=two old=one", "REMOVE a/1 new=- old=two"},
			}[view]
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("records:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// errCode is the API error code of err.
func streamsErrCode(err error) string {
	var nf *stypes.ResourceNotFoundException
	var ex *stypes.ExpiredIteratorException
	var tr *stypes.TrimmedDataAccessException
	switch {
	case errors.As(err, &nf):
		return "ResourceNotFoundException"
	case errors.As(err, &ex):
		return "ExpiredIteratorException"
	case errors.As(err, &tr):
		return "TrimmedDataAccessException"
	}
	return errorCode(err)
}
