package store_test

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkDestroyAmong measures Destroy on a node hosting many replicas:
// the decision of what a destroyed replica's data overlaps reads what
// every other replica owns, under the locks that hold off snapshots and
// replica creation. Each iteration bootstraps a replica (untimed) and
// destroys it, so the node keeps hosting `replicas` others.
func BenchmarkDestroyAmong(b *testing.B) {
	for _, replicas := range []int{100, 1000} {
		b.Run(fmt.Sprint(replicas), func(b *testing.B) {
			c := newTestClusterTB(b, 1, 100*time.Millisecond)
			s := c.stores[0]
			next := uint64(2)
			bootstrap := func() uint64 {
				p := next
				next++
				if err := s.Bootstrap(p, []uint64{1}, tableSpanOf(p)); err != nil {
					b.Fatal(err)
				}
				return p
			}
			for range replicas {
				bootstrap()
			}
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				p := bootstrap()
				b.StartTimer()
				if err := s.Destroy(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
