package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Run executes the benchmark described by cfg: it creates the table if
// needed, runs the load phase if cfg.Load, then the measured phase.
func Run(ctx context.Context, cfg Config) (Report, error) {
	r, err := newRun(ctx, cfg)
	if err != nil {
		return Report{}, err
	}
	if cfg.Load {
		if err := r.load(ctx); err != nil {
			return Report{}, err
		}
	}
	return r.measure(ctx), nil
}

// Load creates the table if needed and inserts cfg.Records items, without
// measuring: a later Run with Load off measures on them.
func Load(ctx context.Context, cfg Config) error {
	r, err := newRun(ctx, cfg)
	if err != nil {
		return err
	}
	return r.load(ctx)
}

// run is the shared state of one benchmark run.
type run struct {
	cfg   Config
	items items
	dbs   []*dynamodb.Client // one per endpoint
	keys  keySpace
}

func newRun(ctx context.Context, cfg Config) (*run, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := Workloads[cfg.Workload]
	r := &run{cfg: cfg, items: items{
		table: cfg.table(), rangeKey: w.Scan > 0, consistentRead: cfg.ConsistentRead, maxScan: cfg.MaxScanLength, txnItems: cfg.TxnItems,
	}}
	perEndpoint := (cfg.Clients + len(cfg.Endpoints) - 1) / len(cfg.Endpoints)
	for _, e := range cfg.Endpoints {
		r.dbs = append(r.dbs, newClient(e, perEndpoint, cfg))
	}
	r.keys.n.Store(int64(cfg.Records))
	if err := ensureTable(ctx, r.dbs[0], r.items.table, r.items.rangeKey); err != nil {
		return nil, err
	}
	return r, nil
}

// newClient returns an SDK client for endpoint signing with cfg's key
// (dummy credentials without one), trying each operation cfg.Attempts
// times (1: a failed operation is counted, not hidden).
func newClient(endpoint string, clients int, cfg Config) *dynamodb.Client {
	id, secret := cfg.AccessKeyID, cfg.SecretAccessKey
	if id == "" {
		id, secret = "bench", "bench"
	}
	region := cfg.Region
	if region == "" {
		region = DefaultRegion
	}
	return dynamodb.New(dynamodb.Options{
		Region:           region,
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(id, secret, ""),
		RetryMaxAttempts: cfg.Attempts,
		HTTPClient:       newHTTPClient(clients),
	})
}

// keySpace counts items: indexes below count exist or are being inserted.
type keySpace struct{ n atomic.Int64 }

// claim returns the index of a new item.
func (k *keySpace) claim() int64 { return k.n.Add(1) - 1 }

func (k *keySpace) count() int64 { return k.n.Load() }

// load inserts items 0..Records-1 with Clients writers.
func (r *run) load(ctx context.Context) error {
	value := payload(rand.New(rand.NewPCG(r.cfg.Seed, 0)), r.cfg.ValueSize)
	var (
		wg    sync.WaitGroup
		first error
		once  sync.Once
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for c := range r.cfg.Clients {
		wg.Go(func() {
			db := r.dbs[c%len(r.dbs)]
			for i := c; i < r.cfg.Records && ctx.Err() == nil; i += r.cfg.Clients {
				if err := r.items.insert(ctx, db, int64(i), value); err != nil {
					once.Do(func() { first = fmt.Errorf("bench: load item %d: %w", i, err); cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// client is one load-generating goroutine's state.
type client struct {
	db     *dynamodb.Client
	rng    *rand.Rand
	keys   *keySpace
	choose chooser
	value  []byte
	stats  opStats
	window *window // nil without progress
	prog   *progress
}

// existing picks an existing item with the run's distribution.
func (c *client) existing() int64 { return c.choose.next(c.rng, c.keys.count()) }

// opStats are one client's (or the merged) latencies and errors.
type opStats struct {
	hists  [numOps]*hdrhistogram.Histogram
	errors [numOps]map[string]int64
}

func newOpStats() opStats {
	var s opStats
	for i := range s.hists {
		s.hists[i] = newHistogram()
		s.errors[i] = map[string]int64{}
	}
	return s
}

func (s *opStats) merge(o opStats) {
	for i := range s.hists {
		s.hists[i].Merge(o.hists[i])
		for k, v := range o.errors[i] {
			s.errors[i][k] += v
		}
	}
}

// newHistogram records latencies in microseconds, from 1 µs to a minute,
// with three significant digits.
func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3)
}

// measure runs the measured phase and merges the clients' statistics.
func (r *run) measure(ctx context.Context) Report {
	if r.cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.cfg.Duration)
		defer cancel()
	}
	clients := r.clients()
	var prog *progress
	if r.cfg.Progress != nil {
		prog = newProgress(r.cfg.Progress, clients)
	}
	m := newMix(Workloads[r.cfg.Workload])
	start := time.Now()
	stop := prog.start(start)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() { c.loop(ctx, r.items, m, r.quota(i)) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	stop()
	total := newOpStats()
	for _, c := range clients {
		total.merge(c.stats)
	}
	return newReport(r.cfg, total, elapsed)
}

// clients builds the clients, round-robin over the endpoints.
func (r *run) clients() []*client {
	choosers := newChoosers(r.cfg.distribution(), r.keys.count(), r.cfg.Clients)
	cs := make([]*client, r.cfg.Clients)
	for i := range cs {
		rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(i)+1))
		cs[i] = &client{
			db: r.dbs[i%len(r.dbs)], rng: rng, keys: &r.keys, choose: choosers[i],
			value: payload(rng, r.cfg.ValueSize), stats: newOpStats(),
		}
	}
	return cs
}

// quota is client i's share of Operations, or -1 without a count.
func (r *run) quota(i int) int {
	if r.cfg.Operations <= 0 {
		return -1
	}
	q := r.cfg.Operations / r.cfg.Clients
	if i < r.cfg.Operations%r.cfg.Clients {
		q++
	}
	return q
}

// loop issues operations until ctx ends or quota (-1: none) is done.
func (c *client) loop(ctx context.Context, it items, m mix, quota int) {
	for n := 0; quota < 0 || n < quota; n++ {
		op := m.next(c.rng)
		t0 := time.Now()
		err := it.do(ctx, c, op)
		if ctx.Err() != nil {
			return // the run's deadline cut this operation short
		}
		if err != nil {
			c.stats.errors[op][errorCode(err)]++
			c.prog.failed()
			continue
		}
		us := time.Since(t0).Microseconds()
		_ = c.stats.hists[op].RecordValue(us)
		c.window.record(us)
		c.prog.done()
	}
}
