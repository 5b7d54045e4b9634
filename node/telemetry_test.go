package node_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/node"
)

// startWith starts a node on free ports after edit changes its config.
func startWith(t *testing.T, edit func(*node.Config)) *node.Node {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.AdminAddr = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	edit(&cfg)
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Error(err)
		}
	})
	return n
}

func createTable(t *testing.T, db *dynamodb.Client, name string) {
	t.Helper()
	_, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
}

func put(t *testing.T, db *dynamodb.Client, table, pk string) {
	t.Helper()
	_, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk}, "v": &types.AttributeValueMemberS{Value: "some payload"},
	}})
	if err != nil {
		t.Fatal(err)
	}
}

// spanTree indexes exported spans by name, expecting one of each.
func spanTree(t *testing.T, spans tracetest.SpanStubs) map[string]tracetest.SpanStub {
	t.Helper()
	byName := make(map[string]tracetest.SpanStub)
	for _, s := range spans {
		if _, dup := byName[s.Name]; dup {
			t.Fatalf("two %s spans in %v", s.Name, names(spans))
		}
		byName[s.Name] = s
	}
	return byName
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

// childOf checks that span child has parent as its parent, in the same
// trace, and lies within it in time.
func childOf(t *testing.T, child, parent tracetest.SpanStub) {
	t.Helper()
	if child.Parent.SpanID() != parent.SpanContext.SpanID() || child.SpanContext.TraceID() != parent.SpanContext.TraceID() {
		t.Errorf("%s is not a child of %s", child.Name, parent.Name)
	}
	if child.StartTime.Before(parent.StartTime) || child.EndTime.After(parent.EndTime) {
		t.Errorf("%s [%v, %v] is not within %s [%v, %v]", child.Name, child.StartTime, child.EndTime,
			parent.Name, parent.StartTime, parent.EndTime)
	}
}

// TestTraceCrossesAPIRaftAndApply follows one write and one strongly
// consistent read through the node's spans.
func TestTraceCrossesAPIRaftAndApply(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	n := startWith(t, func(c *node.Config) { c.TracerProvider = tp })
	db := client(n)
	createTable(t, db, "traced")

	exp.Reset()
	put(t, db, "traced", "a")
	spans := spanTree(t, exp.GetSpans())
	api, rt, prop, apply := spans["dynamo.PutItem"], spans["router.propose"], spans["raft.propose"], spans["raft.apply"]
	for _, s := range []tracetest.SpanStub{api, rt, prop, apply} {
		if !s.SpanContext.IsValid() {
			t.Fatalf("missing spans: got %v, want dynamo.PutItem > router.propose > raft.propose > raft.apply", names(exp.GetSpans()))
		}
	}
	if api.Parent.IsValid() || api.SpanKind != trace.SpanKindServer {
		t.Errorf("dynamo.PutItem is not a root server span: parent %v kind %v", api.Parent, api.SpanKind)
	}
	childOf(t, rt, api)
	childOf(t, prop, rt)
	childOf(t, apply, prop)
	if !apply.EndTime.After(apply.StartTime) && !apply.EndTime.Equal(apply.StartTime) {
		t.Errorf("apply span ends before it starts: %v %v", apply.StartTime, apply.EndTime)
	}
	if !hasAttr(api, "aws.dynamodb.table_names") || !hasAttr(rt, "partita.partition") {
		t.Errorf("attributes: api %v router %v", api.Attributes, rt.Attributes)
	}

	exp.Reset()
	if _, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String("traced"), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}},
	}); err != nil {
		t.Fatal(err)
	}
	spans = spanTree(t, exp.GetSpans())
	childOf(t, spans["router.read_barrier"], spans["dynamo.GetItem"])
	childOf(t, spans["raft.read_index"], spans["router.read_barrier"])
}

func hasAttr(s tracetest.SpanStub, key string) bool {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return true
		}
	}
	return false
}

// TestTableStatsJob drives the table-stats job with run-now requests and
// reads its gauges from /metrics. A deleted table's series go, the
// capacity counters' (labelled by table by another package) included.
func TestTableStatsJob(t *testing.T) {
	t.Parallel()
	cycles := make(chan daemon.CycleRecord, 64)
	n := startWith(t, func(c *node.Config) {
		c.TableStatsInterval = time.Hour // only run-now cycles after the first
		c.GlobalIndexInterval = 0        // no cycles five a second to fill the channel
		c.OnJobCycle = func(r daemon.CycleRecord) { cycles <- r }
		c.Capacity.Enforce = true // series of capacity consumed, by table
	})
	runNow := func(kick func()) {
		t.Helper()
		kick()
		for r := range cycles {
			if r.Job == node.TableStatsJob && r.Reason == daemon.ReasonRunNow {
				if r.Outcome != daemon.OutcomeSuccess {
					t.Fatalf("table-stats cycle: %+v", r)
				}
				return
			}
		}
	}
	db := client(n)
	createTable(t, db, "counted")
	createTable(t, db, "dropped")
	for i := range 7 {
		put(t, db, "counted", fmt.Sprint(i))
	}
	put(t, db, "dropped", "x")

	runNow(func() {
		if err := n.Jobs().RunNow(node.TableStatsJob); err != nil {
			t.Fatal(err)
		}
	})
	if v := metric(t, n, `partita_table_items\{table="counted"\}`); v != 7 {
		t.Fatalf("items of counted = %v, want 7", v)
	}
	if v := metric(t, n, `partita_table_size_bytes\{table="counted"\}`); v < 7*float64(len("some payload")) {
		t.Fatalf("size of counted = %v", v)
	}
	if v := metric(t, n, `partita_table_items\{table="dropped"\}`); v != 1 {
		t.Fatalf("items of dropped = %v, want 1", v)
	}
	if v := metric(t, n, `partita_capacity_consumed_units_total\{op="write",table="dropped"\}`); v < 1 {
		t.Fatalf("write units consumed on dropped = %v, want at least 1", v)
	}

	if _, err := db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String("dropped")}); err != nil {
		t.Fatal(err)
	}
	runNow(func() { // through the admin endpoint this time
		resp, err := http.Post(n.AdminURL()+"/debug/jobs/"+node.TableStatsJob+"/run", "", nil)
		if err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("run-now over the admin endpoint: %v %v", err, resp)
		}
		resp.Body.Close()
	})
	// Other packages' series go at the second cycle without the table.
	runNow(func() {
		if err := n.Jobs().RunNow(node.TableStatsJob); err != nil {
			t.Fatal(err)
		}
	})
	if body := scrape(t, n); regexp.MustCompile(`table="dropped"`).MatchString(body) {
		t.Fatal("the dropped table's series are still exported")
	}
	if v := metric(t, n, `partita_daemon_runs_total\{job_name="table-stats"\}`); v < 2 {
		t.Fatalf("table-stats runs = %v, want >= 2", v)
	}
}
