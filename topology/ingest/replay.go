package ingest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"gocloud.dev/blob"

	"github.com/partitadb/partita/topology/history"
)

// Replay rebuilds views of the past from a bucket alone: `partita doctor
// replay`. Lookback is how far before a view's time snapshots are read: a
// node silent for longer does not appear.
type Replay struct {
	Bucket   *blob.Bucket
	Config   Config // Now, MaxSkew and MaxAge are set by Replay
	Lookback time.Duration
	Readers  int
}

// clock is a settable clock for replays.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func (rp Replay) ingester(c *clock) (*Ingester, error) {
	cfg := rp.Config
	cfg.Now, cfg.MaxSkew, cfg.MaxAge, cfg.Registerer = c.now, 0, rp.Lookback, nil
	cfg.Forget = max(cfg.Forget, rp.Lookback)
	return New(cfg)
}

// At is the view as it was at t.
func (rp Replay) At(ctx context.Context, t time.Time) (*ClusterView, LoadStats, error) {
	c := &clock{t: t}
	in, err := rp.ingester(c)
	if err != nil {
		return nil, LoadStats{}, err
	}
	r := BucketReader{Bucket: rp.Bucket, Ingester: in, Readers: rp.Readers}
	st, err := r.Load(ctx, t.Add(-rp.Lookback), t)
	if err != nil {
		return nil, st, err
	}
	return in.View(), st, nil
}

// Step is one view of a walk and what changed since the previous one.
type Step struct {
	View    *ClusterView
	Changes []Change
}

// Walk rebuilds the view every step from from to to and reports what
// changed between consecutive views to fn (the first step's changes are
// the nodes and leaders it starts with). It reads each snapshot once.
func (rp Replay) Walk(ctx context.Context, from, to time.Time, step time.Duration, fn func(Step) error) error {
	if step <= 0 || to.Before(from) {
		return fmt.Errorf("ingest: walk from %s to %s by %s: want from <= to and a positive step", from, to, step)
	}
	c := &clock{t: from}
	in, err := rp.ingester(c)
	if err != nil {
		return err
	}
	r := BucketReader{Bucket: rp.Bucket, Ingester: in, Readers: rp.Readers}
	names, err := r.Names(ctx, from.Add(-rp.Lookback), to)
	if err != nil {
		return err
	}
	slices.SortFunc(names, func(a, b history.Name) int { return a.Taken.Compare(b.Taken) })
	prev := &ClusterView{}
	for t := from; !t.After(to); t = t.Add(step) {
		n, _ := slices.BinarySearchFunc(names, t, func(a history.Name, t time.Time) int {
			return cmp.Or(a.Taken.Compare(t), -1) // first name after t
		})
		c.set(t)
		r.LoadNames(ctx, names[:n])
		names = names[n:]
		v := in.View()
		if err := fn(Step{View: v, Changes: Diff(prev, v)}); err != nil {
			return err
		}
		prev = v
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}
