package node_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/node"
)

// TestConcurrentTableUpdatesLoseNothing changes one table's record from
// many clients at once (tags, time to live, deletion protection): each
// change reads the record and writes it back, and none may overwrite
// another's (the table's revision refuses an update made from a record
// that moved on, and the router redoes it).
func TestConcurrentTableUpdatesLoseNothing(t *testing.T) {
	t.Parallel()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.AdminAddr = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	c := client(n)
	ctx := context.Background()
	createCapacityTable(t, c, "revised", 0, 0)
	desc, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("revised")})
	if err != nil {
		t.Fatal(err)
	}
	arn := desc.Table.TableArn
	const tags = 16
	var wg sync.WaitGroup
	errs := make(chan error, tags+2)
	for i := range tags {
		wg.Go(func() {
			_, err := c.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: arn,
				Tags: []types.Tag{{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String(fmt.Sprint("v", i))}}})
			errs <- err
		})
	}
	wg.Go(func() {
		_, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("revised"),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("expires")}})
		errs <- err
	})
	wg.Go(func() {
		_, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("revised"), DeletionProtectionEnabled: aws.Bool(true)})
		errs <- err
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: arn})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]string{}
	for _, tag := range got.Tags {
		have[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	for i := range tags {
		if k := fmt.Sprint("k", i); have[k] != fmt.Sprint("v", i) {
			t.Errorf("tag %s lost: the table has %v", k, have)
		}
	}
	ttl, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("revised")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(ttl.TimeToLiveDescription.AttributeName) != "expires" {
		t.Errorf("time to live lost: %+v", ttl.TimeToLiveDescription)
	}
	desc, err = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("revised")})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(desc.Table.DeletionProtectionEnabled) {
		t.Error("deletion protection lost")
	}
}
