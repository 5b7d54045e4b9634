package replica

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/engine/raftlog"
)

// Keys of a replica's raft state, under engine.LocalKey(partition, ...):
//
//	hs          HardState
//	cs          ConfState as of the applied index
//	ap          applied index (8 bytes), written with the applied commands
//	tr          truncated state: index and term of the last entry removed
//	lg<index>   log entry at index (8-byte big-endian index)
const (
	suffixHardState = "hs"
	suffixConfState = "cs"
	suffixApplied   = "ap"
	suffixTruncated = "tr"
	suffixLog       = "lg"
)

// raftStorage is raft.Storage over the node's Pebble instance, for one
// replica. Reads come from the entry cache when they can, else from Pebble;
// writes go into the batch the store group-commits. Only the goroutine
// processing the replica calls it.
type raftStorage struct {
	eng       *engine.Engine
	partition uint64

	hard      raftpb.HardState
	conf      raftpb.ConfState
	truncIdx  uint64 // index of the last truncated entry (first index - 1)
	truncTerm uint64
	lastIdx   uint64
	lastTerm  uint64
	cache     entryCache

	logBytes uint64                          // bytes of the log's entries as stored
	snapshot func() (raftpb.Snapshot, error) // makes a snapshot at applied

	// log is the engine's raft log of its own (nil: the log is in
	// Pebble). known says it holds this partition's state: until the
	// first write, a new replica's state is the initial one in Pebble,
	// and that write resets the log to it first. reset says the round
	// installed a snapshot: its log records follow Pebble's writes, so
	// the rest of the round's records must too.
	log   *raftlog.Log
	known bool
	reset bool
}

var _ raft.Storage = (*raftStorage)(nil)

func (s *raftStorage) key(suffix string) []byte { return engine.LocalKey(s.partition, suffix) }

func (s *raftStorage) logKey(index uint64) []byte {
	return binary.BigEndian.AppendUint64(s.key(suffixLog), index)
}

// loadRaftStorage reads a replica's raft state from eng. A replica that has
// none starts empty (index 0). applied and appliedTerm are the state
// machine's, as Pebble holds them.
func loadRaftStorage(eng *engine.Engine, partition uint64, cacheBytes int, applied, appliedTerm uint64) (*raftStorage, error) {
	s := &raftStorage{eng: eng, partition: partition, cache: entryCache{maxBytes: cacheBytes}, log: eng.RaftLog()}
	r := eng.Reader()
	if err := readProto(r, s.key(suffixHardState), &s.hard); err != nil {
		return nil, err
	}
	if err := readProto(r, s.key(suffixConfState), &s.conf); err != nil {
		return nil, err
	}
	if raw, err := engine.Get(r, s.key(suffixTruncated)); err == nil && len(raw) == 16 {
		s.truncIdx, s.truncTerm = binary.BigEndian.Uint64(raw), binary.BigEndian.Uint64(raw[8:])
	} else if err != nil && !errors.Is(err, engine.ErrNotFound) {
		return nil, fmt.Errorf("replica: read truncated state: %w", err)
	}
	s.lastIdx, s.lastTerm = s.truncIdx, s.truncTerm
	if s.log != nil {
		s.recover(applied, appliedTerm)
		return s, nil
	}
	last, err := s.readLastEntry(r)
	if err != nil {
		return nil, err
	}
	if last != nil {
		s.lastIdx, s.lastTerm = last.Index, last.Term
	}
	// The byte bound must count a log that outlived a restart.
	if s.logBytes, err = s.sizeOf(r, s.truncIdx+1, s.lastIdx+1); err != nil {
		return nil, err
	}
	return s, nil
}

// recover takes the replica's raft state from the raft log of its own,
// reconciled with what Pebble durably applied. Pebble's writes are synced
// less often than the log's, and the log's records that must follow them
// (a snapshot's reset) may be lost in a crash between the two:
//   - applied beyond the log's last entry: Pebble holds a snapshot (and
//     perhaps entries applied after it) whose log records were lost; the
//     log restarts after the applied index.
//   - applied beyond the hard state's commit: the commit index was written
//     without sync; applied entries were committed, so commit is at least
//     applied.
func (s *raftStorage) recover(applied, appliedTerm uint64) {
	st, ok := s.log.State(s.partition)
	if ok {
		s.hard = st.HardState
		if applied <= st.LastIndex {
			s.known = true
			s.truncIdx, s.truncTerm = st.TruncIndex, st.TruncTerm
			s.lastIdx, s.lastTerm = st.LastIndex, st.LastTerm
			s.logBytes = st.Bytes
		}
	}
	if !s.known && applied > s.lastIdx {
		s.truncIdx, s.truncTerm = applied, appliedTerm
		s.lastIdx, s.lastTerm = applied, appliedTerm
	}
	s.hard.Commit = max(s.hard.Commit, applied)
	s.hard.Term = max(s.hard.Term, s.lastTerm)
}

// logBatch returns the records of b this round's log writes go to: those
// before b's Pebble writes, or after them once the round installed a
// snapshot. The first write of a partition the log does not know yet
// resets it to the partition's initial state.
func (s *raftStorage) logBatch(b *engine.Batch) *raftlog.Batch {
	lb := b.Log()
	if s.reset {
		lb = b.LogAfter()
	}
	if !s.known {
		lb.Reset(s.partition, s.truncIdx, s.truncTerm)
		if !raft.IsEmptyHardState(s.hard) {
			lb.SetHardState(s.partition, s.hard)
		}
		s.known = true
	}
	return lb
}

// endRound forgets the round's snapshot: the next round's records come
// before its Pebble writes again.
func (s *raftStorage) endRound() { s.reset = false }

// sizeOf returns the bytes, as stored, of the log entries [lo, hi): from
// the entry cache when it holds them all, else read from r.
func (s *raftStorage) sizeOf(r engine.Reader, lo, hi uint64) (uint64, error) {
	if lo >= hi {
		return 0, nil
	}
	if ents, ok := s.cache.slice(lo, hi, 0); ok {
		var n uint64
		for i := range ents {
			n += uint64(ents[i].Size())
		}
		return n, nil
	}
	if s.log != nil {
		ents, err := s.log.Entries(s.partition, lo, hi, 0)
		if err != nil {
			return 0, fmt.Errorf("replica: read log: %w", err)
		}
		var n uint64
		for i := range ents {
			n += uint64(ents[i].Size())
		}
		return n, nil
	}
	it, err := r.NewIter(s.logKey(lo), s.logKey(hi))
	if err != nil {
		return 0, fmt.Errorf("replica: read log: %w", err)
	}
	defer it.Close()
	var n uint64
	for ok := it.First(); ok; ok = it.Next() {
		n += uint64(len(it.Value()))
	}
	if err := it.Error(); err != nil {
		return 0, fmt.Errorf("replica: read log: %w", err)
	}
	return n, nil
}

func (s *raftStorage) readLastEntry(r engine.Reader) (*raftpb.Entry, error) {
	lo := s.key(suffixLog)
	hi := append(s.key(suffixLog), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	it, err := r.NewIter(lo, hi)
	if err != nil {
		return nil, fmt.Errorf("replica: read log: %w", err)
	}
	defer it.Close()
	if !it.Last() {
		return nil, it.Error()
	}
	var e raftpb.Entry
	if err := e.Unmarshal(it.Value()); err != nil {
		return nil, fmt.Errorf("replica: corrupt log entry: %w", err)
	}
	return &e, nil
}

// unmarshaler is what gogo-generated raftpb messages implement.
type unmarshaler interface{ Unmarshal([]byte) error }

func readProto(r engine.Reader, key []byte, m unmarshaler) error {
	raw, err := engine.Get(r, key)
	if errors.Is(err, engine.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("replica: read %q: %w", key, err)
	}
	if err := m.Unmarshal(raw); err != nil {
		return fmt.Errorf("replica: corrupt %q: %w", key, err)
	}
	return nil
}

// InitialState implements raft.Storage.
func (s *raftStorage) InitialState() (raftpb.HardState, raftpb.ConfState, error) {
	return s.hard, s.conf, nil
}

// FirstIndex implements raft.Storage.
func (s *raftStorage) FirstIndex() (uint64, error) { return s.truncIdx + 1, nil }

// LastIndex implements raft.Storage.
func (s *raftStorage) LastIndex() (uint64, error) { return s.lastIdx, nil }

// Term implements raft.Storage.
func (s *raftStorage) Term(i uint64) (uint64, error) {
	switch {
	case i == s.truncIdx:
		return s.truncTerm, nil
	case i < s.truncIdx:
		return 0, raft.ErrCompacted
	case i > s.lastIdx:
		return 0, raft.ErrUnavailable
	case i == s.lastIdx:
		return s.lastTerm, nil
	}
	if e, ok := s.cache.get(i); ok {
		return e.Term, nil
	}
	ents, err := s.Entries(i, i+1, 0)
	if err != nil {
		return 0, err
	}
	return ents[0].Term, nil
}

// Entries implements raft.Storage.
func (s *raftStorage) Entries(lo, hi, maxSize uint64) ([]raftpb.Entry, error) {
	if lo <= s.truncIdx {
		return nil, raft.ErrCompacted
	}
	if hi > s.lastIdx+1 {
		return nil, fmt.Errorf("replica: entries [%d, %d) beyond last index %d", lo, hi, s.lastIdx)
	}
	if ents, ok := s.cache.slice(lo, hi, maxSize); ok {
		return ents, nil
	}
	return s.readEntries(lo, hi, maxSize)
}

func (s *raftStorage) readEntries(lo, hi, maxSize uint64) ([]raftpb.Entry, error) {
	if s.log != nil {
		return s.log.Entries(s.partition, lo, hi, maxSize)
	}
	it, err := s.eng.NewIter(s.logKey(lo), s.logKey(hi))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []raftpb.Entry
	var size uint64
	for ok := it.First(); ok; ok = it.Next() {
		var e raftpb.Entry
		if err := e.Unmarshal(it.Value()); err != nil {
			return nil, fmt.Errorf("replica: corrupt log entry: %w", err)
		}
		if e.Index != lo+uint64(len(out)) {
			return nil, raft.ErrUnavailable
		}
		size += uint64(e.Size())
		if len(out) > 0 && maxSize > 0 && size > maxSize {
			break
		}
		out = append(out, e)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("replica: read log: %w", err)
	}
	if len(out) == 0 {
		return nil, raft.ErrUnavailable
	}
	return out, nil
}

// Snapshot implements raft.Storage. A snapshot is the partition's state as
// of the applied index; its data travels separately (the store streams the
// partition's key range), so the raft snapshot carries only metadata.
func (s *raftStorage) Snapshot() (raftpb.Snapshot, error) {
	if s.snapshot == nil {
		return raftpb.Snapshot{}, raft.ErrSnapshotTemporarilyUnavailable
	}
	return s.snapshot()
}

// restore makes the log start after an installed snapshot: every entry goes,
// the truncated state becomes the snapshot's index and term, and the
// membership the snapshot's.
func (s *raftStorage) restore(b *engine.Batch, meta raftpb.SnapshotMetadata) error {
	if s.log != nil {
		// After Pebble's writes: a log reset before the snapshot's state
		// were durable could leave the log after the snapshot and the
		// state before it. The truncated state stays in Pebble too, for
		// the log to restart from if the reset is lost.
		b.LogAfter().Reset(s.partition, meta.Index, meta.Term)
		s.known, s.reset = true, true
	} else if err := b.DeleteRange(s.logKey(0), s.logKey(math.MaxUint64)); err != nil {
		return fmt.Errorf("replica: clear log for snapshot: %w", err)
	}
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:], meta.Index)
	binary.BigEndian.PutUint64(raw[8:], meta.Term)
	if err := b.Set(s.key(suffixTruncated), raw[:]); err != nil {
		return fmt.Errorf("replica: write truncated state: %w", err)
	}
	s.truncIdx, s.truncTerm = meta.Index, meta.Term
	s.lastIdx, s.lastTerm = meta.Index, meta.Term
	s.logBytes = 0
	s.cache.reset()
	return s.setConfState(b, meta.ConfState)
}

// append writes entries (and deletes any later ones they replace) into b.
func (s *raftStorage) append(b *engine.Batch, ents []raftpb.Entry) error {
	if len(ents) == 0 {
		return nil
	}
	if first := ents[0].Index; first <= s.lastIdx { // entries replaced: forget their bytes
		gone, err := s.sizeOf(b, max(first, s.truncIdx+1), s.lastIdx+1)
		if err != nil {
			return err
		}
		s.logBytes -= min(gone, s.logBytes)
	}
	last := ents[len(ents)-1]
	if s.log != nil {
		s.logBatch(b).Append(s.partition, ents) // drops the entries it replaces
		for i := range ents {
			s.logBytes += uint64(ents[i].Size())
		}
	} else if err := s.appendToPebble(b, ents); err != nil {
		return err
	}
	s.lastIdx, s.lastTerm = last.Index, last.Term
	s.cache.add(ents)
	return nil
}

// appendToPebble writes ents under their log keys in b and deletes the
// later entries they replace.
func (s *raftStorage) appendToPebble(b *engine.Batch, ents []raftpb.Entry) error {
	for i := range ents {
		e := &ents[i]
		n := e.Size()
		s.logBytes += uint64(n)
		err := b.SetWith(s.logKey(e.Index), n, func(v []byte) error {
			m, err := e.MarshalToSizedBuffer(v)
			if err != nil {
				return fmt.Errorf("replica: encode entry %d: %w", e.Index, err)
			}
			if m != n {
				return fmt.Errorf("replica: encode entry %d: %d bytes, sized %d", e.Index, m, n)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("replica: append: %w", err)
		}
	}
	if last := ents[len(ents)-1]; last.Index < s.lastIdx {
		if err := b.DeleteRange(s.logKey(last.Index+1), s.logKey(s.lastIdx+1)); err != nil {
			return fmt.Errorf("replica: drop replaced entries: %w", err)
		}
	}
	return nil
}

// setHardState writes hs into b.
func (s *raftStorage) setHardState(b *engine.Batch, hs raftpb.HardState) error {
	s.hard = hs
	if s.log != nil {
		s.logBatch(b).SetHardState(s.partition, hs)
		return nil
	}
	raw, err := hs.Marshal()
	if err != nil {
		return fmt.Errorf("replica: encode hard state: %w", err)
	}
	if err := b.Set(s.key(suffixHardState), raw); err != nil {
		return fmt.Errorf("replica: write hard state: %w", err)
	}
	return nil
}

// setConfState records cs (as of the applied index) into b.
func (s *raftStorage) setConfState(b *engine.Batch, cs raftpb.ConfState) error {
	raw, err := cs.Marshal()
	if err != nil {
		return fmt.Errorf("replica: encode conf state: %w", err)
	}
	s.conf = cs
	if err := b.Set(s.key(suffixConfState), raw); err != nil {
		return fmt.Errorf("replica: write conf state: %w", err)
	}
	return nil
}

// truncate removes the log entries up to and including index (which must be
// applied) from b.
func (s *raftStorage) truncate(b *engine.Batch, index uint64) error {
	if index <= s.truncIdx || index > s.lastIdx {
		return nil
	}
	term, err := s.Term(index)
	if err != nil {
		return err
	}
	gone, err := s.sizeOf(s.eng.Reader(), s.truncIdx+1, index+1)
	if err != nil {
		return err
	}
	if s.log != nil {
		// After Pebble's writes, which the commit then syncs: the entries
		// go only once their applies are durable.
		b.LogAfter().Truncate(s.partition, index, term)
	} else if err := s.truncatePebble(b, index, term); err != nil {
		return err
	}
	s.logBytes -= min(gone, s.logBytes)
	s.truncIdx, s.truncTerm = index, term
	s.cache.dropTo(index)
	return nil
}

// truncatePebble deletes the log entries up to index from b and records
// the truncated state.
func (s *raftStorage) truncatePebble(b *engine.Batch, index, term uint64) error {
	if err := b.DeleteRange(s.logKey(s.truncIdx+1), s.logKey(index+1)); err != nil {
		return fmt.Errorf("replica: truncate log: %w", err)
	}
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:], index)
	binary.BigEndian.PutUint64(raw[8:], term)
	if err := b.Set(s.key(suffixTruncated), raw[:]); err != nil {
		return fmt.Errorf("replica: write truncated state: %w", err)
	}
	return nil
}
