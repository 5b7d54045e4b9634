package dynamo

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
)

// TransactWriteItems and TransactGetItems (docs/transactions.md). The
// wire layer validates the request as DynamoDB does, builds one
// TxnPrepare per action and hands them to the backend's coordinator
// (router.Router.TransactWrite), which runs the two-phase commit.

// maxTransactItems is the most actions one transaction takes, and
// maxTransactBytes the most bytes its items add up to.
const (
	maxTransactItems = 100
	maxTransactBytes = 4 << 20
)

// The transaction error kinds and messages.
var (
	kindTransactionInProgress = errKind{nsDynamo + "TransactionInProgressException", http.StatusBadRequest, "message"}
	kindIdempotentMismatch    = errKind{nsDynamo + "IdempotentParameterMismatchException", http.StatusBadRequest, "message"}
	msgOneAction              = "TransactItems can only contain one of Check, Put, Update or Delete"
	msgTransactDuplicate      = "Transaction request cannot include multiple operations on one item"
	msgTransactTooLarge       = "Transaction request size is too large: the items of one transaction add up to at most 4 MB"
	msgTransactionConflict    = "Transaction is ongoing for the item"
)

// transactor is what the transactions need of the backend: the router
// implements it.
type transactor interface {
	TransactWrite(ctx context.Context, actions []router.TxnAction) (router.TxnOutcome, error)
	TransactGet(ctx context.Context, actions []router.TxnAction) (router.TxnOutcome, error)
}

// transactWriteRequest is TransactWriteItems's input.
type transactWriteRequest struct {
	TransactItems               []transactWriteItem `json:"TransactItems"`
	ClientRequestToken          *string             `json:"ClientRequestToken"`
	ReturnConsumedCapacity      *string             `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics *string             `json:"ReturnItemCollectionMetrics"`
}

// transactWriteItem is one member of TransactItems: exactly one action.
type transactWriteItem struct {
	ConditionCheck *transactAction `json:"ConditionCheck"`
	Put            *transactAction `json:"Put"`
	Delete         *transactAction `json:"Delete"`
	Update         *transactAction `json:"Update"`
}

// transactAction is the union of the four actions' members.
type transactAction struct {
	TableName                           *string           `json:"TableName"`
	Key                                 item.Item         `json:"Key"`
	Item                                item.Item         `json:"Item"`
	UpdateExpression                    *string           `json:"UpdateExpression"`
	ConditionExpression                 *string           `json:"ConditionExpression"`
	ExpressionAttributeNames            map[string]string `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues           exprValues        `json:"ExpressionAttributeValues"`
	ReturnValuesOnConditionCheckFailure *string           `json:"ReturnValuesOnConditionCheckFailure"`
}

// transactWriteResponse is TransactWriteItems's output.
type transactWriteResponse struct {
	ConsumedCapacity []*consumedCapacity `json:"ConsumedCapacity,omitempty"`
}

// action returns the member's one action and its kind ("" when it has
// none or several).
func (m *transactWriteItem) action() (string, *transactAction) {
	kinds, actions := m.actions()
	if len(actions) != 1 {
		return "", nil
	}
	return kinds[0], actions[0]
}

// actions returns every action the item names, with their kinds, in the
// order of the item's members.
func (m *transactWriteItem) actions() (kinds []string, actions []*transactAction) {
	for _, c := range []struct {
		kind string
		a    *transactAction
	}{{"ConditionCheck", m.ConditionCheck}, {"Put", m.Put}, {"Delete", m.Delete}, {"Update", m.Update}} {
		if c.a != nil {
			kinds, actions = append(kinds, c.kind), append(actions, c.a)
		}
	}
	return kinds, actions
}

func (s *Server) handleTransactWriteItems(ctx context.Context, r *request) (any, error) {
	var req transactWriteRequest
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
	run := func() (any, error) {
		actions, tables, err := s.transactWriteActions(ctx, &req)
		if err != nil {
			return nil, err
		}
		out, err := tx.TransactWrite(ctx, actions)
		if err != nil {
			return nil, fmt.Errorf("dynamo: transaction: %w", err)
		}
		if !out.Committed {
			return nil, canceled(out, req.failureModes())
		}
		return &transactWriteResponse{ConsumedCapacity: transactCapacity(req.ReturnConsumedCapacity, tables, out, true)}, nil
	}
	if req.ClientRequestToken == nil {
		return run()
	}
	if tk, ok := s.keeper(); ok {
		actions, tables, err := s.transactWriteActions(ctx, &req)
		if err != nil {
			return nil, err
		}
		return transactWriteOnce(ctx, tk, "TransactWriteItems", *req.ClientRequestToken, r.body, actions,
			func(out router.TxnOutcome) (any, error) {
				if !out.Committed {
					return nil, canceled(out, req.failureModes())
				}
				return &transactWriteResponse{ConsumedCapacity: transactCapacity(req.ReturnConsumedCapacity, tables, out, true)}, nil
			})
	}
	return s.tokens.do(*req.ClientRequestToken, r.body, run)
}

// checkShape validates the request's members before any table is read.
func (req *transactWriteRequest) checkShape() error {
	var v violations
	v.transactItems(len(req.TransactItems), req.TransactItems != nil)
	v.length(req.ClientRequestToken, "clientRequestToken", 1, 36)
	v.enum(req.ReturnConsumedCapacity, "returnConsumedCapacity", returnCapacityEnum...)
	v.enum(req.ReturnItemCollectionMetrics, "returnItemCollectionMetrics", returnMetricsEnum...)
	for i := range req.TransactItems {
		kinds, actions := req.TransactItems[i].actions()
		for j, a := range actions {
			v.transactAction(kinds[j], a, "transactItems."+strconv.Itoa(i+1)+".member."+lowerFirst(kinds[j])+".")
		}
	}
	if err := v.err(); err != nil {
		return err
	}
	for i := range req.TransactItems {
		if _, a := req.TransactItems[i].action(); a == nil {
			return validationf("%s", msgOneAction)
		}
	}
	return nil
}

// transactAction records the violations of one action of a transaction,
// under path ("transactItems.1.member.put."). An item naming several
// actions has each checked; naming several is the semantic error after.
func (v *violations) transactAction(kind string, a *transactAction, path string) {
	v.tableName(a.TableName, path+"tableName")
	switch kind {
	case "Put":
		v.notNull(a.Item != nil, path+"item")
	case "Update":
		v.notNull(a.Key != nil, path+"key")
		v.notNull(a.UpdateExpression != nil, path+"updateExpression")
	case "ConditionCheck":
		v.notNull(a.Key != nil, path+"key")
		v.notNull(a.ConditionExpression != nil, path+"conditionExpression")
	default:
		v.notNull(a.Key != nil, path+"key")
	}
	v.enum(a.ReturnValuesOnConditionCheckFailure, path+"returnValuesOnConditionCheckFailure", returnOnFailureEnum...)
}

// transactItems records a TransactItems list that is missing, empty or
// too long.
func (v *violations) transactItems(n int, present bool) {
	v.notNull(present, "transactItems")
	if present && n == 0 {
		v.add("[]", "transactItems", "Member must have length greater than or equal to 1")
	}
	if n > maxTransactItems {
		v.add(strconv.Itoa(n)+" items", "transactItems", "Member must have length less than or equal to "+strconv.Itoa(maxTransactItems))
	}
}

func lowerFirst(s string) string { return strings.ToLower(s[:1]) + s[1:] }

// failureModes lists each action's ReturnValuesOnConditionCheckFailure.
func (req *transactWriteRequest) failureModes() []string {
	out := make([]string, len(req.TransactItems))
	for i := range req.TransactItems {
		_, a := req.TransactItems[i].action()
		out[i] = str(a.ReturnValuesOnConditionCheckFailure)
	}
	return out
}

// transactWriteActions parses and checks every action against its table
// and builds its prepare; it returns them with each action's table.
func (s *Server) transactWriteActions(ctx context.Context, req *transactWriteRequest) ([]router.TxnAction, []*partitapb.Table, error) {
	actions := make([]router.TxnAction, len(req.TransactItems))
	tables := make([]*partitapb.Table, len(req.TransactItems))
	seen := map[string]bool{}
	total := 0
	for i := range req.TransactItems {
		kind, a := req.TransactItems[i].action()
		t, key, p, err := s.transactPrepare(ctx, kind, a)
		if err != nil {
			return nil, nil, err
		}
		if seen[string(p.GetKey())] {
			return nil, nil, validationf("%s", msgTransactDuplicate)
		}
		seen[string(p.GetKey())] = true
		total += max(key.Size(), a.Item.Size())
		actions[i] = router.TxnAction{Table: t, Prepare: p, RecordOld: str(a.ReturnValuesOnConditionCheckFailure) == "ALL_OLD"}
		tables[i] = t
	}
	if total > maxTransactBytes {
		return nil, nil, validationf("%s", msgTransactTooLarge)
	}
	return actions, tables, nil
}

// transactPrepare checks one action and builds its prepare.
func (s *Server) transactPrepare(ctx context.Context, kind string, a *transactAction) (*partitapb.Table, item.Item, *partitapb.TxnPrepare, error) {
	es := newExprSet(a.ExpressionAttributeNames, a.ExpressionAttributeValues)
	es.condText = a.ConditionExpression
	if kind == "Update" {
		es.updateText = a.UpdateExpression
	}
	if err := es.parse(nil); err != nil {
		return nil, nil, nil, err
	}
	t, err := s.activeTable(ctx, *a.TableName)
	if err != nil {
		return nil, nil, nil, err
	}
	ks := schemaOf(t)
	key := a.Key
	if kind == "Put" {
		if key, err = ks.keyOfItem(a.Item); err != nil {
			return nil, nil, nil, err
		}
		if err := checkItem(a.Item); err != nil {
			return nil, nil, nil, err
		}
	} else if err := ks.checkKey(key); err != nil {
		return nil, nil, nil, err
	}
	if es.update != nil {
		if err := es.update.CheckKeys(ks.names()...); err != nil {
			return nil, nil, nil, err
		}
	}
	sk, err := s.cfg.Backend.StorageKey(t, key)
	if err != nil {
		return nil, nil, nil, err
	}
	p := &partitapb.TxnPrepare{Key: sk}
	cond := es.expression(es.condText)
	switch kind {
	case "Put":
		p.Action = &partitapb.TxnPrepare_Put{Put: &partitapb.PutItem{Key: sk, Item: item.EncodeItem(a.Item), Condition: cond}}
	case "Update":
		p.Action = &partitapb.TxnPrepare_Update{Update: &partitapb.UpdateItem{
			Key: sk, KeyItem: item.EncodeItem(key), Update: es.expression(es.updateText), Condition: cond}}
	case "Delete":
		p.Action = &partitapb.TxnPrepare_Delete{Delete: &partitapb.DeleteItem{Key: sk, Condition: cond}}
	default:
		p.Action = &partitapb.TxnPrepare_Check{Check: cond}
	}
	return t, key, p, nil
}

// canceled is the TransactionCanceledException of a transaction that did
// not commit: one reason per action, in order. onFailure lists each
// action's ReturnValuesOnConditionCheckFailure (nil: none asks).
func canceled(out router.TxnOutcome, onFailure []string) error {
	reasons := make([]cancellationReason, len(out.Results))
	codes := make([]string, len(out.Results))
	for i, res := range out.Results {
		reasons[i] = cancellationOf(res, i < len(onFailure) && onFailure[i] == "ALL_OLD")
		codes[i] = reasons[i].Code
	}
	return &apiError{Kind: kindTransactionCanceled, Message: cancelMessage(codes), Cancellation: reasons}
}

// cancelMessage is the message of a TransactionCanceledException whose
// reasons have codes.
func cancelMessage(codes []string) string {
	return "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]"
}

// cancellationOf is the reason an action's prepare Result gives.
func cancellationOf(res *partitapb.Result, allOld bool) cancellationReason {
	pe := res.GetError()
	switch pe.GetCode() {
	case partitapb.Error_UNKNOWN:
		return cancellationReason{Code: "None"}
	case partitapb.Error_CONDITION_FAILED:
		r := cancellationReason{Code: "ConditionalCheckFailed", Message: msgConditionFailed}
		if allOld && res.GetHasOld() {
			r.Item, _ = item.DecodeItem(res.GetOldItem())
		}
		return r
	case partitapb.Error_TXN_CONFLICT:
		return cancellationReason{Code: "TransactionConflict", Message: msgTransactionConflict}
	case partitapb.Error_ITEM_COLLECTION_TOO_LARGE:
		ae, _ := fromDomain(pe)
		return cancellationReason{Code: "ItemCollectionSizeLimitExceeded", Message: ae.Message}
	}
	ae, _ := fromDomain(pe)
	return cancellationReason{Code: "ValidationError", Message: ae.Message}
}

// transactCapacity is the ConsumedCapacity of a transaction: per table,
// twice the units of its reads or writes, as DynamoDB counts them.
func transactCapacity(mode *string, tables []*partitapb.Table, out router.TxnOutcome, write bool) []*consumedCapacity {
	if mode == nil || str(mode) == "NONE" {
		return nil
	}
	units := map[string]float64{}
	var order []string
	for i, t := range tables {
		size := 0
		if res := out.Results[i]; res != nil {
			size = len(res.GetOldItem())
		}
		u := readUnits(size, true)
		if write {
			u = writeUnits(size)
		}
		if _, ok := units[t.GetName()]; !ok {
			order = append(order, t.GetName())
		}
		units[t.GetName()] += 2 * u
	}
	caps := make([]*consumedCapacity, 0, len(order))
	for _, name := range order {
		caps = append(caps, consumed(mode, name, units[name]))
	}
	return caps
}
