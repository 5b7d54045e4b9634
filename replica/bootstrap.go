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
	if has, err := hasRaftState(b, partition); err != nil {
		return err
	} else if has {
		return fmt.Errorf("replica: partition %d already has raft state", partition)
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

// readApplied returns the applied index and, where the engine keeps its
// raft logs apart (which needs it to recover), the term of the entry or
// snapshot at it.
func readApplied(r engine.Reader, partition uint64) (index, term uint64, err error) {
	raw, err := engine.Get(r, engine.LocalKey(partition, suffixApplied))
	if errors.Is(err, engine.ErrNotFound) {
		return 0, 0, nil
	}
	if err != nil || (len(raw) != 8 && len(raw) != 16) {
		return 0, 0, fmt.Errorf("replica: read applied index of %d: %w", partition, err)
	}
	if len(raw) == 16 {
		term = binary.BigEndian.Uint64(raw[8:])
	}
	return binary.BigEndian.Uint64(raw), term, nil
}

// writeApplied records the applied index, with its term where the engine
// keeps its raft logs apart: after a crash, Pebble may hold applies whose
// log records the raft log lost (a snapshot's reset), and the log then
// restarts from there.
func writeApplied(b *engine.Batch, partition, index, term uint64) error {
	raw := binary.BigEndian.AppendUint64(nil, index)
	if b.Log() != nil {
		raw = binary.BigEndian.AppendUint64(raw, term)
	}
	if err := b.Set(engine.LocalKey(partition, suffixApplied), raw); err != nil {
		return fmt.Errorf("replica: write applied index: %w", err)
	}
	return nil
}

// hasRaftState says whether the replica of partition has raft state on
// this node: created by Bootstrap or a split (its initial hard state in
// Pebble), or holding a raft log of its own (an empty replica that has
// voted or appended).
func hasRaftState(b *engine.Batch, partition uint64) (bool, error) {
	if _, err := engine.Get(b, engine.LocalKey(partition, suffixHardState)); err == nil {
		return true, nil
	} else if !errors.Is(err, engine.ErrNotFound) {
		return false, err
	}
	if l := b.RaftLog(); l != nil {
		_, ok := l.State(partition)
		return ok, nil
	}
	return false, nil
}
