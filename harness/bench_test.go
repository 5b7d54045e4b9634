package harness_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partitadb/partita/harness"
	"github.com/partitadb/partita/store"
)

// benchConfig is 3 nodes on real Pebble directories with the store's
// default timeouts.
func benchConfig() harness.Config {
	return harness.Config{OnDisk: true, TickInterval: store.DefaultConfig().TickInterval, Wait: 30 * time.Second}
}

// BenchmarkWrite measures replicated writes of 256-byte values by
// concurrent writers spread over partitions: throughput and latency
// percentiles.
func BenchmarkWrite(b *testing.B) {
	for _, partitions := range []int{1, 64} {
		for _, writers := range []int{1, 16, 64, 256} {
			b.Run(fmt.Sprintf("partitions=%d/writers=%d", partitions, writers), func(b *testing.B) {
				benchWrite(b, partitions, writers)
			})
		}
	}
}

func benchWrite(b *testing.B, partitions, writers int) {
	c := harness.New(b, benchConfig())
	for p := range partitions {
		c.Bootstrap(uint64(100 + p))
	}
	for p := range partitions {
		c.Leader(uint64(100 + p))
	}
	value := strings.Repeat("v", 256)
	lat := make([][]time.Duration, writers)
	var next, failed atomic.Int64
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
				p := uint64(100 + int(i)%partitions)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				t0 := time.Now()
				err := cl.Put(ctx, p, fmt.Sprintf("w%d-%d", w, i), value)
				lat[w] = append(lat[w], time.Since(t0))
				cancel()
				if err != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if failed.Load() > 0 {
		b.Errorf("%d writes failed", failed.Load())
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
	b.ReportMetric(ms(all[len(all)/2]), "p50-ms")
	b.ReportMetric(ms(all[len(all)*99/100]), "p99-ms")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkLeaderFailover measures the time from a leader's crash to the
// first write acknowledged on its partition, with default timeouts.
func BenchmarkLeaderFailover(b *testing.B) {
	c := harness.New(b, benchConfig())
	const p = 100
	c.Bootstrap(p)
	cl := c.NewClient()
	cl.Attempt = 100 * time.Millisecond
	put := func(key string) time.Duration {
		t0 := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := cl.Put(ctx, p, key, "x"); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	var total, worst time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		put(fmt.Sprint("warm", i))
		leader := c.Leader(p)
		b.StartTimer()
		c.Crash(leader)
		d := put(fmt.Sprint("after", i))
		b.StopTimer()
		total += d
		worst = max(worst, d)
		c.Restart(leader)
		c.WaitApplied(p)
		b.StartTimer()
	}
	b.ReportMetric(ms(total)/float64(b.N), "failover-ms")
	b.ReportMetric(ms(worst), "worst-failover-ms")
}
