package dynamo

import (
	"context"
	"errors"

	"github.com/partitadb/partita/expr"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partiql"
	"github.com/partitadb/partita/partitapb"
)

// msgDuplicateItem is DynamoDB's answer to an INSERT of an existing key.
const msgDuplicateItem = "Duplicate primary key exists in table"

// runInsert puts the item unless its key exists.
func (s *Server) runInsert(ctx context.Context, t *partitapb.Table, ks keySchema, plan *partiql.Plan, x *statementRun) (*executeStatementResponse, error) {
	if err := plan.Item.Validate(); err != nil {
		return nil, err
	}
	key, err := ks.keyOfItem(plan.Item)
	if err != nil {
		return nil, err
	}
	if err := checkItem(plan.Item); err != nil {
		return nil, err
	}
	storageKey, err := s.cfg.Backend.StorageKey(t, key)
	if err != nil {
		return nil, err
	}
	cmd := s.newCommand()
	cmd.Op = &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{
		Key: storageKey, Item: item.EncodeItem(plan.Item), Condition: planExpression(plan, plan.Condition),
	}}
	o := writeOptionsOf(&statementRun{capacity: x.capacity}, "")
	im, err := s.write(ctx, t, key, cmd, o)
	var ae *apiError
	if errors.As(err, &ae) && ae.Kind == kindConditionFailed {
		return nil, newError(kindDuplicateItem, "%s", msgDuplicateItem)
	}
	if err != nil {
		return nil, err
	}
	return writeResponse(x, t.GetName(), nil, im), nil
}

// returnValues maps a RETURNING clause to UpdateItem's ReturnValues.
var returnValues = map[string]string{
	"ALL OLD": "ALL_OLD", "MODIFIED OLD": "UPDATED_OLD", "ALL NEW": "ALL_NEW", "MODIFIED NEW": "UPDATED_NEW",
}

// runUpdate updates the item the WHERE clause names, if it exists and
// the rest of the clause holds.
func (s *Server) runUpdate(ctx context.Context, t *partitapb.Table, ks keySchema, plan *partiql.Plan, x *statementRun) (*executeStatementResponse, error) {
	if err := ks.checkKey(plan.Key); err != nil {
		return nil, err
	}
	es := &exprSet{env: expr.NewEnv(plan.Names, plan.Values)}
	var err error
	if es.update, err = expr.ParseUpdate(plan.Update, es.env); err != nil {
		return nil, err
	}
	if err := es.update.CheckKeys(ks.names()...); err != nil {
		return nil, err
	}
	if _, err := expr.ParseCondition("ConditionExpression", plan.Condition, es.env); err != nil {
		return nil, err
	}
	storageKey, err := s.cfg.Backend.StorageKey(t, plan.Key)
	if err != nil {
		return nil, err
	}
	cmd := s.newCommand()
	cmd.Op = &partitapb.Command_UpdateItem{UpdateItem: &partitapb.UpdateItem{
		Key: storageKey, KeyItem: item.EncodeItem(plan.Key),
		Update: planExpression(plan, plan.Update), Condition: planExpression(plan, plan.Condition),
	}}
	o := writeOptionsOf(x, returnValues[plan.Returning])
	im, err := s.write(ctx, t, plan.Key, cmd, o)
	if err != nil {
		return nil, err
	}
	return writeResponse(x, t.GetName(), updateReturnValues(o, es, im), im), nil
}

// runDelete deletes the item the WHERE clause names when the rest of the
// clause holds; a missing item is no error.
func (s *Server) runDelete(ctx context.Context, t *partitapb.Table, ks keySchema, plan *partiql.Plan, x *statementRun) (*executeStatementResponse, error) {
	if err := ks.checkKey(plan.Key); err != nil {
		return nil, err
	}
	if plan.Condition != "" {
		if _, err := expr.ParseCondition("ConditionExpression", plan.Condition, expr.NewEnv(plan.Names, plan.Values)); err != nil {
			return nil, err
		}
	}
	storageKey, err := s.cfg.Backend.StorageKey(t, plan.Key)
	if err != nil {
		return nil, err
	}
	cmd := s.newCommand()
	cmd.Op = &partitapb.Command_DeleteItem{DeleteItem: &partitapb.DeleteItem{
		Key: storageKey, Condition: planExpression(plan, plan.Condition),
	}}
	o := writeOptionsOf(x, returnValues[plan.Returning])
	im, err := s.write(ctx, t, plan.Key, cmd, o)
	if err != nil {
		return nil, err
	}
	var old item.Item
	if plan.Returning != "" {
		old = im.old
	}
	return writeResponse(x, t.GetName(), old, im), nil
}
