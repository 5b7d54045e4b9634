package dynamo

import (
	"context"
	"fmt"
	"math"

	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
)

// localIndexRequest is one entry of CreateTable's LocalSecondaryIndexes.
type localIndexRequest struct {
	IndexName  *string            `json:"IndexName"`
	KeySchema  []keySchemaElement `json:"KeySchema"`
	Projection *projection        `json:"Projection"`
}

// maxLocalIndexes is DynamoDB's limit of local secondary indexes per table.
const maxLocalIndexes = 5

// localIndexes records the shape violations of LocalSecondaryIndexes.
func (v *violations) localIndexes(lsis []localIndexRequest) {
	for i, l := range lsis {
		v.indexShape(fmt.Sprintf("localSecondaryIndexes.%d.member", i+1), l.IndexName, l.KeySchema, l.Projection)
	}
}

// checkLocalIndexes applies DynamoDB's rules on the local secondary
// indexes of a new table: a table with a sort key, at most five, names
// unique among all its indexes, each keyed by the table's partition key
// and a sort key defined in AttributeDefinitions, and projections.
func checkLocalIndexes(req *createTableRequest) error {
	lsis := req.LocalSecondaryIndexes
	if lsis == nil {
		return nil
	}
	if len(lsis) == 0 {
		return validationf("%sList of LocalSecondaryIndexes is empty", msgInvalidParams)
	}
	if len(req.KeySchema) < 2 {
		return validationf("%sTable KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex", msgInvalidParams)
	}
	if len(lsis) > maxLocalIndexes {
		return validationf("%sNumber of LocalSecondaryIndexes exceeds per-table limit of %d", msgInvalidParams, maxLocalIndexes)
	}
	seen := map[string]bool{}
	for _, g := range req.GlobalSecondaryIndexes {
		seen[str(g.IndexName)] = true
	}
	tableHash := str(req.KeySchema[0].AttributeName)
	for _, l := range lsis {
		name := str(l.IndexName)
		if seen[name] {
			return validationf("%sDuplicate index name: %s", msgInvalidParams, name)
		}
		seen[name] = true
		if err := checkIndexKeySchema(name, l.KeySchema, req.AttributeDefinitions); err != nil {
			return err
		}
		if len(l.KeySchema) != 2 {
			return validationf("%sIndex KeySchema does not have a range key for index: %s", msgInvalidParams, name)
		}
		if h := str(l.KeySchema[0].AttributeName); h != tableHash {
			return validationf("%sIndex KeySchema does not have the same leading hash key as table KeySchema for index: %s. index hash key: %s, table hash key: %s",
				msgInvalidParams, name, h, tableHash)
		}
		if err := checkProjection(name, l.Projection); err != nil {
			return err
		}
	}
	return checkProjectedTotal(req)
}

// checkProjectedTotal applies the limit on NonKeyAttributes summed over
// every index of the table.
func checkProjectedTotal(req *createTableRequest) error {
	n := 0
	for _, g := range req.GlobalSecondaryIndexes {
		n += len(g.Projection.NonKeyAttributes)
	}
	for _, l := range req.LocalSecondaryIndexes {
		n += len(l.Projection.NonKeyAttributes)
	}
	if n > maxProjectedKeys {
		return newError(kindLimitExceeded, "The number of projected attributes in all indexes exceeds the limit of %d", maxProjectedKeys)
	}
	return nil
}

// localIndexRecords converts checked index requests to the table record's
// local indexes.
func localIndexRecords(req *createTableRequest) []*partitapb.LocalIndex {
	types := map[string]string{}
	for _, d := range req.AttributeDefinitions {
		types[str(d.AttributeName)] = str(d.AttributeType)
	}
	var out []*partitapb.LocalIndex
	for _, l := range req.LocalSecondaryIndexes {
		li := &partitapb.LocalIndex{
			Name:             *l.IndexName,
			ProjectionType:   *l.Projection.ProjectionType,
			NonKeyAttributes: l.Projection.NonKeyAttributes,
			RangeType:        types[str(l.KeySchema[1].AttributeName)],
		}
		for _, k := range l.KeySchema {
			li.KeySchema = append(li.KeySchema, &partitapb.KeyElement{AttributeName: *k.AttributeName, KeyType: *k.KeyType})
		}
		out = append(out, li)
	}
	return out
}

// localIndexDescription is one entry of a TableDescription's
// LocalSecondaryIndexes.
type localIndexDescription struct {
	IndexName      string         `json:"IndexName"`
	KeySchema      []keySchemaOut `json:"KeySchema"`
	Projection     projectionOut  `json:"Projection"`
	IndexSizeBytes int64          `json:"IndexSizeBytes"`
	ItemCount      int64          `json:"ItemCount"`
	IndexArn       string         `json:"IndexArn"`
}

// describeLocalIndexes describes the local secondary indexes of t, with
// their statistics from stats (nil: zeros).
func (s *Server) describeLocalIndexes(t *partitapb.Table, stats indexStats) []localIndexDescription {
	var out []localIndexDescription
	for _, li := range t.GetLocalIndexes() {
		d := localIndexDescription{
			IndexName:  li.GetName(),
			Projection: projectionOut{ProjectionType: li.GetProjectionType(), NonKeyAttributes: li.GetNonKeyAttributes()},
			IndexArn:   fmt.Sprintf("%s/index/%s", s.tableARN(t.GetName()), li.GetName()),
		}
		for _, k := range li.GetKeySchema() {
			d.KeySchema = append(d.KeySchema, keySchemaOut{k.GetAttributeName(), k.GetKeyType()})
		}
		st := stats[li.GetName()]
		d.ItemCount, d.IndexSizeBytes = st[0], st[1]
		out = append(out, d)
	}
	return out
}

// localIndexStats reads the statistics of t's local indexes; when they
// cannot be read they show zeros (the figures are approximate in DynamoDB
// too).
func (s *Server) localIndexStats(ctx context.Context, t *partitapb.Table) indexStats {
	out := indexStats{}
	if len(t.GetLocalIndexes()) == 0 {
		return out
	}
	st, err := s.cfg.Backend.LocalIndexStats(ctx, t)
	if err != nil {
		return out
	}
	for i, li := range t.GetLocalIndexes() {
		if i < len(st) {
			out[li.GetName()] = st[i]
		}
	}
	return out
}

// localRead is what a Query or Scan on a local secondary index needs
// beyond the entries: the base table to fetch the attributes the index
// does not project, whether to fetch them, and, when the output is the
// projected attributes of items fetched whole (a filter on an attribute
// not projected), the attributes to keep.
type localRead struct {
	base  *partitapb.Table
	index *partitapb.LocalIndex
	fetch bool
	keep  []string
}

// localIndexTable resolves the IndexName of a Query or Scan on base to
// local secondary index li (position i): the view of base that reads its
// entries. Reads of a local index may be strongly consistent; attributes
// it does not project are read from the base items.
func localIndexTable(base *partitapb.Table, i int, p *readParams) *partitapb.Table {
	li := base.GetLocalIndexes()[i]
	t := router.LocalIndexView(base, i)
	p.pageKeys = indexKeys(t)
	if li.GetProjectionType() == projectAll {
		return t
	}
	lr := &localRead{base: base, index: li}
	sel := str(p.Select)
	switch {
	case sel == selectAll, p.ProjectionExpression != nil, p.AttributesToGet != nil:
		lr.fetch = true
	case p.FilterExpression != nil || len(p.legacyFilter) > 0:
		lr.fetch = true
		if sel != selectCount {
			lr.keep = projectedNames(base, li)
		}
	}
	if lr.fetch {
		p.local = lr
	}
	return t
}

// projectedNames lists the attributes local index li keeps of an item.
func projectedNames(base *partitapb.Table, li *partitapb.LocalIndex) []string {
	var out []string
	for _, k := range base.GetKeySchema() {
		out = append(out, k.GetAttributeName())
	}
	for _, k := range li.GetKeySchema() {
		if k.GetKeyType() == "RANGE" {
			out = append(out, k.GetAttributeName())
		}
	}
	return append(out, li.GetNonKeyAttributes()...)
}

// localVisit returns the visit of a read's page: on a local index whose
// read needs attributes it does not project, each entry's item is read
// from the base table (as consistent as the read) before the page sees
// it. An entry whose item changed its index key since (or went) is
// skipped: the item's current entry is elsewhere in the index. The error
// of a failed item read is in *errp once the walk stops.
func (s *Server) localVisit(ctx context.Context, p *readParams, pg *page, errp *error) router.Visit {
	lr := p.local
	if lr == nil {
		return pg.visit
	}
	pg.keep = lr.keep
	rangeKey := ""
	for _, k := range lr.index.GetKeySchema() {
		if k.GetKeyType() == "RANGE" {
			rangeKey = k.GetAttributeName()
		}
	}
	baseKeys := schemaOf(lr.base)
	return func(entry item.Item, size int) bool {
		full, err := s.cfg.Backend.Get(ctx, lr.base, baseKeys.keyOf(entry), p.consistent())
		if err != nil {
			*errp = err
			return false
		}
		if full == nil || !item.Equal(full[rangeKey], entry[rangeKey]) {
			return true
		}
		return pg.visit(full, full.Size())
	}
}

// hasLocalIndex says t has a local secondary index named name.
func hasLocalIndex(t *partitapb.Table, name string) bool {
	for _, li := range t.GetLocalIndexes() {
		if li.GetName() == name {
			return true
		}
	}
	return false
}

// itemCollectionMetrics is the ItemCollectionMetrics of a write.
type itemCollectionMetrics struct {
	ItemCollectionKey   item.Item `json:"ItemCollectionKey"`
	SizeEstimateRangeGB []float64 `json:"SizeEstimateRangeGB"`
}

// collectionMetrics returns the ItemCollectionMetrics of a write of the
// item with key (or nil): asked for with SIZE, on a table with local
// secondary indexes. The estimate is the whole gigabytes around the
// collection's size (DynamoDB gives a range too, not a measure).
func collectionMetrics(t *partitapb.Table, ask *string, key item.Item, im *images) *itemCollectionMetrics {
	if str(ask) != "SIZE" || len(t.GetLocalIndexes()) == 0 || im == nil {
		return nil
	}
	hk := schemaOf(t).hashKey().name
	gb := math.Floor(float64(im.collection) / (1 << 30))
	return &itemCollectionMetrics{ItemCollectionKey: item.Item{hk: key[hk]}, SizeEstimateRangeGB: []float64{gb, gb + 1}}
}
