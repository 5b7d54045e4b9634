package dynamo_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/partitadb/partita/dynamo"
)

// validationCase is a request with problems and what DynamoDB answers.
// want is the whole message of the ValidationException; a case whose
// schema violation hides a semantic problem names the request with the
// violation mended (fixed) and what that one answers (then: the error
// type, or "ok"; thenMsg), which shows the semantic check is real and
// comes after.
type validationCase struct {
	op, body, want       string
	fixed, then, thenMsg string
}

// validationCases covers every operation the server dispatches: one
// request with several schema violations (where the operation has more
// than one constrained member) and one whose schema violation must win
// over a semantic problem. The order and wording are DynamoDB's
// (docs/protocol.md, "Validation order").
var validationCases = []validationCase{
	{op: "CreateTable", body: `{"TableName":"abc;","BillingMode":"FREE","KeySchema":[{"AttributeName":"pk","KeyType":"HASHY"}]}`,
		want: "4 validation errors detected: Value null at 'attributeDefinitions' failed to satisfy constraint: Member must not be null; Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'HASHY' at 'keySchema.1.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]; Value 'FREE' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"},
	{op: "CreateTable", body: `{"TableName":"tbl","BillingMode":"FREE","AttributeDefinitions":[{"AttributeName":"x","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}`,
		want:  "1 validation error detected: Value 'FREE' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]",
		fixed: `{"TableName":"tbl","BillingMode":"PAY_PER_REQUEST","AttributeDefinitions":[{"AttributeName":"x","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}`,
		then:  "ValidationException", thenMsg: "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [pk], AttributeDefinitions: [x]"},
	{op: "CreateTable", body: `{"TableName":"a;","BillingMode":"FREE","KeySchema":[{"AttributeName":"pk","KeyType":"HASHY"}]}`,
		want: "TableName must be at least 3 characters long and at most 255 characters long"},
	{op: "DescribeTable", body: `{"TableName":"abc;","Unknown":1}`,
		want: "1 validation error detected: Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
	{op: "DescribeTable", body: `{"TableName":"nope;"}`,
		want:  "1 validation error detected: Value 'nope;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
		fixed: `{"TableName":"nope"}`,
		then:  "ResourceNotFoundException", thenMsg: "Requested resource not found: Table: nope not found"},
	{op: "DeleteTable", body: `{"TableName":"abc;"}`,
		want: "1 validation error detected: Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
	{op: "DeleteTable", body: `{"TableName":"nope;"}`,
		want:  "1 validation error detected: Value 'nope;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
		fixed: `{"TableName":"nope"}`,
		then:  "ResourceNotFoundException", thenMsg: "Requested resource not found: Table: nope not found"},
	{op: "UpdateTable", body: `{"TableName":"abc;","BillingMode":"FREE","ProvisionedThroughput":{"ReadCapacityUnits":0,"WriteCapacityUnits":0}}`,
		want: "4 validation errors detected: Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'FREE' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]; Value '0' at 'provisionedThroughput.writeCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1; Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1"},
	{op: "UpdateTable", body: `{"TableName":"tbl","TableClass":"COLD"}`,
		want:  "1 validation error detected: Value 'COLD' at 'tableClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, STANDARD_INFREQUENT_ACCESS]",
		fixed: `{"TableName":"tbl"}`,
		then:  "ValidationException", thenMsg: "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"},
	{op: "ListTables", body: `{"Limit":0,"ExclusiveStartTableName":"a;"}`,
		want: "3 validation errors detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; Value 'a;' at 'exclusiveStartTableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a;' at 'exclusiveStartTableName' failed to satisfy constraint: Member must have length greater than or equal to 3"},
	{op: "ListTables", body: `{"Limit":101,"ExclusiveStartTableName":"nope"}`,
		want:  "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100",
		fixed: `{"Limit":100,"ExclusiveStartTableName":"nope"}`,
		then:  "ok", thenMsg: ""},
	{op: "TagResource", body: `{"ResourceArn":"","Tags":[{"Key":"","Value":"v"},{"Key":"k"}]}`,
		want: "3 validation errors detected: Value '' at 'resourceArn' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '' at 'tags.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1; Value null at 'tags.2.member.value' failed to satisfy constraint: Member must not be null"},
	{op: "TagResource", body: `{"ResourceArn":"bad","Tags":[{"Key":"aws:x","Value":"v"},{"Key":""}]}`,
		want:  "2 validation errors detected: Value '' at 'tags.2.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1; Value null at 'tags.2.member.value' failed to satisfy constraint: Member must not be null",
		fixed: `{"ResourceArn":"bad","Tags":[{"Key":"aws:x","Value":"v"}]}`,
		then:  "ValidationException", thenMsg: "One or more parameter values were invalid: Tag keys starting with 'aws:' are reserved for system use: aws:x"},
	{op: "UntagResource", body: `{"ResourceArn":"","TagKeys":["","k"]}`,
		want: "2 validation errors detected: Value '' at 'resourceArn' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '' at 'tagKeys.1.member' failed to satisfy constraint: Member must have length greater than or equal to 1"},
	{op: "UntagResource", body: `{"ResourceArn":"bad","TagKeys":[""]}`,
		want:  "1 validation error detected: Value '' at 'tagKeys.1.member' failed to satisfy constraint: Member must have length greater than or equal to 1",
		fixed: `{"ResourceArn":"bad","TagKeys":["k"]}`,
		then:  "ValidationException", thenMsg: "Invalid TableArn: Invalid ResourceArn provided as input bad"},
	{op: "ListTagsOfResource", body: `{"NextToken":"x"}`,
		want: "1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null"},
	{op: "ListTagsOfResource", body: `{"ResourceArn":""}`,
		want:  "1 validation error detected: Value '' at 'resourceArn' failed to satisfy constraint: Member must have length greater than or equal to 1",
		fixed: `{"ResourceArn":"bad"}`,
		then:  "ValidationException", thenMsg: "Invalid TableArn: Invalid ResourceArn provided as input bad"},
	{op: "PutItem", body: `{"TableName":"abc;","ReturnConsumedCapacity":"hi","ReturnItemCollectionMetrics":"hi","ReturnValues":"hi","ConditionalOperator":"XOR","ReturnValuesOnConditionCheckFailure":"NEW"}`,
		want: "7 validation errors detected: Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value null at 'item' failed to satisfy constraint: Member must not be null; Value 'XOR' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [OR, AND]; Value 'hi' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]; Value 'hi' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]; Value 'NEW' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]"},
	{op: "PutItem", body: `{"TableName":"tbl","Item":{"pk":{"S":"a"}},"ReturnValues":"ALL_NEW","ReturnConsumedCapacity":"hi"}`,
		want:  "1 validation error detected: Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]",
		fixed: `{"TableName":"tbl","Item":{"pk":{"S":"a"}},"ReturnValues":"ALL_NEW"}`,
		then:  "ValidationException", thenMsg: "Return values set to invalid value"},
	{op: "GetItem", body: `{"TableName":"abc;","ReturnConsumedCapacity":"hi","AttributesToGet":[]}`,
		want: "4 validation errors detected: Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1; Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value null at 'key' failed to satisfy constraint: Member must not be null"},
	{op: "GetItem", body: `{"TableName":"tbl","Key":{"pk":{"S":"a"}},"AttributesToGet":["a","a"],"ReturnConsumedCapacity":"hi"}`,
		want:  "1 validation error detected: Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]",
		fixed: `{"TableName":"tbl","Key":{"pk":{"S":"a"}},"AttributesToGet":["a","a"]}`,
		then:  "ValidationException", thenMsg: "One or more parameter values were invalid: Duplicate value in attribute name: a"},
	{op: "UpdateItem", body: `{"TableName":"abc;","ReturnConsumedCapacity":"hi","ReturnItemCollectionMetrics":"hi","ReturnValues":"hi","AttributeUpdates":{"a":{"Action":"SWAP"}}}`,
		want: "6 validation errors detected: Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'hi' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]; Value 'hi' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]; Value null at 'key' failed to satisfy constraint: Member must not be null; Value 'SWAP' at 'attributeUpdates.a.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"},
	{op: "UpdateItem", body: `{"TableName":"tbl","Key":{"pk":{"S":"a"}},"UpdateExpression":"SET","ReturnValues":"hi"}`,
		want:  "1 validation error detected: Value 'hi' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]",
		fixed: `{"TableName":"tbl","Key":{"pk":{"S":"a"}},"UpdateExpression":"SET","ReturnValues":"NONE"}`,
		then:  "ValidationException", thenMsg: "Invalid UpdateExpression: Syntax error; token: \"<EOF>\", near: \"SET\""},
	{op: "DeleteItem", body: `{"TableName":"abc;","ReturnConsumedCapacity":"hi","ReturnItemCollectionMetrics":"hi","ReturnValues":"hi","Expected":{"a":{"ComparisonOperator":"XX"}}}`,
		want: "6 validation errors detected: Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'hi' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]; Value 'hi' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]; Value null at 'key' failed to satisfy constraint: Member must not be null; Value 'XX' at 'expected.a.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"},
	{op: "DeleteItem", body: `{"TableName":"tbl","Key":{"pk":{"S":"a"}},"ReturnValues":"ALL_NEW","ReturnItemCollectionMetrics":"hi"}`,
		want:  "1 validation error detected: Value 'hi' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]",
		fixed: `{"TableName":"tbl","Key":{"pk":{"S":"a"}},"ReturnValues":"ALL_NEW"}`,
		then:  "ValidationException", thenMsg: "Return values set to invalid value"},
	{op: "Query", body: `{"TableName":"abc;","ReturnConsumedCapacity":"hi","AttributesToGet":[],"IndexName":"abc;","Select":"hi","Limit":-1,"KeyConditions":{"a":{},"b":{"ComparisonOperator":""}}}`,
		want: "8 validation errors detected: Value '-1' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; Value null at 'keyConditions.a.member.comparisonOperator' failed to satisfy constraint: Member must not be null; Value '' at 'keyConditions.b.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]; Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1; Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'hi' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]; Value 'abc;' at 'indexName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
	{op: "Query", body: `{"TableName":"tbl","Select":"COUNT","ProjectionExpression":"a","Limit":0}`,
		want:  "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
		fixed: `{"TableName":"tbl","Select":"COUNT","ProjectionExpression":"a","Limit":1}`,
		then:  "ValidationException", thenMsg: "Cannot specify the ProjectionExpression when choosing to get only the Count"},
	{op: "Scan", body: `{"TableName":"abc;","ReturnConsumedCapacity":"hi","AttributesToGet":[],"IndexName":"ab","Segment":-1,"TotalSegments":0,"Select":"hi","Limit":-1,"ConditionalOperator":"AN"}`,
		want: "9 validation errors detected: Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'ab' at 'indexName' failed to satisfy constraint: Member must have length greater than or equal to 3; Value 'hi' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]; Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '-1' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; Value 'AN' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [OR, AND]; Value '-1' at 'segment' failed to satisfy constraint: Member must have value greater than or equal to 0; Value '0' at 'totalSegments' failed to satisfy constraint: Member must have value greater than or equal to 1"},
	{op: "Scan", body: `{"TableName":"tbl","Segment":1,"Limit":0}`,
		want:  "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
		fixed: `{"TableName":"tbl","Segment":1,"Limit":1}`,
		then:  "ValidationException", thenMsg: "The TotalSegments parameter is required but was not present in the request when Segment parameter is present"},
	{op: "BatchGetItem", body: `{"RequestItems":{"a":{},"abc":{"Keys":[]}},"ReturnConsumedCapacity":"hi"}`,
		want: "4 validation errors detected: Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; Value 'a' at 'requestItems.a.member.tableName' failed to satisfy constraint: Member must have length greater than or equal to 3; Value null at 'requestItems.a.member.keys' failed to satisfy constraint: Member must not be null; Value '[]' at 'requestItems.abc.member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1"},
	{op: "BatchGetItem", body: `{"RequestItems":{"tbl":{"Keys":[{"pk":{"S":"a"}},{"pk":{"S":"a"}}]}},"ReturnConsumedCapacity":"hi"}`,
		want:  "1 validation error detected: Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]",
		fixed: `{"RequestItems":{"tbl":{"Keys":[{"pk":{"S":"a"}},{"pk":{"S":"a"}}]}}}`,
		then:  "ValidationException", thenMsg: "Provided list of item keys contains duplicates"},
	{op: "BatchWriteItem", body: `{"RequestItems":{"aa;":[{"PutRequest":{},"DeleteRequest":{}}]},"ReturnConsumedCapacity":"hi","ReturnItemCollectionMetrics":"hi"}`,
		want: "5 validation errors detected: Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; Value 'hi' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]; Value 'aa;' at 'requestItems.aa;.member.tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value null at 'requestItems.aa;.member.1.member.deleteRequest.key' failed to satisfy constraint: Member must not be null; Value null at 'requestItems.aa;.member.1.member.putRequest.item' failed to satisfy constraint: Member must not be null"},
	{op: "BatchWriteItem", body: `{"RequestItems":{"tbl":[{"PutRequest":{"Item":{"pk":{"S":"a"}}},"DeleteRequest":{"Key":{"pk":{"S":"a"}}}}]},"ReturnConsumedCapacity":"hi"}`,
		want:  "1 validation error detected: Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]",
		fixed: `{"RequestItems":{"tbl":[{"PutRequest":{"Item":{"pk":{"S":"a"}}},"DeleteRequest":{"Key":{"pk":{"S":"a"}}}}]}}`,
		then:  "ValidationException", thenMsg: "One or more parameter values were invalid: WriteRequest must contain exactly one of PutRequest or DeleteRequest"},
	{op: "ExecuteStatement", body: `{"Statement":"","Limit":0,"ReturnConsumedCapacity":"hi","Parameters":[]}`,
		want: "4 validation errors detected: Value '' at 'statement' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '[]' at 'parameters' failed to satisfy constraint: Member must have length greater than or equal to 1; Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"},
	{op: "ExecuteStatement", body: `{"Statement":"SELEC * FROM tbl","ReturnConsumedCapacity":"hi"}`,
		want:  "1 validation error detected: Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]",
		fixed: `{"Statement":"SELEC * FROM tbl"}`,
		then:  "ValidationException", thenMsg: "Statement wasn't well formed, can't be processed: Expected data manipulation"},
	{op: "BatchExecuteStatement", body: `{"Statements":[{"Statement":""},{}],"ReturnConsumedCapacity":"hi"}`,
		want: "3 validation errors detected: Value '' at 'statements.1.member.statement' failed to satisfy constraint: Member must have length greater than or equal to 1; Value null at 'statements.2.member.statement' failed to satisfy constraint: Member must not be null; Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"},
	{op: "BatchExecuteStatement", body: `{"Statements":[{"Statement":"SELECT * FROM tbl"},{"Statement":"INSERT INTO tbl VALUE {'pk':'a'}"}],"ReturnConsumedCapacity":"hi"}`,
		want:  "1 validation error detected: Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]",
		fixed: `{"Statements":[{"Statement":"SELECT * FROM tbl"},{"Statement":"INSERT INTO tbl VALUE {'pk':'a'}"}]}`,
		then:  "ValidationException", thenMsg: "Batch requests must contain either only read statements or only write statements"},
	{op: "ExecuteTransaction", body: `{"TransactStatements":[],"ClientRequestToken":"","ReturnConsumedCapacity":"hi"}`,
		want: "3 validation errors detected: Value '[]' at 'transactStatements' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '' at 'clientRequestToken' failed to satisfy constraint: Member must have length greater than or equal to 1; Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"},
	{op: "ExecuteTransaction", body: `{"TransactStatements":[{"Statement":"SELECT * FROM tbl"},{"Statement":""}]}`,
		want:  "1 validation error detected: Value '' at 'transactStatements.2.member.statement' failed to satisfy constraint: Member must have length greater than or equal to 1",
		fixed: `{"TransactStatements":[{"Statement":"SELECT * FROM tbl"},{"Statement":"SELECT * FROM tbl"}]}`,
		then:  "ValidationException", thenMsg: "Validation failed in TransactStatements[0]: Select statements within ExecuteTransaction must specify the primary key in the where clause."},
	{op: "TransactWriteItems", body: `{"TransactItems":[{"Put":{"TableName":"a;"}},{"Update":{"TableName":"tbl"}}],"ReturnConsumedCapacity":"hi","ClientRequestToken":""}`,
		want: "7 validation errors detected: Value '' at 'clientRequestToken' failed to satisfy constraint: Member must have length greater than or equal to 1; Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; Value 'a;' at 'transactItems.1.member.put.tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a;' at 'transactItems.1.member.put.tableName' failed to satisfy constraint: Member must have length greater than or equal to 3; Value null at 'transactItems.1.member.put.item' failed to satisfy constraint: Member must not be null; Value null at 'transactItems.2.member.update.key' failed to satisfy constraint: Member must not be null; Value null at 'transactItems.2.member.update.updateExpression' failed to satisfy constraint: Member must not be null"},
	{op: "TransactWriteItems", body: `{"TransactItems":[{"Put":{"TableName":"abc;","Item":{"pk":{"S":"a"}}},"Delete":{"TableName":"tbl","Key":{"pk":{"S":"a"}}}}]}`,
		want:  "1 validation error detected: Value 'abc;' at 'transactItems.1.member.put.tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
		fixed: `{"TransactItems":[{"Put":{"TableName":"tbl","Item":{"pk":{"S":"a"}}},"Delete":{"TableName":"tbl","Key":{"pk":{"S":"a"}}}}]}`,
		then:  "ValidationException", thenMsg: "TransactItems can only contain one of Check, Put, Update or Delete"},
	{op: "TransactGetItems", body: `{"TransactItems":[{"Get":{"TableName":"a;"}},{}],"ReturnConsumedCapacity":"hi"}`,
		want: "5 validation errors detected: Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; Value 'a;' at 'transactItems.1.member.get.tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a;' at 'transactItems.1.member.get.tableName' failed to satisfy constraint: Member must have length greater than or equal to 3; Value null at 'transactItems.1.member.get.key' failed to satisfy constraint: Member must not be null; Value null at 'transactItems.2.member.get' failed to satisfy constraint: Member must not be null"},
	{op: "TransactGetItems", body: `{"TransactItems":[{"Get":{"TableName":"tbl","Key":{"pk":{"S":"a"}}}},{"Get":{"TableName":"tbl","Key":{"pk":{"S":"a"}}}}],"ReturnConsumedCapacity":"hi"}`,
		want:  "1 validation error detected: Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]",
		fixed: `{"TransactItems":[{"Get":{"TableName":"tbl","Key":{"pk":{"S":"a"}}}},{"Get":{"TableName":"tbl","Key":{"pk":{"S":"a"}}}}],"ReturnConsumedCapacity":"TOTAL"}`,
		then:  "ValidationException", thenMsg: "Transaction request cannot include multiple operations on one item"},
	{op: "UpdateTimeToLive", body: `{"TableName":"abc;","TimeToLiveSpecification":{"AttributeName":""}}`,
		want: "3 validation errors detected: Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null; Value '' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
	{op: "UpdateTimeToLive", body: `{"TableName":"tbl","TimeToLiveSpecification":{"Enabled":false,"AttributeName":""}}`,
		want:  "1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1",
		fixed: `{"TableName":"tbl","TimeToLiveSpecification":{"Enabled":false,"AttributeName":"ttl"}}`,
		then:  "ValidationException", thenMsg: "TimeToLive is already disabled"},
	{op: "DescribeTimeToLive", body: `{"TableName":"abc;"}`,
		want: "1 validation error detected: Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
	{op: "DescribeTimeToLive", body: `{"TableName":"nope;"}`,
		want:  "1 validation error detected: Value 'nope;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
		fixed: `{"TableName":"nope"}`,
		then:  "ResourceNotFoundException", thenMsg: "Requested resource not found: Table: nope not found"},
	{op: "CreateBackup", body: `{"TableName":"a;","BackupName":"b;"}`,
		want: "4 validation errors detected: Value 'a;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a;' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3; Value 'b;' at 'backupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'b;' at 'backupName' failed to satisfy constraint: Member must have length greater than or equal to 3"},
	{op: "CreateBackup", body: `{"TableName":"nope","BackupName":"b;"}`,
		want:  "2 validation errors detected: Value 'b;' at 'backupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'b;' at 'backupName' failed to satisfy constraint: Member must have length greater than or equal to 3",
		fixed: `{"TableName":"nope","BackupName":"bk1"}`,
		then:  "ValidationException", thenMsg: "Backups are not available on this node"},
	{op: "DescribeBackup", body: `{"BackupArn":""}`,
		want: "1 validation error detected: Value '' at 'backupArn' failed to satisfy constraint: Member must have length greater than or equal to 37"},
	{op: "DescribeBackup", body: `{"BackupArn":"arn:aws:dynamodb:us-east-1:0:table/x"}`,
		want:  "1 validation error detected: Value 'arn:aws:dynamodb:us-east-1:0:table/x' at 'backupArn' failed to satisfy constraint: Member must have length greater than or equal to 37",
		fixed: `{"BackupArn":"arn:aws:dynamodb:us-east-1:000000000000:table/x/backup/1"}`,
		then:  "ValidationException", thenMsg: "Backups are not available on this node"},
	{op: "ListBackups", body: `{"Limit":0,"TableName":"a;","BackupType":"X","ExclusiveStartBackupArn":""}`,
		want: "5 validation errors detected: Value 'a;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a;' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3; Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; Value 'X' at 'backupType' failed to satisfy constraint: Member must satisfy enum value set: [USER, SYSTEM, AWS_BACKUP, ALL]; Value '' at 'exclusiveStartBackupArn' failed to satisfy constraint: Member must have length greater than or equal to 37"},
	{op: "ListBackups", body: `{"Limit":101,"TimeRangeLowerBound":2,"TimeRangeUpperBound":1}`,
		want:  "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100",
		fixed: `{"Limit":100,"TimeRangeLowerBound":2,"TimeRangeUpperBound":1}`,
		then:  "ValidationException", thenMsg: "Backups are not available on this node"},
	{op: "DeleteBackup", body: `{"BackupArn":""}`,
		want: "1 validation error detected: Value '' at 'backupArn' failed to satisfy constraint: Member must have length greater than or equal to 37"},
	{op: "DeleteBackup", body: `{"BackupArn":"arn:aws:dynamodb:us-east-1:0:table/x"}`,
		want:  "1 validation error detected: Value 'arn:aws:dynamodb:us-east-1:0:table/x' at 'backupArn' failed to satisfy constraint: Member must have length greater than or equal to 37",
		fixed: `{"BackupArn":"arn:aws:dynamodb:us-east-1:000000000000:table/x/backup/1"}`,
		then:  "ValidationException", thenMsg: "Backups are not available on this node"},
	{op: "RestoreTableFromBackup", body: `{"TargetTableName":"a;","BackupArn":"","BillingModeOverride":"X"}`,
		want: "4 validation errors detected: Value 'a;' at 'targetTableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a;' at 'targetTableName' failed to satisfy constraint: Member must have length greater than or equal to 3; Value '' at 'backupArn' failed to satisfy constraint: Member must have length greater than or equal to 37; Value 'X' at 'billingModeOverride' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"},
	{op: "RestoreTableFromBackup", body: `{"TargetTableName":"tbl","BackupArn":"arn:aws:dynamodb:us-east-1:0:table/x","BillingModeOverride":"X"}`,
		want:  "2 validation errors detected: Value 'arn:aws:dynamodb:us-east-1:0:table/x' at 'backupArn' failed to satisfy constraint: Member must have length greater than or equal to 37; Value 'X' at 'billingModeOverride' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]",
		fixed: `{"TargetTableName":"tbl","BackupArn":"arn:aws:dynamodb:us-east-1:000000000000:table/x/backup/1"}`,
		then:  "ValidationException", thenMsg: "Backups are not available on this node"},
	{op: "DescribeContinuousBackups", body: `{"TableName":"a;"}`,
		want: "2 validation errors detected: Value 'a;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a;' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"},
	{op: "DescribeContinuousBackups", body: `{"TableName":"nope;"}`,
		want:  "1 validation error detected: Value 'nope;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
		fixed: `{"TableName":"nope"}`,
		then:  "TableNotFoundException", thenMsg: "Table not found: nope"},
	{op: "UpdateContinuousBackups", body: `{"TableName":"a;","PointInTimeRecoverySpecification":{"RecoveryPeriodInDays":0}}`,
		want: "4 validation errors detected: Value 'a;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a;' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3; Value null at 'pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled' failed to satisfy constraint: Member must not be null; Value '0' at 'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy constraint: Member must have value greater than or equal to 1"},
	{op: "UpdateContinuousBackups", body: `{"TableName":"abc;","PointInTimeRecoverySpecification":{"PointInTimeRecoveryEnabled":false,"RecoveryPeriodInDays":5}}`,
		want:  "1 validation error detected: Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
		fixed: `{"TableName":"tbl","PointInTimeRecoverySpecification":{"PointInTimeRecoveryEnabled":false,"RecoveryPeriodInDays":5}}`,
		then:  "ValidationException", thenMsg: "RecoveryPeriodInDays can only be specified when PointInTimeRecoveryEnabled is true"},
	{op: "ExportTableToPointInTime", body: `{"TableArn":"","S3Bucket":"","ExportFormat":"X","ExportType":"Y","ClientToken":""}`,
		want: "5 validation errors detected: Value '' at 'tableArn' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '' at 's3Bucket' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9A-Z]+[\\.\\-\\w]*[a-z0-9A-Z]+$; Value 'X' at 'exportFormat' failed to satisfy constraint: Member must satisfy enum value set: [DYNAMODB_JSON, ION]; Value 'Y' at 'exportType' failed to satisfy constraint: Member must satisfy enum value set: [FULL_EXPORT, INCREMENTAL_EXPORT]; Value '' at 'clientToken' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[^\\$]+$"},
	{op: "ExportTableToPointInTime", body: `{"TableArn":"arn:aws:dynamodb:us-east-1:000000000000:table/tbl","S3Bucket":"b","ExportFormat":"ION"}`,
		want:  "1 validation error detected: Value 'b' at 's3Bucket' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9A-Z]+[\\.\\-\\w]*[a-z0-9A-Z]+$",
		fixed: `{"TableArn":"arn:aws:dynamodb:us-east-1:000000000000:table/tbl","S3Bucket":"bucket1","ExportFormat":"ION"}`,
		then:  "ValidationException", thenMsg: "ExportFormat ION is not supported: only DYNAMODB_JSON"},
	{op: "DescribeExport", body: `{"ExportArn":""}`,
		want: "1 validation error detected: Value '' at 'exportArn' failed to satisfy constraint: Member must have length greater than or equal to 37"},
	{op: "DescribeExport", body: `{"ExportArn":"arn:aws:dynamodb:us-east-1:0:table/x"}`,
		want:  "1 validation error detected: Value 'arn:aws:dynamodb:us-east-1:0:table/x' at 'exportArn' failed to satisfy constraint: Member must have length greater than or equal to 37",
		fixed: `{"ExportArn":"arn:aws:dynamodb:us-east-1:000000000000:table/x/export/1"}`,
		then:  "ValidationException", thenMsg: "Exports and imports are not available on this node"},
	{op: "ListExports", body: `{"MaxResults":0,"TableArn":"","NextToken":""}`,
		want: "2 validation errors detected: Value '' at 'tableArn' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
	{op: "ListExports", body: `{"MaxResults":26,"NextToken":"garbage"}`,
		want:  "1 validation error detected: Value '26' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 25",
		fixed: `{"MaxResults":25,"NextToken":"garbage"}`,
		then:  "ValidationException", thenMsg: "Exports and imports are not available on this node"},
	{op: "ImportTable", body: `{"InputFormat":"X","InputCompressionType":"Y","ClientToken":""}`,
		want: "5 validation errors detected: Value '' at 'clientToken' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[^\\$]+$; Value null at 's3BucketSource' failed to satisfy constraint: Member must not be null; Value 'X' at 'inputFormat' failed to satisfy constraint: Member must satisfy enum value set: [DYNAMODB_JSON, ION, CSV]; Value 'Y' at 'inputCompressionType' failed to satisfy constraint: Member must satisfy enum value set: [GZIP, ZSTD, NONE]; Value null at 'tableCreationParameters' failed to satisfy constraint: Member must not be null"},
	{op: "ImportTable", body: `{"InputFormat":"ION","S3BucketSource":{"S3Bucket":"b"},"TableCreationParameters":{"TableName":"abc","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}}`,
		want:  "1 validation error detected: Value 'b' at 's3BucketSource.s3Bucket' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9A-Z]+[\\.\\-\\w]*[a-z0-9A-Z]+$",
		fixed: `{"InputFormat":"ION","S3BucketSource":{"S3Bucket":"bucket1"},"TableCreationParameters":{"TableName":"abc","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}}`,
		then:  "ValidationException", thenMsg: "InputFormat ION is not supported: only DYNAMODB_JSON"},
	{op: "DescribeImport", body: `{"ImportArn":""}`,
		want: "1 validation error detected: Value '' at 'importArn' failed to satisfy constraint: Member must have length greater than or equal to 37"},
	{op: "DescribeImport", body: `{"ImportArn":"arn:aws:dynamodb:us-east-1:0:table/x"}`,
		want:  "1 validation error detected: Value 'arn:aws:dynamodb:us-east-1:0:table/x' at 'importArn' failed to satisfy constraint: Member must have length greater than or equal to 37",
		fixed: `{"ImportArn":"arn:aws:dynamodb:us-east-1:000000000000:table/x/import/1"}`,
		then:  "ValidationException", thenMsg: "Exports and imports are not available on this node"},
	{op: "ListImports", body: `{"PageSize":0,"TableArn":"","NextToken":""}`,
		want: "2 validation errors detected: Value '' at 'tableArn' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '0' at 'pageSize' failed to satisfy constraint: Member must have value greater than or equal to 1"},
	{op: "ListImports", body: `{"PageSize":26,"NextToken":"garbage"}`,
		want:  "1 validation error detected: Value '26' at 'pageSize' failed to satisfy constraint: Member must have value less than or equal to 25",
		fixed: `{"PageSize":25,"NextToken":"garbage"}`,
		then:  "ValidationException", thenMsg: "Exports and imports are not available on this node"},
	{op: "RestoreTableToPointInTime", body: `{"TargetTableName":"a;","SourceTableName":"b;","BillingModeOverride":"X"}`,
		want: "5 validation errors detected: Value 'a;' at 'targetTableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a;' at 'targetTableName' failed to satisfy constraint: Member must have length greater than or equal to 3; Value 'b;' at 'sourceTableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'b;' at 'sourceTableName' failed to satisfy constraint: Member must have length greater than or equal to 3; Value 'X' at 'billingModeOverride' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"},
	{op: "RestoreTableToPointInTime", body: `{"TargetTableName":"abc","SourceTableName":"a;","RestoreDateTime":1,"UseLatestRestorableTime":true}`,
		want:  "2 validation errors detected: Value 'a;' at 'sourceTableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a;' at 'sourceTableName' failed to satisfy constraint: Member must have length greater than or equal to 3",
		fixed: `{"TargetTableName":"abc","SourceTableName":"tbl","RestoreDateTime":1,"UseLatestRestorableTime":true}`,
		then:  "ValidationException", thenMsg: "Only one of RestoreDateTime or UseLatestRestorableTime may be specified"},
	{op: "ListStreams", body: `{"Limit":0,"TableName":"a;","ExclusiveStartStreamArn":"x"}`,
		want: "4 validation errors detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; Value 'a;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a;' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3; Value 'x' at 'exclusiveStartStreamArn' failed to satisfy constraint: Member must have length greater than or equal to 37"},
	{op: "ListStreams", body: `{"Limit":101,"TableName":"nope"}`,
		want:  "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100",
		fixed: `{"Limit":100,"TableName":"nope"}`,
		then:  "ok", thenMsg: ""},
	{op: "DescribeStream", body: `{"StreamArn":"x","Limit":0,"ExclusiveStartShardId":"y"}`,
		want: "3 validation errors detected: Value 'x' at 'streamArn' failed to satisfy constraint: Member must have length greater than or equal to 37; Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; Value 'y' at 'exclusiveStartShardId' failed to satisfy constraint: Member must have length greater than or equal to 28"},
	{op: "DescribeStream", body: `{"StreamArn":"arn:aws:dynamodb:us-east-1:000000000000:table/nope/stream/2024","Limit":0}`,
		want:  "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
		fixed: `{"StreamArn":"arn:aws:dynamodb:us-east-1:000000000000:table/nope/stream/2024","Limit":1}`,
		then:  "ResourceNotFoundException", thenMsg: "Requested resource not found: Stream: arn:aws:dynamodb:us-east-1:000000000000:table/nope/stream/2024 not found"},
	{op: "GetShardIterator", body: `{"StreamArn":"x","ShardId":"y","ShardIteratorType":"Z","SequenceNumber":"1"}`,
		want: "4 validation errors detected: Value 'x' at 'streamArn' failed to satisfy constraint: Member must have length greater than or equal to 37; Value 'y' at 'shardId' failed to satisfy constraint: Member must have length greater than or equal to 28; Value 'Z' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER]; Value '1' at 'sequenceNumber' failed to satisfy constraint: Member must have length greater than or equal to 21"},
	{op: "GetShardIterator", body: `{"StreamArn":"arn:aws:dynamodb:us-east-1:000000000000:table/nope/stream/2024","ShardId":"shardId-00000000000000000000-00000000","ShardIteratorType":"AT_SEQUENCE_NUMBER","SequenceNumber":"1"}`,
		want:  "1 validation error detected: Value '1' at 'sequenceNumber' failed to satisfy constraint: Member must have length greater than or equal to 21",
		fixed: `{"StreamArn":"arn:aws:dynamodb:us-east-1:000000000000:table/nope/stream/2024","ShardId":"shardId-00000000000000000000-00000000","ShardIteratorType":"AT_SEQUENCE_NUMBER","SequenceNumber":"100000000000000000000"}`,
		then:  "ResourceNotFoundException", thenMsg: "Requested resource not found: Stream: arn:aws:dynamodb:us-east-1:000000000000:table/nope/stream/2024 not found"},
	{op: "GetRecords", body: `{"ShardIterator":"","Limit":0}`,
		want: "2 validation errors detected: Value '' at 'shardIterator' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"},
	{op: "GetRecords", body: `{"ShardIterator":"garbage","Limit":1001}`,
		want:  "1 validation error detected: Value '1001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 1000",
		fixed: `{"ShardIterator":"garbage","Limit":1000}`,
		then:  "ValidationException", thenMsg: "Invalid ShardIterator"},
}

// operationsWithoutMembers take no parameters, so nothing in a request
// can be invalid: members they do not know are ignored.
var operationsWithoutMembers = []string{"DescribeLimits", "DescribeEndpoints"}

func TestValidationOrder(t *testing.T) {
	f := newFixture(t)
	f.createTable("tbl", "")
	for _, c := range validationCases {
		r := sendOp(f, c.op, c.body)
		if typ := errType(r); typ != "ValidationException" || errMessage(r.body) != c.want {
			t.Errorf("%s %s:\n got %s %q\nwant ValidationException %q", c.op, c.body, typ, errMessage(r.body), c.want)
		}
		if c.fixed == "" {
			continue
		}
		r = sendOp(f, c.op, c.fixed)
		if typ := errType(r); typ != c.then || errMessage(r.body) != c.thenMsg {
			t.Errorf("%s %s (mended):\n got %s %q\nwant %s %q", c.op, c.fixed, typ, errMessage(r.body), c.then, c.thenMsg)
		}
	}
	for _, op := range operationsWithoutMembers {
		if r := sendOp(f, op, `{"Limit":-1,"TableName":"a;"}`); r.status != http.StatusOK {
			t.Errorf("%s: status %d: %s", op, r.status, r.raw)
		}
	}
}

// TestValidationCoversEveryOperation fails when an operation is added
// without its validation cases.
func TestValidationCoversEveryOperation(t *testing.T) {
	several, semantic := map[string]bool{}, map[string]bool{}
	for _, c := range validationCases {
		several[c.op] = true
		if c.fixed != "" {
			semantic[c.op] = true
		}
	}
	for _, op := range operationsWithoutMembers {
		several[op], semantic[op] = true, true
	}
	for _, op := range dynamo.OperationNames() {
		if !several[op] || !semantic[op] {
			t.Errorf("%s: no validation case (several violations: %t, schema before semantic: %t)", op, several[op], semantic[op])
		}
	}
}

// sendOp sends op with body under its target prefix.
func sendOp(f *fixture, op, body string) response {
	f.t.Helper()
	prefix := "DynamoDB_20120810."
	if dynamo.IsStreamsOperation(op) {
		prefix = "DynamoDBStreams_20120810."
	}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", prefix+op)
	return f.send(req)
}

// errType is the error type of an answer (after the '#'), or "ok".
func errType(r response) string {
	if r.status == http.StatusOK {
		return "ok"
	}
	typ, _ := r.body["__type"].(string)
	return typ[strings.IndexByte(typ, '#')+1:]
}
