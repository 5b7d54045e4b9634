package dynamo

import (
	"context"
	"fmt"
	"sort"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/store"
)

// streamsTargetPrefix starts the X-Amz-Target of the DynamoDB Streams
// operations, served on the same endpoint.
const streamsTargetPrefix = "DynamoDBStreams_20120810."

// streamOperations are the DynamoDB Streams operations.
var streamOperations = map[string]bool{
	"ListStreams": true, "DescribeStream": true, "GetShardIterator": true, "GetRecords": true,
}

// The errors of the streams operations.
var (
	kindExpiredIterator = errKind{nsDynamo + "ExpiredIteratorException", 400, "message"}
	kindTrimmedData     = errKind{nsDynamo + "TrimmedDataAccessException", 400, "message"}
)

type listStreamsRequest struct {
	TableName               *string `json:"TableName"`
	Limit                   *int64  `json:"Limit"`
	ExclusiveStartStreamArn *string `json:"ExclusiveStartStreamArn"`
}

type streamSummary struct {
	StreamArn   string `json:"StreamArn"`
	StreamLabel string `json:"StreamLabel"`
	TableName   string `json:"TableName"`
}

type listStreamsResponse struct {
	Streams                []streamSummary `json:"Streams"`
	LastEvaluatedStreamArn string          `json:"LastEvaluatedStreamArn,omitempty"`
}

// changeReader is the Backend's ChangeReader, or the error of a backend
// that has none.
func (s *Server) changeReader() (ChangeReader, error) {
	cr, ok := s.cfg.Backend.(ChangeReader)
	if !ok {
		return nil, validationf("DynamoDB Streams are not served by this endpoint")
	}
	return cr, nil
}

// checkLimit adds a violation for a Limit outside [1, most].
func (v *violations) limit(l *int64, most int64) {
	switch {
	case l == nil:
	case *l < 1:
		v.add(*l, "limit", "Member must have value greater than or equal to 1")
	case *l > most:
		v.add(*l, "limit", fmt.Sprintf("Member must have value less than or equal to %d", most))
	}
}

func (s *Server) handleListStreams(ctx context.Context, r *request) (any, error) {
	var req listStreamsRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	var v violations
	v.limit(req.Limit, 100)
	if req.TableName != nil {
		v.tableName(req.TableName, "tableName")
	}
	v.length(req.ExclusiveStartStreamArn, "exclusiveStartStreamArn", 37, 1024)
	if err := v.err(); err != nil {
		return nil, err
	}
	tables, err := s.cfg.Backend.Tables(ctx)
	if err != nil {
		return nil, fmt.Errorf("dynamo: list streams: %w", err)
	}
	if cr, ok := s.cfg.Backend.(ChangeReader); ok {
		deleted, err := s.deletedTables(ctx, cr, "")
		if err != nil {
			return nil, err
		}
		tables = append(tables, deleted...)
	}
	var all []streamSummary
	now, retention := s.cfg.Now(), s.streamRetention()
	for _, t := range tables {
		if req.TableName != nil && t.GetName() != s.resolveTableName(*req.TableName) {
			continue
		}
		for _, st := range tableStreams(t, now, retention) {
			all = append(all, streamSummary{StreamArn: s.streamARN(t.GetName(), st.GetEnabledUnixNanos()),
				StreamLabel: streamLabel(st.GetEnabledUnixNanos()), TableName: t.GetName()})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].StreamArn < all[j].StreamArn })
	if req.ExclusiveStartStreamArn != nil {
		i := sort.Search(len(all), func(i int) bool { return all[i].StreamArn > *req.ExclusiveStartStreamArn })
		all = all[i:]
	}
	limit := 100
	if req.Limit != nil {
		limit = int(*req.Limit)
	}
	resp := &listStreamsResponse{Streams: all}
	if len(all) > limit {
		resp.Streams = all[:limit]
		resp.LastEvaluatedStreamArn = all[limit-1].StreamArn
	}
	if resp.Streams == nil {
		resp.Streams = []streamSummary{}
	}
	return resp, nil
}

// lookupStream returns the backend's change reader, and the table and
// stream a stream ARN names, or ResourceNotFoundException.
func (s *Server) lookupStream(ctx context.Context, arn string) (ChangeReader, *partitapb.Table, *partitapb.StreamInfo, error) {
	cr, err := s.changeReader()
	if err != nil {
		return nil, nil, nil, err
	}
	notFound := newError(kindResourceNotFound, "Requested resource not found: Stream: %s not found", arn)
	name, label, ok := s.parseStreamARN(arn)
	if !ok {
		return nil, nil, nil, notFound
	}
	t, err := cr.FreshTable(ctx, name)
	if err != nil && !isDomainCode(err, partitapb.Error_TABLE_NOT_FOUND) {
		return nil, nil, nil, fmt.Errorf("dynamo: look up table %q: %w", name, err)
	}
	byLabel := func(st *partitapb.StreamInfo) bool { return streamLabel(st.GetEnabledUnixNanos()) == label }
	if err == nil && t != nil {
		if st := s.findStream(t, byLabel); st != nil {
			return cr, t, st, nil
		}
	}
	t, st, err := s.deletedStream(ctx, cr, name, byLabel)
	if err != nil {
		return nil, nil, nil, err
	}
	if st == nil {
		return nil, nil, nil, notFound
	}
	return cr, t, st, nil
}

// findStream returns the stream of t still visible for which match holds,
// or nil.
func (s *Server) findStream(t *partitapb.Table, match func(*partitapb.StreamInfo) bool) *partitapb.StreamInfo {
	for _, st := range tableStreams(t, s.cfg.Now(), s.streamRetention()) {
		if match(st) {
			return st
		}
	}
	return nil
}

// streamByTime returns the stream of t enabled at nanos, or nil.
func (s *Server) streamByTime(t *partitapb.Table, nanos int64) *partitapb.StreamInfo {
	return s.findStream(t, func(st *partitapb.StreamInfo) bool { return st.GetEnabledUnixNanos() == nanos })
}

// deletedTables returns the records kept for the streams of deleted
// tables (of the table named name; "": all), each under its API name.
func (s *Server) deletedTables(ctx context.Context, cr ChangeReader, name string) ([]*partitapb.Table, error) {
	kept, err := cr.DeletedTables(ctx)
	if err != nil {
		return nil, fmt.Errorf("dynamo: deleted tables: %w", err)
	}
	var out []*partitapb.Table
	for _, t := range kept {
		api, ok := directory.DeletedTableOf(t.GetName())
		if !ok || name != "" && api != name {
			continue
		}
		t = proto.Clone(t).(*partitapb.Table)
		t.Name = api
		out = append(out, t)
	}
	return out, nil
}

// deletedStream returns the deleted table named name, and its stream for
// which match holds; a nil stream when there is none.
func (s *Server) deletedStream(ctx context.Context, cr ChangeReader, name string, match func(*partitapb.StreamInfo) bool) (*partitapb.Table, *partitapb.StreamInfo, error) {
	deleted, err := s.deletedTables(ctx, cr, name)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range deleted {
		if st := s.findStream(t, match); st != nil {
			return t, st, nil
		}
	}
	return nil, nil, nil
}

type describeStreamRequest struct {
	StreamArn             *string `json:"StreamArn"`
	Limit                 *int64  `json:"Limit"`
	ExclusiveStartShardId *string `json:"ExclusiveStartShardId"`
}

type sequenceNumberRange struct {
	StartingSequenceNumber string `json:"StartingSequenceNumber,omitempty"`
	EndingSequenceNumber   string `json:"EndingSequenceNumber,omitempty"`
}

type shardOut struct {
	ShardId             string              `json:"ShardId"`
	ParentShardId       string              `json:"ParentShardId,omitempty"`
	SequenceNumberRange sequenceNumberRange `json:"SequenceNumberRange"`
}

type streamDescription struct {
	StreamArn               string         `json:"StreamArn"`
	StreamLabel             string         `json:"StreamLabel"`
	StreamStatus            string         `json:"StreamStatus"`
	StreamViewType          string         `json:"StreamViewType"`
	CreationRequestDateTime float64        `json:"CreationRequestDateTime"`
	TableName               string         `json:"TableName"`
	KeySchema               []keySchemaOut `json:"KeySchema"`
	Shards                  []shardOut     `json:"Shards"`
	LastEvaluatedShardId    string         `json:"LastEvaluatedShardId,omitempty"`
}

type describeStreamResponse struct {
	StreamDescription streamDescription `json:"StreamDescription"`
}

func (s *Server) handleDescribeStream(ctx context.Context, r *request) (any, error) {
	var req describeStreamRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	var v violations
	v.notNull(req.StreamArn != nil, "streamArn")
	v.length(req.StreamArn, "streamArn", 37, 1024)
	v.limit(req.Limit, 100)
	v.length(req.ExclusiveStartShardId, "exclusiveStartShardId", 28, 65)
	if err := v.err(); err != nil {
		return nil, err
	}
	cr, t, st, err := s.lookupStream(ctx, *req.StreamArn)
	if err != nil {
		return nil, err
	}
	shards, err := s.streamShards(ctx, cr, t, st)
	if err != nil {
		return nil, err
	}
	shards = withinStream(t, st, shards)
	d := streamDescription{StreamArn: *req.StreamArn, StreamLabel: streamLabel(st.GetEnabledUnixNanos()),
		StreamStatus: streamStatus(t, st), StreamViewType: viewName(st.GetView()),
		CreationRequestDateTime: epochSeconds(st.GetEnabledUnixNanos()), TableName: t.GetName(), Shards: []shardOut{}}
	for _, k := range t.GetKeySchema() {
		d.KeySchema = append(d.KeySchema, keySchemaOut{k.GetAttributeName(), k.GetKeyType()})
	}
	if req.ExclusiveStartShardId != nil {
		for i, sh := range shards {
			if sh.ID.String() == *req.ExclusiveStartShardId {
				shards = shards[i+1:]
				break
			}
		}
	}
	limit := 100
	if req.Limit != nil {
		limit = int(*req.Limit)
	}
	if len(shards) > limit {
		shards = shards[:limit]
		d.LastEvaluatedShardId = shards[limit-1].ID.String()
	}
	for _, sh := range shards {
		o := shardOut{ShardId: sh.ID.String(), SequenceNumberRange: sequenceNumberRange{StartingSequenceNumber: formatSeq(sh.first)}}
		if sh.Parent != nil {
			o.ParentShardId = sh.Parent.String()
		}
		if sh.End != 0 {
			o.SequenceNumberRange.EndingSequenceNumber = formatSeq(sh.End)
		}
		d.Shards = append(d.Shards, o)
	}
	return &describeStreamResponse{StreamDescription: d}, nil
}

type getShardIteratorRequest struct {
	StreamArn         *string `json:"StreamArn"`
	ShardId           *string `json:"ShardId"`
	ShardIteratorType *string `json:"ShardIteratorType"`
	SequenceNumber    *string `json:"SequenceNumber"`
}

type getShardIteratorResponse struct {
	ShardIterator string `json:"ShardIterator"`
}

// shardIteratorTypes is ShardIteratorType's enum, in DynamoDB's order.
var shardIteratorTypes = []string{"TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"}

func (s *Server) handleGetShardIterator(ctx context.Context, r *request) (any, error) {
	var req getShardIteratorRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	var v violations
	v.notNull(req.StreamArn != nil, "streamArn")
	v.length(req.StreamArn, "streamArn", 37, 1024)
	v.notNull(req.ShardId != nil, "shardId")
	v.length(req.ShardId, "shardId", 28, 65)
	v.notNull(req.ShardIteratorType != nil, "shardIteratorType")
	v.enum(req.ShardIteratorType, "shardIteratorType", shardIteratorTypes...)
	v.length(req.SequenceNumber, "sequenceNumber", 21, 40)
	if err := v.err(); err != nil {
		return nil, err
	}
	cr, t, st, err := s.lookupStream(ctx, *req.StreamArn)
	if err != nil {
		return nil, err
	}
	notFound := newError(kindResourceNotFound, "Requested resource not found: Shard does not exist")
	id, ok := parseShardID(*req.ShardId)
	if !ok {
		return nil, notFound
	}
	read, ok, err := s.shardRequest(ctx, cr, t, st, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound
	}
	state := read
	state.After, state.Consistent = stateOnly, true
	page, err := cr.ReadChanges(ctx, state)
	if err != nil {
		return nil, fmt.Errorf("dynamo: shard %s: %w", id, err)
	}
	end, ok := logShardEnd(page, id.Start, read.Origin != 0)
	if !ok || end != 0 && end < page.First {
		return nil, notFound
	}
	after, err := iteratorStart(*req.ShardIteratorType, req.SequenceNumber, id, end, page)
	if err != nil {
		return nil, err
	}
	if *req.ShardIteratorType == "TRIM_HORIZON" {
		// The stream's first record in this log is after its cut.
		after = max(after, streamStart(t, st, id.Partition))
	}
	it := shardIterator{Table: t.GetName(), Stream: st.GetEnabledUnixNanos(), Shard: id, After: after, Issued: s.cfg.Now().UnixNano()}
	return &getShardIteratorResponse{ShardIterator: encodeIterator(s.cfg.IteratorKey, it)}, nil
}

// tableHasPartition says whether partition is one of t's.
func tableHasPartition(t *partitapb.Table, partition uint64) bool {
	for _, p := range t.GetPartitions() {
		if p.GetId() == partition {
			return true
		}
	}
	return false
}

// iteratorStart is the sequence an iterator of type typ starts after, in
// the shard [id.Start, end] (end 0: open) of a log in the state of page.
func iteratorStart(typ string, seqParam *string, id shardID, end uint64, page store.ChangesPage) (uint64, error) {
	last := page.Last
	if end != 0 {
		last = end
	}
	switch typ {
	case "TRIM_HORIZON":
		return max(id.Start, page.First) - 1, nil
	case "LATEST":
		return max(last, id.Start-1), nil
	}
	if seqParam == nil {
		return 0, validationf("Invalid ShardIterator request: SequenceNumber is required for ShardIteratorType %s", typ)
	}
	seq, ok := parseSeq(*seqParam)
	if !ok || seq < id.Start || end != 0 && seq > end {
		return 0, validationf("Invalid SequenceNumber %s for shard %s", *seqParam, id)
	}
	if seq < page.First {
		return 0, newError(kindTrimmedData, "Attempted to access data that has been trimmed: SequenceNumber %s of shard %s", *seqParam, id)
	}
	if typ == "AT_SEQUENCE_NUMBER" {
		return seq - 1, nil
	}
	return seq, nil
}
