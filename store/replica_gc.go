package store

import (
	"bytes"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
)

// Replica GC: what a destroyed replica leaves on disk.
//
// A replica's user data lives under its descriptor's spans (items, local
// index entries, global index tombstones), its replicated and raft state
// under its local keys (engine.LocalKey: statistics, command records,
// change log, descriptor, log). Destroying the replica deletes both in
// one batch, each with a range deletion, and leaves its tombstone.
//
// The spans of a destroyed replica may overlap another replica on this
// store by then: the left half of a merge owns the right half's range
// once it applied the merge, and a replica whose descriptor is stale (it
// was removed from its group, which split or merged after) may overlap a
// replica created here since. Only the parts of its spans that no other
// replica on this store owns or is about to own are cleared:
//
//	destroyed P:    [a ................................. d)
//	live R:                    [b ......... c)
//	cleared:        [a ....... b)           [c ......... d)
//
// The decision and the batch that carries it out happen under claimMu
// (no snapshot is staged meanwhile: a staged one is a claim, see
// split.go) and createMu (no replica is bootstrapped, added or opened
// meanwhile). What the other replicas own is read from their claims in
// memory (committed range, range applied into a round's batch, staged
// snapshot), and, for a partition with state in the engine and no
// replica in memory that was not destroyed here, from its committed
// descriptor (a split's right half is committed before the store opens
// it; at open, no replica is in memory yet). A round that
// commits while the decision is made can only move a range from one of
// these replicas to another (a split, a merge), never onto a span no
// replica claimed.
//
// When the destroyed replica's descriptor cannot be read, or what the
// others own cannot be, its data is left on disk (and logged), as it was
// before replicas were collected.

// clearData adds to b the range deletions of partition's user data that
// no other replica on this store owns, nor keep. It reports how many
// spans it cleared and how many parts of its spans it left to others.
// The caller holds claimMu and createMu, and partition has no replica in
// the store's map any more. An error (b refused a deletion) leaves b
// unfit to commit.
func (s *Store) clearData(b *engine.Batch, partition uint64, keep []*partitapb.Span) (cleared, kept int, err error) {
	log := s.cfg.Logger.With("partition", partition)
	own, found, err := s.storedDescriptor(partition)
	switch {
	case err != nil:
		log.Warn("destroying a replica: its descriptor cannot be read, its data stays on disk", "err", err)
		return 0, 0, nil
	case !found || len(own.GetSpans()) == 0:
		log.Debug("destroying a replica that owns no span (never initialised)")
		return 0, 0, nil
	}
	others, err := s.otherClaims(partition)
	if err != nil {
		log.Warn("destroying a replica: the ranges of the others cannot be read, its data stays on disk", "err", err)
		return 0, 0, nil
	}
	free := subtractSpans(own.GetSpans(), append(others, keep...))
	for _, sp := range free {
		if err := b.DeleteRange(sp.GetStart(), sp.GetEnd()); err != nil {
			return 0, 0, fmt.Errorf("store: clear the data of partition %d: %w", partition, err)
		}
	}
	return len(free), len(subtractSpans(own.GetSpans(), free)), nil
}

// otherClaims returns the spans every replica of this store other than
// partition owns or is about to own: the claims of those in memory and
// the committed descriptors of those only in the engine that were not
// destroyed (a tombstone with raft state left is a removal not finished).
// A replica's claims cover its committed descriptor (they hold its
// published range and the range applied into a batch not yet committed),
// so the descriptors of those in memory are not read again: a destroy
// costs a seek per other replica, not three reads.
func (s *Store) otherClaims(partition uint64) ([]*partitapb.Span, error) {
	var out []*partitapb.Span
	inMemory := map[uint64]bool{partition: true}
	for _, r := range s.Replicas() {
		inMemory[r.Partition()] = true
		if r.Partition() != partition {
			out = append(out, r.Claims()...)
		}
	}
	err := s.eachLocalPartition(func(id uint64) error {
		if inMemory[id] || s.Destroyed(id) {
			return nil
		}
		d, _, err := s.storedDescriptor(id)
		if err != nil {
			return err
		}
		out = append(out, d.GetSpans()...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list the replicas' ranges: %w", err)
	}
	return out, nil
}

// storedDescriptor reads partition's committed descriptor from the engine
// (found false: there is none, the replica never owned a range).
func (s *Store) storedDescriptor(partition uint64) (*partitapb.Descriptor, bool, error) {
	raw, err := s.cfg.Engine.Get(fsm.DescriptorKey(partition))
	if errors.Is(err, engine.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: read the descriptor of partition %d: %w", partition, err)
	}
	d := &partitapb.Descriptor{}
	if err := proto.Unmarshal(raw, d); err != nil {
		return nil, false, fmt.Errorf("store: decode the descriptor of partition %d: %w", partition, err)
	}
	return d, true, nil
}

// subtractSpans returns the parts of spans that no span of cover
// overlaps, in the order of spans. Empty or inverted spans are dropped.
func subtractSpans(spans, cover []*partitapb.Span) []*partitapb.Span {
	var out []*partitapb.Span
	for _, sp := range spans {
		if bytes.Compare(sp.GetStart(), sp.GetEnd()) >= 0 {
			continue
		}
		pieces := []*partitapb.Span{sp}
		for _, c := range cover {
			pieces = cutSpan(pieces, c)
		}
		out = append(out, pieces...)
	}
	return out
}

// cutSpan removes c from each of pieces.
func cutSpan(pieces []*partitapb.Span, c *partitapb.Span) []*partitapb.Span {
	var out []*partitapb.Span
	for _, p := range pieces {
		if bytes.Compare(c.GetStart(), c.GetEnd()) >= 0 ||
			bytes.Compare(c.GetEnd(), p.GetStart()) <= 0 || bytes.Compare(p.GetEnd(), c.GetStart()) <= 0 {
			out = append(out, p)
			continue
		}
		if bytes.Compare(p.GetStart(), c.GetStart()) < 0 {
			out = append(out, &partitapb.Span{Start: p.GetStart(), End: c.GetStart()})
		}
		if bytes.Compare(c.GetEnd(), p.GetEnd()) < 0 {
			out = append(out, &partitapb.Span{Start: c.GetEnd(), End: p.GetEnd()})
		}
	}
	return out
}
