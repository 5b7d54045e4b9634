package dynamo

import (
	"context"

	"github.com/partitadb/partita/expr"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// putItemRequest is PutItem's input.
type putItemRequest struct {
	TableName *string   `json:"TableName"`
	Item      item.Item `json:"Item"`
	conditionParams
	writeOptions
}

// conditionParams are the condition parameters PutItem and DeleteItem
// share: an expression with its names and values, or the legacy Expected
// with ConditionalOperator.
type conditionParams struct {
	ConditionExpression       *string                 `json:"ConditionExpression"`
	ExpressionAttributeNames  map[string]string       `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues exprValues              `json:"ExpressionAttributeValues"`
	Expected                  map[string]expectedAttr `json:"Expected"`
	ConditionalOperator       *string                 `json:"ConditionalOperator"`
}

// exprs checks the write's shape and returns its condition as expressions.
func (c *conditionParams) exprs(table *string, what string, present bool, opts *writeOptions) (*exprSet, error) {
	if err := checkWriteShape(table, what, present, c.ConditionalOperator, c.Expected, opts); err != nil {
		return nil, err
	}
	return conditionExprs(c.ConditionExpression, c.Expected, c.ConditionalOperator,
		c.ExpressionAttributeNames, c.ExpressionAttributeValues)
}

func (s *Server) handlePutItem(ctx context.Context, r *request) (any, error) {
	var req putItemRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	es, err := req.exprs(req.TableName, "item", req.Item != nil, &req.writeOptions)
	if err != nil {
		return nil, err
	}
	t, err := s.activeTable(ctx, *req.TableName)
	if err != nil {
		return nil, err
	}
	key, err := schemaOf(t).keyOfItem(req.Item)
	if err != nil {
		return nil, err
	}
	if err := checkItem(req.Item); err != nil {
		return nil, err
	}
	storageKey, err := s.cfg.Backend.StorageKey(t, key)
	if err != nil {
		return nil, err
	}
	cmd := s.newCommand()
	cmd.Op = &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{
		Key: storageKey, Item: item.EncodeItem(req.Item), Condition: es.expression(es.condText),
	}}
	// Without a condition, the answer needs the replaced item only for
	// what the write options ask (old image, sizes), which the command
	// carries too: its leader may then skip reading it (fsm.Blind).
	cmd.Blind = str(es.condText) == ""
	im, err := s.write(ctx, t, key, cmd, &req.writeOptions)
	if err != nil {
		return nil, err
	}
	resp := &writeItemResponse{ConsumedCapacity: writeCapacity(&req.writeOptions, t.GetName(), im),
		ItemCollectionMetrics: collectionMetrics(t, req.ReturnItemCollectionMetrics, key, im)}
	if req.returns("ALL_OLD") {
		resp.Attributes = nonEmpty(im.old)
	}
	return resp, nil
}

// checkWriteShape validates the parameters PutItem and DeleteItem share:
// the table name, the item or key (named target), the legacy condition's
// enums and the response options, of which ReturnValues may only be NONE
// or ALL_OLD.
//
// The violations come in the order DynamoDB was recorded reporting them
// (docs/protocol.md, "Validation order"): PutItem names the item before
// ReturnValues, DeleteItem the key after ReturnItemCollectionMetrics.
func checkWriteShape(table *string, target string, hasTarget bool, condOp *string, expected map[string]expectedAttr, o *writeOptions) error {
	var v violations
	v.enum(o.ReturnConsumedCapacity, "returnConsumedCapacity", returnCapacityEnum...)
	v.tableName(table, "tableName")
	if target == "item" {
		v.notNull(hasTarget, target)
		v.enum(condOp, "conditionalOperator", conditionalOpEnum...)
		v.expected(expected)
	}
	v.enum(o.ReturnValues, "returnValues", returnValuesEnum...)
	v.enum(o.ReturnItemCollectionMetrics, "returnItemCollectionMetrics", returnMetricsEnum...)
	if target != "item" {
		v.notNull(hasTarget, target)
		v.enum(condOp, "conditionalOperator", conditionalOpEnum...)
		v.expected(expected)
	}
	v.enum(o.ReturnValuesOnConditionCheckFailure, "returnValuesOnConditionCheckFailure", returnOnFailureEnum...)
	if err := v.err(); err != nil {
		return err
	}
	return o.checkReturnValues("NONE", "ALL_OLD")
}

// conditionExprs checks the condition parameters of a write and parses the
// condition, translating Expected when it is given instead.
func conditionExprs(cond *string, expected map[string]expectedAttr, condOp *string, names map[string]string, values exprValues) (*exprSet, error) {
	err := checkExprParams(
		[]param{{"ConditionExpression", cond != nil}},
		[]param{{"Expected", expected != nil}, {"ConditionalOperator", condOp != nil}},
		names, values)
	if err != nil {
		return nil, err
	}
	es := newExprSet(names, values)
	es.condText = cond
	if err := es.translateExpected(expected, condOp); err != nil {
		return nil, err
	}
	return es, es.parse(nil)
}

// translateExpected sets the condition from the legacy Expected parameter.
func (es *exprSet) translateExpected(expected map[string]expectedAttr, condOp *string) error {
	if len(expected) == 0 {
		return nil
	}
	tr := es.legacy(expr.KindCondition)
	text, err := translateExpected(expected, condOp, tr)
	if err != nil {
		return err
	}
	es.condText = &text
	return nil
}

// deleteItemRequest is DeleteItem's input.
type deleteItemRequest struct {
	TableName *string   `json:"TableName"`
	Key       item.Item `json:"Key"`
	conditionParams
	writeOptions
}

func (s *Server) handleDeleteItem(ctx context.Context, r *request) (any, error) {
	var req deleteItemRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	es, err := req.exprs(req.TableName, "key", req.Key != nil, &req.writeOptions)
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
	storageKey, err := s.cfg.Backend.StorageKey(t, req.Key)
	if err != nil {
		return nil, err
	}
	cmd := s.newCommand()
	cmd.Op = &partitapb.Command_DeleteItem{DeleteItem: &partitapb.DeleteItem{
		Key: storageKey, Condition: es.expression(es.condText),
	}}
	im, err := s.write(ctx, t, req.Key, cmd, &req.writeOptions)
	if err != nil {
		return nil, err
	}
	resp := &writeItemResponse{ConsumedCapacity: writeCapacity(&req.writeOptions, t.GetName(), im),
		ItemCollectionMetrics: collectionMetrics(t, req.ReturnItemCollectionMetrics, req.Key, im)}
	if req.returns("ALL_OLD") {
		resp.Attributes = nonEmpty(im.old)
	}
	return resp, nil
}
