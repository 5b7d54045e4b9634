package dynamo

import (
	"context"
	"fmt"
	"strconv"

	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
)

// transactGetRequest is TransactGetItems's input.
type transactGetRequest struct {
	TransactItems          []transactGetItem `json:"TransactItems"`
	ReturnConsumedCapacity *string           `json:"ReturnConsumedCapacity"`
}

// transactGetItem is one member of TransactItems.
type transactGetItem struct {
	Get *transactGet `json:"Get"`
}

// transactGet is one read of a TransactGetItems.
type transactGet struct {
	TableName                *string           `json:"TableName"`
	Key                      item.Item         `json:"Key"`
	ProjectionExpression     *string           `json:"ProjectionExpression"`
	ExpressionAttributeNames map[string]string `json:"ExpressionAttributeNames"`
}

// transactGetResponse is TransactGetItems's output: one response per read,
// in order, with no Item when the item does not exist.
type transactGetResponse struct {
	Responses        []itemResponse      `json:"Responses"`
	ConsumedCapacity []*consumedCapacity `json:"ConsumedCapacity,omitempty"`
}

func (s *Server) handleTransactGetItems(ctx context.Context, r *request) (any, error) {
	var req transactGetRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	if err := req.checkShape(); err != nil {
		return nil, err
	}
	// A request is validated like DynamoDB's before a backend without
	// transactions turns it away.
	tx, ok := s.cfg.Backend.(transactor)
	if !ok {
		return nil, newError(kindUnknownOperation, "")
	}
	actions, tables, projs, err := s.transactGetActions(ctx, &req)
	if err != nil {
		return nil, err
	}
	out, err := tx.TransactGet(ctx, actions)
	if err != nil {
		return nil, fmt.Errorf("dynamo: transaction: %w", err)
	}
	if !out.Prepared() {
		return nil, canceled(out, nil)
	}
	resp := &transactGetResponse{Responses: make([]itemResponse, len(actions)),
		ConsumedCapacity: transactCapacity(req.ReturnConsumedCapacity, tables, out, false)}
	for i, res := range out.Results {
		if !res.GetHasOld() {
			continue
		}
		it, err := item.DecodeItem(res.GetOldItem())
		if err != nil {
			return nil, fmt.Errorf("dynamo: stored item is corrupt: %w", err)
		}
		if projs[i] != nil {
			it = projs[i].proj.Apply(it)
		}
		if it == nil {
			it = item.Item{}
		}
		resp.Responses[i].Item = it
	}
	return resp, nil
}

// checkShape validates the request's members before any table is read.
func (req *transactGetRequest) checkShape() error {
	var v violations
	v.transactItems(len(req.TransactItems), req.TransactItems != nil)
	v.enum(req.ReturnConsumedCapacity, "returnConsumedCapacity", returnCapacityEnum...)
	for i, m := range req.TransactItems {
		path := "transactItems." + strconv.Itoa(i+1) + ".member.get"
		v.notNull(m.Get != nil, path)
		if m.Get == nil {
			continue
		}
		v.tableName(m.Get.TableName, path+".tableName")
		v.notNull(m.Get.Key != nil, path+".key")
	}
	return v.err()
}

// transactGetActions checks every read against its table and builds its
// lock: a prepare whose check has no condition. It returns each read's
// table and projection (nil: the whole item).
func (s *Server) transactGetActions(ctx context.Context, req *transactGetRequest) ([]router.TxnAction, []*partitapb.Table, []*exprSet, error) {
	n := len(req.TransactItems)
	actions, tables, projs := make([]router.TxnAction, n), make([]*partitapb.Table, n), make([]*exprSet, n)
	seen := map[string]bool{}
	for i, m := range req.TransactItems {
		g := m.Get
		es, err := projectionExprs(g.ProjectionExpression, nil, g.ExpressionAttributeNames)
		if err != nil {
			return nil, nil, nil, err
		}
		t, err := s.activeTable(ctx, *g.TableName)
		if err != nil {
			return nil, nil, nil, err
		}
		if err := schemaOf(t).checkKey(g.Key); err != nil {
			return nil, nil, nil, err
		}
		sk, err := s.cfg.Backend.StorageKey(t, g.Key)
		if err != nil {
			return nil, nil, nil, err
		}
		if seen[string(sk)] {
			return nil, nil, nil, validationf("%s", msgTransactDuplicate)
		}
		seen[string(sk)] = true
		if es.proj != nil {
			projs[i] = es
		}
		actions[i] = router.TxnAction{Table: t, Prepare: &partitapb.TxnPrepare{Key: sk,
			Action: &partitapb.TxnPrepare_Check{Check: &partitapb.Expression{}}}}
		tables[i] = t
	}
	return actions, tables, projs, nil
}
