package dynamo

import (
	"context"

	"github.com/partitadb/partita/expr"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// updateItemRequest is UpdateItem's input.
type updateItemRequest struct {
	TableName                 *string                    `json:"TableName"`
	Key                       item.Item                  `json:"Key"`
	UpdateExpression          *string                    `json:"UpdateExpression"`
	ConditionExpression       *string                    `json:"ConditionExpression"`
	ExpressionAttributeNames  map[string]string          `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues exprValues                 `json:"ExpressionAttributeValues"`
	AttributeUpdates          map[string]attributeUpdate `json:"AttributeUpdates"`
	Expected                  map[string]expectedAttr    `json:"Expected"`
	ConditionalOperator       *string                    `json:"ConditionalOperator"`
	writeOptions
}

func (s *Server) handleUpdateItem(ctx context.Context, r *request) (any, error) {
	var req updateItemRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	if err := req.checkShape(); err != nil {
		return nil, err
	}
	if err := checkExprParams(
		[]param{{"UpdateExpression", req.UpdateExpression != nil}, {"ConditionExpression", req.ConditionExpression != nil}},
		[]param{{"AttributeUpdates", req.AttributeUpdates != nil}, {"Expected", req.Expected != nil}, {"ConditionalOperator", req.ConditionalOperator != nil}},
		req.ExpressionAttributeNames, req.ExpressionAttributeValues); err != nil {
		return nil, err
	}
	es, err := req.exprs()
	if err != nil {
		return nil, err
	}
	t, err := s.activeTable(ctx, *req.TableName)
	if err != nil {
		return nil, err
	}
	if err := req.checkKeys(schemaOf(t), es); err != nil {
		return nil, err
	}
	im, err := s.proposeUpdate(ctx, t, &req, es)
	if err != nil {
		return nil, err
	}
	return &writeItemResponse{
		Attributes:            updateReturnValues(&req.writeOptions, es, im),
		ConsumedCapacity:      writeCapacity(&req.writeOptions, t.GetName(), im),
		ItemCollectionMetrics: collectionMetrics(t, req.ReturnItemCollectionMetrics, req.Key, im),
	}, nil
}

// checkShape validates the parameters' presence and enums, in the order
// DynamoDB was recorded reporting them (docs/protocol.md).
func (req *updateItemRequest) checkShape() error {
	var v violations
	v.enum(req.ReturnConsumedCapacity, "returnConsumedCapacity", returnCapacityEnum...)
	v.tableName(req.TableName, "tableName")
	v.enum(req.ReturnItemCollectionMetrics, "returnItemCollectionMetrics", returnMetricsEnum...)
	v.enum(req.ReturnValues, "returnValues", returnValuesEnum...)
	v.notNull(req.Key != nil, "key")
	v.enum(req.ConditionalOperator, "conditionalOperator", conditionalOpEnum...)
	v.expected(req.Expected)
	v.attributeUpdates(req.AttributeUpdates)
	v.enum(req.ReturnValuesOnConditionCheckFailure, "returnValuesOnConditionCheckFailure", returnOnFailureEnum...)
	if err := v.err(); err != nil {
		return err
	}
	if err := req.checkReturnValues(returnValuesEnum...); err != nil {
		return err
	}
	if _, ok := req.AttributeUpdates[""]; ok {
		return validationf("%s", msgEmptyAttributeName)
	}
	return nil
}

// exprs parses the update and condition, translating the legacy
// parameters when they are given instead.
func (req *updateItemRequest) exprs() (*exprSet, error) {
	es := newExprSet(req.ExpressionAttributeNames, req.ExpressionAttributeValues)
	es.updateText, es.condText = req.UpdateExpression, req.ConditionExpression
	if len(req.AttributeUpdates) > 0 {
		tr := es.legacy(expr.KindUpdate)
		text, err := translateAttributeUpdates(req.AttributeUpdates, tr)
		if err != nil {
			return nil, err
		}
		es.updateText = &text
	}
	if err := es.translateExpected(req.Expected, req.ConditionalOperator); err != nil {
		return nil, err
	}
	if err := es.parse(nil); err != nil {
		return nil, err
	}
	return es, nil
}

// checkKeys validates the Key parameter against ks and rejects an update
// that touches a key attribute.
func (req *updateItemRequest) checkKeys(ks keySchema, es *exprSet) error {
	if err := ks.checkKey(req.Key); err != nil {
		return err
	}
	for _, attr := range sortedKeys(req.AttributeUpdates) {
		if ks.has(attr) {
			return validationf("%sCannot update attribute %s. This attribute is part of the key", msgInvalidParams, attr)
		}
	}
	if es.update != nil {
		return es.update.CheckKeys(ks.names()...)
	}
	return nil
}

// proposeUpdate builds and proposes the UpdateItem command.
func (s *Server) proposeUpdate(ctx context.Context, t *partitapb.Table, req *updateItemRequest, es *exprSet) (*images, error) {
	storageKey, err := s.cfg.Backend.StorageKey(t, req.Key)
	if err != nil {
		return nil, err
	}
	cmd := s.newCommand()
	cmd.Op = &partitapb.Command_UpdateItem{UpdateItem: &partitapb.UpdateItem{
		Key:       storageKey,
		KeyItem:   item.EncodeItem(req.Key),
		Update:    es.expression(es.updateText),
		Condition: es.expression(es.condText),
	}}
	return s.write(ctx, t, req.Key, cmd, &req.writeOptions)
}

// updateReturnValues shapes the Attributes of an UpdateItem response.
func updateReturnValues(o *writeOptions, es *exprSet, im *images) item.Item {
	switch str(o.ReturnValues) {
	case "ALL_OLD":
		return nonEmpty(im.old)
	case "ALL_NEW":
		return nonEmpty(im.new)
	case "UPDATED_OLD":
		return updatedPart(es, im.old)
	case "UPDATED_NEW":
		return updatedPart(es, im.new)
	}
	return nil
}

// updatedPart projects it to the paths the update touched.
func updatedPart(es *exprSet, it item.Item) item.Item {
	if es.update == nil || it == nil {
		return nil
	}
	return nonEmpty(es.update.Updated().Apply(it))
}
