package dynamo_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// batchStmt is one statement of a batch.
func batchStmt(stmt string, params ...types.AttributeValue) types.BatchStatementRequest {
	r := types.BatchStatementRequest{Statement: aws.String(stmt)}
	if len(params) > 0 {
		r.Parameters = params
	}
	return r
}

func TestSDKPartiQLBatch(t *testing.T) {
	c := startNode(t)
	sdkTable(t, c, "Batch", true)
	ctx := context.Background()
	run := func(stmts ...types.BatchStatementRequest) []types.BatchStatementResponse {
		t.Helper()
		out, err := c.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{Statements: stmts, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
		if err != nil {
			t.Fatalf("batch: %v", err)
		}
		if len(out.Responses) != len(stmts) {
			t.Fatalf("batch: %d responses to %d statements", len(out.Responses), len(stmts))
		}
		if len(out.ConsumedCapacity) != 1 || aws.ToFloat64(out.ConsumedCapacity[0].CapacityUnits) <= 0 {
			t.Errorf("batch capacity: %+v", out.ConsumedCapacity)
		}
		return out.Responses
	}
	var writes []types.BatchStatementRequest
	for i := range 5 {
		writes = append(writes, batchStmt(`INSERT INTO Batch VALUE {'pk': 'a', 'sk': ?, 'v': ?}`, num(fmt.Sprint(i)), s(fmt.Sprint("v", i))))
	}
	// A duplicate and a malformed statement fail alone.
	writes = append(writes, batchStmt(`INSERT INTO Batch VALUE {'pk': 'a', 'sk': 0}`), batchStmt(`INSERT INTO`))
	resp := run(writes...)
	for i := range 5 {
		if resp[i].Error != nil || aws.ToString(resp[i].TableName) != "Batch" {
			t.Fatalf("write %d: %+v", i, resp[i].Error)
		}
	}
	if e := resp[5].Error; e == nil || e.Code != types.BatchStatementErrorCodeEnumDuplicateItem || aws.ToString(e.Message) != "Duplicate primary key exists in table" {
		t.Fatalf("duplicate in batch: %+v", e)
	}
	if e := resp[6].Error; e == nil || e.Code != types.BatchStatementErrorCodeEnumValidationError {
		t.Fatalf("malformed in batch: %+v", e)
	}

	resp = run(
		batchStmt(`SELECT v FROM Batch WHERE pk = 'a' AND sk = 3`),
		batchStmt(`SELECT * FROM Batch WHERE pk = 'a' AND sk = 42`),
		batchStmt(`SELECT * FROM Batch WHERE pk = 'a'`),
		batchStmt(`SELECT * FROM NoSuchTable WHERE pk = 'a' AND sk = 1`),
	)
	if resp[0].Error != nil || str(resp[0].Item["v"]) != "v3" || len(resp[0].Item) != 1 {
		t.Fatalf("read by key: %+v %+v", resp[0].Item, resp[0].Error)
	}
	if resp[1].Error != nil || resp[1].Item != nil {
		t.Fatalf("read of a missing item: %+v %+v", resp[1].Item, resp[1].Error)
	}
	if e := resp[2].Error; e == nil || e.Code != types.BatchStatementErrorCodeEnumValidationError {
		t.Fatalf("read without the full key: %+v", e)
	}
	if e := resp[3].Error; e == nil || e.Code != types.BatchStatementErrorCodeEnumResourceNotFound {
		t.Fatalf("read of a missing table: %+v", e)
	}

	// A failed condition carries the item when asked.
	upd := batchStmt(`UPDATE Batch SET v = 'x' WHERE pk = 'a' AND sk = 1 AND v = 'nope'`)
	upd.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	resp = run(upd, batchStmt(`DELETE FROM Batch WHERE pk = 'a' AND sk = 2`))
	if e := resp[0].Error; e == nil || e.Code != types.BatchStatementErrorCodeEnumConditionalCheckFailed || str(e.Item["v"]) != "v1" {
		t.Fatalf("failed condition in batch: %+v", e)
	}
	if resp[1].Error != nil {
		t.Fatalf("delete in batch: %+v", resp[1].Error)
	}

	_, err := c.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{Statements: []types.BatchStatementRequest{
		batchStmt(`SELECT * FROM Batch WHERE pk = 'a' AND sk = 1`), batchStmt(`DELETE FROM Batch WHERE pk = 'a' AND sk = 1`)}})
	wantCode(t, "reads and writes", err, "ValidationException")
	many := make([]types.BatchStatementRequest, 26)
	for i := range many {
		many[i] = batchStmt(`SELECT * FROM Batch WHERE pk = 'a' AND sk = 1`)
	}
	_, err = c.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{Statements: many})
	wantMessage(t, "26 statements", err, "ValidationException", "Member must have length less than or equal to 25")
}
