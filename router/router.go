package router

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/kv"
	"github.com/partitadb/partita/partitapb"
)

// Proposer replicates and applies a command on one partition and returns
// the apply result (the store).
type Proposer interface {
	Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error)
}

// Config lists the router's dependencies.
type Config struct {
	// Engine is the local engine, read directly for items and table records.
	Engine *engine.Engine
	// Proposer applies commands (required).
	Proposer Proposer
	// PartitionsPerTable is the number of partitions a new table starts with.
	PartitionsPerTable uint32
	// Now is the clock stamped on commands.
	Now func() time.Time
	// NewID returns a fresh command id.
	NewID func() []byte
	// Logger receives the router's logs.
	Logger *slog.Logger
}

// DefaultConfig returns a Config with defaults for everything but Engine
// and Proposer.
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
	case c.Engine == nil:
		return errors.New("router: Config.Engine is required")
	case c.Proposer == nil:
		return errors.New("router: Config.Proposer is required")
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
}

// New returns a Router; cfg must Validate.
func New(cfg Config) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Router{cfg: cfg, tables: make(map[string]*partitapb.Table)}, nil
}

// command wraps op into a Command with a fresh id and timestamp.
func (r *Router) command() *partitapb.Command {
	return &partitapb.Command{Id: r.cfg.NewID(), UnixNanos: r.cfg.Now().UnixNano()}
}

// propose sends cmd to partition and turns a rejection into an error.
func (r *Router) propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	res, err := r.cfg.Proposer.Propose(ctx, partition, cmd)
	if err != nil {
		return nil, fmt.Errorf("router: partition %d: %w", partition, err)
	}
	return res, nil
}

// proposeMeta proposes a table command and refreshes the cache with the
// resulting record.
func (r *Router) proposeMeta(ctx context.Context, cmd *partitapb.Command) (*partitapb.Table, error) {
	res, err := r.propose(ctx, kv.MetaPartition, cmd)
	if err != nil {
		return nil, err
	}
	if res.GetError() != nil {
		return nil, res.GetError()
	}
	t := res.GetTable()
	r.mu.Lock()
	if t.GetStatus() == "DELETING" {
		delete(r.tables, t.GetName())
	} else {
		r.tables[t.GetName()] = t
	}
	r.mu.Unlock()
	return proto.Clone(t).(*partitapb.Table), nil
}

// partitionOf returns the partition of t that owns partition key pk.
func partitionOf(t *partitapb.Table, pk item.Value) *partitapb.Partition {
	h := item.Hash(pk)
	parts := t.GetPartitions()
	i := sort.Search(len(parts), func(i int) bool { return parts[i].GetHashStart() > h })
	return parts[i-1]
}
