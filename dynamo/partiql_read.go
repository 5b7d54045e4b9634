package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"

	"github.com/partitadb/partita/expr"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partiql"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
)

// DynamoDB's messages about a NextToken.
const (
	msgInvalidNextToken  = "Invalid NextToken"
	msgNextTokenMismatch = "NextToken does not match request"
)

// selectToken is the content of a SELECT's NextToken: which statement it
// continues, the partition key (for IN lists) and the last item read.
type selectToken struct {
	Hash uint64    `json:"h"`
	Part int       `json:"p,omitempty"`
	Key  item.Item `json:"k"`
}

// statementHash identifies a statement with its parameters, so that a
// NextToken serves only the request it came from.
func statementHash(x *statementRun) uint64 {
	h := fnv.New64a()
	h.Write([]byte(x.text))
	for _, p := range x.params {
		b, _ := json.Marshal(p)
		h.Write([]byte{0})
		h.Write(b)
	}
	return h.Sum64()
}

// decodeToken reads x's NextToken; nil for none.
func decodeToken(x *statementRun, ks keySchema) (*selectToken, error) {
	if x.token == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(x.token)
	var tok selectToken
	if err != nil || json.Unmarshal(raw, &tok) != nil || tok.Part < 0 || ks.checkKey(tok.Key) != nil {
		return nil, validationf("%s", msgInvalidNextToken)
	}
	if tok.Hash != statementHash(x) {
		return nil, validationf("%s", msgNextTokenMismatch)
	}
	return &tok, nil
}

// encodeToken writes a NextToken.
func encodeToken(tok *selectToken) (string, error) {
	b, err := json.Marshal(tok)
	if err != nil {
		return "", fmt.Errorf("dynamo: encode NextToken: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// runSelect reads what the plan says, filters and projects it, and pages
// as Query and Scan do (Limit items evaluated or 1 MB read per page).
func (s *Server) runSelect(ctx context.Context, t *partitapb.Table, ks keySchema, plan *partiql.Plan, x *statementRun) (*executeStatementResponse, error) {
	env := expr.NewEnv(plan.Names, plan.Values)
	var filter *expr.Condition
	if plan.Filter != "" {
		var err error
		if filter, err = expr.ParseCondition(expr.KindFilter, plan.Filter, env); err != nil {
			return nil, err
		}
	}
	tok, err := decodeToken(x, ks)
	if err != nil {
		return nil, err
	}
	pg := &page{keys: ks, limit: x.limit, filter: filter}
	part := 0
	switch plan.Access {
	case partiql.AccessGet:
		part, err = s.selectGets(ctx, t, ks, plan, x, tok, pg)
	case partiql.AccessQuery:
		part, err = s.selectQueries(ctx, t, ks, plan, env, x, tok, pg)
	default:
		err = s.selectScan(ctx, t, x, tok, pg)
	}
	if err != nil {
		return nil, err
	}
	return selectResponse(plan, x, t.GetName(), pg, part)
}

// selectResponse shapes a page of a SELECT.
func selectResponse(plan *partiql.Plan, x *statementRun, table string, pg *page, part int) (*executeStatementResponse, error) {
	resp := &executeStatementResponse{Items: make([]item.Item, 0, len(pg.items)),
		ConsumedCapacity: consumed(x.capacity, table, readUnits(pg.bytes, x.consistent))}
	for _, it := range pg.items {
		if !plan.Star {
			it = partiql.Project(plan.Projection, it)
		}
		resp.Items = append(resp.Items, it)
	}
	if pg.stopped {
		tok, err := encodeToken(&selectToken{Hash: statementHash(x), Part: part, Key: pg.last})
		if err != nil {
			return nil, err
		}
		resp.NextToken, resp.LastEvaluatedKey = tok, pg.last
	}
	return resp, nil
}

// selectGets reads items by their full keys, from the token's, through
// one page (Limit counts the items found); it returns the index of the
// key the next page starts at.
func (s *Server) selectGets(ctx context.Context, t *partitapb.Table, ks keySchema, plan *partiql.Plan, x *statementRun, tok *selectToken, pg *page) (int, error) {
	start := 0
	if tok != nil {
		start = tok.Part
	}
	if start > len(plan.Keys) {
		return 0, validationf("%s", msgInvalidNextToken)
	}
	for i := start; i < len(plan.Keys); i++ {
		key := plan.Keys[i]
		if err := ks.checkKey(key); err != nil {
			return 0, err
		}
		got, err := s.cfg.Backend.Get(ctx, t, key, x.consistent)
		if err != nil {
			return 0, s.backendError("get", t, err)
		}
		if got != nil && !pg.visit(got, got.Size()) {
			pg.stopped = i+1 < len(plan.Keys)
			return i + 1, nil
		}
	}
	return 0, nil
}

// selectQueries queries each partition of the plan in turn, from the
// token's, through one page; it returns the partition it stopped in.
func (s *Server) selectQueries(ctx context.Context, t *partitapb.Table, ks keySchema, plan *partiql.Plan, env *expr.Env, x *statementRun, tok *selectToken, pg *page) (int, error) {
	start := 0
	if tok != nil {
		start = tok.Part
	}
	if start >= len(plan.KeyConditions) {
		return 0, validationf("%s", msgInvalidNextToken)
	}
	for i := start; i < len(plan.KeyConditions); i++ {
		spec, err := querySpec(ks, plan.KeyConditions[i], env, plan.Forward)
		if err != nil {
			return 0, err
		}
		spec.Consistent = x.consistent
		if tok != nil && i == start {
			if !item.Equal(tok.Key[ks.hashKey().name], spec.PK) {
				return 0, validationf("%s", msgInvalidNextToken)
			}
			spec.StartAfter = tok.Key
		}
		if err := s.cfg.Backend.Query(ctx, t, spec, pg.visit); err != nil {
			return 0, s.backendError("query", t, err)
		}
		if pg.stopped {
			return i, nil
		}
	}
	return 0, nil
}

// querySpec resolves one key condition of a plan.
func querySpec(ks keySchema, text string, env *expr.Env, forward bool) (router.QuerySpec, error) {
	kc, err := expr.ParseKeyCondition(text, env)
	if err != nil {
		return router.QuerySpec{}, err
	}
	hash, rng, err := resolveKeyCondition(ks, kc)
	if err != nil {
		return router.QuerySpec{}, err
	}
	spec := router.QuerySpec{PK: hash.Values[0], Forward: forward}
	if rng != nil {
		spec.Op, spec.Values = sortOps[rng.Op], rng.Values
	}
	return spec, nil
}

// selectScan scans the table through one page.
func (s *Server) selectScan(ctx context.Context, t *partitapb.Table, x *statementRun, tok *selectToken, pg *page) error {
	spec := router.ScanSpec{Consistent: x.consistent}
	if tok != nil {
		spec.StartAfter = tok.Key
	}
	if err := s.cfg.Backend.Scan(ctx, t, spec, pg.visit); err != nil {
		return s.backendError("scan", t, err)
	}
	return nil
}
