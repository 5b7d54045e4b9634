package node

import (
	"context"
	"fmt"
	"time"

	"github.com/partitadb/partita/route"
)

// minPace is the shortest pause a readPacer takes: shorter ones are
// added up until they reach it.
const minPace = 5 * time.Millisecond

// readPacer bounds the bytes a reader goes through a second
// (export.max-read-bytes-per-sec): after each item it sleeps until the
// bytes read since the window's start are within the rate. A change of
// the rate (live) starts a new window, and so does a reader more than a
// second behind it (no burst is saved up). Not safe for concurrent use:
// one per partition being read.
type readPacer struct {
	now func() time.Time
	// sleep pauses (nil: route.Sleep).
	sleep func(context.Context, time.Duration) error
	rate  int64 // the rate of the window (0: none)
	start time.Time
	bytes int64
}

// wait accounts n bytes read at rate bytes a second (0: unlimited) and
// sleeps as long as the reader is ahead of it.
func (p *readPacer) wait(ctx context.Context, rate, n int64) error {
	if rate <= 0 {
		p.rate = 0
		return nil
	}
	if rate != p.rate {
		p.rate, p.start, p.bytes = rate, p.now(), 0
	}
	p.bytes += n
	now := p.now()
	due := time.Duration(float64(p.bytes) / float64(rate) * float64(time.Second))
	ahead := due - now.Sub(p.start)
	if ahead < -time.Second {
		// Behind by more than a second (the reads were slow, or stopped):
		// a new window, so that no more than a second's worth is saved up.
		p.start, p.bytes = now, n
		ahead = time.Duration(float64(n) / float64(rate) * float64(time.Second))
	}
	if ahead < minPace {
		return nil
	}
	sleep := p.sleep
	if sleep == nil {
		sleep = route.Sleep
	}
	if err := sleep(ctx, ahead); err != nil {
		return fmt.Errorf("node: export paced: %w", err)
	}
	return nil
}
