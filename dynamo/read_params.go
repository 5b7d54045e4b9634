package dynamo

import (
	"context"
	"fmt"

	"github.com/partitadb/partita/expr"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// readParams are the parameters Query and Scan share.
type readParams struct {
	TableName                 *string                    `json:"TableName"`
	IndexName                 *string                    `json:"IndexName"`
	Select                    *string                    `json:"Select"`
	AttributesToGet           []string                   `json:"AttributesToGet"`
	Limit                     *int64                     `json:"Limit"`
	ConsistentRead            *bool                      `json:"ConsistentRead"`
	ExclusiveStartKey         item.Item                  `json:"ExclusiveStartKey"`
	ReturnConsumedCapacity    *string                    `json:"ReturnConsumedCapacity"`
	ProjectionExpression      *string                    `json:"ProjectionExpression"`
	FilterExpression          *string                    `json:"FilterExpression"`
	ExpressionAttributeNames  map[string]string          `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues exprValues                 `json:"ExpressionAttributeValues"`
	ConditionalOperator       *string                    `json:"ConditionalOperator"`
	legacyFilter              map[string]filterCondition // QueryFilter or ScanFilter

	// Set by openRead: the keys of the items read (on an index: the
	// index's keys, then the base table's), and the table's API name.
	pageKeys keySchema
	apiTable string
	// local is set on a read of a local secondary index that needs
	// attributes the index does not project (local_index.go).
	local *localRead
}

// The values of Select.
const (
	selectAll          = "ALL_ATTRIBUTES"
	selectAllProjected = "ALL_PROJECTED_ATTRIBUTES"
	selectSpecific     = "SPECIFIC_ATTRIBUTES"
	selectCount        = "COUNT"
)

// selectEnum is the enum of Select in messages.
var selectEnum = []string{selectSpecific, selectCount, selectAll, selectAllProjected}

// check records the shape violations of the shared parameters.
func (p *readParams) check(v *violations) {
	v.tableName(p.TableName, "tableName")
	v.indexName(p.IndexName, "indexName")
	v.enum(p.Select, "select", selectEnum...)
	v.attributesToGet(p.AttributesToGet)
	v.limitAtLeastOne(p.Limit)
	v.enum(p.ReturnConsumedCapacity, "returnConsumedCapacity", returnCapacityEnum...)
	v.enum(p.ConditionalOperator, "conditionalOperator", conditionalOpEnum...)
}

// checkQuery records the shape violations of a Query, in the order
// DynamoDB was recorded reporting them (docs/protocol.md): the limit and
// the key conditions first, the index name last; members the record does
// not show follow.
func (req *queryRequest) checkQuery(v *violations) {
	v.limitAtLeastOne(req.Limit)
	v.filterConditions(req.KeyConditions, "keyConditions")
	v.enum(req.ReturnConsumedCapacity, "returnConsumedCapacity", returnCapacityEnum...)
	v.attributesToGet(req.AttributesToGet)
	v.tableName(req.TableName, "tableName")
	v.enum(req.Select, "select", selectEnum...)
	v.indexName(req.IndexName, "indexName")
	v.filterConditions(req.QueryFilter, "queryFilter")
	v.enum(req.ConditionalOperator, "conditionalOperator", conditionalOpEnum...)
}

// attributesToGet records an empty AttributesToGet (nil passes).
func (v *violations) attributesToGet(names []string) {
	if names != nil && len(names) == 0 {
		v.add(names, "attributesToGet", "Member must have length greater than or equal to 1")
	}
}

// limitAtLeastOne records a Limit below 1 (nil passes).
func (v *violations) limitAtLeastOne(l *int64) {
	if l != nil && *l < 1 {
		v.add(l, "limit", "Member must have value greater than or equal to 1")
	}
}

// indexName records an IndexName outside the pattern or 3 to 255
// characters (nil passes), the pattern first as for table names.
func (v *violations) indexName(name *string, path string) {
	if name == nil {
		return
	}
	if !tableNameRE.MatchString(*name) {
		v.add(name, path, "Member must satisfy regular expression pattern: "+tableNamePattern)
	}
	v.length(name, path, 3, 255)
}

// checkSelect applies DynamoDB's rules on Select and the projection
// parameters. wrapSpecific wraps the SPECIFIC_ATTRIBUTES message in the
// violation envelope, as DynamoDB does for Query (not for Scan).
func (p *readParams) checkSelect(wrapSpecific bool) error {
	sel := str(p.Select)
	projParam := ""
	switch {
	case p.ProjectionExpression != nil:
		projParam = "ProjectionExpression"
	case p.AttributesToGet != nil:
		projParam = "AttributesToGet"
	}
	switch {
	case sel == selectAllProjected && p.IndexName == nil:
		return validationf("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
	case sel == selectSpecific && projParam == "":
		msg := "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"
		if wrapSpecific {
			return validationf("1 validation error detected: %s", msg)
		}
		return validationf("%s", msg)
	case sel == selectCount && projParam != "":
		return validationf("Cannot specify the %s when choosing to get only the Count", projParam)
	case sel != "" && sel != selectSpecific && projParam != "":
		return validationf("Cannot specify the %s when choosing to get %s", projParam, sel)
	}
	return nil
}

// readExprs are the parsed expressions of a Query or Scan.
type readExprs struct {
	key    *expr.KeyCondition
	filter *expr.Condition
	proj   *expr.Projection
}

// readTexts are the expression texts to parse (nil for none), after the
// legacy parameters were translated.
type readTexts struct {
	key, filter, proj *string
}

// parse parses the texts through one Env over the request's (or the
// translation's) placeholders, and checks that every placeholder was used.
func (es *exprSet) parseRead(tx readTexts) (*readExprs, error) {
	es.newEnv()
	out := &readExprs{}
	var err error
	if tx.key != nil {
		if out.key, err = expr.ParseKeyCondition(*tx.key, es.env); err != nil {
			return nil, err
		}
	}
	if tx.filter != nil {
		if out.filter, err = expr.ParseCondition(expr.KindFilter, *tx.filter, es.env); err != nil {
			return nil, err
		}
	}
	if tx.proj != nil {
		if out.proj, err = expr.ParseProjection(*tx.proj, es.env); err != nil {
			return nil, err
		}
	}
	return out, es.env.CheckUnused()
}

// translateReadLegacy translates AttributesToGet and the legacy filter
// into tx.
func (p *readParams) translateReadLegacy(es *exprSet, tx *readTexts) error {
	if p.AttributesToGet != nil {
		text, err := translateAttributesToGet(p.AttributesToGet, es.legacy(expr.KindProjection))
		if err != nil {
			return err
		}
		tx.proj = &text
	}
	if len(p.legacyFilter) > 0 {
		text, err := translateFilter(p.legacyFilter, p.ConditionalOperator, es.legacy(expr.KindFilter))
		if err != nil {
			return err
		}
		tx.filter = &text
	}
	return nil
}

// readTable looks up the table of a Query or Scan: with IndexName, the
// hidden table of that global secondary index (index_read.go).
func (s *Server) readTable(ctx context.Context, p *readParams) (*partitapb.Table, error) {
	t, err := s.activeTable(ctx, *p.TableName)
	if err != nil {
		return nil, err
	}
	p.apiTable, p.pageKeys = t.GetName(), schemaOf(t)
	if p.IndexName != nil {
		return s.indexTable(ctx, t, p)
	}
	return t, nil
}

// newPage returns the page collector of a read.
func (p *readParams) newPage(ks keySchema, ex *readExprs) *page {
	pg := &page{keys: p.pageKeys, filter: ex.filter, proj: ex.proj, count: str(p.Select) == selectCount}
	if p.Limit != nil {
		pg.limit = int(min(*p.Limit, 1<<30))
	}
	return pg
}

// consistent reports whether the read asked for strong consistency.
func (p *readParams) consistent() bool { return p.ConsistentRead != nil && *p.ConsistentRead }

// backendError maps a Query or Scan backend error to the wire.
func (s *Server) backendError(op string, t *partitapb.Table, err error) error {
	if isDomainCode(err, partitapb.Error_TABLE_NOT_FOUND) {
		return s.notFound(apiName(t), false)
	}
	return fmt.Errorf("dynamo: %s %q: %w", op, t.GetName(), err)
}

// readRequest is a Query or Scan request: its own shape checks and
// expressions over the shared read parameters.
type readRequest interface {
	checkShape() error
	exprs() (*readExprs, error)
}

// openRead validates a Query or Scan request and finds its table.
func (s *Server) openRead(ctx context.Context, req readRequest, p *readParams) (*readExprs, *partitapb.Table, keySchema, error) {
	if err := req.checkShape(); err != nil {
		return nil, nil, keySchema{}, err
	}
	ex, err := req.exprs()
	if err != nil {
		return nil, nil, keySchema{}, err
	}
	t, err := s.readTable(ctx, p)
	if err != nil {
		return nil, nil, keySchema{}, err
	}
	return ex, t, schemaOf(t), nil
}
