package dynamo

import (
	"context"

	"github.com/partitadb/partita/expr"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partiql"
	"github.com/partitadb/partita/router"
)

// runIndexSelect runs a SELECT ... FROM "table"."index": planned against
// the index's key, read as a Query or Scan with IndexName is, under the
// same rules (no consistent read of a global index, none while it
// backfills; a local index projecting less than a filter or a projection
// list needs reads its items from the table).
func (s *Server) runIndexSelect(ctx context.Context, st *partiql.Statement, x *statementRun) (*executeStatementResponse, error) {
	base, err := s.activeTable(ctx, st.Table)
	if err != nil {
		return nil, err
	}
	p := &readParams{TableName: &st.Table, IndexName: &st.Index, ConsistentRead: &x.consistent}
	t, err := s.indexTable(ctx, base, p)
	if err != nil {
		return nil, err
	}
	ks := schemaOf(t)
	plan, err := partiql.NewPlan(st, x.params, partiqlKeys(ks))
	if err != nil {
		return nil, withoutParameter(err)
	}
	if hasLocalIndex(base, st.Index) && (!plan.Star || plan.Filter != "") {
		// Resolved again with what the statement reads: a local index's
		// entries may lack it.
		needs := "needs"
		p = &readParams{TableName: &st.Table, IndexName: &st.Index, ConsistentRead: &x.consistent}
		if !plan.Star {
			p.ProjectionExpression = &needs
		}
		if plan.Filter != "" {
			p.FilterExpression = &needs
		}
		if t, err = s.indexTable(ctx, base, p); err != nil {
			return nil, err
		}
	}
	env := expr.NewEnv(plan.Names, plan.Values)
	var filter *expr.Condition
	if plan.Filter != "" {
		if filter, err = expr.ParseCondition(expr.KindFilter, plan.Filter, env); err != nil {
			return nil, withoutParameter(err)
		}
	}
	tok, err := decodeToken(x, p.pageKeys)
	if err != nil {
		return nil, err
	}
	pg := &page{keys: p.pageKeys, limit: x.limit, filter: filter}
	var fetchErr error
	visit := s.localVisit(ctx, p, pg, &fetchErr)
	// The queries of the plan: a full index key is no item's key (an
	// index has no uniqueness), so a Get of it is a Query for it.
	var specs []router.QuerySpec
	switch plan.Access {
	case partiql.AccessGet:
		hk := ks.hashKey()
		rk, hasRange := ks.rangeKey()
		for _, key := range plan.Keys {
			if err := ks.checkKey(key); err != nil {
				return nil, withoutParameter(err)
			}
			spec := router.QuerySpec{PK: key[hk.name], Forward: true}
			if hasRange {
				spec.Op, spec.Values = router.SortEQ, []item.Value{key[rk.name]}
			}
			specs = append(specs, spec)
		}
	case partiql.AccessQuery:
		for _, kc := range plan.KeyConditions {
			spec, err := querySpec(ks, kc, env, plan.Forward)
			if err != nil {
				return nil, withoutParameter(err)
			}
			specs = append(specs, spec)
		}
	default:
		spec := router.ScanSpec{}
		if tok != nil {
			spec.StartAfter = tok.Key
		}
		if err := s.cfg.Backend.Scan(ctx, t, spec, visit); err != nil {
			return nil, s.backendError("scan", t, err)
		}
		if fetchErr != nil {
			return nil, s.backendError("scan", base, fetchErr)
		}
		return selectResponse(plan, x, base.GetName(), pg, 0)
	}
	start := 0
	if tok != nil {
		start = tok.Part
	}
	if start >= len(specs) {
		return nil, validationf("%s", msgInvalidNextToken)
	}
	for i := start; i < len(specs); i++ {
		spec := specs[i]
		spec.Consistent = x.consistent
		if tok != nil && i == start {
			if !item.Equal(tok.Key[ks.hashKey().name], spec.PK) {
				return nil, validationf("%s", msgInvalidNextToken)
			}
			spec.StartAfter = tok.Key
		}
		if err := s.cfg.Backend.Query(ctx, t, spec, visit); err != nil {
			return nil, s.backendError("query", t, err)
		}
		if fetchErr != nil {
			return nil, s.backendError("query", base, fetchErr)
		}
		if pg.stopped {
			return selectResponse(plan, x, base.GetName(), pg, i)
		}
	}
	return selectResponse(plan, x, base.GetName(), pg, 0)
}
