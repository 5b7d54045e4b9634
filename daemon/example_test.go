package daemon_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/partitadb/partita/daemon"
)

// A periodic job driven by a fake clock: each Advance past the interval
// runs one cycle, which counts itself in the job's cache.
func Example() {
	clk := daemon.NewFakeClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	cycles := make(chan daemon.CycleRecord, 1)
	m, err := daemon.New(daemon.Config{
		Clock:   clk,
		Rand:    rand.New(rand.NewPCG(1, 2)),
		OnCycle: func(r daemon.CycleRecord) { cycles <- r },
	})
	if err != nil {
		panic(err)
	}
	err = m.Register(daemon.JobSpec{
		Name:     "heartbeat",
		Kind:     daemon.Periodic,
		Interval: 5 * time.Second,
		Run: func(ctx context.Context, c *daemon.Cycle) error {
			n, _ := daemon.CacheGet[int](c.Cache, "beats")
			c.Cache.Put("beats", n+1)
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	if err := m.Start(context.Background()); err != nil {
		panic(err)
	}
	for range 3 {
		clk.BlockUntil(1) // the job waits for its interval
		clk.Advance(5 * time.Second)
		r := <-cycles
		fmt.Println(r.Job, r.Reason, r.Outcome, r.Start.Format(time.TimeOnly))
	}
	cache, _ := m.Cache("heartbeat")
	beats, _ := daemon.CacheGet[int](cache, "beats")
	fmt.Println("beats:", beats)
	if err := m.Stop(context.Background()); err != nil {
		panic(err)
	}
	// Output:
	// heartbeat schedule success 00:00:05
	// heartbeat schedule success 00:00:10
	// heartbeat schedule success 00:00:15
	// beats: 3
}
