package cluster

import (
	"context"
	"errors"

	"github.com/partitadb/partita/cluster/clusterpb"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/store"
)

// MaxChangesPage caps the records of one Changes response: a DynamoDB
// Streams GetRecords page is at most 1,000 records.
const MaxChangesPage = 1000

// ChangeReader is the optional part of a Local that serves change log
// pages to peers (the Streams reader). A Local without it answers
// Changes with ErrNoChangeReader.
type ChangeReader interface {
	// ReadChangesPage reads a page of a partition's change log from this
	// node's replica (see store.ReadChangesPage).
	ReadChangesPage(ctx context.Context, req store.ChangesRequest) (store.ChangesPage, error)
}

// ErrNoChangeReader is the answer of a node that serves no change logs.
var ErrNoChangeReader = errors.New("cluster: node serves no change logs")

func (s *service) Changes(ctx context.Context, req *clusterpb.ChangesRequest) (*clusterpb.ChangesResponse, error) {
	cr, ok := s.l.(ChangeReader)
	if !ok {
		return &clusterpb.ChangesResponse{Error: encodeError(ErrNoChangeReader)}, nil
	}
	limit := int(max(req.GetLimit(), 0))
	if limit == 0 || limit > MaxChangesPage {
		limit = MaxChangesPage
	}
	page, err := cr.ReadChangesPage(ctx, store.ChangesRequest{Partition: req.GetPartition(), Origin: req.GetOrigin(),
		After: req.GetAfter(), Limit: limit, Consistent: req.GetConsistent()})
	if err != nil {
		return &clusterpb.ChangesResponse{Error: encodeError(err)}, nil
	}
	resp := &clusterpb.ChangesResponse{First: page.First, Last: page.Last, Trimmed: page.Trimmed, Segments: page.Segments}
	if page.FloorKnown {
		resp.FloorRevision = &page.FloorRevision
	}
	for _, c := range page.Records {
		resp.Records = append(resp.Records, &clusterpb.ChangesRecord{Seq: c.Seq, Record: c.Record})
	}
	return resp, nil
}

// Changes reads a page of a change log from node's replica.
func (c *Client) Changes(ctx context.Context, node uint64, req store.ChangesRequest) (store.ChangesPage, error) {
	ctx, cancel := c.withTimeout(ctx, node)
	defer cancel()
	stub, where, err := c.stub(node)
	if err != nil {
		return store.ChangesPage{}, err
	}
	resp, err := stub.Changes(ctx, &clusterpb.ChangesRequest{Partition: req.Partition, Origin: req.Origin,
		After: req.After, Limit: int64(req.Limit), Consistent: req.Consistent})
	if err != nil {
		return store.ChangesPage{}, callError(ctx, "Changes", where, err)
	}
	if err := decodeError(resp.Error); err != nil {
		return store.ChangesPage{}, err
	}
	page := store.ChangesPage{Segments: resp.Segments}
	page.First, page.Last, page.Trimmed = resp.First, resp.Last, resp.Trimmed
	page.FloorRevision, page.FloorKnown = resp.GetFloorRevision(), resp.FloorRevision != nil
	for _, r := range resp.Records {
		page.Records = append(page.Records, fsm.Change{Seq: r.GetSeq(), Record: r.GetRecord()})
	}
	return page, nil
}

// readChangesOf serves req with l's ChangeReader, if it has one.
func readChangesOf(ctx context.Context, l Local, req store.ChangesRequest) (store.ChangesPage, error) {
	cr, ok := l.(ChangeReader)
	if !ok {
		return store.ChangesPage{}, ErrNoChangeReader
	}
	return cr.ReadChangesPage(ctx, req)
}

// The wrappers of a Local keep serving its change logs.

func (l localWithKey) ReadChangesPage(ctx context.Context, req store.ChangesRequest) (store.ChangesPage, error) {
	return readChangesOf(ctx, l.Local, req)
}

func (l localWithReceiver) ReadChangesPage(ctx context.Context, req store.ChangesRequest) (store.ChangesPage, error) {
	return readChangesOf(ctx, l.Local, req)
}
