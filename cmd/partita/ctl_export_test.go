package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/node"
)

// TestCtlExport exports a table with `ctl export create`, which waits for
// COMPLETED, lists and describes it, imports it into a new table with
// `ctl import create`, which waits for COMPLETED, and refuses a missing
// table.
func TestCtlExport(t *testing.T) {
	t.Parallel()
	n := startCtlMemberWith(t, func(cfg *node.Config) { cfg.BackupInterval = 100 * time.Millisecond })
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
	out, err := ctl(t, n, "export", "create", "tbl", "nightly", "--prefix", "p")
	if err != nil || !strings.Contains(out, "COMPLETED: 25 items") || !strings.Contains(out, "manifest p/AWSDynamoDB/") {
		t.Fatalf("ctl export create: %v\n%s", err, out)
	}
	arn := regexp.MustCompile(`arn:aws:dynamodb:\S+/export/\S+`).FindString(out)
	if arn == "" {
		t.Fatalf("no ARN in:\n%s", out)
	}
	if out, err := ctl(t, n, "export", "list"); err != nil || !strings.Contains(out, arn) || !strings.Contains(out, "COMPLETED") {
		t.Fatalf("ctl export list: %v\n%s", err, out)
	}
	out, err = ctl(t, n, "export", "describe", arn)
	if m := regexp.MustCompile(`partitions\s+(\d+)/(\d+) written`).FindStringSubmatch(out); err != nil || m == nil || m[1] != m[2] {
		t.Fatalf("ctl export describe: %v\n%s", err, out)
	}
	out, err = ctl(t, n, "import", "create", arn, "tbl_copy")
	if err != nil || !strings.Contains(out, "COMPLETED: 25 items processed, 25 imported, 0 errors") {
		t.Fatalf("ctl import create: %v\n%s", err, out)
	}
	scan, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("tbl_copy"), ConsistentRead: aws.Bool(true)})
	if err != nil || scan.Count != 25 {
		t.Fatalf("the imported table: %v %v", scan, err)
	}
	if out, err := ctl(t, n, "import", "list"); err != nil || !strings.Contains(out, "tbl_copy") {
		t.Fatalf("ctl import list: %v\n%s", err, out)
	}
	if out, err := ctl(t, n, "export", "create", "missing", "nightly"); err == nil || !strings.Contains(out+err.Error(), "Table not found: missing") {
		t.Fatalf("an export of a missing table: %v\n%s", err, out)
	}
}
