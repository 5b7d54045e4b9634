package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/partitadb/partita/node"
)

// runNode runs a real single node on 127.0.0.1, configured by configure
// (if not nil), and closes it when t ends.
func runNode(t testing.TB, configure func(*node.Config)) *node.Node {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.APIAddr = "127.0.0.1:0"
	cfg.Logger = slog.New(slog.DiscardHandler)
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
	return n
}

// startNode runs a real single node on 127.0.0.1 and returns an SDK client
// pointed at it.
func startNode(t testing.TB) *dynamodb.Client {
	t.Helper()
	return startNodeWith(t, nil)
}

// startNodeWith runs a real single node configured by configure (if not
// nil) and returns an SDK client pointed at it.
func startNodeWith(t testing.TB, configure func(*node.Config)) *dynamodb.Client {
	t.Helper()
	n := runNode(t, configure)
	return dynamodb.New(dynamodb.Options{
		Region:       "eu-west-3",
		BaseEndpoint: aws.String(n.APIURL()),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
}

// errorCode returns the __type of an SDK error, "" for nil.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "not an API error: " + err.Error()
	}
	return ""
}

// wantCode fails the test unless err is the API error code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := errorCode(err); got != code {
		t.Fatalf("%s: error %q (%v), want %s", what, got, err, code)
	}
}

// sdkTable creates a table with string hash key pk and, when withSort, a
// number sort key sk, and waits for it to be ACTIVE.
func sdkTable(t testing.TB, c *dynamodb.Client, name string, withSort bool) {
	t.Helper()
	ctx := context.Background()
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	}
	if withSort {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange})
	}
	if _, err := c.CreateTable(ctx, in); err != nil {
		t.Fatalf("CreateTable %s: %v", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 10*time.Second); err != nil {
		t.Fatalf("wait for %s: %v", name, err)
	}
}

func s(v string) types.AttributeValue   { return &types.AttributeValueMemberS{Value: v} }
func num(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

func TestSDKTableLifecycle(t *testing.T) {
	c := startNode(t)
	ctx := context.Background()
	out, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:             aws.String("Music"),
		AttributeDefinitions:  []types.AttributeDefinition{{AttributeName: aws.String("Artist"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:             []types.KeySchemaElement{{AttributeName: aws.String("Artist"), KeyType: types.KeyTypeHash}},
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)},
		Tags:                  []types.Tag{{Key: aws.String("team"), Value: aws.String("db")}},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	arn := aws.ToString(out.TableDescription.TableArn)
	if arn != "arn:aws:dynamodb:us-east-1:000000000000:table/Music" {
		t.Fatalf("TableArn %q", arn)
	}
	_, err = c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("Music"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("Artist"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("Artist"), KeyType: types.KeyTypeHash}},
	})
	var inUse *types.ResourceInUseException
	if !errors.As(err, &inUse) {
		t.Fatalf("duplicate CreateTable: %v", err)
	}
	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Music")})
	if err != nil || d.Table.TableStatus != types.TableStatusActive || aws.ToInt64(d.Table.ProvisionedThroughput.ReadCapacityUnits) != 5 ||
		d.Table.CreationDateTime == nil || aws.ToString(d.Table.TableId) == "" {
		t.Fatalf("DescribeTable: %+v %v", d, err)
	}
	u, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName: aws.String("Music"), BillingMode: types.BillingModePayPerRequest, DeletionProtectionEnabled: aws.Bool(true),
	})
	if err != nil || u.TableDescription.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Fatalf("UpdateTable: %+v %v", u, err)
	}
	_, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("Music")})
	wantCode(t, "empty UpdateTable", err, "ValidationException")
	_, err = c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("Music")})
	wantCode(t, "delete protected", err, "ValidationException")

	if _, err := c.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("test")}}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if _, err := c.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"team"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	tags, err := c.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(arn)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Fatalf("ListTagsOfResource: %+v %v", tags, err)
	}
	_, err = c.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(arn + "x")})
	wantCode(t, "tags of missing table", err, "ResourceNotFoundException")

	for i := 0; i < 3; i++ {
		sdkTable(t, c, fmt.Sprintf("extra%d", i), false)
	}
	var names []string
	p := dynamodb.NewListTablesPaginator(c, &dynamodb.ListTablesInput{Limit: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListTables: %v", err)
		}
		names = append(names, page.TableNames...)
	}
	if fmt.Sprint(names) != "[Music extra0 extra1 extra2]" {
		t.Fatalf("ListTables pages: %v", names)
	}
	lim, err := c.DescribeLimits(ctx, &dynamodb.DescribeLimitsInput{})
	if err != nil || aws.ToInt64(lim.TableMaxReadCapacityUnits) != 40000 {
		t.Fatalf("DescribeLimits: %+v %v", lim, err)
	}
	ep, err := c.DescribeEndpoints(ctx, &dynamodb.DescribeEndpointsInput{})
	if err != nil || len(ep.Endpoints) != 1 || ep.Endpoints[0].CachePeriodInMinutes != 1440 {
		t.Fatalf("DescribeEndpoints: %+v %v", ep, err)
	}

	if _, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("Music"), DeletionProtectionEnabled: aws.Bool(false)}); err != nil {
		t.Fatalf("disable protection: %v", err)
	}
	if _, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("Music")}); err != nil {
		t.Fatalf("DeleteTable: %v", err)
	}
	_, err = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("Music")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("DescribeTable after delete: %v", err)
	}
	_, err = c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("x")})
	wantCode(t, "invalid CreateTable", err, "ValidationException")
}

func TestSDKItems(t *testing.T) {
	c := startNode(t)
	ctx := context.Background()
	sdkTable(t, c, "items", true)
	key := map[string]types.AttributeValue{"pk": s("a"), "sk": num("1")}
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String("items"),
		Item:                map[string]types.AttributeValue{"pk": s("a"), "sk": num("1"), "v": s("one"), "tags": &types.AttributeValueMemberSS{Value: []string{"x", "y"}}},
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err != nil {
		t.Fatalf("PutItem: %v", err)
	}
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String("items"), Item: map[string]types.AttributeValue{"pk": s("a"), "sk": num("1")},
		ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) || ccf.Item["v"].(*types.AttributeValueMemberS).Value != "one" {
		t.Fatalf("conditional put: %v", err)
	}
	got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("items"), Key: key, ConsistentRead: aws.Bool(true),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil || got.Item["v"].(*types.AttributeValueMemberS).Value != "one" || aws.ToFloat64(got.ConsumedCapacity.CapacityUnits) != 1 {
		t.Fatalf("GetItem: %+v %v", got, err)
	}
	up, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String("items"), Key: key,
		UpdateExpression:         aws.String("SET #v = :v ADD n :one DELETE tags :x"),
		ConditionExpression:      aws.String("contains(tags, :e)"),
		ExpressionAttributeNames: map[string]string{"#v": "v"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("uno"), ":one": num("1"), ":e": s("x"),
			":x": &types.AttributeValueMemberSS{Value: []string{"x"}}},
		ReturnValues: types.ReturnValueUpdatedNew,
	})
	if err != nil {
		t.Fatalf("UpdateItem: %v", err)
	}
	if len(up.Attributes) != 3 || up.Attributes["n"].(*types.AttributeValueMemberN).Value != "1" {
		t.Fatalf("UpdateItem UPDATED_NEW: %#v", up.Attributes)
	}
	proj, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("items"), Key: key, AttributesToGet: []string{"tags"}})
	if err != nil || len(proj.Item) != 1 || fmt.Sprint(proj.Item["tags"].(*types.AttributeValueMemberSS).Value) != "[y]" {
		t.Fatalf("GetItem AttributesToGet: %#v %v", proj.Item, err)
	}
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String("items"), Key: key,
		AttributeUpdates: map[string]types.AttributeValueUpdate{"n": {Action: types.AttributeActionAdd, Value: num("10")}},
		Expected:         map[string]types.ExpectedAttributeValue{"v": {Value: s("uno")}},
	})
	if err != nil {
		t.Fatalf("legacy UpdateItem: %v", err)
	}
	del, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("items"), Key: key, ReturnValues: types.ReturnValueAllOld,
		ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil || del.Attributes["n"].(*types.AttributeValueMemberN).Value != "11" || del.ConsumedCapacity.Table == nil {
		t.Fatalf("DeleteItem: %+v %v", del, err)
	}
	gone, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("items"), Key: key})
	if err != nil || gone.Item != nil {
		t.Fatalf("GetItem after delete: %+v %v", gone, err)
	}
}

func TestSDKItemErrors(t *testing.T) {
	c := startNode(t)
	ctx := context.Background()
	sdkTable(t, c, "items", false)
	cases := []struct {
		name string
		call func() error
		code string
	}{
		{"missing table", func() error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("nope"), Key: map[string]types.AttributeValue{"pk": s("a")}})
			return err
		}, "ResourceNotFoundException"},
		{"wrong key type", func() error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("items"), Item: map[string]types.AttributeValue{"pk": num("1")}})
			return err
		}, "ValidationException"},
		{"bad expression", func() error {
			_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("items"), Key: map[string]types.AttributeValue{"pk": s("a")},
				UpdateExpression: aws.String("SET = 1")})
			return err
		}, "ValidationException"},
		{"invalid ReturnValues", func() error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("items"), Item: map[string]types.AttributeValue{"pk": s("a")},
				ReturnValues: types.ReturnValueAllNew})
			return err
		}, "ValidationException"},
		{"condition failed", func() error {
			_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("items"), Key: map[string]types.AttributeValue{"pk": s("a")},
				ConditionExpression: aws.String("attribute_exists(pk)")})
			return err
		}, "ConditionalCheckFailedException"},
		{"mixed parameters", func() error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("items"), Key: map[string]types.AttributeValue{"pk": s("a")},
				AttributesToGet: []string{"a"}, ProjectionExpression: aws.String("a")})
			return err
		}, "ValidationException"},
	}
	for _, tc := range cases {
		wantCode(t, tc.name, tc.call(), tc.code)
	}
}

// TestSDKConcurrentCounter checks that concurrent ADDs on one item are
// applied exactly once each.
func TestSDKConcurrentCounter(t *testing.T) {
	c := startNode(t)
	ctx := context.Background()
	sdkTable(t, c, "counters", false)
	const workers, each = 64, 4
	key := map[string]types.AttributeValue{"pk": s("c")}
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
					TableName: aws.String("counters"), Key: key,
					UpdateExpression:          aws.String("ADD #c :one"),
					ExpressionAttributeNames:  map[string]string{"#c": "counter"},
					ExpressionAttributeValues: map[string]types.AttributeValue{":one": num("1")},
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("UpdateItem: %v", err)
	}
	got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("counters"), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if n := got.Item["counter"].(*types.AttributeValueMemberN).Value; n != strconv.Itoa(workers*each) {
		t.Fatalf("counter = %s, want %d", n, workers*each)
	}
}

// TestSDKUpdateItemRemovingFromAMissingItem: an UpdateItem that only
// removes attributes or deletes from a set leaves a missing item missing,
// whatever ReturnValues asks; one that sets something creates it.
func TestSDKUpdateItemRemovingFromAMissingItem(t *testing.T) {
	c := startNode(t)
	ctx := context.Background()
	sdkTable(t, c, "sparse", false)
	key := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
	}
	updates := map[string]*dynamodb.UpdateItemInput{
		"remove": {UpdateExpression: aws.String("REMOVE a, b")},
		"delete": {UpdateExpression: aws.String("DELETE tags :t"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberSS{Value: []string{"x"}}}},
	}
	for name, in := range updates {
		for _, rv := range types.ReturnValue("").Values() {
			pk := name + "-" + string(rv)
			in.TableName, in.Key, in.ReturnValues = aws.String("sparse"), key(pk), rv
			out, err := c.UpdateItem(ctx, in)
			if err != nil {
				t.Fatalf("%s: %v", pk, err)
			}
			if len(out.Attributes) != 0 {
				t.Errorf("%s returned %v, want no attributes", pk, out.Attributes)
			}
			got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("sparse"), Key: key(pk), ConsistentRead: aws.Bool(true)})
			if err != nil {
				t.Fatal(err)
			}
			if got.Item != nil {
				t.Errorf("%s created the item %v", pk, got.Item)
			}
		}
	}
	out, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("sparse"), Key: key("set"),
		UpdateExpression: aws.String("SET a = :v REMOVE b"), ReturnValues: types.ReturnValueAllNew,
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: "1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Attributes) != 2 {
		t.Errorf("an update that sets an attribute of a missing item returned %v, want the new item", out.Attributes)
	}
}
