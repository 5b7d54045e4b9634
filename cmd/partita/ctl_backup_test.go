package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestCtlBackup backs a table up with `ctl backup create`, which waits
// for AVAILABLE, lists and describes it, restores it with `ctl backup
// restore`, which waits for the table, and refuses a missing table.
func TestCtlBackup(t *testing.T) {
	n := startCtlMember(t)
	ctx := context.Background()
	db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(n.APIURL()),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("tbl"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	for i := range 25 {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("tbl"),
			Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := ctl(t, n, "backup", "create", "tbl", "--name", "nightly")
	if err != nil || !strings.Contains(out, "AVAILABLE: 25 items") {
		t.Fatalf("ctl backup create: %v\n%s", err, out)
	}
	arn := regexp.MustCompile(`arn:aws:dynamodb:\S+/backup/\S+`).FindString(out)
	if arn == "" {
		t.Fatalf("no ARN in:\n%s", out)
	}
	if out, err := ctl(t, n, "backup", "list"); err != nil || !strings.Contains(out, "nightly") || !strings.Contains(out, "AVAILABLE") {
		t.Fatalf("ctl backup list: %v\n%s", err, out)
	}
	if out, err := ctl(t, n, "backup", "describe", arn); err != nil || !strings.Contains(out, "partitions") {
		t.Fatalf("ctl backup describe: %v\n%s", err, out)
	}
	out, err = ctl(t, n, "backup", "restore", arn, "tbl_copy")
	if err != nil || !strings.Contains(out, "table tbl_copy ACTIVE: 25 items restored") {
		t.Fatalf("ctl backup restore: %v\n%s", err, out)
	}
	scan, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("tbl_copy"), ConsistentRead: aws.Bool(true)})
	if err != nil || scan.Count != 25 {
		t.Fatalf("the restored table: %v %v", scan, err)
	}
	if out, err := ctl(t, n, "backup", "create", "missing"); err == nil || !strings.Contains(out+err.Error(), "Table not found: missing") {
		t.Fatalf("a backup of a missing table: %v\n%s", err, out)
	}
}
