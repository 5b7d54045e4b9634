package dynamo

import (
	"context"
	"fmt"
	"sync"

	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// maxBatchWrites is the most put and delete requests one BatchWriteItem
// may carry, over all its tables.
const maxBatchWrites = 25

// writeRequest is one entry of BatchWriteItem's RequestItems (and of its
// UnprocessedItems): exactly one of its fields is set.
type writeRequest struct {
	PutRequest    *putRequest    `json:"PutRequest,omitempty"`
	DeleteRequest *deleteRequest `json:"DeleteRequest,omitempty"`
}

type putRequest struct {
	Item item.Item `json:"Item"`
}

type deleteRequest struct {
	Key item.Item `json:"Key"`
}

// batchWriteRequest is BatchWriteItem's input.
type batchWriteRequest struct {
	RequestItems                map[string][]writeRequest `json:"RequestItems"`
	ReturnConsumedCapacity      *string                   `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics *string                   `json:"ReturnItemCollectionMetrics"`
}

// batchWriteResponse is BatchWriteItem's output.
type batchWriteResponse struct {
	UnprocessedItems      map[string][]writeRequest           `json:"UnprocessedItems"`
	ConsumedCapacity      []*consumedCapacity                 `json:"ConsumedCapacity,omitempty"`
	ItemCollectionMetrics map[string][]*itemCollectionMetrics `json:"ItemCollectionMetrics,omitempty"`
}

// batchWrite is one validated request of a BatchWriteItem.
type batchWrite struct {
	table *partitapb.Table
	req   writeRequest
	key   item.Item
	cmd   *partitapb.Command

	im  *images // after the write
	err error
}

func (s *Server) handleBatchWriteItem(ctx context.Context, r *request) (any, error) {
	var req batchWriteRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	if err := req.checkShape(); err != nil {
		return nil, err
	}
	writes, err := s.batchWrites(ctx, &req)
	if err != nil {
		return nil, err
	}
	s.runBatchWrites(ctx, writes, &req)
	return batchWriteResult(&req, writes)
}

// checkShape validates the request's structure and its request count,
// the response options first as DynamoDB was recorded reporting them
// (docs/protocol.md).
func (req *batchWriteRequest) checkShape() error {
	var v violations
	v.enum(req.ReturnConsumedCapacity, "returnConsumedCapacity", returnCapacityEnum...)
	v.enum(req.ReturnItemCollectionMetrics, "returnItemCollectionMetrics", returnMetricsEnum...)
	v.notNull(req.RequestItems != nil, "requestItems")
	if req.RequestItems != nil && len(req.RequestItems) == 0 {
		v.add("{}", "requestItems", "Member must have length greater than or equal to 1")
	}
	total := 0
	for _, name := range sortedKeys(req.RequestItems) {
		v.tableName(&name, "requestItems."+name+".member.tableName")
		v.keyCount(len(req.RequestItems[name]), "requestItems."+name+".member", maxBatchWrites)
		v.writeRequests(req.RequestItems[name], "requestItems."+name+".member.")
		total += len(req.RequestItems[name])
	}
	if err := v.err(); err != nil {
		return err
	}
	if total > maxBatchWrites {
		return validationf("Too many items requested for the BatchWriteItem call")
	}
	return nil
}

// writeRequests records the put requests without an item and the delete
// requests without a key, each delete before its put as DynamoDB reports.
func (v *violations) writeRequests(reqs []writeRequest, path string) {
	for i, wr := range reqs {
		p := fmt.Sprintf("%s%d.member.", path, i+1)
		if wr.DeleteRequest != nil {
			v.notNull(wr.DeleteRequest.Key != nil, p+"deleteRequest.key")
		}
		if wr.PutRequest != nil {
			v.notNull(wr.PutRequest.Item != nil, p+"putRequest.item")
		}
	}
}

// batchWrites validates every request like PutItem or DeleteItem would,
// rejects duplicate keys within a table, and builds the commands. Nothing
// is written unless the whole batch is valid.
func (s *Server) batchWrites(ctx context.Context, req *batchWriteRequest) ([]*batchWrite, error) {
	var out []*batchWrite
	for _, name := range sortedKeys(req.RequestItems) {
		t, err := s.activeTable(ctx, name)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, wr := range req.RequestItems[name] {
			w, storageKey, err := s.buildBatchWrite(t, wr)
			if err != nil {
				return nil, err
			}
			if seen[string(storageKey)] {
				return nil, validationf("Provided list of item keys contains duplicates")
			}
			seen[string(storageKey)] = true
			out = append(out, w)
		}
	}
	return out, nil
}

// buildBatchWrite validates one put or delete request and builds its
// command (unconditional, as BatchWriteItem has no conditions).
func (s *Server) buildBatchWrite(t *partitapb.Table, wr writeRequest) (*batchWrite, []byte, error) {
	if (wr.PutRequest == nil) == (wr.DeleteRequest == nil) {
		return nil, nil, validationf("%sWriteRequest must contain exactly one of PutRequest or DeleteRequest", msgInvalidParams)
	}
	ks := schemaOf(t)
	w := &batchWrite{table: t, req: wr, cmd: s.newCommand()}
	var err error
	if wr.PutRequest != nil {
		if err = s.checkBatchPut(ks, wr.PutRequest); err != nil {
			return nil, nil, err
		}
		w.key, _ = ks.keyOfItem(wr.PutRequest.Item)
	} else {
		if wr.DeleteRequest.Key == nil {
			return nil, nil, validationf("%s", msgKeySchemaMismatch)
		}
		if err = ks.checkKey(wr.DeleteRequest.Key); err != nil {
			return nil, nil, err
		}
		w.key = wr.DeleteRequest.Key
	}
	storageKey, err := s.cfg.Backend.StorageKey(t, w.key)
	if err != nil {
		return nil, nil, err
	}
	if wr.PutRequest != nil {
		w.cmd.Op = &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: storageKey, Item: item.EncodeItem(wr.PutRequest.Item)}}
	} else {
		w.cmd.Op = &partitapb.Command_DeleteItem{DeleteItem: &partitapb.DeleteItem{Key: storageKey}}
	}
	return w, storageKey, nil
}

// checkBatchPut validates a PutRequest's item as PutItem does.
func (s *Server) checkBatchPut(ks keySchema, p *putRequest) error {
	if p.Item == nil {
		return validationf("%sMissing the key %s in the item", msgInvalidParams, ks.hashKey().name)
	}
	if _, err := ks.keyOfItem(p.Item); err != nil {
		return err
	}
	return checkItem(p.Item)
}

// runBatchWrites proposes the writes concurrently (they touch distinct
// keys, so their order does not matter) and records each outcome. The
// writes' sizes are asked for only when the response reports what they
// decide (the capacity consumed, the item collections' sizes); without
// them, a put needs nothing of the item it replaces and may be written
// blind (fsm.Blind).
func (s *Server) runBatchWrites(ctx context.Context, writes []*batchWrite, req *batchWriteRequest) {
	o := &writeOptions{ReturnConsumedCapacity: req.ReturnConsumedCapacity, ReturnItemCollectionMetrics: req.ReturnItemCollectionMetrics}
	var wg sync.WaitGroup
	for _, w := range writes {
		w.cmd.Blind = w.cmd.GetPutItem() != nil
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.im, w.err = s.write(ctx, w.table, w.key, w.cmd, o)
		}()
	}
	wg.Wait()
}

// batchWriteResult shapes the response: writes that failed for an
// infrastructure reason or throttled are returned as UnprocessedItems
// (all of them: the request fails with that error); a rejection
// (which validation should have prevented) fails the request.
func batchWriteResult(req *batchWriteRequest, writes []*batchWrite) (*batchWriteResponse, error) {
	resp := &batchWriteResponse{UnprocessedItems: map[string][]writeRequest{}}
	units := map[string]float64{}
	var failed error
	for _, w := range writes {
		name := w.table.GetName()
		if w.err != nil {
			if _, internal := toAPIError(w.err); !internal && !isThrottled(w.err) {
				return nil, w.err
			}
			failed = w.err
			resp.UnprocessedItems[name] = append(resp.UnprocessedItems[name], w.req)
			continue
		}
		units[name] += w.im.units()
		if m := collectionMetrics(w.table, req.ReturnItemCollectionMetrics, w.key, w.im); m != nil {
			if resp.ItemCollectionMetrics == nil {
				resp.ItemCollectionMetrics = map[string][]*itemCollectionMetrics{}
			}
			resp.ItemCollectionMetrics[name] = append(resp.ItemCollectionMetrics[name], m)
		}
	}
	if failed != nil && len(units) == 0 {
		return nil, failed
	}
	for _, name := range sortedKeys(req.RequestItems) {
		if cc := consumed(req.ReturnConsumedCapacity, name, units[name]); cc != nil && units[name] > 0 {
			resp.ConsumedCapacity = append(resp.ConsumedCapacity, cc)
		}
	}
	return resp, nil
}
