package dynamo

import (
	"context"
	"fmt"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/store"
)

type getRecordsRequest struct {
	ShardIterator *string `json:"ShardIterator"`
	Limit         *int64  `json:"Limit"`
}

type getRecordsResponse struct {
	Records           []streamRecord `json:"Records"`
	NextShardIterator *string        `json:"NextShardIterator,omitempty"`
}

// streamRecord is a Record of GetRecords.
type streamRecord struct {
	AwsRegion    string            `json:"awsRegion"`
	Dynamodb     streamRecordBody  `json:"dynamodb"`
	EventID      string            `json:"eventID"`
	EventName    string            `json:"eventName"`
	EventSource  string            `json:"eventSource"`
	EventVersion string            `json:"eventVersion"`
	UserIdentity map[string]string `json:"userIdentity,omitempty"`
}

// streamRecordBody is a record's StreamRecord.
type streamRecordBody struct {
	ApproximateCreationDateTime float64   `json:"ApproximateCreationDateTime"`
	Keys                        item.Item `json:"Keys"`
	NewImage                    item.Item `json:"NewImage,omitempty"`
	OldImage                    item.Item `json:"OldImage,omitempty"`
	SequenceNumber              string    `json:"SequenceNumber"`
	SizeBytes                   int64     `json:"SizeBytes"`
	StreamViewType              string    `json:"StreamViewType"`
}

// maxGetRecords is GetRecords' largest Limit, and its default.
const maxGetRecords = 1000

func (s *Server) handleGetRecords(ctx context.Context, r *request) (any, error) {
	var req getRecordsRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	var v violations
	v.notNull(req.ShardIterator != nil, "shardIterator")
	v.length(req.ShardIterator, "shardIterator", 1, 2048)
	v.limit(req.Limit, maxGetRecords)
	if err := v.err(); err != nil {
		return nil, err
	}
	cr, err := s.changeReader()
	if err != nil {
		return nil, err
	}
	it, err := decodeIterator(s.cfg.IteratorKey, *req.ShardIterator)
	if err != nil {
		return nil, validationf("Invalid ShardIterator")
	}
	if s.cfg.Now().UnixNano()-it.Issued > int64(s.cfg.IteratorTTL) {
		return nil, newError(kindExpiredIterator, "Iterator expired: it was issued more than %s ago", s.cfg.IteratorTTL)
	}
	t, st, fresh, err := s.iteratorStream(ctx, cr, it, false)
	if err != nil {
		return nil, err
	}
	limit := maxGetRecords
	if req.Limit != nil {
		limit = int(*req.Limit)
	}
	trimmed := newError(kindTrimmedData, "Attempted to access data that has been trimmed: shard %s", it.Shard)
	read, ok, err := s.shardRequest(ctx, cr, t, st, it.Shard)
	if err != nil {
		return nil, err
	}
	if !ok {
		// A merged-away partition's log, dropped after the retention.
		return nil, trimmed
	}
	read.After, read.Limit, read.Consistent = it.After, limit, true
	page, err := cr.ReadChanges(ctx, read)
	if err != nil {
		return nil, fmt.Errorf("dynamo: records of shard %s: %w", it.Shard, err)
	}
	if page.Trimmed {
		return nil, trimmed
	}
	if !fresh && len(page.Records) > 0 && st.GetDisabledUnixNanos() == 0 &&
		(!page.FloorKnown || page.FloorRevision > t.GetRevision()) {
		// The cached record shows the stream enabled, but it may have been
		// disabled (and cut) since: a record after its end must not show.
		// The directory says where the stream stands before any does.
		// Only a floor newer than the cached record can be a cut it does
		// not know (fsm.Changes.FloorRevision): else the page is read
		// without the directory.
		if t, st, _, err = s.iteratorStream(ctx, cr, it, true); err != nil {
			return nil, err
		}
	}
	return s.recordsPage(t, st, it, page, read.Origin != 0)
}

// iteratorStream returns the table and stream of an iterator, or
// ResourceNotFoundException when they are gone, from the node's cached
// record unless it may be behind the iterator (or fresh asks for the
// directory's); fromDirectory says the record is the directory's.
func (s *Server) iteratorStream(ctx context.Context, cr ChangeReader, it shardIterator, fresh bool) (t *partitapb.Table, st *partitapb.StreamInfo, fromDirectory bool, err error) {
	arn := s.streamARN(it.Table, it.Stream)
	notFound := newError(kindResourceNotFound, "Requested resource not found: Stream: %s not found", arn)
	if !fresh {
		t, err = s.cfg.Backend.Table(ctx, it.Table)
	}
	if fresh || err == nil && t != nil && (!tableHasPartition(t, it.Shard.Partition) || streamSettling(t) || s.streamByTime(t, it.Stream) == nil) {
		// A partition this node does not know yet, a stream settling in
		// the cached record (it may have settled since), or one the
		// cached record does not know (enabled since it was read).
		t, err = cr.FreshTable(ctx, it.Table)
		fromDirectory = true
	}
	if err != nil && !isDomainCode(err, partitapb.Error_TABLE_NOT_FOUND) {
		return nil, nil, false, fmt.Errorf("dynamo: look up table %q: %w", it.Table, err)
	}
	if err == nil && t != nil {
		if st := s.streamByTime(t, it.Stream); st != nil {
			return t, st, fromDirectory, nil
		}
	}
	// A deleted table's stream (or one of a table deleted since the
	// iterator was issued).
	t, st, err = s.deletedStream(ctx, cr, it.Table,
		func(st *partitapb.StreamInfo) bool { return st.GetEnabledUnixNanos() == it.Stream })
	if err != nil {
		return nil, nil, false, err
	}
	if st == nil {
		return nil, nil, false, notFound
	}
	return t, st, true, nil
}

// recordsPage turns a page of the shard's log (adopted: a merged-away
// partition's, closed) into GetRecords' answer:
// the records of the shard within the stream's life, and the iterator
// after them (none once a closed shard, or a disabled stream, is read to
// its end).
func (s *Server) recordsPage(t *partitapb.Table, st *partitapb.StreamInfo, it shardIterator, page store.ChangesPage, adopted bool) (any, error) {
	end, ok := logShardEnd(page, it.Shard.Start, adopted)
	if !ok {
		return nil, newError(kindResourceNotFound, "Requested resource not found: Shard does not exist")
	}
	if status := streamStatus(t, st); status == "ENABLING" || status == "DISABLING" {
		// Which records are the stream's is known once its cuts are: until
		// then none is shown, and the iterator stays where it was.
		next := it
		next.Issued = s.cfg.Now().UnixNano()
		ni := encodeIterator(s.cfg.IteratorKey, next)
		return &getRecordsResponse{Records: []streamRecord{}, NextShardIterator: &ni}, nil
	}
	// A closed shard ends at end; a disabled stream whose end in this log
	// is known ends there (a shard whose log held nothing by then ends
	// before its first sequence).
	closed := end != 0
	if e, ok := streamEnd(t, st, it.Shard.Partition); ok && (!closed || e < end) {
		end, closed = max(e, it.Shard.Start-1), true
	}
	resp := &getRecordsResponse{Records: []streamRecord{}}
	pos := it.After
	for _, c := range page.Records {
		if closed && c.Seq > end {
			break
		}
		pos = c.Seq
		if !inStream(t, st, it.Shard.Partition, c) {
			continue
		}
		rec, err := s.streamRecord(t, st, it.Shard.Partition, c)
		if err != nil {
			return nil, err
		}
		resp.Records = append(resp.Records, rec)
	}
	if !closed && st.GetDisabledUnixNanos() != 0 {
		end, closed = page.Last, true
	}
	if closed && pos >= end {
		return resp, nil
	}
	next := it
	next.After, next.Issued = pos, s.cfg.Now().UnixNano()
	ni := encodeIterator(s.cfg.IteratorKey, next)
	resp.NextShardIterator = &ni
	return resp, nil
}

// streamRecord formats change c of partition as a stream record, with
// what the stream's view shows.
func (s *Server) streamRecord(t *partitapb.Table, st *partitapb.StreamInfo, partition uint64, c fsm.Change) (streamRecord, error) {
	keys, err := recordKeys(t, c.Record.GetKey())
	if err != nil {
		return streamRecord{}, fmt.Errorf("dynamo: change %d of partition %d: %w", c.Seq, partition, err)
	}
	body := streamRecordBody{ApproximateCreationDateTime: float64(c.Record.GetUnixNanos() / 1e9), Keys: keys,
		SequenceNumber: formatSeq(c.Seq), StreamViewType: viewName(st.GetView())}
	size := keys.Size()
	view := st.GetView()
	if view == partitapb.ChangeView_NEW_IMAGE || view == partitapb.ChangeView_NEW_AND_OLD_IMAGES {
		if body.NewImage, err = decodeImage(c.Record.GetNewImage()); err != nil {
			return streamRecord{}, err
		}
		size += body.NewImage.Size()
	}
	if view == partitapb.ChangeView_OLD_IMAGE || view == partitapb.ChangeView_NEW_AND_OLD_IMAGES {
		if body.OldImage, err = decodeImage(c.Record.GetOldImage()); err != nil {
			return streamRecord{}, err
		}
		size += body.OldImage.Size()
	}
	body.SizeBytes = int64(size)
	rec := streamRecord{AwsRegion: s.cfg.Region, Dynamodb: body,
		EventID:   fmt.Sprintf("%016x%016x", partition, c.Seq),
		EventName: c.Record.GetKind().String(), EventSource: "aws:dynamodb", EventVersion: "1.1"}
	if c.Record.GetByService() {
		// A time to live deletion: DynamoDB names itself as the user.
		rec.UserIdentity = map[string]string{"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
	}
	return rec, nil
}

// decodeImage decodes an item image of a change record (nil: none).
func decodeImage(raw []byte) (item.Item, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	it, err := item.DecodeItem(raw)
	if err != nil {
		return nil, fmt.Errorf("dynamo: change record image: %w", err)
	}
	return it, nil
}

// recordKeys returns the key attributes of t's item under storage key k.
func recordKeys(t *partitapb.Table, k []byte) (item.Item, error) {
	var names [2]string
	var types [2]item.Type
	for _, e := range t.GetKeySchema() {
		i := 0
		if e.GetKeyType() == "RANGE" {
			i = 1
		}
		names[i] = e.GetAttributeName()
		types[i] = attributeType(t, names[i])
	}
	pk, sk, err := engine.DecodeDataKey(k, types[0], types[1])
	if err != nil {
		return nil, err
	}
	keys := item.Item{names[0]: pk}
	if names[1] != "" {
		keys[names[1]] = sk
	}
	return keys, nil
}

// attributeType is the scalar type t defines for attribute name.
func attributeType(t *partitapb.Table, name string) item.Type {
	for _, a := range t.GetAttributeDefinitions() {
		if a.GetAttributeName() != name {
			continue
		}
		switch a.GetAttributeType() {
		case "S":
			return item.TypeS
		case "N":
			return item.TypeN
		case "B":
			return item.TypeB
		}
	}
	return 0
}
