package publish_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partitadb/partita/topology/publish"
	"github.com/partitadb/partita/topology/topologypb"
)

// The reporter sends the latest snapshot to the target of the moment,
// counts failures, skips when no target is known, and Offer never waits
// for a send in flight.
func TestReporter(t *testing.T) {
	var (
		target  atomic.Uint64
		mu      sync.Mutex
		got     []uint64 // seqs received
		block   = make(chan struct{})
		blocked atomic.Bool
	)
	r, err := publish.NewReporter(publish.ReporterConfig{
		Target:  target.Load,
		Timeout: 5 * time.Second,
		Logger:  slog.New(slog.DiscardHandler),
		Send: func(ctx context.Context, node uint64, s *topologypb.TopologySnapshot) error {
			if node == 9 {
				return errors.New("unreachable")
			}
			if blocked.Load() {
				<-block
			}
			mu.Lock()
			defer mu.Unlock()
			got = append(got, s.GetSeq())
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	received := func() []uint64 {
		mu.Lock()
		defer mu.Unlock()
		return append([]uint64(nil), got...)
	}
	at := time.Unix(1764777600, 0)
	r.Offer(snapshot(1, 1, at)) // no target: skipped
	target.Store(9)
	r.Offer(snapshot(1, 2, at)) // failing target
	target.Store(3)
	blocked.Store(true)
	r.Offer(snapshot(1, 3, at))
	waitFor(t, "a send to block", func() bool { return len(received()) == 0 })
	for seq := uint64(4); seq <= 50; seq++ {
		r.Offer(snapshot(1, seq, at)) // never waits for the blocked send
	}
	blocked.Store(false)
	close(block)
	waitFor(t, "the latest snapshot", func() bool {
		g := received()
		return len(g) > 0 && g[len(g)-1] == 50
	})
	if g := received(); len(g) > 3 {
		t.Fatalf("reporter sent %v: superseded snapshots should be skipped", g)
	}
}
