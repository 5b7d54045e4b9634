package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/settings"
	"github.com/partitadb/partita/telemetry"
)

// TestUnsampledFailuresReachTheConsole: with trace.sample-rate 0 no
// request records spans, yet a failed one is listed among the console's
// traces, its root alone and marked unsampled; the successful ones are
// not listed.
func TestUnsampledFailuresReachTheConsole(t *testing.T) {
	t.Parallel()
	n := startWith(t, func(c *node.Config) {
		c.Settings = map[string]settings.Static{"trace.sample-rate": {Text: "0", From: settings.FromFlag}}
	})
	db := client(n)
	createTable(t, db, "sampled")
	ctx := context.Background()
	put := &dynamodb.PutItemInput{TableName: aws.String("sampled"), Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}}}
	for range 5 {
		if _, err := db.PutItem(ctx, put); err != nil {
			t.Fatal(err)
		}
	}
	put.ConditionExpression = aws.String("attribute_not_exists(pk)")
	var ccf *types.ConditionalCheckFailedException
	if _, err := db.PutItem(ctx, put); !errors.As(err, &ccf) {
		t.Fatalf("conditional put of an existing item: %v", err)
	}
	get := func(path string, into any) {
		t.Helper()
		resp, err := http.Get(n.AdminURL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatal(err)
		}
	}
	var traces []telemetry.TraceSummary
	get("/console/api/traces?scope=node", &traces)
	var failed []telemetry.TraceSummary
	for _, tr := range traces {
		if tr.Root == "dynamo.PutItem" && !tr.Slow && !tr.Failed {
			t.Errorf("an ordinary unsampled PutItem is listed: %+v", tr)
		}
		if tr.Failed && tr.Error == "ConditionalCheckFailedException" {
			failed = append(failed, tr)
		}
	}
	if len(failed) != 1 || failed[0].Spans != 1 || failed[0].Root != "dynamo.PutItem" {
		t.Fatalf("traces %+v: want the failed PutItem once, its root alone", traces)
	}
	var spans []telemetry.SpanRecord
	get("/console/api/traces/"+failed[0].TraceID+"?scope=node", &spans)
	if len(spans) != 1 || spans[0].Attrs["sampled"] != "false" || spans[0].Attrs["rpc.method"] != "PutItem" {
		t.Fatalf("the failed request's spans: %+v", spans)
	}
}
