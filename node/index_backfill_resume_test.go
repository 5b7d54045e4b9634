package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestBackfillResumesAcrossCycles: a backfill whose partition does not
// fit in one cycle's budget (here a page per cycle) goes on where the
// last cycle stopped, and the index ends equal to the table. Before, each
// cycle started the partition over, and a partition larger than a
// cycle's worth (a quarter of a 1M-item table) was never backfilled.
// Its progress shows in the metrics: one partition pending while it
// runs, none once the index is ACTIVE, and every item counted once.
func TestBackfillResumesAcrossCycles(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.AdminAddr = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.PartitionsPerTable, cfg.backfillBudget = 1, time.Nanosecond
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	ctx := context.Background()
	db := gsiClient(n.APIURL())
	createPKTable(t, db, "big")
	const items = 3*backfillPage + 10
	for i := 0; i < items; i += 25 {
		var reqs []types.WriteRequest
		for k := i; k < min(i+25, items); k++ {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("item", k)}, "g": &types.AttributeValueMemberS{Value: fmt.Sprint("g", k%7)}}}})
		}
		if _, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"big": reqs}}); err != nil {
			t.Fatal(err)
		}
	}
	addIndexByG(t, db, "big")
	waitFor(t, "one partition pending", func() bool {
		v, ok := gsiMetric(t, n, "partita_gsi_backfill_pending_partitions", "big")
		return ok && v == 1
	})
	indexActive(t, db, "big")
	waitFor(t, "no partition pending", func() bool {
		_, ok := gsiMetric(t, n, "partita_gsi_backfill_pending_partitions", "big")
		return !ok
	})
	if v, _ := gsiMetric(t, n, "partita_gsi_backfill_items_total", "big"); v != items {
		t.Fatalf("the backfill counted %v items, want %d", v, items)
	}
	seen := map[string]bool{}
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String("big"), IndexName: aws.String("byG")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			seen[it["pk"].(*types.AttributeValueMemberS).Value] = true
		}
	}
	if len(seen) != items {
		t.Fatalf("the index holds %d items, want %d", len(seen), items)
	}
}

// gsiMetric returns the value of n's metric name for index byG of table
// (ok false: no such series).
func gsiMetric(t *testing.T, n *Node, name, table string) (float64, bool) {
	t.Helper()
	mfs, err := n.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["table"] == table && labels["index"] == "byG" {
				if m.GetCounter() != nil {
					return m.GetCounter().GetValue(), true
				}
				return m.GetGauge().GetValue(), true
			}
		}
	}
	return 0, false
}
