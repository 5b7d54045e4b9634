package dynamo_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
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

// TestLegacyBeyondExpressionLimits: legacy parameters have none of the
// expression limits, though Partita translates them into expressions; a
// request's own expressions keep them.
func TestLegacyBeyondExpressionLimits(t *testing.T) {
	f := newFixture(t)
	f.createTable("wide", "")
	f.ok("PutItem", `{"TableName":"wide","Item":{"pk":{"S":"a"},"v":{"N":"149"}}}`)
	f.ok("PutItem", `{"TableName":"wide","Item":{"pk":{"S":"b"},"v":{"N":"500"}}}`)
	var vals, placeholders []string
	values := map[string]string{}
	for i := range 150 {
		n := strconv.Itoa(i)
		vals = append(vals, `{"N":"`+n+`"}`)
		placeholders = append(placeholders, ":v"+n)
		values[":v"+n] = `{"N":"` + n + `"}`
	}
	list := strings.Join(vals, ",")
	got := f.ok("Scan", `{"TableName":"wide","ScanFilter":{"v":{"ComparisonOperator":"IN","AttributeValueList":[`+list+`]}}}`)
	if got["Count"] != float64(1) || path(got, "Items", 0, "pk", "S") != "a" {
		t.Fatalf("ScanFilter IN of 150 values: %v", got)
	}
	// 200 conditions translate to well over 4 KB of expression.
	var expected []string
	for i := range 200 {
		expected = append(expected, `"attribute_with_a_long_name_`+strconv.Itoa(i)+`":{"Exists":false}`)
	}
	f.ok("PutItem", `{"TableName":"wide","Item":{"pk":{"S":"c"}},"Expected":{`+strings.Join(expected, ",")+`}}`)

	var ev []string
	for _, p := range placeholders {
		ev = append(ev, `"`+p+`":`+values[p])
	}
	f.fails("Scan", `{"TableName":"wide","FilterExpression":"v IN (`+strings.Join(placeholders, ",")+`)","ExpressionAttributeValues":{`+strings.Join(ev, ",")+`}}`,
		"ValidationException", "Invalid FilterExpression: The IN operator is provided with too many operands; number of operands: 151")
	long := strings.Repeat("attribute_exists(a) AND ", 200) + "attribute_exists(a)"
	f.fails("Query", `{"TableName":"wide","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"a"}]}},"FilterExpression":"`+long+`"}`,
		"ValidationException", "Invalid FilterExpression: Expression size has exceeded the maximum allowed size; expression size: "+strconv.Itoa(len(long)))
}

// TestSDKLegacyBeyondExpressionLimits runs the same on a real node, whose
// replicas apply the translated condition.
func TestSDKLegacyBeyondExpressionLimits(t *testing.T) {
	c := startNode(t)
	ctx := context.Background()
	sdkTable(t, c, "wide", false)
	expected := map[string]types.ExpectedAttributeValue{}
	for i := range 200 {
		expected["attribute_with_a_long_name_"+strconv.Itoa(i)] = types.ExpectedAttributeValue{Exists: aws.Bool(false)}
	}
	put := &dynamodb.PutItemInput{TableName: aws.String("wide"), Item: map[string]types.AttributeValue{"pk": s("a"), "v": num("149")}, Expected: expected}
	if _, err := c.PutItem(ctx, put); err != nil {
		t.Fatalf("PutItem with 200 Expected conditions: %v", err)
	}
	var list []types.AttributeValue
	for i := range 150 {
		list = append(list, num(strconv.Itoa(i)))
	}
	out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("wide"), ScanFilter: map[string]types.Condition{
		"v": {ComparisonOperator: types.ComparisonOperatorIn, AttributeValueList: list}}})
	if err != nil || out.Count != 1 {
		t.Fatalf("Scan with ScanFilter IN of 150 values: %v, %+v", err, out)
	}
	expected["v"] = types.ExpectedAttributeValue{ComparisonOperator: types.ComparisonOperatorIn, AttributeValueList: list[:149]}
	put.Item["pk"] = s("b")
	if _, err := c.PutItem(ctx, put); err == nil {
		t.Fatal("PutItem on a missing item with Expected v IN (...) succeeded")
	} else {
		wantCode(t, "Expected v IN", err, "ConditionalCheckFailedException")
	}
}
