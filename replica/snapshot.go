package replica

import (
	"bytes"
	"errors"
	"fmt"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/transport"
)

// A raft snapshot of a partition carries only metadata (index, term,
// membership); its data is the partition's key spans and replicated local
// state read from a Pebble snapshot taken at the same applied index, and
// streamed to the follower beside the MsgSnap.

// makeSnapshot is raft.Storage.Snapshot for the replica: the state as of
// the applied index. The caller holds mu and no round is in flight, so the
// engine holds exactly the applied state; while a round's applies wait for
// their batch, raft is told to try again later.
func (r *Replica) makeSnapshot() (raftpb.Snapshot, error) {
	if r.inflight || r.engineDone {
		return raftpb.Snapshot{}, raft.ErrSnapshotTemporarilyUnavailable
	}
	term, err := r.st.Term(r.applied)
	if err != nil {
		return raftpb.Snapshot{}, raft.ErrSnapshotTemporarilyUnavailable
	}
	r.outgoing = append(r.outgoing, &SnapshotSource{
		partition: r.cfg.Partition, index: r.applied, snap: r.cfg.Engine.NewSnapshot(),
	})
	return raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{
		Index: r.applied, Term: term, ConfState: r.st.conf,
	}}, nil
}

// takeOutgoing returns the data source of a MsgSnap raft asked for.
func (r *Replica) takeOutgoing(m raftpb.Message) *SnapshotSource {
	for i, s := range r.outgoing {
		if s.index == m.Snapshot.Metadata.Index {
			r.outgoing = append(r.outgoing[:i], r.outgoing[i+1:]...)
			return s
		}
	}
	return nil
}

// SnapshotSource is a partition's state at a snapshot's index, to stream
// to a follower. Close releases it.
type SnapshotSource struct {
	partition, index uint64
	snap             *engine.Snapshot
	// readers are those Reader made: a stream that stops early leaves one
	// with an open iterator, which Close closes (an open Pebble iterator
	// keeps every file and memtable of its time).
	readers []*snapshotReader
}

// Close releases the readers' iterators and the underlying Pebble
// snapshot.
func (s *SnapshotSource) Close() error {
	var err error
	for _, r := range s.readers {
		err = errors.Join(err, r.close())
	}
	s.readers = nil
	return errors.Join(err, s.snap.Close())
}

// Reader returns the snapshot's key/value pairs: the partition's
// replicated local state, then each span of its descriptor.
func (s *SnapshotSource) Reader() (transport.SnapshotReader, error) {
	d, err := readDescriptor(s.snap, s.partition)
	if err != nil {
		return nil, err
	}
	spans := append([]*partitapb.Span{replicatedLocalSpan(s.partition)}, d.GetSpans()...)
	r := &snapshotReader{snap: s.snap, spans: spans}
	s.readers = append(s.readers, r)
	return r, nil
}

func replicatedLocalSpan(partition uint64) *partitapb.Span {
	return &partitapb.Span{
		Start: engine.LocalKey(partition, engine.ReplicatedLocal),
		End:   engine.LocalKey(partition, string(rune(engine.ReplicatedLocal[0]+1))),
	}
}

type snapshotReader struct {
	snap  *engine.Snapshot
	spans []*partitapb.Span
	it    *engine.Iterator
	err   error
}

func (r *snapshotReader) Next() (transport.KV, bool) {
	for r.err == nil {
		if r.it != nil && r.it.Valid() {
			// Copies: the iterator reuses its buffers once it moves on.
			kv := transport.KV{Key: bytes.Clone(r.it.Key()), Value: bytes.Clone(r.it.Value())}
			r.it.Next()
			return kv, true
		}
		if r.it != nil {
			r.err = r.it.Close()
			r.it = nil
		}
		if len(r.spans) == 0 || r.err != nil {
			break
		}
		sp := r.spans[0]
		r.spans = r.spans[1:]
		r.it, r.err = r.snap.NewIter(sp.GetStart(), sp.GetEnd())
		if r.err == nil {
			r.it.First()
		}
	}
	return transport.KV{}, false
}

func (r *snapshotReader) Err() error { return r.err }

// close closes the iterator of a read that stopped before the end.
func (r *snapshotReader) close() error {
	if r.it == nil {
		return nil
	}
	err := r.it.Close()
	r.it, r.spans = nil, nil
	return err
}

// SnapshotData is an incoming snapshot's data, read into memory, and the
// range its descriptor names.
type SnapshotData struct {
	data *engine.Batch
	desc *partitapb.Descriptor
}

// Descriptor is the range the snapshot's partition owns at its index.
func (d *SnapshotData) Descriptor() *partitapb.Descriptor { return d.desc }

// Close releases the data of a snapshot that will not be staged.
func (d *SnapshotData) Close() { d.data.Close() }

// ReadSnapshot reads an incoming snapshot of partition into memory.
func ReadSnapshot(eng *engine.Engine, partition uint64, data transport.SnapshotReader) (*SnapshotData, error) {
	b := eng.NewIndexedBatch()
	for {
		kv, ok := data.Next()
		if !ok {
			break
		}
		if err := b.Set(kv.Key, kv.Value); err != nil {
			b.Close()
			return nil, fmt.Errorf("replica: stage snapshot: %w", err)
		}
	}
	if err := data.Err(); err != nil {
		b.Close()
		return nil, fmt.Errorf("replica: receive snapshot: %w", err)
	}
	d, err := snapshotDescriptor(b, partition)
	if err != nil {
		b.Close()
		return nil, err
	}
	return &SnapshotData{data: b, desc: d}, nil
}

// StageSnapshot reads an incoming snapshot's data into memory, to be
// installed if raft accepts the snapshot, and steps its MsgSnap. It
// reports whether the replica has work.
func (r *Replica) StageSnapshot(m raftpb.Message, data transport.SnapshotReader) (bool, error) {
	d, err := ReadSnapshot(r.cfg.Engine, r.cfg.Partition, data)
	if err != nil {
		return false, err
	}
	return r.StageSnapshotData(m, d)
}

// StageSnapshotData stages a snapshot read by ReadSnapshot (the replica
// takes d) and steps its MsgSnap. It reports whether the replica has work.
func (r *Replica) StageSnapshotData(m raftpb.Message, d *SnapshotData) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.staged != nil {
		r.staged.data.Close()
	}
	r.staged = &stagedSnapshot{index: m.Snapshot.Metadata.Index, data: d.data, desc: d.desc}
	if err := r.raw.Step(m); err != nil {
		return false, fmt.Errorf("replica: partition %d: step snapshot: %w", r.cfg.Partition, err)
	}
	return r.raw.HasReady(), nil
}

type stagedSnapshot struct {
	index uint64
	data  *engine.Batch
	desc  *partitapb.Descriptor
}

// dropStale forgets a staged snapshot that raft did not take and that the
// applied state has passed: its range must not be claimed any longer.
func (r *Replica) dropStale() {
	if r.staged != nil && r.staged.index <= r.applied {
		r.staged.data.Close()
		r.staged = nil
	}
}

// installSnapshot writes an accepted snapshot into b: it replaces the
// partition's replicated state and spans with the snapshot's data and
// restarts the log after the snapshot's index.
func (r *Replica) installSnapshot(b *engine.Batch, snap raftpb.Snapshot) error {
	meta := snap.Metadata
	if r.staged == nil || r.staged.index != meta.Index {
		return fmt.Errorf("replica: partition %d: snapshot %d accepted without its data", r.cfg.Partition, meta.Index)
	}
	staged := r.staged
	r.staged = nil
	defer staged.data.Close()
	old, err := readDescriptor(r.cfg.Engine.Reader(), r.cfg.Partition)
	if err != nil {
		return err
	}
	for _, sp := range append(old.GetSpans(), replicatedLocalSpan(r.cfg.Partition)) {
		if err := b.DeleteRange(sp.GetStart(), sp.GetEnd()); err != nil {
			return fmt.Errorf("replica: clear before snapshot: %w", err)
		}
	}
	desc := staged.desc
	if err := clearNewSpans(b, desc); err != nil {
		return err
	}
	if err := b.Apply(staged.data); err != nil {
		return fmt.Errorf("replica: install snapshot: %w", err)
	}
	if err := r.st.restore(b, meta); err != nil {
		return err
	}
	if err := writeApplied(b, r.cfg.Partition, meta.Index, meta.Term); err != nil {
		return err
	}
	// The applied index moves in Finish, once b is committed: until then
	// the engine still holds the old state, and a read released against
	// the snapshot's index would see it.
	r.desc = desc
	return nil
}

// clearNewSpans clears the spans the snapshot's own descriptor names (they
// may differ from the old descriptor's, e.g. after a split).
func clearNewSpans(b *engine.Batch, d *partitapb.Descriptor) error {
	for _, sp := range d.GetSpans() {
		if bytes.Compare(sp.GetStart(), sp.GetEnd()) < 0 {
			if err := b.DeleteRange(sp.GetStart(), sp.GetEnd()); err != nil {
				return fmt.Errorf("replica: clear before snapshot: %w", err)
			}
		}
	}
	return nil
}

// snapshotDescriptor returns the descriptor a snapshot's data holds: the
// replica's range once the snapshot is installed. A snapshot without one
// owns no spans.
func snapshotDescriptor(data *engine.Batch, partition uint64) (*partitapb.Descriptor, error) {
	d := &partitapb.Descriptor{Partition: partition}
	raw, err := engine.Get(data, fsm.DescriptorKey(partition))
	if err != nil {
		return d, nil
	}
	if err := proto.Unmarshal(raw, d); err != nil {
		return nil, fmt.Errorf("replica: snapshot descriptor: %w", err)
	}
	return d, nil
}

// PinState returns a Pebble snapshot holding exactly the replica's applied
// state, with the applied index and the range descriptor of that state
// (backups read a partition at one point this way). ok is false while a
// round's applied entries wait for their batch to commit: the engine lags
// the applied index then, and the caller tries again. The caller closes
// the snapshot.
func (r *Replica) PinState() (snap *engine.Snapshot, applied uint64, desc *partitapb.Descriptor, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight {
		return nil, 0, nil, false
	}
	return r.cfg.Engine.NewSnapshot(), r.applied, r.desc, true
}
