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

// TestCtlBackup backs a table up with `ctl backup create`, which waits
// for AVAILABLE, lists and describes it, restores it with `ctl backup
// restore`, which waits for the table, and refuses a missing table.
func TestCtlBackup(t *testing.T) {
	t.Parallel()
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

// TestCtlBackupRestorePITR restores a table as of a time, and as of its
// latest restorable time, with `ctl backup restore-pitr`, which waits for
// the table, and refuses a table without point-in-time recovery.
func TestCtlBackupRestorePITR(t *testing.T) {
	t.Parallel()
	n := startCtlMemberWith(t, func(c *node.Config) { c.PITRSettle, c.BackupInterval = 200*time.Millisecond, 100*time.Millisecond })
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
	if out, err := ctl(t, n, "backup", "restore-pitr", "tbl", "early"); err == nil || !strings.Contains(out+err.Error(), "Point in time recovery is not enabled for table 'tbl'") {
		t.Fatalf("a restore of a table without point-in-time recovery: %v\n%s", err, out)
	}
	if _, err := db.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("tbl"),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the settle
	key := func(i int) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}}
	}
	for i := range 10 {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("tbl"), Item: key(i)}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(15 * time.Millisecond)
	at := time.Now()
	time.Sleep(15 * time.Millisecond)
	for i := range 3 {
		if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("tbl"), Key: key(i)}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1100 * time.Millisecond) // the latest restorable time is a second behind
	for _, c := range []struct {
		table string
		args  []string
		items int
	}{{"then", []string{"--time", at.Format(time.RFC3339Nano)}, 10}, {"now", nil, 7}} {
		out, err := ctl(t, n, append([]string{"backup", "restore-pitr", "tbl", c.table}, c.args...)...)
		if err != nil || !strings.Contains(out, "restoring tbl as of") || !strings.Contains(out, fmt.Sprintf("table %s ACTIVE: %d items restored", c.table, c.items)) {
			t.Fatalf("ctl backup restore-pitr to %s: %v\n%s", c.table, err, out)
		}
		scan, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(c.table), ConsistentRead: aws.Bool(true)})
		if err != nil || int(scan.Count) != c.items {
			t.Fatalf("the restored table %s: %v %v", c.table, scan, err)
		}
	}
}
