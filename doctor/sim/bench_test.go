package sim

import (
	"testing"
	"time"
)

// BenchmarkSimulatedHour runs one virtual hour of a 6-node, 48-partition
// cluster with a node paused every minute and one killed, the real
// checkers planning every 5 s.
func BenchmarkSimulatedHour(b *testing.B) {
	for b.Loop() {
		s, err := New(DefaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		for i := range 6 {
			_ = s.AddNode(uint64(i+1), []string{"a", "b", "c"}[i%3])
		}
		_ = s.AddPartitions(48, 3)
		s.Chaos(time.Minute, 3*time.Second)
		_ = s.Kill(6)
		s.Run(time.Hour)
	}
}
