package node_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/node"
)

func start(t *testing.T, dir string) *node.Node {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.AdminAddr = dir, "127.0.0.1:0", "127.0.0.1:0"
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func client(n *node.Node) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(n.APIURL()),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""),
	})
}

// scrape returns the node's metrics page.
func scrape(t *testing.T, n *node.Node) string {
	t.Helper()
	resp, err := http.Get(n.AdminURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// metric returns the value of the first sample of the metrics page that
// matches name and the label pattern.
func metric(t *testing.T, n *node.Node, pattern string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + pattern + ` ([0-9.e+-]+)$`).FindStringSubmatch(scrape(t, n))
	if m == nil {
		t.Fatalf("no sample matching %s in /metrics", pattern)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestMetricsMoveWithAWorkload scrapes /metrics after SDK writes: the raft
// and storage metrics reflect them.
func TestMetricsMoveWithAWorkload(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	defer n.Close()
	ctx := context.Background()
	db := client(n)
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("metrics"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	before := metric(t, n, `partita_raft_proposals_total\{outcome="applied"\}`)
	for i := range 25 {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("metrics"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprint(i)},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	if after := metric(t, n, `partita_raft_proposals_total\{outcome="applied"\}`); after < before+25 {
		t.Fatalf("applied proposals went from %v to %v after 25 writes", before, after)
	}
	if v := metric(t, n, `partita_raft_leaders`); v < 5 { // meta + 4 table partitions
		t.Fatalf("partita_raft_leaders = %v, want >= 5", v)
	}
	if v := metric(t, n, `partita_storage_disk_usage_bytes`); v <= 0 {
		t.Fatalf("disk usage %v", v)
	}
	if v := metric(t, n, `partita_raft_log_entries`); v <= 0 {
		t.Fatalf("raft log entries %v", v)
	}
	if v := metric(t, n, `partita_dynamo_requests_total\{operation="PutItem"\}`); v != 25 {
		t.Fatalf("PutItem requests = %v, want 25", v)
	}
	if v := metric(t, n, `partita_dynamo_request_duration_seconds_count\{operation="PutItem"\}`); v != 25 {
		t.Fatalf("PutItem latency samples = %v, want 25", v)
	}
	_, err = db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("missing"), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "a"},
	}})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("GetItem on a missing table: %v", err)
	}
	if v := metric(t, n, `partita_dynamo_errors_total\{operation="GetItem",type="ResourceNotFoundException"\}`); v != 1 {
		t.Fatalf("GetItem errors = %v, want 1", v)
	}
}

func TestReadinessAndRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n := start(t, dir)
	resp, err := http.Get(n.AdminURL() + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/readyz: %v %v", err, resp)
	}
	resp.Body.Close()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n = start(t, dir) // same data dir, fresh registry
	defer n.Close()
	if _, err := client(n).ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatal(err)
	}
}
