package node_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/partitadb/partita/harness"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/topology"
)

// TestSplitsAndMergesLinearizable checks the harness's linearizability
// model against a table whose partitions split and merge while clients
// use it: three nodes, key/value clients (consistent GetItem, PutItem,
// conditional PutItem) through two of them, and meanwhile splits and
// merges of the table's partitions through the admin routes, as `ctl
// partition split` and `merge` run them, for 20 s or until
// three of each ran. porcupine checks the
// history.
func TestSplitsAndMergesLinearizable(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs a workload for 20 s of splits and merges")
	}
	noDoctor := func(c *node.Config) { c.Doctor = false }
	n1 := startHealerWith(t, "", noDoctor)
	nodes := []*node.Node{n1, startHealerWith(t, "", noDoctor, n1.PeerAddr()), startHealerWith(t, "", noDoctor, n1.PeerAddr())}
	createCapacityTable(t, client(n1), "lin", 0, 0)
	waitFor(t, func() error { return healthy(append(partitions(t, n1, ""), partitions(t, n1, "lin")...)) })

	h := harness.NewHistory()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Go(func() { kvClient(ctx, nodes[c%2], h, c) })
	}
	defer func() { cancel(); wg.Wait() }()

	rng := rand.New(rand.NewPCG(1, 2))
	splits, merges := 0, 0
	// At least 20 s, and on until three of each ran (a loaded machine runs
	// fewer in 20 s), within two minutes.
	begin := time.Now()
	for ; time.Since(begin) < 20*time.Second || (splits < 3 || merges < 3) && time.Since(begin) < 2*time.Minute; time.Sleep(300 * time.Millisecond) {
		parts := partitions(t, n1, "lin")
		p := parts[rng.IntN(len(parts))]
		verb := "split"
		if len(parts) > 2 && (rng.IntN(2) == 0 || len(parts) > 6) {
			verb = "merge"
			if right := rightOf(parts, p); right == nil {
				continue
			}
		}
		call := h.Now()
		var res any
		code := adminDo(t, nodes[2], http.MethodPost, fmt.Sprintf("/cluster/partitions/%d/%s?table=lin", p.ID, verb), &res)
		h.Note(fmt.Sprintf("%s p%d: %d", verb, p.ID, code), call, h.Now())
		switch {
		case code == http.StatusOK && verb == "split":
			splits++
		case code == http.StatusOK:
			merges++
		case code != http.StatusConflict: // refused: the partition changed meanwhile
			t.Fatalf("%s p%d: status %d", verb, p.ID, code)
		}
	}
	time.Sleep(time.Second)
	cancel()
	wg.Wait()

	n, unknown, _ := h.Stats()
	t.Logf("%d operations (%d unknown) over %d splits and %d merges; %d partitions at the end",
		n, unknown, splits, merges, len(partitions(t, n1, "lin")))
	if splits < 3 || merges < 3 {
		t.Fatalf("only %d splits and %d merges ran", splits, merges)
	}
	if n-unknown < 100 {
		t.Fatalf("only %d operations completed", n-unknown)
	}
	h.RequireLinearizable(t, time.Minute)
}

// rightOf is the partition whose range starts where p's ends (nil: none).
func rightOf(parts []topology.PartitionInfo, p topology.PartitionInfo) *topology.PartitionInfo {
	for i := range parts {
		if p.HashEnd != 0 && parts[i].HashStart == p.HashEnd {
			return &parts[i]
		}
	}
	return nil
}
