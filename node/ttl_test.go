package node_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/smithy-go"

	"github.com/partitadb/partita/node"
)

// TestTimeToLive: UpdateTimeToLive and DescribeTimeToLive with DynamoDB's
// states and errors, and the sweeper deleting exactly the expired items:
// a Number of seconds at or before now, not one in the future, not a
// String, not one more than five years old, not an item without the
// attribute, and not an item rewritten with a later expiry.
func TestTimeToLive(t *testing.T) {
	t.Parallel()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.AdminAddr = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	cfg.TTLInterval = 100 * time.Millisecond
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	c := client(n)
	ctx := context.Background()
	createCapacityTable(t, c, "ttl", 0, 0)
	// The table's stream shows who deleted what: the sweeper's deletions
	// as the service's.
	streamed, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("ttl"),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeKeysOnly}})
	if err != nil {
		t.Fatal(err)
	}

	describe := func() (types.TimeToLiveStatus, string) {
		t.Helper()
		out, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("ttl")})
		if err != nil {
			t.Fatal(err)
		}
		return out.TimeToLiveDescription.TimeToLiveStatus, aws.ToString(out.TimeToLiveDescription.AttributeName)
	}
	update := func(enabled bool, attr string) error {
		_, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("ttl"),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(enabled), AttributeName: aws.String(attr)}})
		return err
	}
	wantErr := func(err error, code, msg string) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != code || ae.ErrorMessage() != msg {
			t.Fatalf("got %v, want %s: %s", err, code, msg)
		}
	}
	if st, attr := describe(); st != types.TimeToLiveStatusDisabled || attr != "" {
		t.Fatalf("a new table's TTL: %s %q", st, attr)
	}
	wantErr(update(false, "exp"), "ValidationException", "TimeToLive is already disabled")
	_, err = c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("nope"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("exp")}})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("a missing table: %v", err)
	}

	// Items written before TTL is enabled are swept too.
	now := time.Now().Unix()
	put := func(pk string, exp types.AttributeValue) {
		t.Helper()
		it := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
		if exp != nil {
			it["exp"] = exp
		}
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ttl"), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	num := func(v int64) types.AttributeValue {
		return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
	}
	for i := range 20 {
		put(fmt.Sprint("expired-", i), num(now-int64(10+i)))
	}
	put("future", num(now+3600))
	put("string", &types.AttributeValueMemberS{Value: strconv.FormatInt(now-10, 10)})
	put("ancient", num(now-6*365*24*3600))
	put("none", nil)
	put("renewed", num(now-10))
	put("renewed", num(now+3600)) // its life extended before the sweep
	put("client-deleted", num(now+3600))
	if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("ttl"),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "client-deleted"}}}); err != nil {
		t.Fatal(err)
	}

	if err := update(true, "exp"); err != nil {
		t.Fatal(err)
	}
	if st, attr := describe(); st != types.TimeToLiveStatusEnabling || attr != "exp" {
		t.Fatalf("just enabled: %s %q", st, attr)
	}
	wantErr(update(true, "exp"), "ValidationException", "TimeToLive is already enabled")
	wantErr(update(true, "other"), "ValidationException", "TimeToLive is already enabled")
	wantErr(update(false, "other"), "ValidationException", "TimeToLive is active on a different AttributeName: current AttributeName is exp")
	wantErr(update(false, "exp"), "ValidationException", "Time to live has been modified multiple times within a fixed interval")

	get := func(pk string) bool {
		t.Helper()
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("ttl"), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item != nil
	}
	deadline := time.Now().Add(30 * time.Second)
	for i := range 20 {
		for get(fmt.Sprint("expired-", i)) {
			if time.Now().After(deadline) {
				t.Fatalf("expired-%d not deleted 30 s after TTL was enabled", i)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, pk := range []string{"future", "string", "ancient", "none", "renewed"} {
		if !get(pk) {
			t.Errorf("%s was deleted: it had not expired", pk)
		}
	}
	recs, _ := readAllShards(ctx, t, streamsClient(n), aws.ToString(streamed.TableDescription.LatestStreamArn))
	removes := map[string]*stypes.Identity{}
	for _, r := range recs {
		if r.EventName == stypes.OperationTypeRemove {
			removes[r.Dynamodb.Keys["pk"].(*stypes.AttributeValueMemberS).Value] = r.UserIdentity
		}
	}
	if len(removes) != 21 {
		t.Errorf("the stream has %d REMOVE records, want 21 (20 expired, 1 by the client): %v", len(removes), removes)
	}
	for i := range 20 {
		id, ok := removes[fmt.Sprint("expired-", i)]
		if !ok || id == nil || aws.ToString(id.Type) != "Service" || aws.ToString(id.PrincipalId) != "dynamodb.amazonaws.com" {
			t.Errorf("expired-%d's REMOVE record: present %v, userIdentity %+v, want the service's", i, ok, id)
		}
	}
	if id, ok := removes["client-deleted"]; !ok || id != nil {
		t.Errorf("the client's deletion: present %v, userIdentity %+v, want none", ok, id)
	}
}

// TestTTLSweepResumes: a sweep whose budget runs out goes on, next cycle,
// from the item after the last it read, so a pass over a partition reads
// each item about once. (Begun from the start each cycle, 20 cycles of 10
// deletions over 400 items read about 4,000.)
//
// Not run in parallel: the count includes the cycles between the last
// deletion and the check, which a loaded machine lengthens.
func TestTTLSweepResumes(t *testing.T) {
	n := startWith(t, func(c *node.Config) { c.TTLInterval, c.TTLMaxDeletes = 50*time.Millisecond, 10 })
	c, ctx := client(n), context.Background()
	createCapacityTable(t, c, "resume", 0, 0)
	now := time.Now().Unix()
	const items = 400
	var reqs []types.WriteRequest
	flush := func() {
		for in := map[string][]types.WriteRequest{"resume": reqs}; len(in) > 0; {
			out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: in})
			if err != nil {
				t.Fatal(err)
			}
			in = out.UnprocessedItems
		}
		reqs = nil
	}
	for i := range items {
		exp := now + 86400
		if i%2 == 0 {
			exp = now - 60
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("k%04d", i)}, "exp": &types.AttributeValueMemberN{Value: fmt.Sprint(exp)}}}})
		if len(reqs) == 25 {
			flush()
		}
	}
	if _, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("resume"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("exp")}}); err != nil {
		t.Fatal(err)
	}
	var scanned float64
	eventually(t, "every expired item swept", func() bool {
		scanned = metric(t, n, `partita_ttl_scanned_items_total`)
		return sampleOrZero(t, n, `partita_ttl_deleted_items_total\{table="resume"\}`) >= items/2
	})
	// One pass, and the rest of the cycle that deleted the last expired
	// item, and the cycles that went on over the partitions swept before
	// it (their expired items are gone), plus a cycle before the check.
	if scanned > 4*items {
		t.Fatalf("%.0f items read to sweep %d expired of %d", scanned, items/2, items)
	}
	t.Logf("%.0f items read to sweep %d expired of %d", scanned, items/2, items)
}
