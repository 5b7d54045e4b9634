package dynamo_test

import (
	"strings"
	"testing"
)

// TestEmptyAttributeName: DynamoDB refuses "" as an attribute name in an
// item written by any operation.
func TestEmptyAttributeName(t *testing.T) {
	f := newFixture(t)
	f.createTable("tbl", "")
	const msg = "One or more parameter values were invalid: An attribute name may not be empty"
	for _, c := range []struct{ op, body, want string }{
		{"PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"a"},"":{"S":"x"}}}`, msg},
		{"BatchWriteItem", `{"RequestItems":{"tbl":[{"PutRequest":{"Item":{"pk":{"S":"a"},"":{"N":"1"}}}}]}}`, msg},
		{"ExecuteStatement", `{"Statement":"INSERT INTO tbl VALUE {'pk':'a','':1}"}`, msg},
		{"ExecuteTransaction", `{"TransactStatements":[{"Statement":"INSERT INTO tbl VALUE {'pk':'b','':1}"}]}`, msg},
		{"UpdateItem", `{"TableName":"tbl","Key":{"pk":{"S":"a"}},"AttributeUpdates":{"":{"Action":"PUT","Value":{"S":"x"}}}}`, msg},
		{"UpdateItem", `{"TableName":"tbl","Key":{"pk":{"S":"a"}},"UpdateExpression":"SET #e = :v","ExpressionAttributeNames":{"#e":""},"ExpressionAttributeValues":{":v":{"S":"x"}}}`,
			"ExpressionAttributeNames contains invalid value: Empty attribute name for key #e"},
		{"GetItem", `{"TableName":"tbl","Key":{"":{"S":"a"}}}`, "The provided key element does not match the schema"},
	} {
		f.fails(c.op, c.body, "ValidationException", c.want)
	}
}

// TestOperatorLimitOverHTTP: an expression of more than 300 operators is
// refused whatever the operation.
func TestOperatorLimitOverHTTP(t *testing.T) {
	f := newFixture(t)
	f.createTable("tbl", "")
	filter := "a<b " + strings.Repeat("OR (a<b ", 150) + strings.Repeat(")", 150)
	f.fails("Scan", `{"TableName":"tbl","FilterExpression":"`+filter+`"}`, "ValidationException",
		"Invalid FilterExpression: The expression contains too many operators; operator count: 301")
	f.fails("DeleteItem", `{"TableName":"tbl","Key":{"pk":{"S":"a"}},"ConditionExpression":"`+strings.Repeat("NOT ", 301)+`a<b"}`,
		"ValidationException", "Invalid ConditionExpression: The expression contains too many operators; operator count: 302")
	f.ok("Scan", `{"TableName":"tbl","FilterExpression":"a<b `+strings.Repeat("OR (a<b ", 149)+strings.Repeat(")", 149)+`"}`)
}
