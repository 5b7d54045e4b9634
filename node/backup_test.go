package node_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/partitadb/partita/node"
)

// startBackups starts a node whose backup job runs often, writing to a
// file:// bucket in dir.
func startBackups(t *testing.T, dir string) *node.Node {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.AdminAddr = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	cfg.BackupBucket = "file://" + filepath.ToSlash(dir)
	cfg.BackupInterval = 100 * time.Millisecond
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// createOrders creates a table with a sort key and a global secondary
// index, and waits for it.
func createOrders(t *testing.T, c *dynamodb.Client, name string) {
	t.Helper()
	ctx := context.Background()
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String("cust"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String("byCust"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("cust"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{{
			IndexName: aws.String("byCustLocal"),
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("cust"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}

type itemMap = map[string]map[string]types.AttributeValue

// scanAll returns every item of a table (or index) by "pk/sk".
func scanByID(t *testing.T, c *dynamodb.Client, table, index string) itemMap {
	t.Helper()
	out := itemMap{}
	in := &dynamodb.ScanInput{TableName: aws.String(table)}
	if index != "" {
		in.IndexName = aws.String(index)
	} else {
		in.ConsistentRead = aws.Bool(true)
	}
	p := dynamodb.NewScanPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			out[itemID(it)] = it
		}
	}
	return out
}

func itemID(it map[string]types.AttributeValue) string {
	return it["pk"].(*types.AttributeValueMemberS).Value + "/" + it["sk"].(*types.AttributeValueMemberN).Value
}

func orderItem(i int, note string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk":   &types.AttributeValueMemberS{Value: fmt.Sprintf("order-%d", i%40)},
		"sk":   &types.AttributeValueMemberN{Value: fmt.Sprint(i)},
		"cust": &types.AttributeValueMemberS{Value: fmt.Sprintf("cust-%d", i%7)},
		"note": &types.AttributeValueMemberS{Value: note},
		"tags": &types.AttributeValueMemberSS{Value: []string{"a", fmt.Sprint(i)}},
	}
}

// diffItems describes the first difference between two sets of items
// ("" when they are equal).
func diffItems(got, want itemMap) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d items, want %d", len(got), len(want))
	}
	for id, w := range want {
		g, ok := got[id]
		if !ok {
			return "missing " + id
		}
		if gi, wi := canonical(g), canonical(w); gi != wi {
			return fmt.Sprintf("%s is %v, want %v", id, gi, wi)
		}
	}
	return ""
}

// canonical prints an item of S, N and SS attributes, sets sorted.
func canonical(it map[string]types.AttributeValue) string {
	names := make([]string, 0, len(it))
	for k := range it {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		switch v := it[k].(type) {
		case *types.AttributeValueMemberS:
			fmt.Fprintf(&b, "%s=S:%s ", k, v.Value)
		case *types.AttributeValueMemberN:
			fmt.Fprintf(&b, "%s=N:%s ", k, v.Value)
		case *types.AttributeValueMemberSS:
			ss := append([]string(nil), v.Value...)
			sort.Strings(ss)
			fmt.Fprintf(&b, "%s=SS:%v ", k, ss)
		default:
			fmt.Fprintf(&b, "%s=%T ", k, v)
		}
	}
	return b.String()
}

func wantAPIError(t *testing.T, err error, code, msgPrefix string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || !strings.HasPrefix(ae.ErrorMessage(), msgPrefix) {
		t.Fatalf("got %v, want %s: %s...", err, code, msgPrefix)
	}
}

// waitBackup waits for a backup to be AVAILABLE and returns it.
func waitBackup(t *testing.T, c *dynamodb.Client, arn *string) *types.BackupDescription {
	t.Helper()
	var d *types.BackupDescription
	eventually(t, "the backup to be AVAILABLE", func() bool {
		out, err := c.DescribeBackup(context.Background(), &dynamodb.DescribeBackupInput{BackupArn: arn})
		if err != nil {
			t.Fatal(err)
		}
		d = out.BackupDescription
		return d.BackupDetails.BackupStatus == types.BackupStatusAvailable
	})
	return d
}

// waitRestored waits for a restored table to be ACTIVE, its restore done.
func waitRestored(t *testing.T, c *dynamodb.Client, name string) *types.TableDescription {
	t.Helper()
	var d *types.TableDescription
	eventually(t, "the restored table to be ACTIVE", func() bool {
		out, err := c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		d = out.Table
		return d.TableStatus == types.TableStatusActive
	})
	if d.RestoreSummary == nil || aws.ToBool(d.RestoreSummary.RestoreInProgress) {
		t.Fatalf("an ACTIVE restored table's summary: %+v", d.RestoreSummary)
	}
	return d
}

// TestBackupAndRestore: a backup holds the table as it was (writes after
// it are not in it), a restore to a new table gives
// those items back with the schema and the global secondary index, and
// the backup operations answer DynamoDB's shapes and errors.
func TestBackupAndRestore(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "bucket")
	n := startBackups(t, dir)
	defer n.Close()
	c, ctx := client(n), context.Background()
	createOrders(t, c, "orders")
	for i := range 200 {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: orderItem(i, "v1")}); err != nil {
			t.Fatal(err)
		}
	}
	before := scanByID(t, c, "orders", "")

	created, err := c.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String("orders"), BackupName: aws.String("first")})
	if err != nil {
		t.Fatal(err)
	}
	arn := created.BackupDetails.BackupArn
	if !strings.HasPrefix(aws.ToString(arn), "arn:aws:dynamodb:us-east-1:000000000000:table/orders/backup/") ||
		created.BackupDetails.BackupType != types.BackupTypeUser || aws.ToString(created.BackupDetails.BackupName) != "first" {
		t.Fatalf("CreateBackup answered %+v", created.BackupDetails)
	}
	d := waitBackup(t, c, arn)
	if d.SourceTableDetails.ItemCount == nil || *d.SourceTableDetails.ItemCount != 200 ||
		aws.ToInt64(d.BackupDetails.BackupSizeBytes) <= 0 || aws.ToString(d.SourceTableDetails.TableName) != "orders" ||
		len(d.SourceTableFeatureDetails.GlobalSecondaryIndexes) != 1 || len(d.SourceTableDetails.KeySchema) != 2 {
		t.Fatalf("DescribeBackup: %+v %+v", d.SourceTableDetails, d.SourceTableFeatureDetails)
	}
	if _, err := os.Stat(filepath.Join(dir, "backups", "orders")); err != nil {
		t.Fatalf("the bucket holds no backup of orders: %v", err)
	}
	// Writes after the backup, which the restore must not show: new items, changed items, deleted items.
	for i := 150; i < 260; i++ {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: orderItem(i, "v2")}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{
			"pk": orderItem(i, "")["pk"], "sk": orderItem(i, "")["sk"]}}); err != nil {
			t.Fatal(err)
		}
	}

	restored, err := c.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{
		TargetTableName: aws.String("orders_restored"), BackupArn: arn})
	if err != nil {
		t.Fatal(err)
	}
	rs := restored.TableDescription.RestoreSummary
	if rs == nil || aws.ToString(rs.SourceBackupArn) != aws.ToString(arn) ||
		!strings.HasSuffix(aws.ToString(rs.SourceTableArn), ":table/orders") {
		t.Fatalf("RestoreTableFromBackup answered %+v", restored.TableDescription)
	}
	if restored.TableDescription.TableStatus != types.TableStatusCreating || !aws.ToBool(rs.RestoreInProgress) {
		t.Fatalf("a table being restored: %s, in progress %v", restored.TableDescription.TableStatus, aws.ToBool(rs.RestoreInProgress))
	}
	_, err = c.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{
		TargetTableName: aws.String("orders"), BackupArn: arn})
	wantAPIError(t, err, "TableAlreadyExistsException", "Table already exists: orders")

	td := waitRestored(t, c, "orders_restored")
	if len(td.GlobalSecondaryIndexes) != 1 || aws.ToString(td.GlobalSecondaryIndexes[0].IndexName) != "byCust" || len(td.KeySchema) != 2 {
		t.Fatalf("the restored table's schema: %+v", td)
	}
	after := scanByID(t, c, "orders_restored", "")
	if diff := diffItems(after, before); diff != "" {
		t.Fatalf("the restored table differs from the table at the backup: %s", diff)
	}
	eventually(t, "the restored index to hold every item", func() bool {
		return diffItems(scanByID(t, c, "orders_restored", "byCust"), before) == ""
	})
	if len(td.LocalSecondaryIndexes) != 1 || aws.ToString(td.LocalSecondaryIndexes[0].IndexName) != "byCustLocal" {
		t.Fatalf("the restored table's local indexes: %+v", td.LocalSecondaryIndexes)
	}
	if diff := diffItems(scanByID(t, c, "orders_restored", "byCustLocal"), before); diff != "" {
		t.Fatalf("the restored local index differs from the table at the backup: %s", diff)
	}
}

// TestBackupOperations: ListBackups' filters and paging, DeleteBackup,
// a restore with an index override, and the errors of missing tables
// and backups.
func TestBackupOperations(t *testing.T) {
	t.Parallel()
	n := startBackups(t, filepath.Join(t.TempDir(), "bucket"))
	defer n.Close()
	c, ctx := client(n), context.Background()
	createOrders(t, c, "aaa")
	createCapacityTable(t, c, "bbb", 0, 0)
	for i := range 30 {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("aaa"), Item: orderItem(i, "x")}); err != nil {
			t.Fatal(err)
		}
	}
	var arns []*string
	for i, table := range []string{"aaa", "bbb", "aaa"} {
		out, err := c.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String(table), BackupName: aws.String(fmt.Sprintf("bk-%d", i))})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, out.BackupDetails.BackupArn)
		waitBackup(t, c, out.BackupDetails.BackupArn)
	}

	_, err := c.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String("nope"), BackupName: aws.String("xx1")})
	wantAPIError(t, err, "TableNotFoundException", "Table not found: nope")
	_, err = c.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String("aaa"), BackupName: aws.String("a b")})
	wantAPIError(t, err, "ValidationException", "1 validation error detected: Value 'a b' at 'backupName' failed to satisfy constraint")
	missing := aws.String(aws.ToString(arns[0]) + "0")
	_, err = c.DescribeBackup(ctx, &dynamodb.DescribeBackupInput{BackupArn: missing})
	wantAPIError(t, err, "BackupNotFoundException", "Backup not found for the given BackupARN.")

	cb, err := c.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("aaa")})
	if err != nil || cb.ContinuousBackupsDescription.ContinuousBackupsStatus != types.ContinuousBackupsStatusEnabled ||
		cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusDisabled {
		t.Fatalf("DescribeContinuousBackups: %+v %v", cb, err)
	}
	_, err = c.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("nope")})
	wantAPIError(t, err, "TableNotFoundException", "Table not found: nope")

	// Every backup of aaa, oldest first, one per page.
	var got []string
	in := &dynamodb.ListBackupsInput{TableName: aws.String("aaa"), Limit: aws.Int32(1)}
	for {
		out, err := c.ListBackups(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range out.BackupSummaries {
			got = append(got, aws.ToString(s.BackupName))
		}
		if out.LastEvaluatedBackupArn == nil {
			break
		}
		in.ExclusiveStartBackupArn = out.LastEvaluatedBackupArn
	}
	if !reflect.DeepEqual(got, []string{"bk-0", "bk-2"}) {
		t.Fatalf("ListBackups of a, paged: %v", got)
	}
	all, err := c.ListBackups(ctx, &dynamodb.ListBackupsInput{})
	if err != nil || len(all.BackupSummaries) != 3 {
		t.Fatalf("ListBackups: %v %v", all, err)
	}
	none, err := c.ListBackups(ctx, &dynamodb.ListBackupsInput{BackupType: types.BackupTypeFilterSystem})
	if err != nil || len(none.BackupSummaries) != 0 {
		t.Fatalf("ListBackups of SYSTEM backups: %v %v", none, err)
	}
	future := time.Now().Add(time.Hour)
	none, err = c.ListBackups(ctx, &dynamodb.ListBackupsInput{TimeRangeLowerBound: &future})
	if err != nil || len(none.BackupSummaries) != 0 {
		t.Fatalf("ListBackups from a later time: %v %v", none, err)
	}

	// A restore without the index.
	if _, err := c.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{TargetTableName: aws.String("aaa2"),
		BackupArn: arns[2], GlobalSecondaryIndexOverride: []types.GlobalSecondaryIndex{}}); err != nil {
		t.Fatal(err)
	}
	if td := waitRestored(t, c, "aaa2"); len(td.GlobalSecondaryIndexes) != 0 {
		t.Fatalf("a restore overriding the indexes with none has %d", len(td.GlobalSecondaryIndexes))
	}
	if got := scanByID(t, c, "aaa2", ""); len(got) != 30 {
		t.Fatalf("the restored table holds %d items, want 30", len(got))
	}

	// A provisioned restore of an on-demand table: its index takes the
	// table's capacities.
	if _, err := c.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{TargetTableName: aws.String("aaa_prov"),
		BackupArn: arns[2], BillingModeOverride: types.BillingModeProvisioned,
		ProvisionedThroughputOverride: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(3), WriteCapacityUnits: aws.Int64(2)}}); err != nil {
		t.Fatal(err)
	}
	td := waitRestored(t, c, "aaa_prov")
	if td.BillingModeSummary.BillingMode != types.BillingModeProvisioned || aws.ToInt64(td.ProvisionedThroughput.WriteCapacityUnits) != 2 ||
		len(td.GlobalSecondaryIndexes) != 1 || aws.ToInt64(td.GlobalSecondaryIndexes[0].ProvisionedThroughput.ReadCapacityUnits) != 3 {
		t.Fatalf("a provisioned restore: %+v %+v", td.BillingModeSummary, td.GlobalSecondaryIndexes)
	}
	if got := scanByID(t, c, "aaa_prov", ""); len(got) != 30 {
		t.Fatalf("the provisioned restore holds %d items, want 30", len(got))
	}

	del, err := c.DeleteBackup(ctx, &dynamodb.DeleteBackupInput{BackupArn: arns[0]})
	if err != nil || del.BackupDescription.BackupDetails.BackupStatus != types.BackupStatusDeleted {
		t.Fatalf("DeleteBackup: %+v %v", del, err)
	}
	_, err = c.DescribeBackup(ctx, &dynamodb.DescribeBackupInput{BackupArn: arns[0]})
	wantAPIError(t, err, "BackupNotFoundException", "Backup not found for the given BackupARN.")
	_, err = c.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{TargetTableName: aws.String("aaa3"), BackupArn: arns[0]})
	wantAPIError(t, err, "BackupNotFoundException", "Backup not found for the given BackupARN.")
	_, err = c.DeleteBackup(ctx, &dynamodb.DeleteBackupInput{BackupArn: arns[0]})
	wantAPIError(t, err, "BackupNotFoundException", "Backup not found for the given BackupARN.")
}

// TestBackupAcrossNodes: in a three-node cluster sharing one bucket, each
// partition is written by its leader and the backup completed by the meta
// partition's leader; a restore asked of one node is seen ending through
// another.
func TestBackupAcrossNodes(t *testing.T) {
	t.Parallel()
	bucket := "file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "bucket"))
	member := func(join ...string) *node.Node {
		t.Helper()
		cfg := node.DefaultConfig()
		cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.Join = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0", join
		cfg.ReconcileInterval = 100 * time.Millisecond
		cfg.BackupBucket, cfg.BackupInterval = bucket, 100*time.Millisecond
		n, err := node.Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n1 := member()
	n2, n3 := member(n1.PeerAddr()), member(n1.PeerAddr())
	for _, n := range []*node.Node{n3, n2, n1} {
		defer n.Close()
	}
	waitUntil(t, "meta on three voters", func() bool { return len(n1.MetaVoters()) == 3 })
	ctx := context.Background()
	createOrders(t, client(n2), "spread")
	for i := range 100 {
		if _, err := client(n1).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("spread"), Item: orderItem(i, "v1")}); err != nil {
			t.Fatal(err)
		}
	}
	before := scanByID(t, client(n1), "spread", "")
	out, err := client(n3).CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String("spread"), BackupName: aws.String("all")})
	if err != nil {
		t.Fatal(err)
	}
	d := waitBackup(t, client(n1), out.BackupDetails.BackupArn)
	if aws.ToInt64(d.SourceTableDetails.ItemCount) != 100 {
		t.Fatalf("the backup holds %d items, want 100", aws.ToInt64(d.SourceTableDetails.ItemCount))
	}
	if _, err := client(n2).RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{
		TargetTableName: aws.String("spread_copy"), BackupArn: out.BackupDetails.BackupArn}); err != nil {
		t.Fatal(err)
	}
	waitRestored(t, client(n3), "spread_copy")
	if diff := diffItems(scanByID(t, client(n1), "spread_copy", ""), before); diff != "" {
		t.Fatalf("the restored table differs from the table at the backup: %s", diff)
	}
}
