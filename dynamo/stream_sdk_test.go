package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/smithy-go"

	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/settings"
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
	n := runNode(t, func(cfg *node.Config) {
		cfg.Region = "eu-west-3"
		if configure != nil {
			configure(cfg)
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

// offsetClock is the real clock moved forward by what Jump adds.
type offsetClock struct{ offset atomic.Int64 }

func (c *offsetClock) Now() time.Time       { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *offsetClock) Jump(d time.Duration) { c.offset.Add(int64(d)) }

// TestSDKStreamsSpecification enables and disables streams through
// CreateTable and UpdateTable, with DynamoDB's errors, and lists and
// describes them.
func TestSDKStreamsSpecification(t *testing.T) {
	sn := startStreamsNode(t, nil)
	ctx := context.Background()
	arn := sn.streamTable(t, "spec", types.StreamViewTypeNewImage)
	d, err := sn.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("spec")})
	if err != nil {
		t.Fatal(err)
	}
	label := aws.ToString(d.Table.LatestStreamLabel)
	if _, err := time.Parse("2006-01-02T15:04:05.000", label); err != nil {
		t.Fatalf("LatestStreamLabel %q: %v", label, err)
	}
	if want := "arn:aws:dynamodb:eu-west-3:000000000000:table/spec/stream/" + label; arn != want || aws.ToString(d.Table.LatestStreamArn) != want {
		t.Fatalf("stream ARN %q (DescribeTable %q), want %q", arn, aws.ToString(d.Table.LatestStreamArn), want)
	}
	if sp := d.Table.StreamSpecification; sp == nil || !aws.ToBool(sp.StreamEnabled) || sp.StreamViewType != types.StreamViewTypeNewImage {
		t.Fatalf("StreamSpecification %+v", sp)
	}
	update := func(spec *types.StreamSpecification) error {
		_, err := sn.db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("spec"), StreamSpecification: spec})
		return err
	}
	for _, c := range []struct {
		spec *types.StreamSpecification
		msg  string
	}{
		{&types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeKeysOnly},
			"Table already has an enabled stream: TableName: spec"},
		{&types.StreamSpecification{StreamEnabled: aws.Bool(true)},
			"One or more parameter values were invalid: If stream is being enabled then UpdateViewType is required"},
		{&types.StreamSpecification{StreamEnabled: aws.Bool(false), StreamViewType: types.StreamViewTypeKeysOnly},
			"One or more parameter values were invalid: If stream is being disabled, then UpdateViewType must not be specified"},
		{&types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: "SOME_IMAGES"},
			"1 validation error detected: Value 'SOME_IMAGES' at 'streamSpecification.streamViewType' failed to satisfy constraint: " +
				"Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]"},
	} {
		err := update(c.spec)
		wantCode(t, "UpdateTable", err, "ValidationException")
		if msg := apiMessage(err); msg != c.msg {
			t.Fatalf("UpdateTable %+v: message %q, want %q", c.spec, msg, c.msg)
		}
	}
	if _, err := sn.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("spec"),
		Item: map[string]types.AttributeValue{"pk": s("a"), "sk": num("1")}}); err != nil {
		t.Fatal(err)
	}
	if err := update(&types.StreamSpecification{StreamEnabled: aws.Bool(false)}); err != nil {
		t.Fatalf("disable: %v", err)
	}
	sn.waitStreamStatus(t, arn, stypes.StreamStatusDisabled)
	err = update(&types.StreamSpecification{StreamEnabled: aws.Bool(false)})
	wantCode(t, "disable twice", err, "ValidationException")
	if msg := apiMessage(err); msg != "Table has no stream to disable: TableName: spec" {
		t.Fatalf("disable twice: %q", msg)
	}
	d, err = sn.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("spec")})
	if err != nil {
		t.Fatal(err)
	}
	if d.Table.StreamSpecification != nil || aws.ToString(d.Table.LatestStreamArn) != arn {
		t.Fatalf("after disable: StreamSpecification %+v, LatestStreamArn %q", d.Table.StreamSpecification, aws.ToString(d.Table.LatestStreamArn))
	}
	// The disabled stream is listed and readable, its shards closed.
	ds, err := sn.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if ds.StreamDescription.StreamStatus != stypes.StreamStatusDisabled || aws.ToString(ds.StreamDescription.TableName) != "spec" ||
		len(ds.StreamDescription.KeySchema) != 2 {
		t.Fatalf("disabled stream: %+v", ds.StreamDescription)
	}
	if recs := sn.readStream(t, arn); len(recs) != 1 || recs[0].EventName != stypes.OperationTypeInsert {
		t.Fatalf("disabled stream's records: %+v", recs)
	}
	// Enabling again makes a new stream with a new label; both are listed.
	time.Sleep(2 * time.Millisecond) // labels have millisecond precision
	if err := update(&types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeKeysOnly}); err != nil {
		t.Fatalf("enable again: %v", err)
	}
	d, err = sn.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("spec")})
	if err != nil {
		t.Fatal(err)
	}
	arn2 := aws.ToString(d.Table.LatestStreamArn)
	if arn2 == arn || aws.ToString(d.Table.LatestStreamLabel) == label {
		t.Fatalf("re-enabled stream kept its ARN %q", arn2)
	}
	sn.streamTable(t, "other", types.StreamViewTypeKeysOnly)
	var listed []string
	var start *string
	for {
		l, err := sn.streams.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: aws.String("spec"), Limit: aws.Int32(1),
			ExclusiveStartStreamArn: start})
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range l.Streams {
			listed = append(listed, aws.ToString(st.StreamArn))
		}
		if start = l.LastEvaluatedStreamArn; start == nil {
			break
		}
	}
	if fmt.Sprint(listed) != fmt.Sprint([]string{arn, arn2}) {
		t.Fatalf("ListStreams spec: %q, want %q", listed, []string{arn, arn2})
	}
	all, err := sn.streams.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{})
	if err != nil || len(all.Streams) != 3 {
		t.Fatalf("ListStreams: %v %+v", err, all)
	}
	_, err = sn.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn + "0")})
	if streamsErrCode(err) != "ResourceNotFoundException" {
		t.Fatalf("DescribeStream of an unknown stream: %v", err)
	}
}

// apiMessage is the message of an API error.
func apiMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

// TestSDKStreamsIterators reads a shard from iterators of each type, and
// checks the errors of bad, forged and expired iterators and of trimmed
// records.
func TestSDKStreamsIterators(t *testing.T) {
	clock := &offsetClock{}
	sn := startStreamsNode(t, func(c *node.Config) {
		c.Clock = clock.Now
		c.PartitionsPerTable = 1
		c.Settings = map[string]settings.Static{"changelog.retention": {Text: "1m", From: settings.FromFlag}}
	})
	ctx := context.Background()
	arn := sn.streamTable(t, "iters", types.StreamViewTypeNewImage)
	for i := 1; i <= 5; i++ {
		if _, err := sn.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("iters"),
			Item: map[string]types.AttributeValue{"pk": s("a"), "sk": num(fmt.Sprint(i))}}); err != nil {
			t.Fatal(err)
		}
	}
	shards := sn.shards(t, arn)
	if len(shards) != 1 || shards[0].ParentShardId != nil || shards[0].SequenceNumberRange.EndingSequenceNumber != nil {
		t.Fatalf("shards: %+v", shards)
	}
	shard := shards[0].ShardId
	iter := func(typ stypes.ShardIteratorType, seq *string) (*string, error) {
		out, err := sn.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn),
			ShardId: shard, ShardIteratorType: typ, SequenceNumber: seq})
		if err != nil {
			return nil, err
		}
		return out.ShardIterator, nil
	}
	sks := func(recs []stypes.Record) string {
		var out []string
		for _, r := range recs {
			out = append(out, r.Dynamodb.Keys["sk"].(*stypes.AttributeValueMemberN).Value)
		}
		return fmt.Sprint(out)
	}
	horizon, err := iter(stypes.ShardIteratorTypeTrimHorizon, nil)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := sn.readShard(t, horizon)
	if got := sks(all); got != "[1 2 3 4 5]" {
		t.Fatalf("TRIM_HORIZON: %s", got)
	}
	seqs := make([]string, len(all))
	for i, r := range all {
		seqs[i] = aws.ToString(r.Dynamodb.SequenceNumber)
		if len(seqs[i]) < 21 || i > 0 && seqs[i] <= seqs[i-1] {
			t.Fatalf("sequence numbers %q", seqs)
		}
	}
	at, err := iter(stypes.ShardIteratorTypeAtSequenceNumber, aws.String(seqs[2]))
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := sn.readShard(t, at); sks(r) != "[3 4 5]" {
		t.Fatalf("AT_SEQUENCE_NUMBER 3: %s", sks(r))
	}
	after, err := iter(stypes.ShardIteratorTypeAfterSequenceNumber, aws.String(seqs[2]))
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := sn.readShard(t, after); sks(r) != "[4 5]" {
		t.Fatalf("AFTER_SEQUENCE_NUMBER 3: %s", sks(r))
	}
	latest, err := iter(stypes.ShardIteratorTypeLatest, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, next := sn.readShard(t, latest)
	if len(r) != 0 || next == nil {
		t.Fatalf("LATEST before a write: %d records, next %v", len(r), next)
	}
	if _, err := sn.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("iters"),
		Item: map[string]types.AttributeValue{"pk": s("a"), "sk": num("6")}}); err != nil {
		t.Fatal(err)
	}
	if r, _ := sn.readShard(t, next); sks(r) != "[6]" {
		t.Fatalf("LATEST after a write: %s", sks(r))
	}

	// Malformed, forged and misplaced requests.
	_, err = sn.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String("not an iterator")})
	wantCode(t, "GetRecords of garbage", err, "ValidationException")
	forged := []byte(aws.ToString(horizon))
	forged[len(forged)/2] ^= 1
	_, err = sn.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(string(forged))})
	wantCode(t, "GetRecords of a forged iterator", err, "ValidationException")
	_, err = sn.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: horizon, Limit: aws.Int32(1001)})
	wantCode(t, "GetRecords with Limit 1001", err, "ValidationException")
	_, err = iter(stypes.ShardIteratorTypeAtSequenceNumber, nil)
	wantCode(t, "AT_SEQUENCE_NUMBER without one", err, "ValidationException")
	_, err = sn.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn),
		ShardId: aws.String("shardId-00000000000000000999-00000000000000000001"), ShardIteratorType: stypes.ShardIteratorTypeLatest})
	if streamsErrCode(err) != "ResourceNotFoundException" {
		t.Fatalf("GetShardIterator of an unknown shard: %v", err)
	}

	// Expiry: an iterator is good for 15 minutes.
	clock.Jump(14 * time.Minute)
	if _, err := sn.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: horizon}); err != nil {
		t.Fatalf("GetRecords of a 14-minute-old iterator: %v", err)
	}
	clock.Jump(2 * time.Minute)
	_, err = sn.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: horizon})
	if streamsErrCode(err) != "ExpiredIteratorException" {
		t.Fatalf("GetRecords of a 16-minute-old iterator: %v", err)
	}

	// Trimming: records older than the retention (1 minute) go at the
	// next write; reading them is TrimmedDataAccessException.
	horizon, err = iter(stypes.ShardIteratorTypeTrimHorizon, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sn.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("iters"),
		Item: map[string]types.AttributeValue{"pk": s("a"), "sk": num("7")}}); err != nil {
		t.Fatal(err)
	}
	_, err = sn.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: horizon})
	if streamsErrCode(err) != "TrimmedDataAccessException" {
		t.Fatalf("GetRecords of trimmed records: %v", err)
	}
	_, err = iter(stypes.ShardIteratorTypeAtSequenceNumber, aws.String(seqs[0]))
	if streamsErrCode(err) != "TrimmedDataAccessException" {
		t.Fatalf("GetShardIterator at a trimmed record: %v", err)
	}
	horizon, err = iter(stypes.ShardIteratorTypeTrimHorizon, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, _ = sn.readShard(t, horizon)
	if sks(r) != "[7]" {
		t.Fatalf("TRIM_HORIZON after the trim: %s", sks(r))
	}
	// The record's time and a new table's creation time are the node's
	// clock's (16 minutes ahead of the machine's): the router stamps
	// commands with it too.
	if at := aws.ToTime(r[0].Dynamodb.ApproximateCreationDateTime); at.Before(time.Now().Add(15 * time.Minute)) {
		t.Fatalf("record 7 written at %v, before the node's clock (%v)", at, clock.Now())
	}
	sn.streamTable(t, "later", types.StreamViewTypeNewImage)
	d, err := sn.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("later")})
	if err != nil {
		t.Fatal(err)
	}
	if at := aws.ToTime(d.Table.CreationDateTime); at.Before(time.Now().Add(15 * time.Minute)) {
		t.Fatalf("table created at %v, before the node's clock (%v)", at, clock.Now())
	}
}
