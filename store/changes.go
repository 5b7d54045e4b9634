package store

import (
	"context"

	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
)

// ReadChanges returns up to limit (0: no limit) records of partition's
// change log after sequence after, in order, with the first retained
// and the last sequence (fsm.Changes: Trimmed says records after after
// are gone), as this node's replica has applied them. A consistent read
// first waits for the read barrier, so it holds every write committed
// before the call; it needs the leader.
func (s *Store) ReadChanges(ctx context.Context, partition, after uint64, limit int, consistent bool) (fsm.Changes, error) {
	r, err := s.changeReplica(ctx, partition, consistent)
	if err != nil {
		return fsm.Changes{}, err
	}
	return r.ReadChanges(after, limit)
}

// ReadAdoptedChanges is ReadChanges of the change log of origin, a right
// half that partition merged: its records as they were at the merge,
// until the retention passed its last one.
func (s *Store) ReadAdoptedChanges(ctx context.Context, partition, origin, after uint64, limit int, consistent bool) (fsm.Changes, error) {
	r, err := s.changeReplica(ctx, partition, consistent)
	if err != nil {
		return fsm.Changes{}, err
	}
	return r.ReadAdoptedChanges(origin, after, limit)
}

// ChangeSegments returns the segments of partition's change log: where
// each range generation starts, and the parent logs a split or merge
// continued.
func (s *Store) ChangeSegments(ctx context.Context, partition uint64) ([]*partitapb.ChangeSegment, error) {
	r, err := s.changeReplica(ctx, partition, false)
	if err != nil {
		return nil, err
	}
	return r.ChangeSegments()
}

// changeReplica is the replica of partition whose change log is read,
// after the read barrier for a consistent read.
func (s *Store) changeReplica(ctx context.Context, partition uint64, consistent bool) (*replica.Replica, error) {
	if consistent {
		if err := s.ReadIndex(ctx, partition); err != nil {
			return nil, err
		}
	}
	r := s.Replica(partition)
	if r == nil {
		return nil, s.noReplica(partition)
	}
	return r, ctx.Err()
}

// ChangesRequest asks for a page of a partition's change log: the records
// after sequence After, at most Limit (0: no bound), of the partition's
// own log, or of the log of Origin that the partition adopted at a merge
// (Origin 0: its own), after a read barrier when Consistent.
type ChangesRequest struct {
	Partition, Origin, After uint64
	Limit                    int
	Consistent               bool
}

// ChangesPage is a page of a change log with the log's segments (an
// adopted log's: those kept at the merge, fsm.ReadAdoptedSegments).
type ChangesPage struct {
	fsm.Changes
	Segments []*partitapb.ChangeSegment
	// FloorKnown says Changes.FloorRevision was read with the page (a
	// peer from before it was sent does not say; nor does an adopted
	// log's page).
	FloorKnown bool
}

// ReadChangesPage serves req from this node's replica: the reader of
// DynamoDB Streams, on this node or for a peer.
func (s *Store) ReadChangesPage(ctx context.Context, req ChangesRequest) (ChangesPage, error) {
	r, err := s.changeReplica(ctx, req.Partition, req.Consistent)
	if err != nil {
		return ChangesPage{}, err
	}
	var page ChangesPage
	if req.Origin != 0 {
		if page.Changes, err = r.ReadAdoptedChanges(req.Origin, req.After, req.Limit); err != nil {
			return ChangesPage{}, err
		}
		page.Segments, err = r.AdoptedSegments(req.Origin)
		return page, err
	}
	if page.Changes, err = r.ReadChanges(req.After, req.Limit); err != nil {
		return ChangesPage{}, err
	}
	page.FloorKnown = true
	page.Segments, err = r.ChangeSegments()
	return page, err
}
