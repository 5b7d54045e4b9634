package dynamo

import (
	"context"
	"strconv"
	"strings"

	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partiql"
)

// maxBatchStatements is the most statements one BatchExecuteStatement
// may carry.
const maxBatchStatements = 25

// batchStatementRequest is one statement of a BatchExecuteStatement.
type batchStatementRequest struct {
	Statement                           *string      `json:"Statement"`
	Parameters                          []item.Value `json:"Parameters"`
	ConsistentRead                      *bool        `json:"ConsistentRead"`
	ReturnValuesOnConditionCheckFailure *string      `json:"ReturnValuesOnConditionCheckFailure"`
}

// batchExecuteRequest is BatchExecuteStatement's input.
type batchExecuteRequest struct {
	Statements             []batchStatementRequest `json:"Statements"`
	ReturnConsumedCapacity *string                 `json:"ReturnConsumedCapacity"`
}

// batchStatementError is a statement's failure, as DynamoDB reports it
// inside a batch.
type batchStatementError struct {
	Code    string    `json:"Code"`
	Message string    `json:"Message,omitempty"`
	Item    item.Item `json:"Item,omitempty"`
}

// batchStatementResponse is one statement's answer.
type batchStatementResponse struct {
	TableName string               `json:"TableName,omitempty"`
	Item      item.Item            `json:"Item,omitempty"`
	Error     *batchStatementError `json:"Error,omitempty"`
}

// batchExecuteResponse is BatchExecuteStatement's output.
type batchExecuteResponse struct {
	Responses        []batchStatementResponse `json:"Responses"`
	ConsumedCapacity []*consumedCapacity      `json:"ConsumedCapacity,omitempty"`
}

// msgBatchMixed refuses a batch of reads and writes together.
const msgBatchMixed = "Batch requests must contain either only read statements or only write statements"

// msgBatchKey refuses a batch read that may return more than one item.
const msgBatchKey = "Select statements within BatchExecuteStatement must specify the primary key in the where clause."

// batchCodes maps the wire's error types to the codes of BatchStatementError.
var batchCodes = map[string]string{
	"ConditionalCheckFailedException":        "ConditionalCheckFailed",
	"DuplicateItemException":                 "DuplicateItem",
	"ValidationException":                    "ValidationError",
	"ResourceNotFoundException":              "ResourceNotFound",
	"ProvisionedThroughputExceededException": "ProvisionedThroughputExceeded",
	"ThrottlingException":                    "ThrottlingError",
	"RequestLimitExceeded":                   "RequestLimitExceeded",
	"AccessDeniedException":                  "AccessDenied",
	"InternalServerError":                    "InternalServerError",
}

// batchStatement is one parsed statement of a batch.
type batchStatement struct {
	req *batchStatementRequest
	st  *partiql.Statement
	err error
}

func (s *Server) handleBatchExecuteStatement(ctx context.Context, r *request) (any, error) {
	var req batchExecuteRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	if err := req.checkShape(); err != nil {
		return nil, err
	}
	stmts := make([]batchStatement, len(req.Statements))
	reads, writes := 0, 0
	for i := range req.Statements {
		b := &stmts[i]
		b.req = &req.Statements[i]
		if b.st, b.err = partiql.Parse(*b.req.Statement); b.err != nil {
			continue
		}
		if b.st.Kind == partiql.KindSelect {
			reads++
		} else {
			writes++
		}
	}
	if reads > 0 && writes > 0 {
		return nil, validationf("%s", msgBatchMixed)
	}
	resp := &batchExecuteResponse{Responses: make([]batchStatementResponse, len(stmts))}
	units := &tableUnits{}
	for i := range stmts {
		resp.Responses[i] = s.runBatchStatement(ctx, &stmts[i], req.ReturnConsumedCapacity, units)
	}
	resp.ConsumedCapacity = units.report(req.ReturnConsumedCapacity)
	return resp, nil
}

// checkShape validates the request before any statement is parsed.
func (req *batchExecuteRequest) checkShape() error {
	var v violations
	v.statements(req.Statements, "statements", maxBatchStatements)
	v.enum(req.ReturnConsumedCapacity, "returnConsumedCapacity", returnCapacityEnum...)
	return v.err()
}

// statements validates the statement list named name of a batch or a
// transaction: present, 1 to most statements, each with its text.
func (v *violations) statements(stmts []batchStatementRequest, name string, most int) {
	v.notNull(stmts != nil, name)
	if stmts != nil && len(stmts) == 0 {
		v.add("[]", name, "Member must have length greater than or equal to 1")
	}
	if len(stmts) > most {
		v.add(strconv.Itoa(len(stmts))+" statements", name, "Member must have length less than or equal to "+strconv.Itoa(most))
	}
	for i := range stmts {
		st := &stmts[i]
		path := name + "." + strconv.Itoa(i+1) + ".member."
		v.notNull(st.Statement != nil, path+"statement")
		v.length(st.Statement, path+"statement", 1, partiql.MaxStatementLength)
		v.enum(st.ReturnValuesOnConditionCheckFailure, path+"returnValuesOnConditionCheckFailure", returnOnFailureEnum...)
	}
}

// runBatchStatement runs one statement of a batch and shapes its answer;
// its failure is its own, not the batch's.
func (s *Server) runBatchStatement(ctx context.Context, b *batchStatement, capacity *string, units *tableUnits) batchStatementResponse {
	if b.err != nil {
		return s.batchError(ctx, "", b.err)
	}
	t, ks, plan, err := s.planStatement(ctx, b.st, b.req.Parameters)
	if err != nil {
		return s.batchError(ctx, b.st.Table, err)
	}
	if plan.Kind == partiql.KindSelect && (plan.Access != partiql.AccessGet || len(plan.Keys) != 1) {
		return s.batchError(ctx, t.GetName(), validationf("%s", msgBatchKey))
	}
	x := &statementRun{
		text: *b.req.Statement, params: b.req.Parameters, consistent: b.req.ConsistentRead != nil && *b.req.ConsistentRead,
		capacity: aString("TOTAL"), onFailure: b.req.ReturnValuesOnConditionCheckFailure,
	}
	out, err := s.runPlan(ctx, t, ks, plan, x)
	if err != nil {
		return s.batchError(ctx, t.GetName(), err)
	}
	if out.ConsumedCapacity != nil {
		units.add(t.GetName(), out.ConsumedCapacity.CapacityUnits)
	}
	resp := batchStatementResponse{TableName: t.GetName()}
	if plan.Kind == partiql.KindSelect && len(out.Items) == 1 {
		resp.Item = out.Items[0]
	}
	return resp
}

// batchError is the answer of a statement that failed with err.
func (s *Server) batchError(ctx context.Context, table string, err error) batchStatementResponse {
	ae, internal := toAPIError(err)
	if internal {
		s.cfg.Logger.ErrorContext(ctx, "dynamo: internal error in a batch statement", "err", err)
	}
	name := ae.Kind.Type[strings.IndexByte(ae.Kind.Type, '#')+1:]
	code, ok := batchCodes[name]
	if !ok {
		code = "InternalServerError"
	}
	return batchStatementResponse{TableName: table, Error: &batchStatementError{Code: code, Message: ae.Message, Item: ae.Item}}
}

// tableUnits sums the capacity a batch consumed per table, in the order
// the tables were first used.
type tableUnits struct {
	names []string
	units map[string]float64
}

func (u *tableUnits) add(table string, units float64) {
	if u.units == nil {
		u.units = map[string]float64{}
	}
	if _, ok := u.units[table]; !ok {
		u.names = append(u.names, table)
	}
	u.units[table] += units
}

// report is the ConsumedCapacity list to send under mode.
func (u *tableUnits) report(mode *string) []*consumedCapacity {
	var out []*consumedCapacity
	for _, n := range u.names {
		if c := consumed(mode, n, u.units[n]); c != nil {
			out = append(out, c)
		}
	}
	return out
}

// aString returns a pointer to v.
func aString(v string) *string { return &v }
