package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"gocloud.dev/blob"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/topology/history"
	"github.com/partitadb/partita/topology/topologypb"
)

// Config configures a Publisher.
type Config struct {
	// Bucket receives the snapshots (required).
	Bucket Bucket
	// QueueSnapshots and QueueBytes bound the snapshots waiting for the
	// bucket; beyond either, the oldest are dropped.
	QueueSnapshots int
	QueueBytes     int
	// WriteTimeout bounds one write.
	WriteTimeout time.Duration
	// Backoff spaces the retries of a failing write (daemon.Backoff's
	// meaning; zero fields take its defaults).
	Backoff daemon.Backoff
	// Clock times writes and backoff (nil: the wall clock).
	Clock daemon.Clock
	// Metrics are the pipeline's collectors (nil: unregistered ones).
	Metrics *Metrics
	// Logger receives the publisher's logs (required).
	Logger *slog.Logger
}

// DefaultConfig returns a publisher keeping up to 32 snapshots or 32 MiB,
// writing each within 10 s, retrying from 100 ms up to 30 s apart.
func DefaultConfig() Config {
	return Config{
		QueueSnapshots: 32,
		QueueBytes:     32 << 20,
		WriteTimeout:   10 * time.Second,
		Backoff:        daemon.Backoff{Initial: 100 * time.Millisecond, Max: 30 * time.Second, Multiplier: 2},
		Logger:         slog.New(slog.DiscardHandler),
	}
}

// Validate reports missing dependencies and impossible bounds.
func (c Config) Validate() error {
	switch {
	case c.Bucket == nil || c.Logger == nil:
		return errors.New("publish: Config needs Bucket and Logger")
	case c.QueueSnapshots < 1 || c.QueueBytes < 1 || c.WriteTimeout <= 0:
		return errors.New("publish: QueueSnapshots, QueueBytes and WriteTimeout must be positive")
	}
	return c.Backoff.Validate()
}

// Publisher writes snapshots to a bucket from a bounded queue. Publish
// may be called from any goroutine; Run is the one consumer.
type Publisher struct {
	cfg       Config
	m         *metrics
	q         *queue
	published atomic.Uint64
	dropped   atomic.Uint64
}

// New returns a Publisher; cfg must Validate.
func New(cfg Config) (*Publisher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = daemon.RealClock()
	}
	if cfg.Metrics == nil {
		m, _ := NewMetrics(nil)
		cfg.Metrics = m
	}
	return &Publisher{cfg: cfg, m: cfg.Metrics.m, q: newQueue(cfg.QueueSnapshots, cfg.QueueBytes)}, nil
}

// ErrNoNode is returned by Publish for a snapshot without a node id.
var ErrNoNode = errors.New("publish: snapshot without a node id")

// Key returns the bucket key of snap (see package history).
func Key(snap *topologypb.TopologySnapshot) string {
	return history.Name{
		Node:    snap.GetNode().GetId(),
		Taken:   time.Unix(0, snap.GetUnixNanos()),
		Started: time.Unix(0, snap.GetNode().GetStartUnixNanos()),
		Seq:     snap.GetSeq(),
	}.Key()
}

// Publish encodes snap and queues it for the bucket. It never waits for
// the bucket: when the queue is full, the oldest unsent snapshots are
// dropped. snap is not kept.
func (p *Publisher) Publish(snap *topologypb.TopologySnapshot) error {
	if snap.GetNode().GetId() == 0 {
		return ErrNoNode
	}
	data, err := proto.Marshal(snap)
	if err != nil {
		return fmt.Errorf("publish: encode snapshot: %w", err)
	}
	return p.PublishEncoded(Key(snap), data)
}

// PublishEncoded queues an encoded snapshot under key, as Publish does.
func (p *Publisher) PublishEncoded(key string, data []byte) error {
	if n := p.q.push(key, data); n > 0 {
		p.dropped.Add(uint64(n))
		p.m.dropped.Add(float64(n))
	}
	p.observeQueue()
	return nil
}

func (p *Publisher) observeQueue() {
	items, bytes := p.q.depth()
	p.m.queueDepth.Set(float64(items))
	p.m.queueBytes.Set(float64(bytes))
}

// Stats are a Publisher's counts since New.
type Stats struct {
	Published, Dropped  uint64
	Queued, QueuedBytes int
}

// Stats returns the publisher's counts.
func (p *Publisher) Stats() Stats {
	items, bytes := p.q.depth()
	return Stats{Published: p.published.Load(), Dropped: p.dropped.Load(), Queued: items, QueuedBytes: bytes}
}

// Run writes queued snapshots, oldest first, until ctx ends; it then
// returns nil, leaving what is still queued. A failed write is retried
// with backoff (newer snapshots keep queueing, and the oldest keep being
// dropped, meanwhile); publishing resumes by itself when the bucket does.
func (p *Publisher) Run(ctx context.Context) error {
	failures := 0
	for {
		it, ok := p.q.peek()
		if !ok {
			select {
			case <-p.q.ready:
				continue
			case <-ctx.Done():
				return nil
			}
		}
		err := p.write(ctx, it)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			if failures > 0 {
				p.cfg.Logger.Info("topology bucket writes resumed", "failed_attempts", failures)
			}
			failures = 0
			continue
		}
		failures++
		p.m.bucketErrors.WithLabelValues("write").Inc()
		if failures == 1 {
			p.cfg.Logger.Warn("topology bucket write failed; retrying with backoff", "key", it.key, "err", err)
		}
		if !p.sleep(ctx, p.cfg.Backoff.Delay(failures)) {
			return nil
		}
	}
}

// write writes it and, on success, removes it from the queue.
func (p *Publisher) write(ctx context.Context, it pending) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.WriteTimeout)
	defer cancel()
	start := p.cfg.Clock.Now()
	err := p.cfg.Bucket.WriteAll(ctx, it.key, it.data, &blob.WriterOptions{
		ContentType: "application/x-protobuf", DisableContentTypeDetection: true,
	})
	if err != nil {
		return err
	}
	p.m.publishTime.Observe(p.cfg.Clock.Since(start).Seconds())
	p.m.published.Inc()
	p.published.Add(1)
	p.q.remove(it.id)
	p.observeQueue()
	return nil
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func (p *Publisher) sleep(ctx context.Context, d time.Duration) bool {
	t := p.cfg.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-ctx.Done():
		return false
	}
}
