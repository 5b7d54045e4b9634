package dynamo

import (
	"context"
	"fmt"

	"github.com/partitadb/partita/expr"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// getItemRequest is GetItem's input.
type getItemRequest struct {
	TableName                *string           `json:"TableName"`
	Key                      item.Item         `json:"Key"`
	AttributesToGet          []string          `json:"AttributesToGet"`
	ProjectionExpression     *string           `json:"ProjectionExpression"`
	ExpressionAttributeNames map[string]string `json:"ExpressionAttributeNames"`
	ConsistentRead           *bool             `json:"ConsistentRead"`
	ReturnConsumedCapacity   *string           `json:"ReturnConsumedCapacity"`
}

// getItemResponse is GetItem's output; Item is absent when no item has the
// key, and present (possibly empty) when one does.
type getItemResponse struct {
	Item             *item.Item        `json:"Item,omitempty"`
	ConsumedCapacity *consumedCapacity `json:"ConsumedCapacity,omitempty"`
}

func (s *Server) handleGetItem(ctx context.Context, r *request) (any, error) {
	var req getItemRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	// In the order DynamoDB was recorded reporting them (docs/protocol.md).
	var v violations
	v.enum(req.ReturnConsumedCapacity, "returnConsumedCapacity", returnCapacityEnum...)
	v.attributesToGet(req.AttributesToGet)
	v.tableName(req.TableName, "tableName")
	v.notNull(req.Key != nil, "key")
	if err := v.err(); err != nil {
		return nil, err
	}
	es, err := projectionExprs(req.ProjectionExpression, req.AttributesToGet, req.ExpressionAttributeNames)
	if err != nil {
		return nil, err
	}
	t, err := s.activeTable(ctx, *req.TableName)
	if err != nil {
		return nil, err
	}
	if err := schemaOf(t).checkKey(req.Key); err != nil {
		return nil, err
	}
	consistent := req.ConsistentRead != nil && *req.ConsistentRead
	got, err := s.cfg.Backend.Get(ctx, t, req.Key, consistent)
	if isDomainCode(err, partitapb.Error_TABLE_NOT_FOUND) {
		return nil, s.notFound(t.GetName(), false)
	}
	if err != nil {
		return nil, fmt.Errorf("dynamo: get from %q: %w", t.GetName(), err)
	}
	resp := &getItemResponse{
		ConsumedCapacity: consumed(req.ReturnConsumedCapacity, t.GetName(), readUnits(sizeOf(got), consistent)),
	}
	if got != nil {
		if es.proj != nil {
			got = es.proj.Apply(got)
		}
		if got == nil {
			got = item.Item{}
		}
		resp.Item = &got
	}
	return resp, nil
}

// projectionExprs checks the projection parameters of a read and parses
// the projection, translating AttributesToGet when it is given instead.
func projectionExprs(proj *string, attrs []string, names map[string]string) (*exprSet, error) {
	err := checkExprParams(
		[]param{{"ProjectionExpression", proj != nil}},
		[]param{{"AttributesToGet", attrs != nil}},
		names, nil)
	if err != nil {
		return nil, err
	}
	es := newExprSet(names, nil)
	if attrs != nil {
		tr := es.legacy(expr.KindProjection)
		text, err := translateAttributesToGet(attrs, tr)
		if err != nil {
			return nil, err
		}
		proj = &text
	}
	return es, es.parse(proj)
}
