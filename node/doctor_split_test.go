package node_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/node"
)

// TestDoctorSplitsHotPartitions: three nodes, the Doctor's write
// threshold lowered to 4 writes a second for 5 s (low enough for a
// loaded machine running the race detector and other tests: at 10 a
// partition's rate hovered around the threshold there, 14 writes/s, and
// never stayed above it 2 s; long enough that the leader has sampled the
// 16 writes a split at their median needs; the writers keep writing
// until the split, so the load lasts). Writes spread over
// many keys make a partition hot: the Doctor splits it at the median of
// its sampled writes (the timeline says so) and every item reads back.
// Writes to one key make its partition hot too, but no split divides a
// key: the plan says so and that partition is not split.
func TestDoctorSplitsHotPartitions(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs writes until the Doctor splits")
	}
	tweak := func(c *node.Config) {
		c.DoctorOptions.SplitWrites, c.DoctorOptions.SplitAfter = 4, 5*time.Second
		c.PartitionMaxBytes = 0 // splits by size are the leader's job: off, so that only the Doctor splits
	}
	n1 := startHealerWith(t, "", tweak)
	n2, n3 := startHealerWith(t, "", tweak, n1.PeerAddr()), startHealerWith(t, "", tweak, n1.PeerAddr())
	_, _ = n2, n3
	c := client(n1)
	createCapacityTable(t, c, "hot", 0, 0)
	waitFor(t, func() error { return healthy(append(partitions(t, n1, ""), partitions(t, n1, "hot")...)) })
	// Leaders moved by the balancer start their partitions' write samples
	// afresh: let it finish first.
	waitWithin(t, 2*time.Minute, func() error { return quiet(t, n1) })
	before := len(partitions(t, n1, "hot"))

	// Many keys, written over and over, without a pause (the checks below
	// can take seconds on a loaded machine; a pause between bursts would
	// let the partitions cool before they were hot long enough): the
	// busiest partitions split.
	const keys = 3000
	var written sync.WaitGroup
	var done [4]atomic.Int64 // writes acknowledged, per writer
	stopWrites := make(chan struct{})
	for w := range 4 {
		written.Go(func() {
			for i := w; i < 200_000; i += 4 {
				select {
				case <-stopWrites:
					return
				default:
				}
				if err := putN(c, "hot", i%keys); err != nil {
					t.Errorf("put %d: %v", i, err)
					return
				}
				done[w].Add(1)
			}
		})
	}
	// The writers stop before the test ends, whichever way it ends: one
	// that reported an error after it would panic the test binary.
	stopWriters := sync.OnceFunc(func() {
		close(stopWrites)
		written.Wait()
	})
	defer stopWriters()
	waitWithin(t, 2*time.Minute, func() error {
		for _, e := range timeline(t, n1, "kind=split&state=succeeded") {
			if e.Checker == "split" {
				return nil
			}
		}
		acked := []int64{done[0].Load(), done[1].Load(), done[2].Load(), done[3].Load()}
		return fmt.Errorf("no split yet; %d partitions; writes acknowledged per writer %v; plan why-nots: %v",
			len(partitions(t, n1, "hot")), acked, splitWhyNots(t, n1))
	})
	stopWriters()
	split := timeline(t, n1, "kind=split&state=succeeded")[0]
	if !strings.Contains(strings.Join(split.Reasons, "; "), "sampled writes") {
		t.Errorf("a split not at its sampled median: %+v", split.Reasons)
	}
	waitFor(t, func() error {
		if after := len(partitions(t, n1, "hot")); after <= before {
			return fmt.Errorf("%d partitions, %d before", after, before)
		}
		return nil
	})
	// Writer w wrote keys w, w+4, ... (mod keys), each acknowledged.
	for w := range done {
		for j := range min(int(done[w].Load()), keys/4) {
			if _, err := getN(c, "hot", w+4*j); err != nil {
				t.Fatalf("item %d after the splits: %v", w+4*j, err)
			}
		}
	}

	// One key: hot, never split.
	splits := len(timeline(t, n1, "kind=split"))
	var onKey sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		onKey.Go(func() {
			for i := 0; i < 100_000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_ = putN(c, "hot", 7)
			}
		})
	}
	stopOnKey := sync.OnceFunc(func() {
		close(stop)
		onKey.Wait()
	})
	defer stopOnKey()
	waitWithin(t, 2*time.Minute, func() error {
		for _, w := range splitWhyNots(t, n1) {
			if strings.Contains(w, "a single hot key cannot be split") {
				return nil
			}
		}
		return fmt.Errorf("no hot-key why-not yet: %v", splitWhyNots(t, n1))
	})
	stopOnKey()
	if n := len(timeline(t, n1, "kind=split")); n != splits {
		t.Errorf("%d splits while one key was hot, %d before", n, splits)
	}
}

// splitWhyNots are the split checker's reasons for proposing nothing.
func splitWhyNots(t *testing.T, via *node.Node) []string {
	var p admin.DoctorPlan
	adminDo(t, via, http.MethodGet, "/doctor/plan", &p)
	var out []string
	for _, w := range p.Plan.WhyNots {
		if w.Checker == "split" {
			out = append(out, fmt.Sprintf("p%d: %s", w.Partition, w.Reason))
		}
	}
	return out
}

// getN reads item k<i> consistently; a missing item is an error.
func getN(c *dynamodb.Client, table string, i int) (map[string]types.AttributeValue, error) {
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}}})
	if err != nil {
		return nil, err
	}
	if out.Item == nil {
		return nil, fmt.Errorf("k%d is missing", i)
	}
	return out.Item, nil
}
