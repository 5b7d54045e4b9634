package dynamo

import (
	"fmt"
	"strings"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// tableNamePattern is DynamoDB's rule for table names.
const tableNamePattern = "[a-zA-Z0-9_.-]+"

// tableNameRE matches whole names against tableNamePattern. Every item
// request checks its table's name: a loop over the bytes costs a
// fraction of a regular expression's match.
var tableNameRE nameChars

// nameChars matches the names made of tableNamePattern's characters.
type nameChars struct{}

// MatchString says s is one or more of [a-zA-Z0-9_.-].
func (nameChars) MatchString(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// maxThroughput is the largest capacity value DynamoDB takes in a request.
const maxThroughput = 1_000_000_000_000

// Billing modes and table statuses as on the wire.
const (
	billingProvisioned   = "PROVISIONED"
	billingPayPerRequest = "PAY_PER_REQUEST"
	statusCreating       = string(directory.Creating)
	statusActive         = string(directory.Active)
	msgInvalidParams     = "One or more parameter values were invalid: "
	msgNoThroughputOnPPR = msgInvalidParams + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
)

// tableName checks a TableName of an item operation. The member takes a
// name or an ARN (1 to 1024 characters); an empty one breaks that bound
// alone, and a name that is not an ARN must also be 3 to 255 characters
// of the name pattern, the pattern reported first.
func (v *violations) tableName(name *string, path string) {
	v.notNull(name != nil, path)
	if name == nil || isARN(*name) {
		return
	}
	if *name == "" {
		v.add(name, path, "Member must have length greater than or equal to 1")
		return
	}
	if !tableNameRE.MatchString(*name) {
		v.add(name, path, "Member must satisfy regular expression pattern: "+tableNamePattern)
	}
	v.length(name, path, 3, 255)
}

// checkTableParam checks the TableName of an operation whose only member
// it is (DescribeTable, DeleteTable, DescribeTimeToLive).
func checkTableParam(name *string) error {
	var v violations
	if err := tableParam(name, &v); err != nil {
		return err
	}
	return v.err()
}

// tableParam checks the TableName of a table operation, which DynamoDB
// words differently from the item operations: a missing name or one of
// the wrong length is an error of its own, before any other member is
// looked at; a name outside the pattern is a violation among the others.
func tableParam(name *string, v *violations) error {
	if name == nil {
		return validationf("The parameter 'TableName' is required but was not present in the request")
	}
	if isARN(*name) {
		return nil
	}
	if n := len([]rune(*name)); n < 3 || n > 255 {
		return validationf("TableName must be at least 3 characters long and at most 255 characters long")
	}
	v.tableName(name, "tableName")
	return nil
}

// throughputViolations checks a ProvisionedThroughput parameter.
func (v *violations) throughput(pt *provisionedThroughput, path string) {
	if pt == nil {
		return
	}
	for _, f := range []struct {
		val  *int64
		name string
	}{{pt.WriteCapacityUnits, "writeCapacityUnits"}, {pt.ReadCapacityUnits, "readCapacityUnits"}} {
		p := path + "." + f.name
		v.notNull(f.val != nil, p)
		if f.val != nil && *f.val < 1 {
			v.add(f.val, p, "Member must have value greater than or equal to 1")
		}
	}
}

// checkThroughputBounds rejects capacities beyond what DynamoDB accepts.
func checkThroughputBounds(pt *provisionedThroughput) error {
	if pt == nil {
		return nil
	}
	if r := pt.ReadCapacityUnits; r != nil && *r > maxThroughput {
		return validationf("Given value %d for ReadCapacityUnits is out of bounds", *r)
	}
	if w := pt.WriteCapacityUnits; w != nil && *w > maxThroughput {
		return validationf("Given value %d for WriteCapacityUnits is out of bounds", *w)
	}
	return nil
}

// attributeDefinitions checks the shape of AttributeDefinitions.
func (v *violations) attributeDefinitions(defs []attributeDefinition, defsSet bool) {
	v.notNull(defsSet, "attributeDefinitions")
	for i, d := range defs {
		p := fmt.Sprintf("attributeDefinitions.%d.member", i+1)
		v.notNull(d.AttributeName != nil, p+".attributeName")
		v.length(d.AttributeName, p+".attributeName", 1, 255)
		v.notNull(d.AttributeType != nil, p+".attributeType")
		v.enum(d.AttributeType, p+".attributeType", scalarTypes...)
	}
}

// keySchemaOnly checks the shape of a table's KeySchema.
func (v *violations) keySchemaOnly(ks []keySchemaElement, ksSet bool) {
	v.notNull(ksSet, "keySchema")
	if ksSet && (len(ks) < 1 || len(ks) > 2) {
		bound := "greater than or equal to 1"
		if len(ks) > 2 {
			bound = "less than or equal to 2"
		}
		v.add(keySchemaString(ks), "keySchema", "Member must have length "+bound)
	}
	for i, k := range ks {
		p := fmt.Sprintf("keySchema.%d.member", i+1)
		v.notNull(k.AttributeName != nil, p+".attributeName")
		v.length(k.AttributeName, p+".attributeName", 1, 255)
		v.notNull(k.KeyType != nil, p+".keyType")
		v.enum(k.KeyType, p+".keyType", keyTypes...)
	}
}

// keySchemaString prints a KeySchema list inside a violation.
func keySchemaString(ks []keySchemaElement) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = fmt.Sprintf("KeySchemaElement(attributeName=%s, keyType=%s)", str(k.AttributeName), str(k.KeyType))
	}
	return out
}

// checkKeySchema applies DynamoDB's rules relating KeySchema to
// AttributeDefinitions, in DynamoDB's order.
func checkKeySchema(ks []keySchemaElement, defs []attributeDefinition) error {
	defNames := make([]string, len(defs))
	defined := map[string]bool{}
	for i, d := range defs {
		defNames[i] = str(d.AttributeName)
		defined[defNames[i]] = true
	}
	keys := make([]string, len(ks))
	undefined := false
	for i, k := range ks {
		keys[i] = str(k.AttributeName)
		undefined = undefined || !defined[keys[i]]
	}
	if len(ks) == 2 && (undefined || (keys[0] == keys[1] && len(defs) == 1)) {
		return validationf("Invalid KeySchema: Some index key attribute have no definition")
	}
	if undefined {
		return validationf("%sSome index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: [%s]",
			msgInvalidParams, strings.Join(keys, ", "), strings.Join(defNames, ", "))
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

// checkBilling applies the rules tying BillingMode to ProvisionedThroughput
// at table creation.
func checkBilling(mode *string, pt *provisionedThroughput) error {
	if str(mode) == billingPayPerRequest {
		if pt != nil {
			return validationf("%s", msgNoThroughputOnPPR)
		}
		return nil
	}
	if pt == nil {
		return validationf("%sReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED", msgInvalidParams)
	}
	return checkThroughputBounds(pt)
}

// maxTags is how many tags a table may carry.
const maxTags = 50

// tagViolations checks a Tags list.
func (v *violations) tags(tags []wireTag, path string) {
	for i, t := range tags {
		p := fmt.Sprintf("%s.%d.member", path, i+1)
		v.notNull(t.Key != nil, p+".key")
		v.length(t.Key, p+".key", 1, 128)
		v.notNull(t.Value != nil, p+".value")
		v.length(t.Value, p+".value", 0, 256)
	}
}

// checkTags rejects duplicate keys, reserved prefixes and too many tags.
func checkTags(tags []wireTag) error {
	seen := map[string]bool{}
	for _, t := range tags {
		k := str(t.Key)
		if seen[k] {
			return validationf("Duplicate tag keys found. Please remove duplicate tag keys: %s", k)
		}
		seen[k] = true
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return validationf("%sTag keys starting with 'aws:' are reserved for system use: %s", msgInvalidParams, k)
		}
	}
	if len(tags) > maxTags {
		return newError(kindLimitExceeded, "The number of tags exceeds the limit of %d per resource", maxTags)
	}
	return nil
}

// tagsToProto converts checked request tags.
func tagsToProto(tags []wireTag) []*partitapb.Tag {
	out := make([]*partitapb.Tag, len(tags))
	for i, t := range tags {
		out[i] = &partitapb.Tag{Key: str(t.Key), Value: str(t.Value)}
	}
	return out
}
