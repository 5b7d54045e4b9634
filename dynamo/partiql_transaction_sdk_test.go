package dynamo_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func parameterized(stmt string, params ...types.AttributeValue) types.ParameterizedStatement {
	p := types.ParameterizedStatement{Statement: aws.String(stmt)}
	if len(params) > 0 {
		p.Parameters = params
	}
	return p
}

func TestSDKPartiQLTransaction(t *testing.T) {
	c := startNode(t)
	sdkTable(t, c, "Trans", false)
	ctx := context.Background()
	tx := func(stmts ...types.ParameterizedStatement) (*dynamodb.ExecuteTransactionOutput, error) {
		return c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: stmts})
	}
	if _, err := tx(parameterized(`INSERT INTO Trans VALUE {'pk': ?, 'v': 1}`, s("a"))); err != nil {
		t.Fatalf("insert: %v", err)
	}
	out, err := tx(parameterized(`SELECT v FROM Trans WHERE pk = 'a'`))
	if err != nil || len(out.Responses) != 1 || str(out.Responses[0].Item["v"]) != "1" {
		t.Fatalf("read: %v %+v", err, out)
	}

	// A failed statement cancels the transaction, with its reason.
	upd := parameterized(`UPDATE Trans SET v = 2 WHERE pk = 'a' AND v = 7`)
	upd.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	_, err = tx(upd)
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || len(tce.CancellationReasons) != 1 ||
		aws.ToString(tce.CancellationReasons[0].Code) != "ConditionalCheckFailed" || str(tce.CancellationReasons[0].Item["v"]) != "1" {
		t.Fatalf("failed condition: %v", err)
	}
	_, err = tx(parameterized(`INSERT INTO Trans VALUE {'pk': 'a'}`))
	if !errors.As(err, &tce) || aws.ToString(tce.CancellationReasons[0].Code) != "DuplicateItem" {
		t.Fatalf("duplicate: %v", err)
	}

	// Reads need the full key.
	_, err = tx(parameterized(`SELECT * FROM Trans`))
	wantMessage(t, "read without key", err, "ValidationException", "must specify the primary key")

	// Several statements run as one transaction: all or nothing.
	_, err = tx(parameterized(`INSERT INTO Trans VALUE {'pk': 'b', 'v': 5}`), parameterized(`UPDATE Trans SET v = 9 WHERE pk = 'a' AND v = 7`))
	if !errors.As(err, &tce) || len(tce.CancellationReasons) != 2 || aws.ToString(tce.CancellationReasons[0].Code) != "None" ||
		aws.ToString(tce.CancellationReasons[1].Code) != "ConditionalCheckFailed" {
		t.Fatalf("two statements, the second failing: %v", err)
	}
	if _, err := tx(parameterized(`INSERT INTO Trans VALUE {'pk': 'b', 'v': 5}`), parameterized(`UPDATE Trans SET v = 9 WHERE pk = 'a'`),
		parameterized(`INSERT INTO Trans VALUE {'pk': 'c', 'v': 6}`)); err != nil {
		t.Fatalf("three statements: %v", err)
	}
	out, err = tx(parameterized(`SELECT v FROM Trans WHERE pk = 'a'`), parameterized(`SELECT * FROM Trans WHERE pk = 'b'`),
		parameterized(`SELECT * FROM Trans WHERE pk = 'zz'`))
	if err != nil || len(out.Responses) != 3 || str(out.Responses[0].Item["v"]) != "9" || str(out.Responses[1].Item["v"]) != "5" ||
		out.Responses[2].Item != nil {
		t.Fatalf("read of three statements: %v %+v", err, out)
	}
	_, err = tx(parameterized(`INSERT INTO Trans VALUE {'pk': 'd'}`), parameterized(`INSERT INTO Trans VALUE {'pk': 'a'}`))
	if !errors.As(err, &tce) || aws.ToString(tce.CancellationReasons[1].Code) != "DuplicateItem" {
		t.Fatalf("duplicate in a transaction: %v", err)
	}
	_, err = tx(parameterized(`SELECT * FROM Trans WHERE pk = 'a'`), parameterized(`DELETE FROM Trans WHERE pk = 'b'`))
	wantMessage(t, "reads and writes", err, "ValidationException", "all be reads")
	got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Trans"), Key: map[string]types.AttributeValue{"pk": s("d")}})
	if err != nil || got.Item != nil {
		t.Fatalf("a cancelled transaction inserted d: %v %v", got.Item, err)
	}
}
