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
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
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
	t.Parallel()
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
		// The base record names the round its index last completed.
		gi := nodes[0].dir.Snapshot().Table("tab").GetGlobalIndexes()[0]
		d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("tab")})
		return err == nil && gi.GetRound() >= 1 && !gi.GetBackfilling() && d.Table.GlobalSecondaryIndexes[0].IndexStatus == types.IndexStatusActive &&
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

// TestRebuildRoundSealedOnlyWhenOver: the tombstone job seals the rounds
// the base table's record says its index completed, not every round up
// to the index table's index_epoch. Each record changes alone, so a
// node's copy can show a rebuild's raised index_epoch while the base
// record still says the index is not backfilling: sealing up to
// index_epoch then refused every write of the new round, and the rebuild
// ended with its items missing and its stale entries kept. Then a
// rebuild stopped between its two updates (the base record naming a
// round the index table is not in) is finished by the index job: the
// round raised, backfilled, ended and then sealed.
func TestRebuildRoundSealedOnlyWhenOver(t *testing.T) {
	t.Parallel()
	nodes := startThree(t, func(_ int, cfg *Config) {
		cfg.ReconcileInterval, cfg.PartitionsPerTable, cfg.IndexSweepInterval = 100*time.Millisecond, 2, 100*time.Millisecond
	})
	ctx := context.Background()
	db := gsiClient(nodes[0].APIURL())
	createPKTable(t, db, "tab")
	for i := range 10 {
		putG(t, db, "tab", fmt.Sprint("item", i), fmt.Sprint("a", i%3))
	}
	addIndexByG(t, db, "tab")
	indexActive(t, db, "tab")
	name := directory.IndexTableName("tab", "byG")
	// sealed is the least seal of the index's partitions, each read on
	// the node leading it (0 while one has no leader here).
	sealed := func() uint64 {
		t.Helper()
		least := uint64(0)
		for i, p := range nodes[0].dir.Snapshot().Table(name).GetPartitions() {
			var s uint64
			for _, n := range nodes {
				if r := n.store.Replica(p.GetId()); r != nil && r.Leader() == n.replicaID() {
					round, err := fsm.ReadIndexRound(n.eng.Reader(), p.GetId())
					if err != nil {
						t.Fatal(err)
					}
					s = round.Sealed
				}
			}
			if i == 0 || s < least {
				least = s
			}
		}
		return least
	}
	waitFor(t, "round 0 sealed", func() bool { return sealed() == 1 })
	// sweepsSee waits until every node's tombstone job ran three cycles
	// after its copy of the directory showed the index table's round.
	sweepsSee := func(round uint64) {
		t.Helper()
		for _, n := range nodes {
			waitFor(t, "the index table's round on every node", func() bool {
				return n.dir.Snapshot().Table(name).GetIndexEpoch() == round
			})
			info, err := n.Jobs().Info(IndexSweepJob)
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "three more sweeps", func() bool {
				now, err := n.Jobs().Info(IndexSweepJob)
				return err == nil && now.Runs >= info.Runs+3
			})
		}
	}

	for _, n := range nodes {
		if err := n.Jobs().Pause(GlobalIndexJob); err != nil {
			t.Fatal(err)
		}
	}
	// Round 1 raised in the index table alone, as a node sees a rebuild
	// whose base record update it has not seen yet.
	if _, err := nodes[0].router.UpdateTable(ctx, name, func(cur *partitapb.Table) (*partitapb.Table, error) {
		cur.IndexEpoch = 1
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
	sweepsSee(1)
	if s := sealed(); s != 1 {
		t.Fatalf("the index partitions are sealed at %d with round 1 raised and never backfilled: its writes would be refused", s)
	}

	// A rebuild stopped between its updates: round 2 named in the base
	// record (the index backfilling), the index table still in round 1.
	for i := range 10 {
		putG(t, db, "tab", fmt.Sprint("item", i), fmt.Sprint("b", i%3))
	}
	if _, err := nodes[0].router.UpdateTable(ctx, "tab", func(cur *partitapb.Table) (*partitapb.Table, error) {
		cur.GetGlobalIndexes()[0].Backfilling, cur.GetGlobalIndexes()[0].Round = true, 2
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if err := n.Jobs().Resume(GlobalIndexJob); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "round 2 raised, backfilled and ended", func() bool {
		gi := nodes[0].dir.Snapshot().Table("tab").GetGlobalIndexes()[0]
		return nodes[0].dir.Snapshot().Table(name).GetIndexEpoch() == 2 && !gi.GetBackfilling() && gi.GetRound() == 2
	})
	waitFor(t, "round 2 sealed", func() bool { return sealed() == 3 })
	if last := indexMismatch(t, db, "tab"); last != "" {
		t.Fatalf("the index differs from the table after round 2: %s", last)
	}
}

// TestEndRounds: a backfill round's end marks its index ACTIVE and
// records the round, unless a later round was raised since it was
// checked (clearing backfilling then would end that round unbackfilled).
func TestEndRounds(t *testing.T) {
	t.Parallel()
	record := func(backfilling bool, round uint64) *partitapb.Table {
		return &partitapb.Table{GlobalIndexes: []*partitapb.GlobalIndex{
			{Name: "byG", Status: directory.Creating.String(), Backfilling: backfilling, Round: round},
			{Name: "other", Status: directory.Creating.String(), Backfilling: true},
		}}
	}
	for _, c := range []struct {
		name  string
		cur   *partitapb.Table
		done  uint64
		ended bool // backfilling cleared and ACTIVE
		round uint64
	}{
		{"the round raised", record(true, 1), 1, true, 1},
		{"a record from before rounds were named", record(true, 0), 2, true, 2},
		{"a later round raised since", record(true, 3), 2, false, 3},
		{"not backfilling", record(false, 1), 2, false, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := c.cur.GetGlobalIndexes()[0].GetBackfilling()
			endRounds(c.cur, map[string]uint64{"byG": c.done})
			gi := c.cur.GetGlobalIndexes()[0]
			if ended := before && !gi.GetBackfilling() && gi.GetStatus() == directory.Active.String(); ended != c.ended || gi.GetRound() != c.round {
				t.Fatalf("ended %v (status %s) round %d, want %v %d", ended, gi.GetStatus(), gi.GetRound(), c.ended, c.round)
			}
			if other := c.cur.GetGlobalIndexes()[1]; !other.GetBackfilling() || other.GetStatus() != directory.Creating.String() {
				t.Fatal("an index done does not name was ended too")
			}
		})
	}
}
