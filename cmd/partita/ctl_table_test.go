package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestCtlChangeView sets a table's change view with `ctl table
// change-view`, refuses an unknown view and an unknown table.
func TestCtlChangeView(t *testing.T) {
	t.Parallel()
	n := startCtlMember(t)
	db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(n.APIURL()),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
	if _, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String("tbl"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	out, err := ctl(t, n, "table", "change-view", "tbl", "new_and_old_images")
	if err != nil || !strings.Contains(out, "table tbl: change view NEW_AND_OLD_IMAGES") {
		t.Fatalf("ctl table change-view: %v\n%s", err, out)
	}
	if out, err := ctl(t, n, "table", "change-view", "tbl", "SOMETIMES"); err == nil {
		t.Fatalf("an unknown view was taken:\n%s", out)
	}
	if out, err := ctl(t, n, "table", "change-view", "missing", "KEYS_ONLY"); err == nil {
		t.Fatalf("a missing table was given a view:\n%s", out)
	}
	out, err = ctl(t, n, "table", "change-view", "tbl", "NONE")
	if err != nil || !strings.Contains(out, "change view NONE") {
		t.Fatalf("ctl table change-view NONE: %v\n%s", err, out)
	}
}
