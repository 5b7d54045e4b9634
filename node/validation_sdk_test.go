package node_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/partitadb/partita/node"
)

// TestTransactionValidationOverSDK checks, on a node whose backend runs
// transactions, what the dynamo package's tests cannot: a transaction's
// schema violation wins over its semantic problem, which answers once the
// violation is mended, and a transaction's item may not name "".
func TestTransactionValidationOverSDK(t *testing.T) {
	t.Parallel()
	n := startWith(t, func(*node.Config) {})
	db := client(n)
	createTable(t, db, "txn")
	ctx := context.Background()
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}}
	gets := []types.TransactGetItem{{Get: &types.Get{TableName: aws.String("txn"), Key: key}}, {Get: &types.Get{TableName: aws.String("txn"), Key: key}}}

	_, err := db.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: gets, ReturnConsumedCapacity: "hi"})
	wantValidation(t, "TransactGetItems with a bad enum", err,
		"1 validation error detected: Value 'hi' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]")
	_, err = db.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: gets})
	wantValidation(t, "TransactGetItems mended", err,
		"Transaction request cannot include multiple operations on one item")

	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Put: &types.Put{
		TableName: aws.String("txn"),
		Item:      map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}, "": &types.AttributeValueMemberN{Value: "1"}},
	}}}})
	wantValidation(t, "TransactWriteItems of an item naming \"\"", err,
		"One or more parameter values were invalid: An attribute name may not be empty")
}

// wantValidation fails t unless err is a ValidationException saying msg.
func wantValidation(t *testing.T, what string, err error, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || ae.ErrorMessage() != msg {
		t.Errorf("%s: %v\nwant ValidationException: %s", what, err, msg)
	}
}
