package dynamo

import (
	"context"
	"fmt"

	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// Limits of BatchGetItem.
const (
	maxBatchGetKeys  = 100
	maxBatchGetBytes = 16 << 20
)

// keysAndAttributes is one table's part of BatchGetItem's RequestItems
// (and of its UnprocessedKeys).
type keysAndAttributes struct {
	Keys                     []item.Item       `json:"Keys"`
	AttributesToGet          []string          `json:"AttributesToGet,omitempty"`
	ConsistentRead           *bool             `json:"ConsistentRead,omitempty"`
	ProjectionExpression     *string           `json:"ProjectionExpression,omitempty"`
	ExpressionAttributeNames map[string]string `json:"ExpressionAttributeNames,omitempty"`
}

// batchGetRequest is BatchGetItem's input.
type batchGetRequest struct {
	RequestItems           map[string]*keysAndAttributes `json:"RequestItems"`
	ReturnConsumedCapacity *string                       `json:"ReturnConsumedCapacity"`
}

// batchGetResponse is BatchGetItem's output.
type batchGetResponse struct {
	Responses        map[string][]item.Item        `json:"Responses"`
	UnprocessedKeys  map[string]*keysAndAttributes `json:"UnprocessedKeys"`
	ConsumedCapacity []*consumedCapacity           `json:"ConsumedCapacity,omitempty"`
}

// batchGetTable is one table's part of a validated BatchGetItem.
type batchGetTable struct {
	name  string
	req   *keysAndAttributes
	table *partitapb.Table
	es    *exprSet
}

func (s *Server) handleBatchGetItem(ctx context.Context, r *request) (any, error) {
	var req batchGetRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	if err := req.checkShape(); err != nil {
		return nil, err
	}
	tables, err := s.batchGetTables(ctx, &req)
	if err != nil {
		return nil, err
	}
	resp := &batchGetResponse{Responses: map[string][]item.Item{}, UnprocessedKeys: map[string]*keysAndAttributes{}}
	budget := maxBatchGetBytes
	var throttled error
	for _, bt := range tables {
		units, err := s.batchGetFrom(ctx, bt, resp, &budget)
		if isThrottled(err) {
			throttled = err
		} else if err != nil {
			return nil, err
		}
		if cc := consumed(req.ReturnConsumedCapacity, bt.name, units); cc != nil {
			resp.ConsumedCapacity = append(resp.ConsumedCapacity, cc)
		}
	}
	// Throttled keys come back as UnprocessedKeys; when nothing at all
	// could be read, the request fails with the throttling error, as
	// DynamoDB's does.
	if throttled != nil && allUnprocessed(&req, resp) {
		return nil, throttled
	}
	return resp, nil
}

// allUnprocessed says every key of req came back unprocessed.
func allUnprocessed(req *batchGetRequest, resp *batchGetResponse) bool {
	for name, ka := range req.RequestItems {
		left := resp.UnprocessedKeys[name]
		if left == nil || len(left.Keys) != len(ka.Keys) {
			return false
		}
	}
	return true
}

// checkShape validates the request's structure and its key count.
func (req *batchGetRequest) checkShape() error {
	var v violations
	v.enum(req.ReturnConsumedCapacity, "returnConsumedCapacity", returnCapacityEnum...)
	v.notNull(req.RequestItems != nil, "requestItems")
	if req.RequestItems != nil && len(req.RequestItems) == 0 {
		v.add("{}", "requestItems", "Member must have length greater than or equal to 1")
	}
	total := 0
	for _, name := range sortedKeys(req.RequestItems) {
		ka := req.RequestItems[name]
		v.tableName(&name, "requestItems."+name+".member.tableName")
		if ka == nil || ka.Keys == nil {
			v.notNull(false, "requestItems."+name+".member.keys")
			continue
		}
		v.keyCount(len(ka.Keys), "requestItems."+name+".member.keys", maxBatchGetKeys)
		total += len(ka.Keys)
	}
	if err := v.err(); err != nil {
		return err
	}
	if total > maxBatchGetKeys {
		return validationf("Too many items requested for the BatchGetItem call")
	}
	return nil
}

// keyCount records a list of n keys outside 1..most.
func (v *violations) keyCount(n int, path string, most int) {
	switch {
	case n < 1:
		v.add("[]", path, "Member must have length greater than or equal to 1")
	case n > most:
		v.add(fmt.Sprintf("%d keys", n), path, fmt.Sprintf("Member must have length less than or equal to %d", most))
	}
}

// batchGetTables parses each table's projection, looks the tables up and
// validates their keys, in table name order.
func (s *Server) batchGetTables(ctx context.Context, req *batchGetRequest) ([]*batchGetTable, error) {
	var out []*batchGetTable
	for _, name := range sortedKeys(req.RequestItems) {
		ka := req.RequestItems[name]
		es, err := projectionExprs(ka.ProjectionExpression, ka.AttributesToGet, ka.ExpressionAttributeNames)
		if err != nil {
			return nil, err
		}
		t, err := s.activeTable(ctx, name)
		if err != nil {
			return nil, err
		}
		if err := s.checkBatchKeys(t, ka.Keys); err != nil {
			return nil, err
		}
		out = append(out, &batchGetTable{name: name, req: ka, table: t, es: es})
	}
	return out, nil
}

// checkBatchKeys validates keys against t's schema and rejects duplicates.
func (s *Server) checkBatchKeys(t *partitapb.Table, keys []item.Item) error {
	ks := schemaOf(t)
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if err := ks.checkKey(k); err != nil {
			return err
		}
		sk, err := s.cfg.Backend.StorageKey(t, k)
		if err != nil {
			return err
		}
		if seen[string(sk)] {
			return validationf("Provided list of item keys contains duplicates")
		}
		seen[string(sk)] = true
	}
	return nil
}

// batchGetFrom reads the keys of one table into resp while the response
// stays within budget bytes and the table's partitions admit reads; the
// keys left over become UnprocessedKeys. It returns the read capacity
// consumed, and the throttling error if a read was throttled.
func (s *Server) batchGetFrom(ctx context.Context, bt *batchGetTable, resp *batchGetResponse, budget *int) (float64, error) {
	consistent := bt.req.ConsistentRead != nil && *bt.req.ConsistentRead
	found := []item.Item{}
	units := 0.0
	for i, key := range bt.req.Keys {
		got, err := s.cfg.Backend.Get(ctx, bt.table, key, consistent)
		if isDomainCode(err, partitapb.Error_TABLE_NOT_FOUND) {
			return 0, s.notFound(bt.name, false)
		}
		if isThrottled(err) {
			resp.UnprocessedKeys[bt.name] = bt.unprocessed(bt.req.Keys[i:])
			resp.Responses[bt.name] = found
			return units, err
		}
		if err != nil {
			return 0, fmt.Errorf("dynamo: batch get from %q: %w", bt.name, err)
		}
		if got != nil && bt.es.proj != nil {
			got = bt.es.proj.Apply(got)
			if got == nil {
				got = item.Item{}
			}
		}
		if sizeOf(got) > *budget {
			resp.UnprocessedKeys[bt.name] = bt.unprocessed(bt.req.Keys[i:])
			*budget = 0
			break
		}
		units += readUnits(sizeOf(got), consistent)
		if got != nil {
			*budget -= got.Size()
			found = append(found, got)
		}
	}
	resp.Responses[bt.name] = found
	return units, nil
}

// unprocessed returns the table's request parameters with keys.
func (bt *batchGetTable) unprocessed(keys []item.Item) *keysAndAttributes {
	out := *bt.req
	out.Keys = keys
	return &out
}
