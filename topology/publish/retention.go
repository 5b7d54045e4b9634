package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"gocloud.dev/blob"

	"github.com/partitadb/partita/topology/history"
)

// RetentionConfig configures a Retention job.
type RetentionConfig struct {
	// Bucket holds the history (required).
	Bucket Bucket
	// Keep is how long snapshots are kept: an hour of the layout is
	// deleted once all of it is older than Keep (required, positive).
	Keep time.Duration
	// PageSize is the number of keys listed per call.
	PageSize int
	// MaxDeletes bounds the deletions of one cycle, so that a cycle ends;
	// the next one carries on.
	MaxDeletes int
	// Parallel is the number of deletes in flight.
	Parallel int
	// Now is the clock the age of hours is measured with (required).
	Now func() time.Time
	// Metrics are the pipeline's collectors (nil: unregistered ones).
	Metrics *Metrics
	// Logger receives the job's logs (required).
	Logger *slog.Logger
}

// DefaultRetentionConfig keeps 7 days, listing 1,000 keys a page and
// deleting up to 100,000 blobs a cycle, 8 at a time.
func DefaultRetentionConfig() RetentionConfig {
	return RetentionConfig{Keep: 7 * 24 * time.Hour, PageSize: 1000, MaxDeletes: 100_000, Parallel: 8,
		Now: time.Now, Logger: slog.New(slog.DiscardHandler)}
}

// Retention deletes the history older than RetentionConfig.Keep, whole
// hours at a time: it walks the layout's year, month, day and hour
// directories, skips those with newer snapshots, and deletes the blobs of
// those entirely older, page by page.
type Retention struct {
	cfg RetentionConfig
	m   *metrics
}

// NewRetention returns the job; Run is one cycle.
func NewRetention(cfg RetentionConfig) (*Retention, error) {
	if cfg.Bucket == nil || cfg.Now == nil || cfg.Logger == nil || cfg.Keep <= 0 ||
		cfg.PageSize < 1 || cfg.MaxDeletes < 1 || cfg.Parallel < 1 {
		return nil, errors.New("publish: RetentionConfig needs Bucket, Now, Logger and positive Keep, PageSize, MaxDeletes, Parallel")
	}
	if cfg.Metrics == nil {
		cfg.Metrics, _ = NewMetrics(nil)
	}
	return &Retention{cfg: cfg, m: cfg.Metrics.m}, nil
}

// RetentionResult is what one cycle deleted.
type RetentionResult struct {
	Blobs, Bytes int64
	// More says the cycle stopped at MaxDeletes with old blobs left.
	More bool
}

// Run deletes what is older than the retention, up to MaxDeletes blobs.
func (r *Retention) Run(ctx context.Context) (RetentionResult, error) {
	cutoff := r.cfg.Now().Add(-r.cfg.Keep)
	var res RetentionResult
	var err error
	for _, root := range history.Roots() {
		if err = r.walk(ctx, root, root, 0, cutoff, &res); err != nil {
			break
		}
	}
	if errors.Is(err, errBudget) {
		res.More, err = true, nil
	}
	if err != nil {
		r.m.retentionErrs.Inc()
		return res, err
	}
	if res.Blobs > 0 {
		r.cfg.Logger.Info("topology retention deleted old snapshots", "blobs", res.Blobs, "bytes", res.Bytes,
			"older_than", cutoff.UTC().Format(time.RFC3339), "more", res.More)
	}
	return res, nil
}

// errBudget stops a cycle at MaxDeletes.
var errBudget = errors.New("publish: retention budget spent")

// levels are the layout's directory levels under each of history.Roots and the
// span of time each covers.
var levels = []struct {
	layout string
	next   func(time.Time) time.Time
}{
	{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
	{"2006/01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
	{"2006/01/02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
	{"2006/01/02/15", func(t time.Time) time.Time { return t.Add(time.Hour) }},
}

// walk visits the directories under prefix (at level), deleting those
// entirely older than cutoff and descending into those that straddle it.
func (r *Retention) walk(ctx context.Context, root, prefix string, level int, cutoff time.Time, res *RetentionResult) error {
	for token := blob.FirstPageToken; len(token) > 0; {
		objs, next, err := r.cfg.Bucket.ListPage(ctx, token, r.cfg.PageSize, &blob.ListOptions{Prefix: prefix, Delimiter: "/"})
		if err != nil {
			r.m.bucketErrors.WithLabelValues("list").Inc()
			return fmt.Errorf("publish: list %s: %w", prefix, err)
		}
		token = next
		for _, o := range objs {
			if !o.IsDir {
				continue // only hour directories hold snapshots
			}
			start, err := time.Parse(levels[level].layout, strings.TrimSuffix(strings.TrimPrefix(o.Key, root), "/"))
			if err != nil {
				continue // not of the layout: not ours to delete
			}
			end := levels[level].next(start)
			switch {
			case !end.After(cutoff):
				err = r.deleteAll(ctx, o.Key, res)
			case start.Before(cutoff) && level+1 < len(levels):
				err = r.walk(ctx, root, o.Key, level+1, cutoff, res)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// deleteAll deletes every blob under prefix, a page at a time.
func (r *Retention) deleteAll(ctx context.Context, prefix string, res *RetentionResult) error {
	for {
		// Always the first page: what was listed is deleted before the
		// next listing.
		objs, _, err := r.cfg.Bucket.ListPage(ctx, blob.FirstPageToken, r.cfg.PageSize, &blob.ListOptions{Prefix: prefix})
		if err != nil {
			r.m.bucketErrors.WithLabelValues("list").Inc()
			return fmt.Errorf("publish: list %s: %w", prefix, err)
		}
		if len(objs) == 0 {
			return nil
		}
		if err := r.deletePage(ctx, objs, res); err != nil {
			return err
		}
	}
}

// deletePage deletes objs, Parallel at a time, within the cycle's budget.
func (r *Retention) deletePage(ctx context.Context, objs []*blob.ListObject, res *RetentionResult) error {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
		sem  = make(chan struct{}, r.cfg.Parallel)
	)
	budget := int64(r.cfg.MaxDeletes) - res.Blobs
	if budget <= 0 {
		return errBudget
	}
	if int64(len(objs)) > budget {
		objs = objs[:budget]
	}
	for _, o := range objs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := r.cfg.Bucket.Delete(ctx, o.Key)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				r.m.bucketErrors.WithLabelValues("delete").Inc()
				errs = append(errs, fmt.Errorf("publish: delete %s: %w", o.Key, err))
				return
			}
			res.Blobs++
			res.Bytes += o.Size
			r.m.deletedBlobs.Inc()
			r.m.deletedBytes.Add(float64(o.Size))
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
