package store

import (
	"context"
	"fmt"
	"sync"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/kv"
	"github.com/partitadb/partita/partitapb"
)

// Local is a single-node store: every partition has one replica, here, and a
// proposal is applied and made durable before Propose returns.
type Local struct {
	eng *engine.Engine

	mu    sync.Mutex
	locks map[uint64]*sync.Mutex // per partition; serialises apply
}

// NewLocal returns a Local store over eng.
func NewLocal(eng *engine.Engine) *Local {
	return &Local{eng: eng, locks: make(map[uint64]*sync.Mutex)}
}

// Propose applies cmd to partition and returns its result once it is
// durable. Commands of one partition apply one at a time, in the order they
// take the partition's lock; different partitions proceed in parallel and
// share fsyncs in the engine's commit pipeline.
func (s *Local) Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: propose: %w", err)
	}
	l := s.lock(partition)
	l.Lock()
	defer l.Unlock()
	b := s.eng.NewIndexedBatch()
	res, err := kv.Apply(b, partition, cmd)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("store: apply to partition %d: %w", partition, err)
	}
	if err := s.eng.Commit(b); err != nil {
		return nil, fmt.Errorf("store: partition %d: %w", partition, err)
	}
	return res, nil
}

func (s *Local) lock(partition uint64) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.locks[partition]
	if !ok {
		l = &sync.Mutex{}
		s.locks[partition] = l
	}
	return l
}
