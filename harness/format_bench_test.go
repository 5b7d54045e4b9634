package harness_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/partitadb/partita/harness"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/store"
)

// BenchmarkWriteFormat compares, in one binary, the two ways a leader
// proposes item writes on 3 nodes: commands every replica evaluates
// (store.Config.LegacyWrites) and effects the leader evaluated. Run with
// -count to interleave them. Workloads: 256-byte puts of distinct keys
// over 4 partitions by 64 writers; UpdateItem ADD on one key by 64
// writers; puts conditional on an existing attribute of one key by 64
// writers. Besides throughput and latency it reports the process's CPU
// per write (the three nodes and the clients together).
func BenchmarkWriteFormat(b *testing.B) {
	for _, work := range []string{"put", "add-one-key", "cond-one-key"} {
		for _, format := range []string{"commands", "effects"} {
			b.Run(fmt.Sprintf("%s/%s", work, format), func(b *testing.B) {
				benchFormat(b, work, format == "commands")
			})
		}
	}
}

func benchFormat(b *testing.B, work string, legacy bool) {
	cfg := benchConfig()
	cfg.Tune = func(sc *store.Config) { sc.LegacyWrites = legacy }
	c := harness.New(b, cfg)
	partitions := 4
	if work != "put" {
		partitions = 1
	}
	for p := range partitions {
		c.Bootstrap(uint64(100 + p))
	}
	for p := range partitions {
		c.Leader(uint64(100 + p))
	}
	value := strings.Repeat("v", 256)
	one := item.EncodeItem(item.Item{":one": item.N(item.MustNumber("1"))})
	if work == "cond-one-key" {
		if err := c.NewClient().Put(context.Background(), 100, "hot", value); err != nil {
			b.Fatal(err)
		}
	}
	command := func(cl *harness.Client, w int, i int64) (uint64, *partitapb.Command) {
		switch work {
		case "add-one-key":
			return 100, &partitapb.Command{Id: cl.NewCommandID(), FirstAttempt: true, Op: &partitapb.Command_UpdateItem{UpdateItem: &partitapb.UpdateItem{
				Key: harness.ItemKey(100, "hot"), KeyItem: item.EncodeItem(item.Item{"pk": item.S("hot")}),
				Update: &partitapb.Expression{Text: "ADD n :one", Values: one},
			}}}
		case "cond-one-key":
			cmd := cl.PutCommand(100, "hot", value, false, "")
			cmd.GetPutItem().Condition = &partitapb.Expression{Text: "attribute_exists(v)"}
			return 100, cmd
		}
		p := uint64(100 + int(i)%partitions)
		return p, cl.PutCommand(p, fmt.Sprintf("w%d-%d", w, i), value, false, "")
	}
	const writers = 64
	lat := make([][]time.Duration, writers)
	var next, failed atomic.Int64
	cpu0 := processCPU()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			cl := c.NewClient()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				p, cmd := command(cl, w, i)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				t0 := time.Now()
				res, err := cl.Propose(ctx, p, cmd)
				lat[w] = append(lat[w], time.Since(t0))
				cancel()
				if err != nil || res.GetError() != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := processCPU() - cpu0
	if failed.Load() > 0 {
		b.Errorf("%d writes failed", failed.Load())
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
	b.ReportMetric(ms(all[len(all)/2]), "p50-ms")
	b.ReportMetric(ms(all[len(all)*99/100]), "p99-ms")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/write")
}

// processCPU is the user and system CPU this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
