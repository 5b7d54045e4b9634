package node_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/partitadb/partita/node"
)

// TestDoctorMergesColdPartitions: three nodes, the Doctor's merge delays
// lowered to 1 s. A table created with several partitions, small and
// cold, ends with one: the Doctor merges neighbours (the timeline says
// so), one merge per partition at a time, and every item reads back.
func TestDoctorMergesColdPartitions(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for the Doctor to merge")
	}
	tweak := func(c *node.Config) {
		c.DoctorOptions.MergeAfter, c.DoctorOptions.MergeCooldown = time.Second, time.Second
	}
	n1 := startHealerWith(t, "", tweak)
	n2, n3 := startHealerWith(t, "", tweak, n1.PeerAddr()), startHealerWith(t, "", tweak, n1.PeerAddr())
	_, _ = n2, n3
	c := client(n1)
	createCapacityTable(t, c, "cold", 0, 0)
	before := len(partitions(t, n1, "cold"))
	if before < 2 {
		t.Fatalf("%d partitions: nothing to merge", before)
	}
	const keys = 60
	for i := range keys {
		if err := putN(c, "cold", i); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	waitWithin(t, 2*time.Minute, func() error {
		if n := len(partitions(t, n1, "cold")); n > 1 {
			return fmt.Errorf("%d partitions of %d left; merges so far: %d", n, before, len(timeline(t, n1, "kind=merge&state=succeeded")))
		}
		return nil
	})
	// The Doctor records a merge's outcome after the directory shows it,
	// so the timeline may trail the partition count by a moment.
	waitWithin(t, 30*time.Second, func() error {
		if got := len(timeline(t, n1, "kind=merge&state=succeeded")); got != before-1 {
			var all []string
			for _, e := range timeline(t, n1, "kind=merge") {
				all = append(all, fmt.Sprintf("%+v", e))
			}
			return fmt.Errorf("%d merges in the timeline, want %d; every merge entry: %v", got, before-1, all)
		}
		return nil
	})
	for i := range keys {
		if _, err := getN(c, "cold", i); err != nil {
			t.Fatalf("item %d after the merges: %v", i, err)
		}
	}
}
