package dynamo

import (
	"context"
	"fmt"
	"sort"
)

// defaultListLimit is how many table names ListTables returns by default.
const defaultListLimit = 100

// listTablesRequest is ListTables' input.
type listTablesRequest struct {
	ExclusiveStartTableName *string `json:"ExclusiveStartTableName"`
	Limit                   *int64  `json:"Limit"`
}

// listTablesResponse is ListTables' output.
type listTablesResponse struct {
	TableNames             []string `json:"TableNames"`
	LastEvaluatedTableName string   `json:"LastEvaluatedTableName,omitempty"`
}

func (s *Server) handleListTables(ctx context.Context, r *request) (any, error) {
	var req listTablesRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	if err := checkListTables(&req); err != nil {
		return nil, err
	}
	tables, err := s.cfg.Backend.Tables(ctx)
	if err != nil {
		return nil, fmt.Errorf("dynamo: list tables: %w", err)
	}
	names := make([]string, 0, len(tables))
	for _, t := range tables {
		if t.GetIndexBase() == "" { // an index's hidden table is no table of the API
			names = append(names, t.GetName())
		}
	}
	sort.Strings(names)
	limit := defaultListLimit
	if req.Limit != nil {
		limit = int(*req.Limit)
	}
	return pageTableNames(names, str(req.ExclusiveStartTableName), limit), nil
}

// checkListTables validates Limit and ExclusiveStartTableName.
func checkListTables(req *listTablesRequest) error {
	var v violations
	if l := req.Limit; l != nil && *l < 1 {
		v.add(l, "limit", "Member must have value greater than or equal to 1")
	}
	if l := req.Limit; l != nil && *l > defaultListLimit {
		v.add(l, "limit", "Member must have value less than or equal to 100")
	}
	if n := req.ExclusiveStartTableName; n != nil {
		v.tableName(n, "exclusiveStartTableName")
	}
	return v.err()
}

// pageTableNames returns the page of sorted names after start.
func pageTableNames(names []string, start string, limit int) *listTablesResponse {
	i := 0
	if start != "" {
		i = sort.SearchStrings(names, start)
		if i < len(names) && names[i] == start {
			i++
		}
	}
	rest := names[i:]
	resp := &listTablesResponse{TableNames: rest}
	if len(rest) > limit {
		resp.TableNames = rest[:limit]
		resp.LastEvaluatedTableName = rest[limit-1]
	}
	return resp
}
