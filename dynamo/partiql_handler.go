package dynamo

import (
	"context"
	"errors"
	"strings"

	"github.com/partitadb/partita/expr"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partiql"
	"github.com/partitadb/partita/partitapb"
)

// executeStatementRequest is ExecuteStatement's input.
type executeStatementRequest struct {
	Statement                           *string      `json:"Statement"`
	Parameters                          []item.Value `json:"Parameters"`
	ConsistentRead                      *bool        `json:"ConsistentRead"`
	NextToken                           *string      `json:"NextToken"`
	ReturnConsumedCapacity              *string      `json:"ReturnConsumedCapacity"`
	Limit                               *int64       `json:"Limit"`
	ReturnValuesOnConditionCheckFailure *string      `json:"ReturnValuesOnConditionCheckFailure"`
}

// executeStatementResponse is ExecuteStatement's output.
type executeStatementResponse struct {
	Items            []item.Item       `json:"Items"`
	NextToken        string            `json:"NextToken,omitempty"`
	LastEvaluatedKey item.Item         `json:"LastEvaluatedKey,omitempty"`
	ConsumedCapacity *consumedCapacity `json:"ConsumedCapacity,omitempty"`
}

// maxNextTokenLength is the longest NextToken DynamoDB accepts.
const maxNextTokenLength = 32768

func (s *Server) handleExecuteStatement(ctx context.Context, r *request) (any, error) {
	var req executeStatementRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	if err := req.checkShape(); err != nil {
		return nil, err
	}
	st, err := partiql.Parse(*req.Statement)
	if err != nil {
		return nil, err
	}
	x := &statementRun{
		text: *req.Statement, params: req.Parameters, consistent: req.ConsistentRead != nil && *req.ConsistentRead,
		capacity: req.ReturnConsumedCapacity, onFailure: req.ReturnValuesOnConditionCheckFailure,
	}
	if req.Limit != nil {
		x.limit = int(min(*req.Limit, 1<<30))
	}
	if req.NextToken != nil {
		x.token = *req.NextToken
	}
	return s.runStatement(ctx, st, x)
}

// checkShape validates the parameters before the statement is parsed.
func (req *executeStatementRequest) checkShape() error {
	var v violations
	v.notNull(req.Statement != nil, "statement")
	v.length(req.Statement, "statement", 1, partiql.MaxStatementLength)
	if req.Parameters != nil && len(req.Parameters) == 0 {
		v.add("[]", "parameters", "Member must have length greater than or equal to 1")
	}
	v.length(req.NextToken, "nextToken", 1, maxNextTokenLength)
	v.enum(req.ReturnConsumedCapacity, "returnConsumedCapacity", returnCapacityEnum...)
	if req.Limit != nil && *req.Limit < 1 {
		v.add(req.Limit, "limit", "Member must have value greater than or equal to 1")
	}
	v.enum(req.ReturnValuesOnConditionCheckFailure, "returnValuesOnConditionCheckFailure", returnOnFailureEnum...)
	return v.err()
}

// statementRun is one statement to run with its request's options.
type statementRun struct {
	text       string
	params     []item.Value
	consistent bool
	limit      int    // 0: none
	token      string // NextToken, "" for the first page
	capacity   *string
	onFailure  *string
}

// runStatement plans st against its table and runs it.
func (s *Server) runStatement(ctx context.Context, st *partiql.Statement, x *statementRun) (*executeStatementResponse, error) {
	if st.Index != "" {
		return s.runIndexSelect(ctx, st, x)
	}
	t, ks, plan, err := s.planStatement(ctx, st, x.params)
	if err != nil {
		return nil, err
	}
	return s.runPlan(ctx, t, ks, plan, x)
}

// planStatement finds the table of st and plans st against its key.
func (s *Server) planStatement(ctx context.Context, st *partiql.Statement, params []item.Value) (*partitapb.Table, keySchema, *partiql.Plan, error) {
	t, err := s.activeTable(ctx, st.Table)
	if err != nil {
		return nil, nil, nil, err
	}
	if st.Index != "" {
		// A batch reads and a transaction reads whole items by their keys:
		// an index has none.
		return nil, nil, nil, validationf("The table does not have the specified index: %s", st.Index)
	}
	ks := schemaOf(t)
	plan, err := partiql.NewPlan(st, params, partiqlKeys(ks))
	if err != nil {
		return nil, nil, nil, err
	}
	return t, ks, plan, nil
}

// runPlan runs a planned statement.
func (s *Server) runPlan(ctx context.Context, t *partitapb.Table, ks keySchema, plan *partiql.Plan, x *statementRun) (*executeStatementResponse, error) {
	var resp *executeStatementResponse
	var err error
	switch plan.Kind {
	case partiql.KindSelect:
		resp, err = s.runSelect(ctx, t, ks, plan, x)
	case partiql.KindInsert:
		resp, err = s.runInsert(ctx, t, ks, plan, x)
	case partiql.KindUpdate:
		resp, err = s.runUpdate(ctx, t, ks, plan, x)
	default:
		resp, err = s.runDelete(ctx, t, ks, plan, x)
	}
	return resp, withoutParameter(err)
}

// withoutParameter drops the expression parameter an expression error
// names ("Invalid FilterExpression: "): a statement has no such
// parameter.
func withoutParameter(err error) error {
	var ee *expr.Error
	if !errors.As(err, &ee) {
		return err
	}
	msg := ee.Msg
	if strings.HasPrefix(msg, "Invalid ") {
		if _, rest, ok := strings.Cut(msg, "Expression: "); ok {
			msg = rest
		}
	}
	return validationf("%s", msg)
}

// partiqlKeys names the key attributes of ks for the planner.
func partiqlKeys(ks keySchema) partiql.KeySchema {
	out := partiql.KeySchema{Hash: ks.hashKey().name}
	if rk, ok := ks.rangeKey(); ok {
		out.Range = rk.name
	}
	return out
}

// writeResponse is the answer of a write: its RETURNING item, if any.
func writeResponse(x *statementRun, table string, it item.Item, im *images) *executeStatementResponse {
	resp := &executeStatementResponse{Items: []item.Item{}}
	if len(it) > 0 {
		resp.Items = append(resp.Items, it)
	}
	if x.capacity != nil {
		resp.ConsumedCapacity = consumed(x.capacity, table, im.units())
	}
	return resp
}

// writeOptionsOf are the write options a statement asks for.
func writeOptionsOf(x *statementRun, returnValues string) *writeOptions {
	o := &writeOptions{ReturnValuesOnConditionCheckFailure: x.onFailure, ReturnConsumedCapacity: x.capacity}
	if returnValues != "" {
		o.ReturnValues = &returnValues
	}
	return o
}

// expression is the command form of text over the plan's placeholders.
func planExpression(plan *partiql.Plan, text string) *partitapb.Expression {
	if text == "" {
		return nil
	}
	e := &partitapb.Expression{Text: text}
	if len(plan.Names) > 0 {
		e.Names = plan.Names
	}
	if len(plan.Values) > 0 {
		e.Values = item.EncodeItem(plan.Values)
	}
	return e
}
