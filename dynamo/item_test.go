package dynamo_test

import (
	"fmt"
	"strings"
	"testing"
)

func TestPutGetDeleteItem(t *testing.T) {
	f := newFixture(t)
	f.createTable("items", "sk")
	f.ok("PutItem", `{"TableName":"items","Item":{"pk":{"S":"a"},"sk":{"N":"1"},"v":{"S":"one"},"n":{"N":"1.50"}}}`)
	r := f.ok("GetItem", `{"TableName":"items","Key":{"pk":{"S":"a"},"sk":{"N":"1"}}}`)
	if path(r, "Item", "v", "S") != "one" || path(r, "Item", "n", "N") != "1.5" {
		t.Fatalf("GetItem: %v", r)
	}
	r = f.ok("GetItem", `{"TableName":"items","Key":{"pk":{"S":"a"},"sk":{"N":"2"}}}`)
	if _, ok := r["Item"]; ok {
		t.Fatalf("missing item returned: %v", r)
	}
	r = f.ok("GetItem", `{"TableName":"items","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"ProjectionExpression":"#v","ExpressionAttributeNames":{"#v":"v"}}`)
	if fmt.Sprint(r["Item"]) != "map[v:map[S:one]]" {
		t.Fatalf("projection: %v", r)
	}
	r = f.ok("GetItem", `{"TableName":"items","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"AttributesToGet":["n","pk"]}`)
	if fmt.Sprint(r["Item"]) != "map[n:map[N:1.5] pk:map[S:a]]" {
		t.Fatalf("AttributesToGet: %v", r)
	}
	r = f.ok("GetItem", `{"TableName":"items","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"ProjectionExpression":"nothere"}`)
	if item, ok := r["Item"].(map[string]any); !ok || len(item) != 0 {
		t.Fatalf("empty projection of an existing item: %v", r)
	}
	r = f.ok("PutItem", `{"TableName":"items","Item":{"pk":{"S":"a"},"sk":{"N":"1"},"v":{"S":"uno"}},"ReturnValues":"ALL_OLD"}`)
	if path(r, "Attributes", "v", "S") != "one" {
		t.Fatalf("put ALL_OLD: %v", r)
	}
	r = f.ok("PutItem", `{"TableName":"items","Item":{"pk":{"S":"b"},"sk":{"N":"1"}},"ReturnValues":"ALL_OLD"}`)
	if _, ok := r["Attributes"]; ok {
		t.Fatalf("put of a new item returned Attributes: %v", r)
	}
	r = f.ok("DeleteItem", `{"TableName":"items","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"ReturnValues":"ALL_OLD"}`)
	if path(r, "Attributes", "v", "S") != "uno" {
		t.Fatalf("delete ALL_OLD: %v", r)
	}
	r = f.ok("GetItem", `{"TableName":"items","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"ConsistentRead":true}`)
	if _, ok := r["Item"]; ok {
		t.Fatalf("deleted item still there: %v", r)
	}
}

func TestItemKeyValidation(t *testing.T) {
	f := newFixture(t)
	f.createTable("items", "sk")
	// An invalid request that reached the store would change or delete
	// this item, or add another.
	f.ok("PutItem", `{"TableName":"items","Item":{"pk":{"S":"a"},"sk":{"N":"1"},"v":{"S":"kept"}}}`)
	const msgSchema = "The provided key element does not match the schema"
	cases := []struct{ op, body, msg string }{
		{"PutItem", `{"TableName":"items","Item":{"sk":{"N":"1"}}}`, "One or more parameter values were invalid: Missing the key pk in the item"},
		{"PutItem", `{"TableName":"items","Item":{"pk":{"N":"1"},"sk":{"N":"1"}}}`, "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"},
		{"PutItem", `{"TableName":"items","Item":{"pk":{"S":""},"sk":{"N":"1"}}}`, "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"},
		{"PutItem", `{"TableName":"items","Item":{"pk":{"S":"` + strings.Repeat("x", 2049) + `"},"sk":{"N":"1"}}}`, "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes"},
		{"PutItem", `{"TableName":"items","Item":{"pk":{"S":"a"},"sk":{"N":"1"},"big":{"S":"` + strings.Repeat("x", 410000) + `"}}}`, "Item size has exceeded the maximum allowed size"},
		{"GetItem", `{"TableName":"items","Key":{"pk":{"S":"a"}}}`, msgSchema},
		{"GetItem", `{"TableName":"items","Key":{"pk":{"S":"a"},"sk":{"S":"1"}}}`, msgSchema},
		{"GetItem", `{"TableName":"items","Key":{"pk":{"S":"a"},"sk":{"N":"1"},"x":{"S":"1"}}}`, msgSchema},
		{"DeleteItem", `{"TableName":"items","Key":{"pk":{"S":"a"},"other":{"N":"1"}}}`, msgSchema},
		{"UpdateItem", `{"TableName":"items","Key":{"pk":{"S":""},"sk":{"N":"1"}}}`, "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"},
		{"PutItem", `{"TableName":"items"}`, "1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null"},
		{"GetItem", `{"Key":{"pk":{"S":"a"}}}`, "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"},
	}
	for _, c := range cases {
		f.fails(c.op, c.body, "ValidationException", c.msg)
	}
	f.fails("GetItem", `{"TableName":"nothere","Key":{"pk":{"S":"a"}}}`, "ResourceNotFoundException", "Requested resource not found")
	f.fails("PutItem", `{"TableName":"nothere","Item":{"pk":{"S":"a"}}}`, "ResourceNotFoundException", "Requested resource not found")
	if r := f.ok("Scan", `{"TableName":"items","ConsistentRead":true}`); fmt.Sprint(r["Items"]) != "[map[pk:map[S:a] sk:map[N:1] v:map[S:kept]]]" {
		t.Fatalf("items after invalid requests: %v", r["Items"])
	}
	if names := f.tableNames(); fmt.Sprint(names) != "[items]" {
		t.Fatalf("tables after invalid requests: %v", names)
	}
}

func TestParameterValidation(t *testing.T) {
	f := newFixture(t)
	f.createTable("items", "")
	key := `"Key":{"pk":{"S":"a"}}`
	cases := []struct{ op, body, msg string }{
		{"PutItem", `{"TableName":"items","Item":{"pk":{"S":"a"}},"ReturnValues":"ALL_NEW"}`, "Return values set to invalid value"},
		{"DeleteItem", `{"TableName":"items",` + key + `,"ReturnValues":"UPDATED_OLD"}`, "Return values set to invalid value"},
		{"UpdateItem", `{"TableName":"items",` + key + `,"ReturnValues":"SOME"}`,
			"1 validation error detected: Value 'SOME' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"},
		{"GetItem", `{"TableName":"items",` + key + `,"ReturnConsumedCapacity":"ALL"}`,
			"1 validation error detected: Value 'ALL' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"},
		{"GetItem", `{"TableName":"items",` + key + `,"AttributesToGet":["a"],"ProjectionExpression":"a"}`,
			"Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}"},
		{"UpdateItem", `{"TableName":"items",` + key + `,"UpdateExpression":"SET a = :v","Expected":{"a":{"Exists":false}},"ExpressionAttributeValues":{":v":{"S":"x"}}}`,
			"Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {UpdateExpression}"},
		{"PutItem", `{"TableName":"items","Item":{"pk":{"S":"a"}},"ExpressionAttributeNames":{"#a":"a"}}`,
			"ExpressionAttributeNames can only be specified when using expressions"},
		{"UpdateItem", `{"TableName":"items",` + key + `,"ExpressionAttributeValues":{":a":{"S":"a"}}}`,
			"ExpressionAttributeValues can only be specified when using expressions: UpdateExpression and ConditionExpression are null"},
		{"PutItem", `{"TableName":"items","Item":{"pk":{"S":"a"}},"ConditionExpression":"a = :a","ExpressionAttributeValues":{}}`,
			"ExpressionAttributeValues must not be empty"},
		{"PutItem", `{"TableName":"items","Item":{"pk":{"S":"a"}},"ConditionExpression":"a = :a","ExpressionAttributeValues":{":a":{"S":"x"},":b":{"S":"y"}}}`,
			"Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}"},
		{"PutItem", `{"TableName":"items","Item":{"pk":{"S":"a"}},"ConditionExpression":"a = :a","ExpressionAttributeValues":{":a":{"NS":[]}}}`,
			"ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: An number set  may not be empty for key :a"},
		{"UpdateItem", `{"TableName":"items",` + key + `,"UpdateExpression":"SET pk = :v","ExpressionAttributeValues":{":v":{"S":"x"}}}`,
			"One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"},
		{"UpdateItem", `{"TableName":"items",` + key + `,"AttributeUpdates":{"pk":{"Action":"PUT","Value":{"S":"x"}}}}`,
			"One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"},
	}
	for _, c := range cases {
		f.fails(c.op, c.body, "ValidationException", c.msg)
	}
}

func TestConditionalWrites(t *testing.T) {
	f := newFixture(t)
	f.createTable("items", "")
	put := `{"TableName":"items","Item":{"pk":{"S":"a"},"v":{"N":"1"}},"ConditionExpression":"attribute_not_exists(pk)"}`
	f.ok("PutItem", put)
	r := f.fails("PutItem", put, "ConditionalCheckFailedException", "The conditional request failed")
	if _, ok := r.body["Item"]; ok {
		t.Fatalf("Item returned without ReturnValuesOnConditionCheckFailure: %s", r.raw)
	}
	r = f.fails("PutItem", strings.Replace(put, `}`+`,"ConditionExpression"`, `},"ReturnValuesOnConditionCheckFailure":"ALL_OLD","ConditionExpression"`, 1),
		"ConditionalCheckFailedException", "The conditional request failed")
	if path(r.body, "Item", "v", "N") != "1" {
		t.Fatalf("ALL_OLD on failure: %s", r.raw)
	}
	f.fails("DeleteItem", `{"TableName":"items","Key":{"pk":{"S":"a"}},"ConditionExpression":"v = :two","ExpressionAttributeValues":{":two":{"N":"2"}}}`,
		"ConditionalCheckFailedException", "The conditional request failed")
	f.ok("DeleteItem", `{"TableName":"items","Key":{"pk":{"S":"a"}},"ConditionExpression":"v = :one","ExpressionAttributeValues":{":one":{"N":"1"}}}`)
}

func TestUpdateItemReturnValues(t *testing.T) {
	f := newFixture(t)
	f.createTable("items", "")
	up := func(rv, expr string) map[string]any {
		return f.ok("UpdateItem", `{"TableName":"items","Key":{"pk":{"S":"a"}},"UpdateExpression":"`+expr+`",
			"ExpressionAttributeValues":{":one":{"N":"1"}},"ReturnValues":"`+rv+`"}`)
	}
	r := up("ALL_NEW", "SET a = :one, b = :one")
	if fmt.Sprint(r["Attributes"]) != "map[a:map[N:1] b:map[N:1] pk:map[S:a]]" {
		t.Fatalf("ALL_NEW: %v", r)
	}
	r = up("UPDATED_OLD", "ADD a :one")
	if fmt.Sprint(r["Attributes"]) != "map[a:map[N:1]]" {
		t.Fatalf("UPDATED_OLD: %v", r)
	}
	r = up("UPDATED_NEW", "ADD a :one")
	if fmt.Sprint(r["Attributes"]) != "map[a:map[N:3]]" {
		t.Fatalf("UPDATED_NEW: %v", r)
	}
	r = up("ALL_OLD", "SET c = :one")
	if fmt.Sprint(r["Attributes"]) != "map[a:map[N:3] b:map[N:1] pk:map[S:a]]" {
		t.Fatalf("ALL_OLD: %v", r)
	}
	r = up("NONE", "REMOVE c SET d = :one")
	if _, ok := r["Attributes"]; ok {
		t.Fatalf("NONE returned Attributes: %v", r)
	}
	r = f.ok("UpdateItem", `{"TableName":"items","Key":{"pk":{"S":"new"}},"ReturnValues":"ALL_NEW"}`)
	if fmt.Sprint(r["Attributes"]) != "map[pk:map[S:new]]" {
		t.Fatalf("update without expression: %v", r)
	}
	f.fails("UpdateItem", `{"TableName":"items","Key":{"pk":{"S":"a"}},"UpdateExpression":"SET a = a + :s","ExpressionAttributeValues":{":s":{"S":"x"}}}`,
		"ValidationException", "")
}

func TestConsumedCapacity(t *testing.T) {
	f := newFixture(t)
	f.createTable("items", "")
	big := strings.Repeat("x", 3000)
	r := f.ok("PutItem", `{"TableName":"items","Item":{"pk":{"S":"a"},"v":{"S":"`+big+`"}},"ReturnConsumedCapacity":"TOTAL"}`)
	if fmt.Sprint(r["ConsumedCapacity"]) != "map[CapacityUnits:3 TableName:items]" {
		t.Fatalf("put capacity: %v", r)
	}
	r = f.ok("DeleteItem", `{"TableName":"items","Key":{"pk":{"S":"a"}},"ReturnConsumedCapacity":"INDEXES"}`)
	if fmt.Sprint(r["ConsumedCapacity"]) != "map[CapacityUnits:3 Table:map[CapacityUnits:3] TableName:items]" {
		t.Fatalf("delete capacity: %v", r)
	}
	r = f.ok("GetItem", `{"TableName":"items","Key":{"pk":{"S":"a"}},"ReturnConsumedCapacity":"TOTAL"}`)
	if path(r, "ConsumedCapacity", "CapacityUnits") != 0.5 {
		t.Fatalf("eventual get capacity: %v", r)
	}
	f.ok("PutItem", `{"TableName":"items","Item":{"pk":{"S":"a"},"v":{"S":"`+strings.Repeat("x", 9000)+`"}}}`)
	r = f.ok("GetItem", `{"TableName":"items","Key":{"pk":{"S":"a"}},"ConsistentRead":true,"ReturnConsumedCapacity":"TOTAL"}`)
	if path(r, "ConsumedCapacity", "CapacityUnits") != 3.0 {
		t.Fatalf("consistent get capacity: %v", r)
	}
	r = f.ok("GetItem", `{"TableName":"items","Key":{"pk":{"S":"a"}}}`)
	if _, ok := r["ConsumedCapacity"]; ok {
		t.Fatalf("capacity without asking: %v", r)
	}
}

func TestLegacyParameters(t *testing.T) {
	f := newFixture(t)
	f.createTable("items", "")
	key := `"Key":{"pk":{"S":"a"}}`
	f.ok("UpdateItem", `{"TableName":"items",`+key+`,"AttributeUpdates":{"n":{"Action":"ADD","Value":{"N":"5"}},"s":{"Value":{"SS":["x","y"]}},"l":{"Action":"ADD","Value":{"L":[{"S":"p"}]}}}}`)
	f.ok("UpdateItem", `{"TableName":"items",`+key+`,"AttributeUpdates":{"s":{"Action":"DELETE","Value":{"SS":["x"]}},"l":{"Action":"ADD","Value":{"L":[{"S":"q"}]}}},
		"Expected":{"n":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"1"},{"N":"9"}]},"s":{"Exists":true,"Value":{"SS":["y","x"]}}}}`)
	r := f.ok("GetItem", `{"TableName":"items",`+key+`}`)
	if fmt.Sprint(r["Item"]) != "map[l:map[L:[map[S:p] map[S:q]]] n:map[N:5] pk:map[S:a] s:map[SS:[y]]]" {
		t.Fatalf("after legacy updates: %v", r["Item"])
	}
	f.fails("DeleteItem", `{"TableName":"items",`+key+`,"Expected":{"n":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"5"}]},"zz":{"ComparisonOperator":"NOT_NULL"}},"ConditionalOperator":"OR"}`,
		"ConditionalCheckFailedException", "The conditional request failed")
	f.ok("DeleteItem", `{"TableName":"items",`+key+`,"Expected":{"n":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"5"}]},"s":{"ComparisonOperator":"CONTAINS","AttributeValueList":[{"S":"y"}]}},"ConditionalOperator":"OR"}`)
	f.fails("PutItem", `{"TableName":"items","Item":{"pk":{"S":"a"}},"Expected":{"n":{"ComparisonOperator":"EQ"}}}`, "ValidationException",
		"One or more parameter values were invalid: Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: n")
	f.fails("PutItem", `{"TableName":"items","Item":{"pk":{"S":"a"}},"Expected":{"n":{"Exists":false,"Value":{"N":"1"}}}}`, "ValidationException",
		"One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: n")
}
