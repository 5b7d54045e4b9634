package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The key attributes: partition key "pk", and sort key "sk" in range tables.
const (
	attrPK      = "pk"
	attrSK      = "sk"
	attrValue   = "v"
	attrCounter = "n" // the add workload's counter
)

// ensureTable creates the table if it is missing, waits until it is active
// and checks that its key schema is the one the run needs.
func ensureTable(ctx context.Context, db *dynamodb.Client, name string, rangeKey bool) error {
	_, err := db.CreateTable(ctx, createTableInput(name, rangeKey))
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("bench: create table: %w", err)
	}
	w := dynamodb.NewTableExistsWaiter(db)
	out, err := w.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute)
	if err != nil {
		return fmt.Errorf("bench: wait for table: %w", err)
	}
	if got := len(out.Table.KeySchema) == 2; got != rangeKey {
		return fmt.Errorf("bench: table %s has %d key attributes; this workload needs %s (use another --table)",
			name, len(out.Table.KeySchema), keyShape(rangeKey))
	}
	return nil
}

func keyShape(rangeKey bool) string {
	if rangeKey {
		return `"pk" (S) and sort key "sk" (S)`
	}
	return `only "pk" (S)`
}

func createTableInput(name string, rangeKey bool) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}
	if rangeKey {
		in.AttributeDefinitions = append(in.AttributeDefinitions,
			types.AttributeDefinition{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeS})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange})
	}
	return in
}
