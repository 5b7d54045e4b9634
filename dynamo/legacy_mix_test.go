package dynamo_test

import (
	"strings"
	"testing"
)

// TestLegacyKeyConditionsWithExpressions: Query's KeyConditions may go with
// FilterExpression and ProjectionExpression (DynamoDB's one exception to
// not mixing the two families); every other pair stays refused.
func TestLegacyKeyConditionsWithExpressions(t *testing.T) {
	f := newFixture(t)
	f.createTable("mix", "sk")
	for i, v := range []string{"a", "b", "c"} {
		f.ok("PutItem", `{"TableName":"mix","Item":{"pk":{"S":"p"},"sk":{"N":"`+string(rune('1'+i))+`"},"v":{"S":"`+v+`"},"w":{"N":"7"}}}`)
	}
	// The request's own placeholders are #l0 and :l0, the names the
	// translation of KeyConditions would pick first.
	got := f.ok("Query", `{"TableName":"mix",
		"KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"p"}]},"sk":{"ComparisonOperator":"GE","AttributeValueList":[{"N":"2"}]}},
		"FilterExpression":"#l0 <> :l0","ProjectionExpression":"sk, #l0",
		"ExpressionAttributeNames":{"#l0":"v"},"ExpressionAttributeValues":{":l0":{"S":"c"}}}`)
	if got["Count"] != float64(1) || path(got, "Items", 0, "v", "S") != "b" || path(got, "Items", 0, "w") != nil {
		t.Fatalf("KeyConditions with FilterExpression and ProjectionExpression: %v", got)
	}
	got = f.ok("Query", `{"TableName":"mix","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"p"}]}},"ProjectionExpression":"v"}`)
	if got["Count"] != float64(3) || path(got, "Items", 2, "sk") != nil {
		t.Fatalf("KeyConditions with ProjectionExpression: %v", got)
	}

	const mixed = "Can not use both expression and non-expression parameters in the same request: "
	for _, c := range []struct{ op, body, msg string }{
		{"Query", `{"TableName":"mix","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"p"}]}},"KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"p"}}}`,
			"Non-expression parameters: {KeyConditions} Expression parameters: {KeyConditionExpression}"},
		{"Query", `{"TableName":"mix","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"p"}]}},"QueryFilter":{"v":{"ComparisonOperator":"NULL"}},"FilterExpression":"attribute_exists(v)"}`,
			"Non-expression parameters: {QueryFilter} Expression parameters: {FilterExpression}"},
		{"Query", `{"TableName":"mix","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"p"}]}},"AttributesToGet":["v"],"FilterExpression":"attribute_exists(v)"}`,
			"Non-expression parameters: {AttributesToGet} Expression parameters: {FilterExpression}"},
		{"Scan", `{"TableName":"mix","ScanFilter":{"v":{"ComparisonOperator":"NULL"}},"ProjectionExpression":"v"}`,
			"Non-expression parameters: {ScanFilter} Expression parameters: {ProjectionExpression}"},
		{"GetItem", `{"TableName":"mix","Key":{"pk":{"S":"p"},"sk":{"N":"1"}},"AttributesToGet":["v"],"ProjectionExpression":"v"}`,
			"Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}"},
		{"PutItem", `{"TableName":"mix","Item":{"pk":{"S":"p"},"sk":{"N":"1"}},"Expected":{"v":{"Exists":false}},"ConditionExpression":"attribute_exists(v)"}`,
			"Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"},
		{"UpdateItem", `{"TableName":"mix","Key":{"pk":{"S":"p"},"sk":{"N":"1"}},"AttributeUpdates":{"v":{"Action":"DELETE"}},"ConditionExpression":"attribute_exists(v)"}`,
			"Non-expression parameters: {AttributeUpdates} Expression parameters: {ConditionExpression}"},
	} {
		r := f.fails(c.op, c.body, "ValidationException", "")
		if msg := errMessage(r.body); !strings.HasPrefix(msg, mixed) || !strings.HasSuffix(msg, c.msg) {
			t.Errorf("%s %s:\n%s\nwant %s%s", c.op, c.body, msg, mixed, c.msg)
		}
	}
}
