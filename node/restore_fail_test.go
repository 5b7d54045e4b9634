package node_test

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/node"
)

// waitTableGone waits until DescribeTable of name answers
// ResourceNotFoundException.
func waitTableGone(t *testing.T, c *dynamodb.Client, name string) {
	t.Helper()
	eventually(t, "table "+name+" to be deleted", func() bool {
		out, err := c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		var nf *types.ResourceNotFoundException
		switch {
		case err == nil:
			if out.Table.TableStatus != types.TableStatusCreating && out.Table.TableStatus != types.TableStatusDeleting {
				t.Fatalf("table %s is %s, want CREATING until it goes", name, out.Table.TableStatus)
			}
			return false
		case errors.As(err, &nf):
			return true
		}
		t.Fatal(err)
		return false
	})
}

// dataObjects lists the backup data objects under dir.
func dataObjects(t *testing.T, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".gz") {
			out[p] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRestoreThatCannotGoOn: a restore from a backup whose data object
// is corrupt, or gone from the bucket, and a restore to a point in time
// whose source table is deleted before it runs, end: the target table is
// deleted (it is never served), and each is counted.
func TestRestoreThatCannotGoOn(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "bucket")
	n := startBackups(t, dir)
	defer n.Close()
	c, ctx := client(n), context.Background()
	createOrders(t, c, "orders")
	for i := range 40 {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: orderItem(i, "v1")}); err != nil {
			t.Fatal(err)
		}
	}
	backup := func(name string) (*string, map[string]bool) {
		t.Helper()
		before := dataObjects(t, dir)
		out, err := c.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String("orders"), BackupName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		waitBackup(t, c, out.BackupDetails.BackupArn)
		objs := dataObjects(t, dir)
		for p := range before {
			delete(objs, p)
		}
		if len(objs) == 0 {
			t.Fatalf("backup %s wrote no data object", name)
		}
		return out.BackupDetails.BackupArn, objs
	}
	corrupt, corruptObjs := backup("corrupt")
	gone, goneObjs := backup("gone")
	for p := range corruptObjs {
		if err := os.WriteFile(p, []byte("not a gzip stream"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for p := range goneObjs {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	for target, arn := range map[string]*string{"from_corrupt": corrupt, "from_gone": gone} {
		if _, err := c.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{TargetTableName: aws.String(target), BackupArn: arn}); err != nil {
			t.Fatal(err)
		}
	}
	waitTableGone(t, c, "from_corrupt")
	waitTableGone(t, c, "from_gone")
	// The count follows the deletion.
	eventually(t, "the two failed restores counted", func() bool {
		return strings.Contains(scrape(t, n), `partita_restores_failed_total{kind="backup"} 2`)
	})
	// The source restores fine.
	ok, _ := backup("fine")
	if _, err := c.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{TargetTableName: aws.String("from_fine"), BackupArn: ok}); err != nil {
		t.Fatal(err)
	}
	waitRestored(t, c, "from_fine")
}

// TestPointInTimeRestoreOfDeletedSource: a restore to a point in time
// whose source table is deleted before the restore reads it ends with
// its target deleted.
func TestPointInTimeRestoreOfDeletedSource(t *testing.T) {
	t.Parallel()
	n := startPITR(t)
	defer n.Close()
	c, ctx := client(n), context.Background()
	if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("src"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	enablePITR(t, c, "src")
	// The restore job waits while the source goes.
	var job struct {
		State string `json:"state"`
	}
	if code := adminDo(t, n, http.MethodPost, "/debug/jobs/"+node.BackupJob+"/pause", &job); code != http.StatusOK {
		t.Fatalf("pause the backups job: %d", code)
	}
	eventually(t, "the backups job to pause", func() bool {
		adminDo(t, n, http.MethodGet, "/debug/jobs/"+node.BackupJob, &job)
		return job.State == daemon.StatePaused.String()
	})
	eventually(t, "the restorable window to open", func() bool {
		_, err := c.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{SourceTableName: aws.String("src"),
			TargetTableName: aws.String("src_copy"), UseLatestRestorableTime: aws.Bool(true)})
		return err == nil
	})
	if _, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("src")}); err != nil {
		t.Fatal(err)
	}
	if code := adminDo(t, n, http.MethodPost, "/debug/jobs/"+node.BackupJob+"/resume", &job); code != http.StatusOK {
		t.Fatalf("resume the backups job: %d", code)
	}
	waitTableGone(t, c, "src_copy")
	eventually(t, "the failed restore counted", func() bool {
		return strings.Contains(scrape(t, n), `partita_restores_failed_total{kind="point_in_time"} 1`)
	})
}

// TestImportFromMissingBucketFails: an ImportTable whose bucket does not
// exist ends FAILED with DynamoDB's failure code and a message, and is
// counted.
func TestImportFromMissingBucketFails(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	n := startExports(t, "file://"+filepath.ToSlash(root)+"/{bucket}")
	c := client(n)
	out, err := importOrders(c, "no-such-bucket", "data/", "imported", types.InputCompressionTypeNone, "tok")
	if err != nil {
		t.Fatal(err)
	}
	d := waitImport(t, c, out.ImportTableDescription.ImportArn)
	if d.ImportStatus != types.ImportStatusFailed || aws.ToString(d.FailureCode) != "S3NoSuchBucket" || aws.ToString(d.FailureMessage) == "" {
		t.Fatalf("import from a missing bucket: %s %s %s", d.ImportStatus, aws.ToString(d.FailureCode), aws.ToString(d.FailureMessage))
	}
	eventually(t, "the failed import counted", func() bool {
		return strings.Contains(scrape(t, n), `partita_restores_failed_total{kind="import"} 1`)
	})
}
