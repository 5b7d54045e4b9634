package harness_test

import (
	"flag"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Flags of the randomized tests. Their defaults are short; the chaos build
// tag (chaos_on_test.go) raises them for a soak.
var (
	chaosSeeds    = flag.Int("chaos.seeds", defaultSeeds, "seeds per randomized test")
	chaosSeed0    = flag.Uint64("chaos.seed", 1, "first seed (with -chaos.seeds 1: replay one seed)")
	chaosDuration = flag.Duration("chaos.duration", defaultDuration, "workload duration per seed")
)

func seeds() []uint64 {
	out := make([]uint64, *chaosSeeds)
	for i := range out {
		out[i] = *chaosSeed0 + uint64(i)
	}
	return out
}

func workloadDuration() time.Duration { return *chaosDuration }

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
