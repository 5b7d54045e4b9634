package replica

import (
	"encoding/binary"
	"errors"
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
)

// The log of a bootstrapped group starts after this index and term, so
// that a replica created empty (index 0) is recognisably behind and gets
// its state from the leader.
const (
	initialIndex = 10
	initialTerm  = 5
)

// Bootstrap writes the initial raft state of a new group whose voters are
// voters, owning spans, into b: every voter of a new partition is
// bootstrapped with the same state, so they agree on membership without a
// log. Its range starts at fsm.FirstRangeGeneration, as every range the
// directory creates does. It fails if the replica already has raft state.
func Bootstrap(b *engine.Batch, partition uint64, voters []uint64, spans []*partitapb.Span) error {
	if _, err := engine.Get(b, engine.LocalKey(partition, suffixHardState)); err == nil {
		return fmt.Errorf("replica: partition %d already has raft state", partition)
	} else if !errors.Is(err, engine.ErrNotFound) {
		return err
	}
	return bootstrapRange(b, &partitapb.Descriptor{
		Partition: partition, Spans: spans, Generation: fsm.FirstRangeGeneration,
	}, voters)
}

// writeInitialRaftState writes the raft state of a new group, whose log
// starts after initialIndex, into b.
func writeInitialRaftState(b *engine.Batch, partition uint64, cs raftpb.ConfState) error {
	k := func(s string) []byte { return engine.LocalKey(partition, s) }
	hs := raftpb.HardState{Term: initialTerm, Commit: initialIndex}
	for _, kv := range []struct {
		key string
		m   interface{ Marshal() ([]byte, error) }
	}{{suffixHardState, &hs}, {suffixConfState, &cs}} {
		raw, err := kv.m.Marshal()
		if err != nil {
			return fmt.Errorf("replica: bootstrap: %w", err)
		}
		if err := b.Set(k(kv.key), raw); err != nil {
			return fmt.Errorf("replica: bootstrap: %w", err)
		}
	}
	var tr [16]byte
	binary.BigEndian.PutUint64(tr[:], initialIndex)
	binary.BigEndian.PutUint64(tr[8:], initialTerm)
	if err := b.Set(k(suffixTruncated), tr[:]); err != nil {
		return fmt.Errorf("replica: bootstrap: %w", err)
	}
	return nil
}

func readDescriptor(r engine.Reader, partition uint64) (*partitapb.Descriptor, error) {
	d := &partitapb.Descriptor{Partition: partition}
	raw, err := engine.Get(r, fsm.DescriptorKey(partition))
	if errors.Is(err, engine.ErrNotFound) {
		return d, nil
	}
	if err != nil {
		return nil, fmt.Errorf("replica: read descriptor: %w", err)
	}
	if err := proto.Unmarshal(raw, d); err != nil {
		return nil, fmt.Errorf("replica: corrupt descriptor: %w", err)
	}
	return d, nil
}

func readApplied(r engine.Reader, partition uint64) (uint64, error) {
	raw, err := engine.Get(r, engine.LocalKey(partition, suffixApplied))
	if errors.Is(err, engine.ErrNotFound) {
		return 0, nil
	}
	if err != nil || len(raw) != 8 {
		return 0, fmt.Errorf("replica: read applied index of %d: %w", partition, err)
	}
	return binary.BigEndian.Uint64(raw), nil
}

func writeApplied(b *engine.Batch, partition, index uint64) error {
	if err := b.Set(engine.LocalKey(partition, suffixApplied), binary.BigEndian.AppendUint64(nil, index)); err != nil {
		return fmt.Errorf("replica: write applied index: %w", err)
	}
	return nil
}
