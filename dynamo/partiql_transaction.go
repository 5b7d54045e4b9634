package dynamo

import (
	"context"
	"strings"

	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partiql"
)

// maxTransactStatements is the most statements DynamoDB takes in one
// ExecuteTransaction.
const maxTransactStatements = 100

// executeTransactionRequest is ExecuteTransaction's input.
type executeTransactionRequest struct {
	TransactStatements     []batchStatementRequest `json:"TransactStatements"`
	ClientRequestToken     *string                 `json:"ClientRequestToken"`
	ReturnConsumedCapacity *string                 `json:"ReturnConsumedCapacity"`
}

// itemResponse is one read's answer in a transaction.
type itemResponse struct {
	Item item.Item `json:"Item,omitempty"`
}

// executeTransactionResponse is ExecuteTransaction's output.
type executeTransactionResponse struct {
	Responses        []itemResponse      `json:"Responses,omitempty"`
	ConsumedCapacity []*consumedCapacity `json:"ConsumedCapacity,omitempty"`
}

// cancellationReason is why a transaction's statement stopped it.
type cancellationReason struct {
	Code    string    `json:"Code"`
	Message string    `json:"Message,omitempty"`
	Item    item.Item `json:"Item,omitempty"`
}

// A transaction of one statement runs it as ExecuteStatement would (one
// item's write or read is atomic on its own); a longer one runs through
// the backend's transactions (executeTransaction), and is refused by a
// backend without them.
const msgTransactionTooLong = "ExecuteTransaction of more than one statement is not supported yet: Partita runs one-statement transactions only"

// msgTransactKey refuses a transactional read that may return more than
// one item.
const msgTransactKey = "Select statements within ExecuteTransaction must specify the primary key in the where clause."

func (s *Server) handleExecuteTransaction(ctx context.Context, r *request) (any, error) {
	var req executeTransactionRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	if err := req.checkShape(); err != nil {
		return nil, err
	}
	if len(req.TransactStatements) > 1 {
		tx, ok := s.cfg.Backend.(transactor)
		if !ok {
			return nil, validationf("%s", msgTransactionTooLong)
		}
		switch _, kept := s.keeper(); {
		case req.ClientRequestToken == nil:
			return s.executeTransaction(ctx, tx, &req, nil)
		case kept:
			return s.executeTransaction(ctx, tx, &req, r.body)
		}
		return s.tokens.do(*req.ClientRequestToken, r.body, func() (any, error) { return s.executeTransaction(ctx, tx, &req, nil) })
	}
	ts := &req.TransactStatements[0]
	st, err := partiql.Parse(*ts.Statement)
	if err != nil {
		return nil, inStatement(0, err)
	}
	t, ks, plan, err := s.planStatement(ctx, st, ts.Parameters)
	if err != nil {
		return nil, inStatement(0, err)
	}
	if plan.Kind == partiql.KindSelect && (plan.Access != partiql.AccessGet || len(plan.Keys) != 1) {
		return nil, inStatement(0, validationf("%s", msgTransactKey))
	}
	x := &statementRun{text: *ts.Statement, params: ts.Parameters, consistent: true,
		capacity: req.ReturnConsumedCapacity, onFailure: ts.ReturnValuesOnConditionCheckFailure}
	out, err := s.runPlan(ctx, t, ks, plan, x)
	if err != nil {
		return nil, transactionCanceled(err)
	}
	resp := &executeTransactionResponse{}
	if out.ConsumedCapacity != nil {
		resp.ConsumedCapacity = []*consumedCapacity{out.ConsumedCapacity}
	}
	if plan.Kind == partiql.KindSelect {
		resp.Responses = []itemResponse{{}}
		if len(out.Items) == 1 {
			resp.Responses[0].Item = out.Items[0]
		}
	}
	return resp, nil
}

// inStatement names the statement a validation error is about, as
// DynamoDB does in a transaction; other errors pass as they are.
func inStatement(i int, err error) error {
	ae, internal := toAPIError(err)
	if internal || ae.Kind != kindValidation {
		return err
	}
	return validationf("Validation failed in TransactStatements[%d]: %s", i, ae.Message)
}

// checkShape validates the request before any statement is parsed.
func (req *executeTransactionRequest) checkShape() error {
	var v violations
	v.statements(req.TransactStatements, "transactStatements", maxTransactStatements)
	v.length(req.ClientRequestToken, "clientRequestToken", 1, 36)
	v.enum(req.ReturnConsumedCapacity, "returnConsumedCapacity", returnCapacityEnum...)
	return v.err()
}

// transactionCanceled turns the failure of a statement that ran into
// DynamoDB's TransactionCanceledException; other errors pass as they are.
func transactionCanceled(err error) error {
	ae, internal := toAPIError(err)
	if internal {
		return err
	}
	name := ae.Kind.Type[strings.IndexByte(ae.Kind.Type, '#')+1:]
	code, ok := map[string]string{
		"ConditionalCheckFailedException": "ConditionalCheckFailed",
		"DuplicateItemException":          "DuplicateItem",
	}[name]
	if !ok {
		return err
	}
	return &apiError{Kind: kindTransactionCanceled,
		Message:      "Transaction cancelled, please refer cancellation reasons for specific reasons [" + code + "]",
		Cancellation: []cancellationReason{{Code: code, Message: ae.Message, Item: ae.Item}}}
}
