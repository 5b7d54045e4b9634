package node

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/settings"
)

// jumpClock is the wall clock moved forward by Jump.
type jumpClock struct{ offset atomic.Int64 }

func (c *jumpClock) Now() time.Time       { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *jumpClock) Jump(d time.Duration) { c.offset.Add(int64(d)) }

// TestIndexRebuiltAfterTrimmedLog: with the index job paused, items are
// moved to other index keys, deleted and added, then the base
// partitions' change logs are trimmed past the index's cursors (a
// retention of a minute, the clock moved two ahead, more writes). Once
// the job runs again, the index is rebuilt in a new backfill round and
// ends equal to the projection of a scan of the table; without the
// rebuild the lost moves and deletes leave stale entries and the added
// items are missing.
func TestIndexRebuiltAfterTrimmedLog(t *testing.T) {
	clock := &jumpClock{}
	nodes := startThree(t, func(_ int, cfg *Config) {
		cfg.ReconcileInterval, cfg.PartitionsPerTable, cfg.IndexSweepInterval = 100*time.Millisecond, 2, 100*time.Millisecond
		cfg.Clock = clock.Now
		cfg.Settings = map[string]settings.Static{"changelog.retention": {Text: "1m", From: settings.FromFlag}}
	})
	ctx := context.Background()
	db := gsiClient(nodes[0].APIURL())
	createPKTable(t, db, "tab")
	put := func(pk, g string) { t.Helper(); putG(t, db, "tab", pk, g) }
	for i := range 40 {
		put(fmt.Sprint("item", i), fmt.Sprint("a", i%5))
	}
	// The index comes by UpdateTable: its backfill (round 0) covers every
	// write, whenever each node learnt the table.
	addIndexByG(t, db, "tab")
	indexActive(t, db, "tab")
	var last string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if last = indexMismatch(t, db, "tab"); last == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the index does not follow the table: %s", last)
		}
	}

	for _, n := range nodes {
		if err := n.Jobs().Pause(GlobalIndexJob); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond) // a cycle under way ends
	for i := range 10 {
		put(fmt.Sprint("item", i), fmt.Sprint("b", i%3)) // moved
		if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("tab"), Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("item", 10+i)}}}); err != nil {
			t.Fatal(err)
		}
		put(fmt.Sprint("new", i), "c") // added
	}
	clock.Jump(2 * time.Minute)
	// Trimming rides on writes: write until every base partition's log
	// lost the records after its cursor.
	base := nodes[0].dir.Snapshot().Table("tab")
	for i := 0; ; i++ {
		put(fmt.Sprint("late", i), "d")
		trimmed := 0
		for _, p := range base.GetPartitions() {
			cursor, err := nodes[0].router.IndexCursor(ctx, p.GetId())
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range nodes {
				if r := n.store.Replica(p.GetId()); r != nil && r.Leader() == n.replicaID() {
					page, err := n.store.ReadChanges(ctx, p.GetId(), cursor, 1, false)
					if err != nil {
						t.Fatal(err)
					}
					if page.Trimmed {
						trimmed++
					}
				}
			}
		}
		if trimmed == len(base.GetPartitions()) {
			break
		}
		if i == 200 {
			t.Fatal("the change logs were not trimmed")
		}
		time.Sleep(50 * time.Millisecond)
	}

	for _, n := range nodes {
		if err := n.Jobs().Resume(GlobalIndexJob); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the index to be rebuilt in a new round and ACTIVE", func() bool {
		it := nodes[0].dir.Snapshot().Table(directory.IndexTableName("tab", "byG"))
		d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("tab")})
		return err == nil && it.GetIndexEpoch() >= 1 && d.Table.GlobalSecondaryIndexes[0].IndexStatus == types.IndexStatusActive &&
			!aws.ToBool(d.Table.GlobalSecondaryIndexes[0].Backfilling)
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if last = indexMismatch(t, db, "tab"); last == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rebuilt index differs from the table: %s", last)
		}
	}
}

// indexMismatch compares index byG of table with the projection of a
// scan of the table ("" when equal).
func indexMismatch(t *testing.T, db *dynamodb.Client, table string) string {
	t.Helper()
	scan := func(index *string) []string {
		var out []string
		p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), IndexName: index})
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				if g, ok := it["g"].(*types.AttributeValueMemberS); ok {
					out = append(out, it["pk"].(*types.AttributeValueMemberS).Value+"="+g.Value)
				}
			}
		}
		sort.Strings(out)
		return out
	}
	want, got := scan(nil), scan(aws.String("byG"))
	if fmt.Sprint(want) != fmt.Sprint(got) {
		return fmt.Sprintf("table implies %v, index holds %v", want, got)
	}
	return ""
}
