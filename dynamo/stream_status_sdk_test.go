package dynamo_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/partitadb/partita/node"
)

// waitStreamStatus polls DescribeStream until stream arn shows want, and
// fails on a status that is neither want nor the one before it.
func (sn *streamsNode) waitStreamStatus(t testing.TB, arn string, want stypes.StreamStatus) {
	t.Helper()
	before := map[stypes.StreamStatus]stypes.StreamStatus{
		stypes.StreamStatusEnabled: stypes.StreamStatusEnabling, stypes.StreamStatusDisabled: stypes.StreamStatusDisabling}[want]
	for range 2000 {
		d, err := sn.streams.DescribeStream(context.Background(), &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("DescribeStream: %v", err)
		}
		switch d.StreamDescription.StreamStatus {
		case want:
			return
		case before:
		default:
			t.Fatalf("stream status %s while waiting for %s", d.StreamDescription.StreamStatus, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("stream %s not %s after 2,000 polls", arn, want)
}

// streamStatus is DescribeStream's StreamStatus of arn.
func (sn *streamsNode) streamStatus(t testing.TB, arn string) stypes.StreamStatus {
	t.Helper()
	d, err := sn.streams.DescribeStream(context.Background(), &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("DescribeStream: %v", err)
	}
	return d.StreamDescription.StreamStatus
}

// TestSDKStreamsEnablingDisabling enables a stream on a table of four
// partitions under four writers, with the stream-status job paused then
// resumed: the stream shows ENABLING (DescribeStream; DescribeTable shows
// its specification and ARN) and refuses to be disabled, then ENABLED;
// every write started after it showed ENABLED is in the stream once, no
// write is twice, and none from before the enabling (kept in the log for
// point-in-time recovery) leaks in, read from TRIM_HORIZON or through
// iterators taken while ENABLING (which read nothing until then). Then it is disabled: DISABLING (and
// no new stream meanwhile), then DISABLED, its shards read to their end,
// without the writes made after it showed DISABLED.
func TestSDKStreamsEnablingDisabling(t *testing.T) {
	sn := startStreamsNode(t, func(c *node.Config) { c.PartitionsPerTable = 4 })
	ctx := context.Background()
	const table = "status"
	if _, err := sn.db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN}},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
	}); err != nil {
		t.Fatal(err)
	}
	w := dynamodb.NewTableExistsWaiter(sn.db, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// Point-in-time recovery makes the log keep every write before the
	// stream exists.
	if _, err := sn.db.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(table),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	put := func(pk string, sk int) error {
		_, err := sn.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
			Item: map[string]types.AttributeValue{"pk": s(pk), "sk": num(strconv.Itoa(sk))}})
		return err
	}
	for i := range 8 {
		if err := put("pre", i); err != nil {
			t.Fatal(err)
		}
	}
	update := func(enable bool, view types.StreamViewType) (*dynamodb.UpdateTableOutput, error) {
		return sn.db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table),
			StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(enable), StreamViewType: view}})
	}
	jobs := sn.n.Jobs()
	if err := jobs.Pause(node.StreamStatusJob); err != nil {
		t.Fatal(err)
	}

	// Four writers, each putting new items; a put started after the
	// stream showed ENABLED must be in it.
	var enabled atomic.Bool
	var mu sync.Mutex
	acked := map[string]bool{} // key -> started after ENABLED
	var wg sync.WaitGroup
	const afterEach = 40
	for wr := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pk := fmt.Sprintf("w%d", wr)
			after := 0
			for i := 0; after < afterEach; i++ {
				late := enabled.Load()
				if err := put(pk, i); err != nil {
					t.Errorf("PutItem %s %d: %v", pk, i, err)
					return
				}
				mu.Lock()
				acked[fmt.Sprintf("%s/%d", pk, i)] = late
				mu.Unlock()
				if late {
					after++
				}
			}
		}()
	}

	out, err := update(true, types.StreamViewTypeNewAndOldImages)
	if err != nil {
		t.Fatalf("enable: %v", err)
	}
	arn := aws.ToString(out.TableDescription.LatestStreamArn)
	if sp := out.TableDescription.StreamSpecification; arn == "" || sp == nil || !aws.ToBool(sp.StreamEnabled) {
		t.Fatalf("UpdateTable's description: StreamSpecification %+v, LatestStreamArn %q", sp, arn)
	}
	if st := sn.streamStatus(t, arn); st != stypes.StreamStatusEnabling {
		t.Fatalf("status %s after UpdateTable with the job paused, want ENABLING", st)
	}
	d, err := sn.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.Table.LatestStreamArn) != arn || d.Table.StreamSpecification == nil ||
		d.Table.StreamSpecification.StreamViewType != types.StreamViewTypeNewAndOldImages {
		t.Fatalf("DescribeTable while ENABLING: %q %+v", aws.ToString(d.Table.LatestStreamArn), d.Table.StreamSpecification)
	}
	// While ENABLING: disabling is refused as DynamoDB refuses a change of
	// a table being updated; enabling again as for any enabled stream.
	_, err = update(false, "")
	wantCode(t, "disable while ENABLING", err, "ResourceInUseException")
	if msg := apiMessage(err); msg != "Attempt to change a resource which is still in use: Table is being updated: "+table {
		t.Fatalf("disable while ENABLING: %q", msg)
	}
	_, err = update(true, types.StreamViewTypeKeysOnly)
	wantCode(t, "enable while ENABLING", err, "ValidationException")
	if msg := apiMessage(err); msg != "Table already has an enabled stream: TableName: "+table {
		t.Fatalf("enable while ENABLING: %q", msg)
	}
	// Iterators taken while ENABLING read nothing until ENABLED, then from
	// the stream's start: nothing from before it.
	var early []*string
	for _, sh := range sn.shards(t, arn) {
		it, err := sn.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
			StreamArn: aws.String(arn), ShardId: sh.ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		recs, next := sn.readShard(t, it.ShardIterator)
		if len(recs) != 0 || next == nil {
			t.Fatalf("GetRecords while ENABLING: %d records, next iterator %v", len(recs), next != nil)
		}
		early = append(early, next)
	}
	if err := jobs.Resume(node.StreamStatusJob); err != nil {
		t.Fatal(err)
	}
	if err := jobs.RunNow(node.StreamStatusJob); err != nil {
		t.Fatal(err)
	}
	sn.waitStreamStatus(t, arn, stypes.StreamStatusEnabled)
	enabled.Store(true)
	wg.Wait()
	if t.Failed() {
		return
	}

	seen := map[string]int{}
	for _, r := range sn.readStream(t, arn) {
		seen[streamKey(r)]++
	}
	earlySeen := map[string]int{}
	for _, it := range early {
		// Pages of 1,000 log records: more than a shard holds here, so a
		// page hides at most the records before the stream's start and
		// only the last one is empty.
		for it != nil {
			out, err := sn.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(1000)})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range out.Records {
				earlySeen[streamKey(r)]++
			}
			if it = out.NextShardIterator; len(out.Records) == 0 {
				break
			}
		}
	}
	if fmt.Sprint(earlySeen) != fmt.Sprint(seen) {
		t.Errorf("iterators from ENABLING read %d records, TRIM_HORIZON after ENABLED %d", len(earlySeen), len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s is %d times in the stream", k, n)
		}
		if _, ok := acked[k]; !ok {
			t.Errorf("%s is in the stream, not a write of the writers (from before the enabling?)", k)
		}
	}
	missing, late := 0, 0
	for k, after := range acked {
		if after {
			late++
			if seen[k] == 0 {
				missing++
			}
		}
	}
	if missing > 0 || late != 4*afterEach {
		t.Fatalf("%d of the %d writes started after ENABLED are missing from the stream", missing, late)
	}
	t.Logf("%d writes, %d in the stream, %d after ENABLED", len(acked), len(seen), late)

	// Disabling: DISABLING with the job paused, then DISABLED.
	if err := jobs.Pause(node.StreamStatusJob); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := put("before-disable", i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := update(false, ""); err != nil {
		t.Fatalf("disable: %v", err)
	}
	if st := sn.streamStatus(t, arn); st != stypes.StreamStatusDisabling {
		t.Fatalf("status %s after disabling with the job paused, want DISABLING", st)
	}
	_, err = update(true, types.StreamViewTypeKeysOnly)
	wantCode(t, "enable while DISABLING", err, "ResourceInUseException")
	if msg := apiMessage(err); msg != "Attempt to change a resource which is still in use: Table is being updated: "+table {
		t.Fatalf("enable while DISABLING: %q", msg)
	}
	if d, err = sn.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}); err != nil {
		t.Fatal(err)
	}
	if d.Table.StreamSpecification != nil || aws.ToString(d.Table.LatestStreamArn) != arn {
		t.Fatalf("DescribeTable while DISABLING: %+v %q", d.Table.StreamSpecification, aws.ToString(d.Table.LatestStreamArn))
	}
	if err := jobs.Resume(node.StreamStatusJob); err != nil {
		t.Fatal(err)
	}
	if err := jobs.RunNow(node.StreamStatusJob); err != nil {
		t.Fatal(err)
	}
	sn.waitStreamStatus(t, arn, stypes.StreamStatusDisabled)
	for i := range 5 {
		if err := put("after-disabled", i); err != nil {
			t.Fatal(err)
		}
	}
	seen = map[string]int{}
	for _, sh := range sn.shards(t, arn) {
		it, err := sn.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
			StreamArn: aws.String(arn), ShardId: sh.ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		recs, next := sn.readShard(t, it.ShardIterator)
		if next != nil {
			t.Errorf("shard %s of the disabled stream read to its end still has an iterator", aws.ToString(sh.ShardId))
		}
		for _, r := range recs {
			seen[streamKey(r)]++
		}
	}
	for i := range 5 {
		if k := fmt.Sprintf("before-disable/%d", i); seen[k] != 1 {
			t.Errorf("%s is %d times in the disabled stream, want once", k, seen[k])
		}
		if k := fmt.Sprintf("after-disabled/%d", i); seen[k] != 0 {
			t.Errorf("%s, written after DISABLED, is in the stream", k)
		}
	}
	// Enabling again now makes a new stream.
	if out, err = update(true, types.StreamViewTypeKeysOnly); err != nil {
		t.Fatalf("enable again: %v", err)
	}
	if arn2 := aws.ToString(out.TableDescription.LatestStreamArn); arn2 == arn {
		t.Fatalf("the new stream has the old ARN %s", arn)
	}
}
