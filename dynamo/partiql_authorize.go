package dynamo

import (
	"context"
	"strings"

	"github.com/partitadb/partita/auth"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partiql"
)

// partiqlAuthzRequest holds the statements of ExecuteStatement,
// BatchExecuteStatement and ExecuteTransaction.
type partiqlAuthzRequest struct {
	Statement          *string                 `json:"Statement"`
	Parameters         []item.Value            `json:"Parameters"`
	Statements         []batchStatementRequest `json:"Statements"`
	TransactStatements []batchStatementRequest `json:"TransactStatements"`
}

// partiqlAuthz lists what the statements of a PartiQL request ask for, as
// DynamoDB's policies see them: one request per statement, with the
// action of its kind (dynamodb:PartiQLSelect, PartiQLInsert,
// PartiQLUpdate, PartiQLDelete) on its table (or index) and the partition
// keys it reads or writes. A statement that does not parse asks for
// nothing: it fails before it reads or writes.
func (s *Server) partiqlAuthz(ctx context.Context, body []byte) ([]auth.Request, error) {
	var req partiqlAuthzRequest
	if err := decodeSlow(body, &req); err != nil {
		return nil, err
	}
	stmts := append(req.Statements, req.TransactStatements...)
	if req.Statement != nil {
		stmts = append(stmts, batchStatementRequest{Statement: req.Statement, Parameters: req.Parameters})
	}
	var out []auth.Request
	for _, b := range stmts {
		if b.Statement == nil {
			continue
		}
		st, err := partiql.Parse(*b.Statement)
		if err != nil {
			continue
		}
		out = append(out, s.statementAuthz(ctx, st, b.Parameters))
	}
	return out, nil
}

// statementAuthz is the request of one statement.
func (s *Server) statementAuthz(ctx context.Context, st *partiql.Statement, params []item.Value) auth.Request {
	kind := st.Kind.String()
	arn, name := s.tableResource(st.Table)
	if st.Index != "" {
		arn += "/index/" + st.Index
	}
	r := auth.Request{Action: "dynamodb:PartiQL" + kind[:1] + strings.ToLower(kind[1:]), Resource: arn, Context: map[string][]string{}}
	t, err := s.cfg.Backend.Table(ctx, name)
	if err != nil {
		return r // an unknown table fails in the handler, with DynamoDB's error
	}
	plan, err := partiql.NewPlan(st, params, partiqlKeys(schemaOf(t)))
	if err != nil {
		return r
	}
	if len(plan.Partitions) > 0 {
		leading := make([]string, len(plan.Partitions))
		for i, v := range plan.Partitions {
			leading[i] = keyString(v)
		}
		r.Context[auth.KeyLeadingKeys] = leading
	}
	return r
}
