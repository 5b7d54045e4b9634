package dynamo

import (
	"context"
	"fmt"

	"github.com/partitadb/partita/expr"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partiql"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
)

// ExecuteTransaction of several statements runs them as one transaction
// (router.TransactWrite, or TransactGet when every statement is a
// SELECT), as TransactWriteItems and TransactGetItems do.

// msgMixedTransaction refuses a transaction of reads and writes together.
const msgMixedTransaction = "ExecuteTransaction statements must all be reads (SELECT) or all be writes (INSERT, UPDATE, DELETE)"

// txnStatement is one planned statement of a transaction.
type txnStatement struct {
	plan   *partiql.Plan
	action router.TxnAction
	filter *expr.Condition
}

// executeTransaction runs the statements of req (more than one) as one
// transaction. With body (the request's), req's ClientRequestToken is
// kept across the cluster for a write transaction, and by this node for
// a read one.
func (s *Server) executeTransaction(ctx context.Context, tx transactor, req *executeTransactionRequest, body []byte) (any, error) {
	sts, reads, err := s.planTransaction(ctx, req)
	if err != nil {
		return nil, err
	}
	actions := make([]router.TxnAction, len(sts))
	tables := make([]*partitapb.Table, len(sts))
	for i, st := range sts {
		actions[i], tables[i] = st.action, st.action.Table
	}
	if reads {
		read := func() (any, error) {
			out, err := tx.TransactGet(ctx, actions)
			if err != nil {
				return nil, fmt.Errorf("dynamo: transaction: %w", err)
			}
			if !out.Prepared() {
				return nil, canceled(out, nil)
			}
			return transactSelects(sts, out, req.ReturnConsumedCapacity, tables)
		}
		if body != nil {
			return s.tokens.do(*req.ClientRequestToken, body, read)
		}
		return read()
	}
	answer := func(out router.TxnOutcome) (any, error) {
		if !out.Committed {
			return nil, statementsCanceled(sts, out, req)
		}
		return &executeTransactionResponse{ConsumedCapacity: transactCapacity(req.ReturnConsumedCapacity, tables, out, true)}, nil
	}
	if tk, ok := s.keeper(); ok && body != nil {
		return transactWriteOnce(ctx, tk, "ExecuteTransaction", *req.ClientRequestToken, body, actions, answer)
	}
	out, err := tx.TransactWrite(ctx, actions)
	if err != nil {
		return nil, fmt.Errorf("dynamo: transaction: %w", err)
	}
	return answer(out)
}

// planTransaction plans every statement and builds its action; reads says
// they are all SELECTs.
func (s *Server) planTransaction(ctx context.Context, req *executeTransactionRequest) ([]txnStatement, bool, error) {
	sts := make([]txnStatement, len(req.TransactStatements))
	seen := map[string]bool{}
	selects := 0
	for i := range req.TransactStatements {
		ts := &req.TransactStatements[i]
		st, err := partiql.Parse(*ts.Statement)
		if err != nil {
			return nil, false, inStatement(i, err)
		}
		t, ks, plan, err := s.planStatement(ctx, st, ts.Parameters)
		if err != nil {
			return nil, false, inStatement(i, err)
		}
		x, err := s.statementAction(t, ks, plan)
		if err != nil {
			return nil, false, inStatement(i, err)
		}
		x.action.RecordOld = str(ts.ReturnValuesOnConditionCheckFailure) == "ALL_OLD"
		if seen[string(x.action.Prepare.GetKey())] {
			return nil, false, validationf("%s", msgTransactDuplicate)
		}
		seen[string(x.action.Prepare.GetKey())] = true
		if plan.Kind == partiql.KindSelect {
			selects++
		}
		sts[i] = x
	}
	if selects != 0 && selects != len(sts) {
		return nil, false, validationf("%s", msgMixedTransaction)
	}
	return sts, selects > 0, nil
}

// statementAction builds the action of one planned statement.
func (s *Server) statementAction(t *partitapb.Table, ks keySchema, plan *partiql.Plan) (txnStatement, error) {
	key := plan.Key
	x := txnStatement{plan: plan}
	switch plan.Kind {
	case partiql.KindSelect:
		if plan.Access != partiql.AccessGet || len(plan.Keys) != 1 {
			return x, validationf("%s", msgTransactKey)
		}
		key = plan.Keys[0]
		if plan.Filter != "" {
			f, err := expr.ParseCondition(expr.KindFilter, plan.Filter, expr.NewEnv(plan.Names, plan.Values))
			if err != nil {
				return x, err
			}
			x.filter = f
		}
	case partiql.KindInsert:
		if err := plan.Item.Validate(); err != nil {
			return x, err
		}
		var err error
		if key, err = ks.keyOfItem(plan.Item); err != nil {
			return x, err
		}
		if err := checkItem(plan.Item); err != nil {
			return x, err
		}
	}
	if err := ks.checkKey(key); err != nil {
		return x, err
	}
	sk, err := s.cfg.Backend.StorageKey(t, key)
	if err != nil {
		return x, err
	}
	p := &partitapb.TxnPrepare{Key: sk}
	cond := planExpression(plan, plan.Condition)
	switch plan.Kind {
	case partiql.KindSelect:
		p.Action = &partitapb.TxnPrepare_Check{Check: &partitapb.Expression{}}
	case partiql.KindInsert:
		p.Action = &partitapb.TxnPrepare_Put{Put: &partitapb.PutItem{Key: sk, Item: item.EncodeItem(plan.Item), Condition: cond}}
	case partiql.KindUpdate:
		env := expr.NewEnv(plan.Names, plan.Values)
		u, err := expr.ParseUpdate(plan.Update, env)
		if err != nil {
			return x, err
		}
		if err := u.CheckKeys(ks.names()...); err != nil {
			return x, err
		}
		p.Action = &partitapb.TxnPrepare_Update{Update: &partitapb.UpdateItem{Key: sk, KeyItem: item.EncodeItem(key),
			Update: planExpression(plan, plan.Update), Condition: cond}}
	default:
		p.Action = &partitapb.TxnPrepare_Delete{Delete: &partitapb.DeleteItem{Key: sk, Condition: cond}}
	}
	x.action = router.TxnAction{Table: t, Prepare: p}
	return x, nil
}

// transactSelects shapes the answers of a read transaction: one response
// per statement, with the item when it exists and passes the filter.
func transactSelects(sts []txnStatement, out router.TxnOutcome, capacity *string, tables []*partitapb.Table) (any, error) {
	resp := &executeTransactionResponse{Responses: make([]itemResponse, len(sts)),
		ConsumedCapacity: transactCapacity(capacity, tables, out, false)}
	for i, res := range out.Results {
		if !res.GetHasOld() {
			continue
		}
		it, err := item.DecodeItem(res.GetOldItem())
		if err != nil {
			return nil, fmt.Errorf("dynamo: stored item is corrupt: %w", err)
		}
		if f := sts[i].filter; f != nil {
			if ok, err := f.Eval(it); err != nil || !ok {
				continue
			}
		}
		if !sts[i].plan.Star {
			it = partiql.Project(sts[i].plan.Projection, it)
		}
		resp.Responses[i].Item = it
	}
	return resp, nil
}

// statementsCanceled is canceled for statements: a failed INSERT
// condition is a DuplicateItem.
func statementsCanceled(sts []txnStatement, out router.TxnOutcome, req *executeTransactionRequest) error {
	onFailure := make([]string, len(sts))
	for i := range sts {
		onFailure[i] = str(req.TransactStatements[i].ReturnValuesOnConditionCheckFailure)
	}
	err := canceled(out, onFailure)
	ae := err.(*apiError)
	for i, st := range sts {
		if st.plan.Kind == partiql.KindInsert && ae.Cancellation[i].Code == "ConditionalCheckFailed" {
			ae.Cancellation[i] = cancellationReason{Code: "DuplicateItem", Message: msgDuplicateItem}
		}
	}
	codes := make([]string, len(ae.Cancellation))
	for i, r := range ae.Cancellation {
		codes[i] = r.Code
	}
	ae.Message = cancelMessage(codes)
	return ae
}
