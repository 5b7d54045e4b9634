package store_test

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the process's user+system CPU time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIdleGroups measures the CPU that 1,000 idle raft groups cost:
// on one node (one-voter groups) and on three nodes in one process (every
// group replicated three times, default 100ms ticks). It reports the CPU
// used per wall second ("cores") over a 3s idle window.
func BenchmarkIdleGroups(b *testing.B) {
	for _, nodes := range []int{1, 3} {
		b.Run(map[int]string{1: "1node", 3: "3nodes"}[nodes], func(b *testing.B) {
			c := newTestClusterTB(b, nodes, 100*time.Millisecond)
			voters := []uint64{1, 2, 3}[:nodes]
			const groups = 1000
			for p := uint64(2); p < 2+groups; p++ {
				for _, s := range c.stores {
					if err := s.Bootstrap(p, voters, tableSpan()); err != nil {
						b.Fatal(err)
					}
				}
			}
			for p := uint64(2); p < 2+groups; p += 97 {
				c.leader(p)
			}
			time.Sleep(3 * time.Second) // let every group elect
			b.ResetTimer()
			for range b.N {
				cpu0, t0 := cpuTime(b), time.Now()
				time.Sleep(3 * time.Second)
				b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(time.Since(t0)), "cores")
			}
		})
	}
}
