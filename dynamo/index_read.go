package dynamo

import (
	"context"
	"fmt"

	"github.com/partitadb/partita/partitapb"
)

// apiName is the name the API knows t by: an index's hidden table is
// reported under its base table's name.
func apiName(t *partitapb.Table) string {
	if b := t.GetIndexBase(); b != "" {
		return b
	}
	return t.GetName()
}

// indexTable resolves the IndexName of a Query or Scan on base to the
// hidden table of that global secondary index, applying DynamoDB's rules
// on consistency and Select, and sets the keys of the items read: the
// index's, then the base table's.
func (s *Server) indexTable(ctx context.Context, base *partitapb.Table, p *readParams) (*partitapb.Table, error) {
	name := *p.IndexName
	for i, li := range base.GetLocalIndexes() {
		if li.GetName() == name {
			return localIndexTable(base, i, p), nil
		}
	}
	var gi *partitapb.GlobalIndex
	for _, g := range base.GetGlobalIndexes() {
		if g.GetName() == name {
			gi = g
		}
	}
	if gi == nil {
		return nil, validationf("The table does not have the specified index: %s", name)
	}
	if p.consistent() {
		return nil, validationf("Consistent reads are not supported on global secondary indexes")
	}
	if str(p.Select) == selectAll && gi.GetProjectionType() != projectAll {
		return nil, validationf("%sSelect type ALL_ATTRIBUTES is not supported for global secondary index %s because its projection type is not ALL",
			msgInvalidParams, name)
	}
	if gi.GetStatus() != statusActive {
		return nil, validationf("Cannot read from backfilling global secondary index: %s", name)
	}
	t, err := s.cfg.Backend.Table(ctx, gi.GetTable())
	if isDomainCode(err, partitapb.Error_TABLE_NOT_FOUND) {
		return nil, validationf("The table does not have the specified index: %s", name)
	}
	if err != nil {
		return nil, fmt.Errorf("dynamo: index %s of %q: %w", name, base.GetName(), err)
	}
	p.pageKeys = indexKeys(t)
	return t, nil
}

// indexKeys are the keys of an index entry: the index's key attributes,
// then those of the base table it does not already have.
func indexKeys(t *partitapb.Table) keySchema {
	ks := schemaOf(t)
	base := schemaOf(&partitapb.Table{KeySchema: t.GetIndexBaseKeySchema(), AttributeDefinitions: t.GetAttributeDefinitions()})
	for _, k := range base {
		if !ks.has(k.name) {
			k.hash = false
			ks = append(ks, k)
		}
	}
	return ks
}
