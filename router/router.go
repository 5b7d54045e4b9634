package router

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/route"
	"github.com/partitadb/partita/store"
)

// Host makes the replicas of new partitions exist and removes those of
// deleted ones.
type Host interface {
	// CreatePartition makes a new partition's replicas exist and serve.
	CreatePartition(ctx context.Context, p *partitapb.Partition) error
	// DestroyPartition removes the replicas of a partition whose data is gone.
	DestroyPartition(ctx context.Context, partition uint64) error
}

// Config lists the router's dependencies.
type Config struct {
	// Sender delivers commands and reads to partitions, retrying until
	// the request's deadline (required).
	Sender *route.Sender
	// Host creates and removes partitions' replicas (required).
	Host Host
	// PartitionsPerTable is the number of partitions a new table starts
	// with (at least one per node when Placement is set).
	PartitionsPerTable uint32
	// Placement returns the nodes new partitions are placed on, ordered so
	// that consecutive nodes are in different zones, and the replication
	// factor (nil: partitions list no replicas; the store places them).
	Placement func(ctx context.Context) (nodes []uint64, replicationFactor int, err error)
	// Now is the clock stamped on commands.
	Now func() time.Time
	// NewID returns a fresh command id.
	NewID func() []byte
	// Logger receives the router's logs.
	Logger *slog.Logger
	// Tracer starts a span per proposal and read barrier (nil: a noop
	// tracer).
	Tracer trace.Tracer
	// Timeout, if set, bounds a request on a table whose context has no
	// deadline (0: the Sender's RequestTimeout): the request.timeout
	// setting, which may differ by table.
	Timeout func(table string) time.Duration
	// ItemCollectionLimit bounds the item collections of tables with
	// local secondary indexes (0: DynamoDB's 10 GB, fsm's default); tests
	// lower it.
	ItemCollectionLimit int64
}

// DefaultConfig returns a Config with defaults for everything but Store.
func DefaultConfig() Config {
	return Config{
		PartitionsPerTable: 4,
		Now:                time.Now,
		NewID:              RandomID,
		Logger:             slog.New(slog.DiscardHandler),
	}
}

// Validate reports a missing dependency or an impossible setting.
func (c Config) Validate() error {
	switch {
	case c.Sender == nil || c.Host == nil:
		return errors.New("router: Config.Sender and Config.Host are required")
	case c.PartitionsPerTable < 1 || c.PartitionsPerTable > 1024:
		return fmt.Errorf("router: PartitionsPerTable %d out of [1, 1024]", c.PartitionsPerTable)
	case c.Now == nil || c.NewID == nil || c.Logger == nil:
		return errors.New("router: Config.Now, NewID and Logger are required")
	}
	return nil
}

// RandomID returns 16 random bytes, the default command id.
func RandomID() []byte {
	id := make([]byte, 16)
	_, _ = rand.Read(id) // crypto/rand.Read never fails
	return id
}

// Router routes table and item requests to partitions.
type Router struct {
	cfg Config

	mu     sync.RWMutex
	tables map[string]*partitapb.Table // cache of table records by name

	// version is the cluster version in force (SetClusterVersion): the
	// features it allows.
	version atomic.Uint32
}

// New returns a Router; cfg must Validate.
func New(cfg Config) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Tracer == nil {
		cfg.Tracer = noop.NewTracerProvider().Tracer("")
	}
	return &Router{cfg: cfg, tables: make(map[string]*partitapb.Table)}, nil
}

// command returns a Command with a fresh id and timestamp, not proposed
// yet.
func (r *Router) command() *partitapb.Command {
	return &partitapb.Command{Id: r.cfg.NewID(), UnixNanos: r.cfg.Now().UnixNano(), FirstAttempt: true}
}

// propose sends cmd to partition's leader; the Sender retries it (with
// the same command id, so it applies at most once) until the request's
// deadline.
func (r *Router) propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	ctx, span := r.startSpan(ctx, "router.propose", partition)
	res, err := r.cfg.Sender.Propose(ctx, partition, cmd)
	endSpan(span, err)
	if err != nil {
		return nil, fmt.Errorf("router: partition %d: %w", partition, err)
	}
	return res, nil
}

// get reads key from partition. A consistent read is traced as the
// partition's read barrier.
func (r *Router) get(ctx context.Context, partition uint64, key []byte, consistent bool) ([]byte, error) {
	if consistent {
		var span trace.Span
		ctx, span = r.startSpan(ctx, "router.read_barrier", partition)
		defer span.End()
	}
	v, err := r.cfg.Sender.Get(ctx, partition, key, consistent)
	if err != nil {
		return nil, fmt.Errorf("router: partition %d: %w", partition, err)
	}
	return v, nil
}

// walkPage reads one page of partition.
func (r *Router) walkPage(ctx context.Context, req store.WalkRequest) (store.WalkResult, error) {
	res, err := r.cfg.Sender.Walk(ctx, req)
	if err != nil {
		return res, fmt.Errorf("router: partition %d: %w", req.Partition, err)
	}
	return res, nil
}

// proposeMeta proposes a table command and refreshes the cache with the
// resulting record.
func (r *Router) proposeMeta(ctx context.Context, cmd *partitapb.Command) (*partitapb.Table, error) {
	res, err := r.propose(ctx, directory.MetaPartition, cmd)
	if err != nil {
		return nil, err
	}
	if res.GetError() != nil {
		return nil, res.GetError()
	}
	t := res.GetTable()
	r.mu.Lock()
	if t.GetStatus() == directory.Deleting.String() {
		delete(r.tables, t.GetName())
	} else {
		r.cacheLocked(t)
	}
	r.mu.Unlock()
	return proto.Clone(t).(*partitapb.Table), nil
}

// partitionOf returns the partition of t that owns partition key pk.
func partitionOf(t *partitapb.Table, pk item.Value) *partitapb.Partition {
	return partitionOfHash(t, item.Hash(pk))
}

// partitionOfHash returns the partition of t that owns partition key
// hash h.
func partitionOfHash(t *partitapb.Table, h uint64) *partitapb.Partition {
	parts := t.GetPartitions()
	i := sort.Search(len(parts), func(i int) bool { return parts[i].GetHashStart() > h })
	return parts[i-1]
}
