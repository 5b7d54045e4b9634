package dynamo

import (
	"context"
	"errors"

	"github.com/partitadb/partita/expr"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/router"
)

// queryRequest is Query's input.
type queryRequest struct {
	readParams
	KeyConditionExpression *string                    `json:"KeyConditionExpression"`
	KeyConditions          map[string]filterCondition `json:"KeyConditions"`
	QueryFilter            map[string]filterCondition `json:"QueryFilter"`
	ScanIndexForward       *bool                      `json:"ScanIndexForward"`
}

func (s *Server) handleQuery(ctx context.Context, r *request) (any, error) {
	var req queryRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	req.legacyFilter = req.QueryFilter
	ex, t, ks, err := s.openRead(ctx, &req, &req.readParams)
	if err != nil {
		return nil, err
	}
	spec, err := req.spec(ks, ex)
	if err != nil {
		return nil, err
	}
	pg := req.newPage(ks, ex)
	var fetchErr error
	err = s.cfg.Backend.Query(ctx, t, spec, s.localVisit(ctx, &req.readParams, pg, &fetchErr))
	if err = errors.Join(err, fetchErr); err != nil {
		return nil, s.backendError("query", t, err)
	}
	return pg.response(req.ReturnConsumedCapacity, req.apiTable, req.consistent()), nil
}

// checkShape validates the parameters before any expression is parsed.
func (req *queryRequest) checkShape() error {
	var v violations
	req.checkQuery(&v)
	if err := v.err(); err != nil {
		return err
	}
	if err := req.checkSelect(true); err != nil {
		return err
	}
	// DynamoDB lets KeyConditions go with FilterExpression and
	// ProjectionExpression; only KeyConditionExpression excludes it.
	err := checkExprParams(
		[]param{{"KeyConditionExpression", req.KeyConditionExpression != nil}, {"FilterExpression", req.FilterExpression != nil}, {"ProjectionExpression", req.ProjectionExpression != nil}},
		[]param{{"AttributesToGet", req.AttributesToGet != nil}, {"QueryFilter", req.QueryFilter != nil}, {"ConditionalOperator", req.ConditionalOperator != nil}, {"KeyConditions", req.KeyConditions != nil && req.KeyConditionExpression != nil}},
		req.ExpressionAttributeNames, req.ExpressionAttributeValues)
	if err != nil {
		return err
	}
	if req.KeyConditionExpression == nil && req.KeyConditions == nil {
		return validationf("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
	}
	return nil
}

// exprs translates the legacy parameters and parses the expressions.
func (req *queryRequest) exprs() (*readExprs, error) {
	es := newExprSet(req.ExpressionAttributeNames, req.ExpressionAttributeValues)
	tx := readTexts{key: req.KeyConditionExpression, filter: req.FilterExpression, proj: req.ProjectionExpression}
	if req.KeyConditions != nil {
		text, err := translateKeyConditions(req.KeyConditions, es.legacy(expr.KindKeyCondition))
		if err != nil {
			return nil, err
		}
		tx.key = &text
	}
	if err := req.translateReadLegacy(es, &tx); err != nil {
		return nil, err
	}
	return es.parseRead(tx)
}

// spec resolves the key condition against the table's key schema and
// builds the backend's range, checking the filter and the start key.
func (req *queryRequest) spec(ks keySchema, ex *readExprs) (router.QuerySpec, error) {
	hash, rng, err := resolveKeyCondition(ks, ex.key)
	if err != nil {
		return router.QuerySpec{}, err
	}
	if err := checkQueryFilter(ks, req.QueryFilter, ex.filter); err != nil {
		return router.QuerySpec{}, err
	}
	spec := router.QuerySpec{PK: hash.Values[0], Forward: req.ScanIndexForward == nil || *req.ScanIndexForward,
		Consistent: req.consistent()}
	if rng != nil {
		spec.Op, spec.Values = sortOps[rng.Op], rng.Values
	}
	if req.ExclusiveStartKey != nil {
		if err := checkQueryStartKey(req.pageKeys, req.ExclusiveStartKey, spec.PK); err != nil {
			return router.QuerySpec{}, err
		}
		spec.StartAfter = req.ExclusiveStartKey
	}
	return spec, nil
}

// sortOps maps key condition operators to the backend's.
var sortOps = map[expr.Op]router.SortOp{
	expr.OpEq: router.SortEQ, expr.OpLt: router.SortLT, expr.OpLe: router.SortLE,
	expr.OpGt: router.SortGT, expr.OpGe: router.SortGE, expr.OpBetween: router.SortBetween,
	expr.OpFunc: router.SortBeginsWith,
}

// resolveKeyCondition matches the key condition to the schema and checks
// its operand types and values.
func resolveKeyCondition(ks keySchema, kc *expr.KeyCondition) (expr.KeyTerm, *expr.KeyTerm, error) {
	hk := ks.hashKey()
	rk, hasRange := ks.rangeKey()
	hash, rng, err := kc.Resolve(hk.name, rk.name)
	if err != nil {
		return expr.KeyTerm{}, nil, err
	}
	if err := checkKeyTerm(hk, hash); err != nil {
		return expr.KeyTerm{}, nil, err
	}
	if hasRange && rng != nil {
		if err := checkKeyTerm(rk, *rng); err != nil {
			return expr.KeyTerm{}, nil, err
		}
	}
	return hash, rng, nil
}

// checkKeyTerm checks the operands of a term on key attribute k.
func checkKeyTerm(k keyAttr, t expr.KeyTerm) error {
	for _, v := range t.Values {
		if v.Type != k.typ {
			return validationf("%sCondition parameter type does not match schema type", msgInvalidParams)
		}
	}
	if t.Op == expr.OpFunc {
		return nil
	}
	for _, v := range t.Values {
		if err := (keySchema{k}).checkKeyValues(item.Item{k.name: v}); err != nil {
			return err
		}
	}
	return nil
}

// checkQueryFilter rejects a filter on key attributes.
func checkQueryFilter(ks keySchema, legacy map[string]filterCondition, filter *expr.Condition) error {
	if legacy != nil {
		return checkLegacyFilterKeys(legacy, ks)
	}
	if filter == nil {
		return nil
	}
	for _, p := range filter.Paths() {
		if ks.has(p.Name()) {
			return validationf("Filter Expression can only contain non-primary key attributes: Primary key attribute: %s", p.Name())
		}
	}
	return nil
}

// checkQueryStartKey validates a Query's ExclusiveStartKey: the table's
// key, in the queried partition.
func checkQueryStartKey(ks keySchema, key item.Item, pk item.Value) error {
	if ks.checkKey(key) != nil {
		return validationf("The provided starting key is invalid")
	}
	if !item.Equal(key[ks.hashKey().name], pk) {
		return validationf("The provided starting key is outside query boundaries based on provided conditions")
	}
	return nil
}
