package dynamo

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// globalIndexRequest is one entry of CreateTable's GlobalSecondaryIndexes.
type globalIndexRequest struct {
	IndexName             *string                `json:"IndexName"`
	KeySchema             []keySchemaElement     `json:"KeySchema"`
	Projection            *projection            `json:"Projection"`
	ProvisionedThroughput *provisionedThroughput `json:"ProvisionedThroughput"`
}

// projection is the Projection parameter of an index.
type projection struct {
	ProjectionType   *string  `json:"ProjectionType"`
	NonKeyAttributes []string `json:"NonKeyAttributes"`
}

// Projection types and index limits.
const (
	projectAll       = "ALL"
	projectKeysOnly  = "KEYS_ONLY"
	projectInclude   = "INCLUDE"
	maxGlobalIndexes = 20
	maxProjectedKeys = 100
)

var projectionTypes = []string{projectAll, projectKeysOnly, projectInclude}

// indexNameRE is DynamoDB's rule for index names (as for table names).
var indexNameRE = regexp.MustCompile("^" + tableNamePattern + "$")

// globalIndexes records the shape violations of GlobalSecondaryIndexes.
func (v *violations) globalIndexes(gsis []globalIndexRequest) {
	for i, g := range gsis {
		p := fmt.Sprintf("globalSecondaryIndexes.%d.member", i+1)
		v.indexShape(p, g.IndexName, g.KeySchema, g.Projection)
		v.throughput(g.ProvisionedThroughput, p+".provisionedThroughput")
	}
}

// indexShape checks the members an index of either kind has, at path p:
// its name, key schema and projection type.
func (v *violations) indexShape(p string, name *string, keySchema []keySchemaElement, proj *projection) {
	v.notNull(name != nil, p+".indexName")
	if name != nil {
		if !indexNameRE.MatchString(*name) {
			v.add(name, p+".indexName", "Member must satisfy regular expression pattern: "+tableNamePattern)
		}
		v.length(name, p+".indexName", 3, 255)
	}
	v.notNull(keySchema != nil, p+".keySchema")
	if keySchema != nil && (len(keySchema) < 1 || len(keySchema) > 2) {
		bound := "greater than or equal to 1"
		if len(keySchema) > 2 {
			bound = "less than or equal to 2"
		}
		v.add(keySchemaString(keySchema), p+".keySchema", "Member must have length "+bound)
	}
	for j, k := range keySchema {
		kp := fmt.Sprintf("%s.keySchema.%d.member", p, j+1)
		v.notNull(k.AttributeName != nil, kp+".attributeName")
		v.length(k.AttributeName, kp+".attributeName", 1, 255)
		v.notNull(k.KeyType != nil, kp+".keyType")
		v.enum(k.KeyType, kp+".keyType", keyTypes...)
	}
	v.notNull(proj != nil, p+".projection")
	if proj != nil {
		v.enum(proj.ProjectionType, p+".projection.projectionType", projectionTypes...)
	}
}

// checkGlobalIndexes applies DynamoDB's rules on the indexes of a new
// table: names, key schemas over AttributeDefinitions, projections and
// throughput by billing mode.
func checkGlobalIndexes(req *createTableRequest) error {
	gsis := req.GlobalSecondaryIndexes
	if gsis == nil {
		return nil
	}
	if len(gsis) == 0 {
		return validationf("%sList of GlobalSecondaryIndexes is empty", msgInvalidParams)
	}
	if len(gsis) > maxGlobalIndexes {
		return validationf("%sGlobalSecondaryIndex count exceeds the per-table limit of %d", msgInvalidParams, maxGlobalIndexes)
	}
	seen := map[string]bool{}
	for _, g := range gsis {
		name := str(g.IndexName)
		if seen[name] {
			return validationf("%sDuplicate index name: %s", msgInvalidParams, name)
		}
		seen[name] = true
		if err := checkIndexKeySchema(name, g.KeySchema, req.AttributeDefinitions); err != nil {
			return err
		}
		if err := checkProjection(name, g.Projection); err != nil {
			return err
		}
		if err := checkIndexThroughput(name, req.BillingMode, g.ProvisionedThroughput); err != nil {
			return err
		}
	}
	return nil
}

// checkIndexKeySchema checks an index's key schema against the table's
// attribute definitions.
func checkIndexKeySchema(name string, ks []keySchemaElement, defs []attributeDefinition) error {
	defined := map[string]bool{}
	defNames := make([]string, len(defs))
	for i, d := range defs {
		defNames[i] = str(d.AttributeName)
		defined[defNames[i]] = true
	}
	keys := make([]string, len(ks))
	for i, k := range ks {
		keys[i] = str(k.AttributeName)
		if !defined[keys[i]] {
			return validationf("%sSome index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: [%s]",
				msgInvalidParams, strings.Join(keys, ", "), strings.Join(defNames, ", "))
		}
	}
	if len(ks) == 2 && keys[0] == keys[1] {
		return validationf("Both the Hash Key and the Range Key element in the KeySchema have the same name")
	}
	if str(ks[0].KeyType) != "HASH" {
		return validationf("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
	}
	if len(ks) == 2 && str(ks[1].KeyType) != "RANGE" {
		return validationf("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
	}
	return nil
}

// checkProjection checks an index's projection.
func checkProjection(name string, p *projection) error {
	typ := str(p.ProjectionType)
	if typ == "" {
		return validationf("%sUnknown ProjectionType: null", msgInvalidParams)
	}
	switch {
	case typ != projectInclude && p.NonKeyAttributes != nil:
		return validationf("%sProjectionType is %s, but NonKeyAttributes is specified", msgInvalidParams, typ)
	case typ == projectInclude && len(p.NonKeyAttributes) == 0:
		return validationf("%sProjectionType is INCLUDE, but NonKeyAttributes is not specified", msgInvalidParams)
	case len(p.NonKeyAttributes) > maxProjectedKeys:
		return newError(kindLimitExceeded, "The number of projected attributes in all indexes exceeds the limit of %d", maxProjectedKeys)
	}
	seen := map[string]bool{}
	for _, a := range p.NonKeyAttributes {
		if seen[a] {
			return validationf("%sDuplicate NonKeyAttribute in index %s: %s", msgInvalidParams, name, a)
		}
		seen[a] = true
	}
	return nil
}

// checkIndexThroughput ties an index's ProvisionedThroughput to the
// table's billing mode.
func checkIndexThroughput(name string, mode *string, pt *provisionedThroughput) error {
	if str(mode) == billingPayPerRequest {
		if pt != nil {
			return validationf("%sProvisionedThroughput should not be specified for index: %s when BillingMode is PAY_PER_REQUEST", msgInvalidParams, name)
		}
		return nil
	}
	if pt == nil {
		return validationf("%sProvisionedThroughput is not specified for index: %s", msgInvalidParams, name)
	}
	return checkThroughputBounds(pt)
}

// checkUnusedDefinitions rejects attribute definitions that neither the
// table's key nor an index's uses, and a table key attribute defined twice.
func checkUnusedDefinitions(req *createTableRequest) error {
	used := map[string]bool{}
	for _, k := range req.KeySchema {
		used[str(k.AttributeName)] = true
	}
	for _, g := range req.GlobalSecondaryIndexes {
		for _, k := range g.KeySchema {
			used[str(k.AttributeName)] = true
		}
	}
	for _, l := range req.LocalSecondaryIndexes {
		for _, k := range l.KeySchema {
			used[str(k.AttributeName)] = true
		}
	}
	if len(used) != len(req.AttributeDefinitions) {
		return validationf("%sNumber of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions", msgInvalidParams)
	}
	return nil
}

// globalIndexRecords converts checked index requests to the table record's
// indexes, all with status; table is the base table's name.
func globalIndexRecords(table string, gsis []globalIndexRequest, status string) []*partitapb.GlobalIndex {
	out := make([]*partitapb.GlobalIndex, 0, len(gsis))
	for _, g := range gsis {
		gi := &partitapb.GlobalIndex{
			Name:             *g.IndexName,
			ProjectionType:   *g.Projection.ProjectionType,
			NonKeyAttributes: g.Projection.NonKeyAttributes,
			Status:           status,
			Table:            directory.IndexTableName(table, *g.IndexName),
		}
		for _, k := range g.KeySchema {
			gi.KeySchema = append(gi.KeySchema, &partitapb.KeyElement{AttributeName: *k.AttributeName, KeyType: *k.KeyType})
		}
		if pt := g.ProvisionedThroughput; pt != nil {
			gi.ReadCapacityUnits, gi.WriteCapacityUnits = *pt.ReadCapacityUnits, *pt.WriteCapacityUnits
		}
		out = append(out, gi)
	}
	return out
}
