package node_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/node"
)

// createCapacityTable creates a table keyed by pk: PROVISIONED with rcu
// and wcu, or on demand when both are 0; it returns once it is ACTIVE.
func createCapacityTable(t *testing.T, c *dynamodb.Client, name string, rcu, wcu int64) {
	t.Helper()
	ctx := context.Background()
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}
	if rcu > 0 || wcu > 0 {
		in.BillingMode = types.BillingModeProvisioned
		in.ProvisionedThroughput = &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(rcu), WriteCapacityUnits: aws.Int64(wcu)}
	}
	if _, err := c.CreateTable(ctx, in); err != nil {
		t.Fatal(err)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}

func putN(c *dynamodb.Client, table string, i int) error {
	_, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table),
		Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}}})
	return err
}

// throttled returns err's ProvisionedThroughputExceededException, or nil.
func throttled(err error) *types.ProvisionedThroughputExceededException {
	var pe *types.ProvisionedThroughputExceededException
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// TestProvisionedCapacityIsEnforced: with capacity enforced, a PROVISIONED
// table's writes and reads beyond its units get DynamoDB's
// ProvisionedThroughputExceededException (reason and table ARN included),
// which the SDK's retryer absorbs; an on-demand table beside it is not
// throttled; UpdateTable's new units apply live.
func TestProvisionedCapacityIsEnforced(t *testing.T) {
	t.Parallel()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.AdminAddr = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	cfg.Capacity.Enforce = true
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	noRetry := dynamodb.New(dynamodb.Options{}, func(o *dynamodb.Options) {
		*o = client(n).Options()
		o.Retryer = aws.NopRetryer{}
	})
	createCapacityTable(t, noRetry, "prov", 5, 10)
	createCapacityTable(t, noRetry, "free", 0, 0)

	// Once the node's directory knows the table (it refreshes within a
	// second), a run of writes meets the limit.
	var pe *types.ProvisionedThroughputExceededException
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; pe == nil; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes to a 10 WCU table and none throttled", i)
		}
		if err := putN(noRetry, "prov", i); err != nil {
			if pe = throttled(err); pe == nil {
				t.Fatal(err)
			}
		}
	}
	if got, want := aws.ToString(pe.Message), "The level of configured provisioned throughput for the table was exceeded. "+
		"Consider increasing your provisioning level with the UpdateTable API."; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if len(pe.ThrottlingReasons) != 1 || aws.ToString(pe.ThrottlingReasons[0].Reason) != "TableWriteProvisionedThroughputExceeded" ||
		aws.ToString(pe.ThrottlingReasons[0].Resource) != "arn:aws:dynamodb:us-east-1:000000000000:table/prov" {
		t.Errorf("throttling reasons %+v", pe.ThrottlingReasons)
	}

	// Over two seconds of back-to-back writes, the table admits what its
	// bucket held (one second's 10 units at most, all spent above) plus
	// 10 a second.
	start, admitted := time.Now(), 0
	for i := 0; time.Since(start) < 2*time.Second; i++ {
		switch err := putN(noRetry, "prov", i); {
		case err == nil:
			admitted++
		case throttled(err) == nil:
			t.Fatal(err)
		}
	}
	if limit := int(10*time.Since(start).Seconds()) + 10; admitted > limit {
		t.Errorf("a 10 WCU table admitted %d writes in %v, more than %d", admitted, time.Since(start), limit)
	}
	if admitted == 0 {
		t.Error("a 10 WCU table admitted nothing in two seconds")
	}

	// The on-demand table beside it is not throttled.
	for i := range 200 {
		if err := putN(noRetry, "free", i); err != nil {
			t.Fatalf("on-demand table: %v", err)
		}
	}

	// Reads have their own units: 5 RCU, a consistent read of a small item
	// costs one.
	var readErr error
	for i := 0; i < 200 && readErr == nil; i++ {
		_, readErr = noRetry.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("prov"), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k1"}}})
	}
	if pe := throttled(readErr); pe == nil || aws.ToString(pe.ThrottlingReasons[0].Reason) != "TableReadProvisionedThroughputExceeded" {
		t.Errorf("200 consistent reads of a 5 RCU table: %v", readErr)
	}

	// BatchWriteItem returns throttled writes as UnprocessedItems, or fails
	// with the throttling error when none was written. The write units
	// refilled while the reads ran (a loaded machine takes seconds over
	// them): exhaust them again first.
	var exhausted error
	for i := 0; i < 200 && throttled(exhausted) == nil; i++ {
		exhausted = putN(noRetry, "prov", 1000+i)
	}
	if throttled(exhausted) == nil {
		t.Fatalf("200 writes to a 10 WCU table: %v", exhausted)
	}
	var reqs []types.WriteRequest
	for i := range 25 {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{
			Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("b", i)}}}})
	}
	out, err := noRetry.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"prov": reqs}})
	switch {
	case err != nil && throttled(err) == nil:
		t.Fatal(err)
	case err == nil && len(out.UnprocessedItems["prov"]) == 0:
		t.Error("25 writes to an exhausted 10 WCU table were all processed")
	}

	// The SDK's retryer (backoff, more attempts) gets every write through.
	retrying := dynamodb.New(client(n).Options(), func(o *dynamodb.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts, so.MaxBackoff = 20, 200*time.Millisecond
			so.RateLimiter = noRateLimit{}
		})
	})
	for i := range 30 {
		if err := putN(retrying, "prov", 1000+i); err != nil {
			t.Fatalf("retried write %d: %v", i, err)
		}
	}
	if got := metric(t, n, `partita_throttled_requests_total\{op="write",reason="TableWriteProvisionedThroughputExceeded",table="prov"\}`); got == 0 {
		t.Error("no throttled write counted")
	}
	if got := metric(t, n, `partita_capacity_consumed_units_total\{op="write",table="prov"\}`); got < 30 {
		t.Errorf("consumed write units %v, want at least 30", got)
	}

	// UpdateTable raises the table's units: within a few seconds (the
	// directory refresh and the limits' cache) 200 back-to-back writes pass.
	if _, err := noRetry.UpdateTable(context.Background(), &dynamodb.UpdateTableInput{TableName: aws.String("prov"),
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(40000)}}); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(20 * time.Second)
	for run := 0; run < 200; {
		if time.Now().After(deadline) {
			t.Fatal("writes still throttled after UpdateTable raised the table's units")
		}
		switch err := putN(noRetry, "prov", run); {
		case err == nil:
			run++
		case throttled(err) != nil:
			run = 0
		default:
			t.Fatal(err)
		}
	}
}

// noRateLimit lets the retryer retry without its client-side quota, so
// that the test sees the server's throttling alone.
type noRateLimit struct{}

func (noRateLimit) GetToken(context.Context, uint) (func() error, error) {
	return func() error { return nil }, nil
}
func (noRateLimit) AddTokens(uint) error { return nil }
