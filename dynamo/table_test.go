package dynamo_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const createBody = `{"TableName":"Music","AttributeDefinitions":[{"AttributeName":"Artist","AttributeType":"S"},{"AttributeName":"Song","AttributeType":"S"}],
	"KeySchema":[{"AttributeName":"Artist","KeyType":"HASH"},{"AttributeName":"Song","KeyType":"RANGE"}],
	"ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":10},"Tags":[{"Key":"team","Value":"db"}],"TableClass":"STANDARD"}`

func TestCreateDescribeDeleteTable(t *testing.T) {
	f := newFixture(t)
	created := f.ok("CreateTable", createBody)
	if got := path(created, "TableDescription", "TableStatus"); got != "CREATING" {
		t.Fatalf("created status %v", got)
	}
	f.fails("CreateTable", createBody, "ResourceInUseException", "Table already exists: Music")
	d := f.ok("DescribeTable", `{"TableName":"Music"}`)
	if got := path(d, "Table", "TableStatus"); got != "ACTIVE" {
		t.Fatalf("described status %v", got)
	}
	if got := path(d, "Table", "TableId"); got != path(created, "TableDescription", "TableId") {
		t.Fatalf("TableId changed: %v vs %v", got, path(created, "TableDescription", "TableId"))
	}
	arn := "arn:aws:dynamodb:us-east-1:000000000000:table/Music"
	if got := path(d, "Table", "TableArn"); got != arn {
		t.Fatalf("TableArn %v", got)
	}
	byARN := f.ok("DescribeTable", `{"TableName":"`+arn+`"}`)
	if path(byARN, "Table", "TableName") != "Music" {
		t.Fatalf("describe by ARN: %v", byARN)
	}
	del := f.ok("DeleteTable", `{"TableName":"Music"}`)
	if got := path(del, "TableDescription", "TableStatus"); got != "DELETING" {
		t.Fatalf("deleted status %v", got)
	}
	f.fails("DescribeTable", `{"TableName":"Music"}`, "ResourceNotFoundException", "Requested resource not found: Table: Music not found")
	f.fails("DeleteTable", `{"TableName":"Music"}`, "ResourceNotFoundException", "Requested resource not found: Table: Music not found")
}

// TestGoldenResponses pins whole response shapes.
func TestGoldenResponses(t *testing.T) {
	f := newFixture(t)
	before := time.Now()
	created := f.ok("CreateTable", createBody)
	after := time.Now()
	r := f.do("DescribeTable", `{"TableName":"Music"}`)
	checkGolden(t, "describe_table.json", checkCatalogStamps(t, r.raw, path(created, "TableDescription", "TableId"), before, after))
	e := f.do("CreateTable", `{"TableName":"ab"}`)
	checkGolden(t, "error_short_name.json", e.raw)
	put := `{"TableName":"Music","Item":{"Artist":{"S":"No One You Know"},"Song":{"S":"Call Me Today"},"Year":{"N":"2015"},
		"Genres":{"SS":["pop","rock"]},"Info":{"M":{"Bin":{"B":"AAEC"},"Live":{"BOOL":false},"Tracks":{"L":[{"N":"1.50"},{"NULL":true}]}}}},
		"ReturnConsumedCapacity":"INDEXES"}`
	r = f.do("PutItem", put)
	checkGolden(t, "put_item_capacity.json", r.raw)
	e = f.do("PutItem", strings.Replace(put, `"ReturnConsumedCapacity":"INDEXES"`,
		`"ConditionExpression":"attribute_not_exists(Artist)","ReturnValuesOnConditionCheckFailure":"ALL_OLD"`, 1))
	checkGolden(t, "error_condition_failed_item.json", e.raw)
}

// uuidV4 is the form of a TableId.
var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// checkCatalogStamps checks the stamps the catalog gives a table when it
// creates it, which the server's test clock does not set (the command
// that creates the table carries the node's clock): CreationDateTime is
// between before and after, TableId is a UUID and the one CreateTable
// answered (created). It returns raw (a DescribeTable answer) with the
// two replaced by "(creation time)" and "(table id)" for a golden file.
func checkCatalogStamps(t *testing.T, raw string, created any, before, after time.Time) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatal(err)
	}
	desc, _ := v["Table"].(map[string]any)
	at, ok := desc["CreationDateTime"].(float64)
	lo, hi := float64(before.UnixMilli())/1000, float64(after.UnixMilli()+1)/1000
	if !ok || at < lo || at > hi {
		t.Fatalf("CreationDateTime %v, want a time in [%v, %v]", desc["CreationDateTime"], lo, hi)
	}
	id, _ := desc["TableId"].(string)
	if !uuidV4.MatchString(id) || id != created {
		t.Fatalf("TableId %q, want a UUID, the one CreateTable answered (%v)", id, created)
	}
	desc["CreationDateTime"], desc["TableId"] = "(creation time)", "(table id)"
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// checkGolden compares raw JSON with testdata/name (indented); set
// PARTITA_REWRITE=1 to rewrite the file.
func checkGolden(t *testing.T, name, raw string) {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	got, _ := json.MarshalIndent(v, "", "  ")
	file := filepath.Join("testdata", name)
	if os.Getenv("PARTITA_REWRITE") != "" {
		if err := os.WriteFile(file, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(want)) != string(got) {
		t.Fatalf("%s differs:\n got: %s\nwant: %s", name, got, want)
	}
}

func TestCreateTableValidation(t *testing.T) {
	f := newFixture(t)
	const keys = `"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]`
	const gsiDefs = `"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"g","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]`
	cases := []struct{ body, msg string }{
		{`{}`, "The parameter 'TableName' is required but was not present in the request"},
		{`{"TableName":"ab",` + keys + `}`, "TableName must be at least 3 characters long and at most 255 characters long"},
		{`{"TableName":"a b c",` + keys + `,"BillingMode":"PAY_PER_REQUEST"}`,
			"1 validation error detected: Value 'a b c' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{`{"TableName":"abc"}`, "2 validation errors detected: Value null at 'attributeDefinitions' failed to satisfy constraint: Member must not be null; Value null at 'keySchema' failed to satisfy constraint: Member must not be null"},
		{`{"TableName":"abc","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"X"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`,
			"1 validation error detected: Value 'X' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]"},
		{`{"TableName":"abc",` + keys + `,"BillingMode":"PAY_PER_REQUEST","ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":1}}`,
			"One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"},
		{`{"TableName":"abc",` + keys + `}`,
			"One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"},
		{`{"TableName":"abc",` + keys + `,"ProvisionedThroughput":{"ReadCapacityUnits":0,"WriteCapacityUnits":1}}`,
			"1 validation error detected: Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{`{"TableName":"abc","AttributeDefinitions":[{"AttributeName":"y","AttributeType":"S"}],"KeySchema":[{"AttributeName":"x","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`,
			"One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [x], AttributeDefinitions: [y]"},
		{`{"TableName":"abc","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"z","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`,
			"One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"},
		{`{"TableName":"abc","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"RANGE"},{"AttributeName":"sk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`,
			"Invalid KeySchema: The first KeySchemaElement is not a HASH key type"},
		{`{"TableName":"abc","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"BillingMode":"PAY_PER_REQUEST"}`,
			"Invalid KeySchema: Some index key attribute have no definition"},
		{`{"TableName":"abc","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[],"BillingMode":"PAY_PER_REQUEST"}`,
			"1 validation error detected: Value '[]' at 'keySchema' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{`{"TableName":"abc",` + keys + `,"BillingMode":"PAY_PER_REQUEST","GlobalSecondaryIndexes":[]}`,
			"One or more parameter values were invalid: List of GlobalSecondaryIndexes is empty"},
		{`{"TableName":"abc",` + gsiDefs + `,"BillingMode":"PAY_PER_REQUEST","GlobalSecondaryIndexes":[{"IndexName":"ix","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}]}]}`,
			"2 validation errors detected: Value 'ix' at 'globalSecondaryIndexes.1.member.indexName' failed to satisfy constraint: Member must have length greater than or equal to 3; Value null at 'globalSecondaryIndexes.1.member.projection' failed to satisfy constraint: Member must not be null"},
		{`{"TableName":"abc",` + gsiDefs + `,"BillingMode":"PAY_PER_REQUEST","GlobalSecondaryIndexes":[{"IndexName":"idx","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"},"ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":1}}]}`,
			"One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: idx when BillingMode is PAY_PER_REQUEST"},
		{`{"TableName":"abc",` + gsiDefs + `,"BillingMode":"PAY_PER_REQUEST","GlobalSecondaryIndexes":[{"IndexName":"idx","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"INCLUDE"}}]}`,
			"One or more parameter values were invalid: ProjectionType is INCLUDE, but NonKeyAttributes is not specified"},
		{`{"TableName":"abc",` + gsiDefs + `,"BillingMode":"PAY_PER_REQUEST","GlobalSecondaryIndexes":[{"IndexName":"idx","KeySchema":[{"AttributeName":"g","KeyType":"RANGE"}],"Projection":{"ProjectionType":"KEYS_ONLY"}}]}`,
			"Invalid KeySchema: The first KeySchemaElement is not a HASH key type"},
		{`{"TableName":"abc",` + keys + `,"BillingMode":"PAY_PER_REQUEST","StreamSpecification":{"StreamEnabled":true}}`,
			"One or more parameter values were invalid: Table is being created with a stream enabled, UpdateViewType is required"},
		{`{"TableName":"abc",` + keys + `,"BillingMode":"PAY_PER_REQUEST","StreamSpecification":{"StreamEnabled":false,"StreamViewType":"NEW_IMAGE"}}`,
			"One or more parameter values were invalid: Table is being created with a stream disabled, UpdateViewType should not be specified"},
		{`{"TableName":"abc",` + keys + `,"BillingMode":"ON_DEMAND"}`,
			"1 validation error detected: Value 'ON_DEMAND' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"},
	}
	for _, c := range cases {
		f.fails("CreateTable", c.body, "ValidationException", c.msg)
	}
	if names := f.tableNames(); len(names) != 0 {
		t.Fatalf("tables created by invalid requests: %v", names)
	}
}

func TestListTables(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 5; i++ {
		f.createTable(fmt.Sprintf("tab%d", i), "")
	}
	r := f.ok("ListTables", `{"Limit":2}`)
	if fmt.Sprint(r["TableNames"]) != "[tab0 tab1]" || r["LastEvaluatedTableName"] != "tab1" {
		t.Fatalf("page 1: %v", r)
	}
	r = f.ok("ListTables", `{"Limit":2,"ExclusiveStartTableName":"tab3"}`)
	if fmt.Sprint(r["TableNames"]) != "[tab4]" || r["LastEvaluatedTableName"] != nil {
		t.Fatalf("last page: %v", r)
	}
	r = f.ok("ListTables", `{}`)
	if len(r["TableNames"].([]any)) != 5 {
		t.Fatalf("all: %v", r)
	}
	f.fails("ListTables", `{"Limit":0}`, "ValidationException",
		"1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
	f.fails("ListTables", `{"Limit":101}`, "ValidationException",
		"1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100")
	empty := newFixture(t).ok("ListTables", `{}`)
	if l, ok := empty["TableNames"].([]any); !ok || len(l) != 0 {
		t.Fatalf("no tables: %v", empty)
	}
}

func TestUpdateTable(t *testing.T) {
	f := newFixture(t)
	f.ok("CreateTable", createBody)
	f.fails("UpdateTable", `{"TableName":"Music"}`, "ValidationException",
		"At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required")
	f.fails("UpdateTable", `{"TableName":"Music","ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":10}}`, "ValidationException",
		"The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: 5. Requested ReadCapacityUnits: 5. Current WriteCapacityUnits provisioned for the table: 10. Requested WriteCapacityUnits: 10. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.")
	f.clock.nanos.Add(int64(time.Hour))
	r := f.ok("UpdateTable", `{"TableName":"Music","ProvisionedThroughput":{"ReadCapacityUnits":20,"WriteCapacityUnits":5}}`)
	pt := path(r, "TableDescription", "ProvisionedThroughput").(map[string]any)
	if pt["ReadCapacityUnits"] != 20.0 || pt["WriteCapacityUnits"] != 5.0 || pt["NumberOfDecreasesToday"] != 1.0 ||
		pt["LastIncreaseDateTime"] == nil || pt["LastDecreaseDateTime"] == nil {
		t.Fatalf("throughput after update: %v", pt)
	}
	f.fails("UpdateTable", `{"TableName":"Music","BillingMode":"PAY_PER_REQUEST","ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":1}}`,
		"ValidationException", "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
	r = f.ok("UpdateTable", `{"TableName":"Music","BillingMode":"PAY_PER_REQUEST"}`)
	if path(r, "TableDescription", "BillingModeSummary", "BillingMode") != "PAY_PER_REQUEST" ||
		path(r, "TableDescription", "ProvisionedThroughput", "ReadCapacityUnits") != 0.0 {
		t.Fatalf("switch to on-demand: %v", r)
	}
	f.fails("UpdateTable", `{"TableName":"Music","BillingMode":"PROVISIONED"}`, "ValidationException",
		"One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED")
	r = f.ok("UpdateTable", `{"TableName":"Music","DeletionProtectionEnabled":true,"TableClass":"STANDARD_INFREQUENT_ACCESS"}`)
	if path(r, "TableDescription", "DeletionProtectionEnabled") != true ||
		path(r, "TableDescription", "TableClassSummary", "TableClass") != "STANDARD_INFREQUENT_ACCESS" {
		t.Fatalf("protection/class: %v", r)
	}
	f.fails("DeleteTable", `{"TableName":"Music"}`, "ValidationException",
		"Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
	f.ok("UpdateTable", `{"TableName":"Music","DeletionProtectionEnabled":false}`)
	f.ok("DeleteTable", `{"TableName":"Music"}`)
	f.fails("UpdateTable", `{"TableName":"Music","DeletionProtectionEnabled":false}`, "ResourceNotFoundException",
		"Requested resource not found: Table: Music not found")
}

func TestTags(t *testing.T) {
	f := newFixture(t)
	f.ok("CreateTable", createBody)
	arn := "arn:aws:dynamodb:us-east-1:000000000000:table/Music"
	f.ok("TagResource", `{"ResourceArn":"`+arn+`","Tags":[{"Key":"env","Value":"prod"},{"Key":"team","Value":"storage"}]}`)
	r := f.ok("ListTagsOfResource", `{"ResourceArn":"`+arn+`"}`)
	if fmt.Sprint(r["Tags"]) != "[map[Key:team Value:storage] map[Key:env Value:prod]]" {
		t.Fatalf("tags: %v", r["Tags"])
	}
	f.ok("UntagResource", `{"ResourceArn":"`+arn+`","TagKeys":["team"]}`)
	r = f.ok("ListTagsOfResource", `{"ResourceArn":"`+arn+`"}`)
	if fmt.Sprint(r["Tags"]) != "[map[Key:env Value:prod]]" {
		t.Fatalf("tags after untag: %v", r["Tags"])
	}
	missing := "arn:aws:dynamodb:us-east-1:000000000000:table/Nope"
	f.fails("ListTagsOfResource", `{"ResourceArn":"`+missing+`"}`, "ResourceNotFoundException",
		"Requested resource not found: ResourcArn: "+missing+" not found")
	f.fails("TagResource", `{"ResourceArn":"bogus","Tags":[{"Key":"a","Value":"b"}]}`, "ValidationException",
		"Invalid TableArn: Invalid ResourceArn provided as input bogus")
	f.fails("TagResource", `{"ResourceArn":"`+arn+`","Tags":[]}`, "ValidationException", "Atleast one Tag needs to be provided as Input.")
	f.fails("TagResource", `{"ResourceArn":"`+arn+`","Tags":[{"Key":"","Value":"b"}]}`, "ValidationException",
		"1 validation error detected: Value '' at 'tags.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1")
	f.fails("UntagResource", `{"ResourceArn":"`+arn+`","TagKeys":[]}`, "ValidationException", "Atleast one Tag Key needs to be provided as Input.")
}

func TestDescribeLimitsAndEndpoints(t *testing.T) {
	f := newFixture(t)
	r := f.ok("DescribeLimits", `{}`)
	if r["AccountMaxReadCapacityUnits"] != 80000.0 || r["TableMaxWriteCapacityUnits"] != 40000.0 {
		t.Fatalf("limits: %v", r)
	}
	r = f.ok("DescribeEndpoints", `{}`)
	if path(r, "Endpoints", 0, "Address") != "example.com" || path(r, "Endpoints", 0, "CachePeriodInMinutes") != 1440.0 {
		t.Fatalf("endpoints: %v", r)
	}
}
