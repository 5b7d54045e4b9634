package node_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/topology"
)

const pitrTable = "ledger"

// startPITR starts a node whose backup and time to live jobs run often
// and whose restorable windows open 200 ms after point-in-time recovery
// is enabled.
func startPITR(t *testing.T) *node.Node {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.AdminAddr = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	cfg.BackupBucket = "file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "bucket"))
	cfg.BackupInterval, cfg.TTLInterval, cfg.PITRSettle = 100*time.Millisecond, 100*time.Millisecond, 200*time.Millisecond
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// ledgerModel is what the test expects the table to hold, by pk.
type ledgerModel map[string]map[string]types.AttributeValue

func ledgerItem(pk, note string, v int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk}, "note": &types.AttributeValueMemberS{Value: note},
		"v": &types.AttributeValueMemberN{Value: fmt.Sprint(v)},
	}
}

// ledger is a table under test with its model.
type ledger struct {
	t     *testing.T
	n     *node.Node
	c     *dynamodb.Client
	model ledgerModel
}

func (l *ledger) put(pk, note string, v int) {
	l.t.Helper()
	it := ledgerItem(pk, note, v)
	if _, err := l.c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(pitrTable), Item: it}); err != nil {
		l.t.Fatal(err)
	}
	l.model[pk] = it
}

func (l *ledger) del(pk string) {
	l.t.Helper()
	if _, err := l.c.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(pitrTable),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}}); err != nil {
		l.t.Fatal(err)
	}
	delete(l.model, pk)
}

// mark returns a time after every write so far and before any later
// one (the SDK sends times to the millisecond), and the model then.
func (l *ledger) mark() (time.Time, ledgerModel) {
	time.Sleep(15 * time.Millisecond)
	at := time.Now()
	time.Sleep(15 * time.Millisecond)
	return at, maps.Clone(l.model)
}

// partitions lists the table's partitions by range.
func (l *ledger) partitions() []topology.PartitionInfo {
	l.t.Helper()
	var parts []topology.PartitionInfo
	if code := adminDo(l.t, l.n, http.MethodGet, "/cluster/partitions?table="+pitrTable, &parts); code != http.StatusOK {
		l.t.Fatalf("partitions: %d", code)
	}
	slices.SortFunc(parts, func(a, b topology.PartitionInfo) int {
		switch {
		case a.HashStart < b.HashStart:
			return -1
		case a.HashStart > b.HashStart:
			return 1
		}
		return 0
	})
	return parts
}

// split splits the partition holding pk at pk.
func (l *ledger) split(pk string) {
	l.t.Helper()
	p := ownerOf(l.t, l.partitions(), pk)
	path := fmt.Sprintf("/cluster/partitions/%d/split?%s", p.ID, url.Values{"table": {pitrTable}, "at": {pk}}.Encode())
	var res admin.SplitResult
	if code := adminDo(l.t, l.n, http.MethodPost, path, &res); code != http.StatusOK || res.Right == 0 {
		l.t.Fatalf("split of partition %d: %d %+v", p.ID, code, res)
	}
}

// createPITRTable creates the tests' table: pitrTable, keyed by pk (S).
func createPITRTable(t *testing.T, c *dynamodb.Client) {
	t.Helper()
	if _, err := c.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(pitrTable),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
}

// mergeFirst merges the table's first partition with the next.
func (l *ledger) mergeFirst() {
	l.t.Helper()
	l.mergeAt(0)
}

// mergeAt merges the table's i-th partition (in hash order) with the
// next: the i-th keeps its id and adopts the next one's change log.
func (l *ledger) mergeAt(i int) {
	l.t.Helper()
	p := l.partitions()[i]
	path := fmt.Sprintf("/cluster/partitions/%d/merge?%s", p.ID, url.Values{"table": {pitrTable}}.Encode())
	var res admin.MergeResult
	if code := adminDo(l.t, l.n, http.MethodPost, path, &res); code != http.StatusOK || res.Right == 0 {
		l.t.Fatalf("merge of partition %d: %d %+v", p.ID, code, res)
	}
}

// scan returns every item of table by pk.
func (l *ledger) scan(table string) ledgerModel {
	l.t.Helper()
	out := ledgerModel{}
	pager := dynamodb.NewScanPaginator(l.c, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			l.t.Fatal(err)
		}
		for _, it := range page.Items {
			out[it["pk"].(*types.AttributeValueMemberS).Value] = it
		}
	}
	return out
}

// restore restores the table as of at (nil: the latest restorable
// time) to target, waits for it and compares it with want.
func (l *ledger) restore(target string, at *time.Time, want ledgerModel) {
	l.t.Helper()
	in := &dynamodb.RestoreTableToPointInTimeInput{SourceTableName: aws.String(pitrTable), TargetTableName: aws.String(target),
		RestoreDateTime: at, UseLatestRestorableTime: aws.Bool(at == nil)}
	if at == nil {
		in.UseLatestRestorableTime = aws.Bool(true)
	}
	out, err := l.c.RestoreTableToPointInTime(context.Background(), in)
	if err != nil {
		l.t.Fatalf("restore to %s: %v", target, err)
	}
	d := out.TableDescription
	if d.TableStatus != types.TableStatusCreating || d.RestoreSummary == nil || !aws.ToBool(d.RestoreSummary.RestoreInProgress) ||
		aws.ToString(d.RestoreSummary.SourceTableArn) != "arn:aws:dynamodb:us-east-1:000000000000:table/"+pitrTable {
		l.t.Fatalf("a restore's table: %s %+v", d.TableStatus, d.RestoreSummary)
	}
	if at != nil && d.RestoreSummary.RestoreDateTime.UnixMilli() != at.UnixMilli() {
		l.t.Fatalf("RestoreDateTime %v, want %v", d.RestoreSummary.RestoreDateTime, at)
	}
	waitRestored(l.t, l.c, target)
	got := l.scan(target)
	if diff := modelDiff(got, want); diff != "" {
		l.t.Fatalf("%s differs from the table at its time: %s", target, diff)
	}
}

// modelDiff lists the differences between two tables ("" when equal).
func modelDiff(got, want ledgerModel) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if g, ok := got[k]; !ok {
			out = append(out, "missing "+canonical(want[k]))
		} else if canonical(g) != canonical(want[k]) {
			out = append(out, fmt.Sprintf("%s instead of %s", canonical(g), canonical(want[k])))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			out = append(out, "extra "+canonical(got[k]))
		}
	}
	return strings.Join(out, "; ")
}

// TestPointInTimeRestore writes, overwrites and deletes items in phases
// (single writes, a transaction, time to live deletions), splitting and
// merging the table's partitions between them, and restores the table
// to the end of each phase and to the latest restorable time: each
// restored table equals the model at its time exactly.
func TestPointInTimeRestore(t *testing.T) {
	t.Parallel()
	n := startPITR(t)
	defer n.Close()
	c, ctx := client(n), context.Background()
	createPITRTable(t, c)
	l := &ledger{t: t, n: n, c: c, model: ledgerModel{}}
	pk := func(i int) string { return fmt.Sprintf("k-%03d", i) }
	// Before point-in-time recovery: items no later write touches are
	// restored from their current values, the others from the log.
	for i := range 40 {
		l.put(pk(i), "pre", i)
	}
	if _, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(pitrTable),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("exp"), Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	enablePITR(t, c, pitrTable)
	time.Sleep(300 * time.Millisecond) // the 200 ms settle

	// Phase 0: overwrite some, delete some, add some.
	for i := range 20 {
		l.put(pk(i), "p0", 100+i)
	}
	for i := 20; i < 25; i++ {
		l.del(pk(i))
	}
	for i := 40; i < 60; i++ {
		l.put(pk(i), "p0", i)
	}
	t0, m0 := l.mark()

	// Phase 1: a split, then writes on both sides and a transaction.
	l.split(pk(30))
	l.split(pk(50))
	for i := 10; i < 50; i += 3 {
		l.put(pk(i), "p1", 200+i)
	}
	for i := 25; i < 30; i++ {
		l.del(pk(i))
	}
	l.put(pk(20), "p1 back", 20) // deleted in phase 0
	if _, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(pitrTable), Item: ledgerItem(pk(70), "txn", 70)}},
		{Delete: &types.Delete{TableName: aws.String(pitrTable), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk(41)}}}},
		{Update: &types.Update{TableName: aws.String(pitrTable), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk(2)}},
			UpdateExpression: aws.String("SET note = :n"), ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberS{Value: "txn"}}}},
	}}); err != nil {
		t.Fatal(err)
	}
	l.model[pk(70)] = ledgerItem(pk(70), "txn", 70)
	delete(l.model, pk(41))
	l.model[pk(2)] = ledgerItem(pk(2), "txn", 100+2)
	// Items that will expire in phase 2.
	for i := 80; i < 85; i++ {
		l.put(pk(i), "expiring", i)
	}
	t1, m1 := l.mark()

	// Phase 2: the items expire and the time to live job deletes them; a
	// merge; more writes.
	for i := 80; i < 85; i++ {
		if _, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(pitrTable),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk(i)}}, UpdateExpression: aws.String("SET exp = :e"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":e": &types.AttributeValueMemberN{Value: fmt.Sprint(time.Now().Add(-time.Hour).Unix())}}}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the time to live job to delete the expired items", func() bool {
		got := l.scan(pitrTable)
		for i := 80; i < 85; i++ {
			if got[pk(i)] != nil {
				return false
			}
		}
		return true
	})
	for i := 80; i < 85; i++ {
		delete(l.model, pk(i))
	}
	l.mergeFirst()
	for i := 0; i < 60; i += 7 {
		l.put(pk(i), "p2", 300+i)
	}
	l.del(pk(13))
	t2, m2 := l.mark()

	// Phase 3: writes after the last mark, then a split.
	for i := 0; i < 60; i += 5 {
		l.put(pk(i), "p3", 400+i)
	}
	l.del(pk(4))
	l.split(pk(10))
	time.Sleep(1100 * time.Millisecond) // the latest restorable time is a second behind
	m3 := maps.Clone(l.model)

	l.restore("ledger_latest", nil, m3)
	// Writes go on while the others restore: none of them is restored.
	stop, done := make(chan struct{}), make(chan error)
	go func() {
		var err error
		for i := 0; err == nil; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if i%4 == 3 {
				_, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(pitrTable),
					Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk(i % 90)}}})
			} else {
				_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(pitrTable), Item: ledgerItem(pk(i%90), "during", i)})
			}
		}
		<-stop
		done <- err
	}()
	l.restore("ledger_t0", &t0, m0)
	l.restore("ledger_t1", &t1, m1)
	l.restore("ledger_t2", &t2, m2)
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(m0) == len(m1) || len(m1) == len(m2) {
		t.Fatalf("the phases do not differ: %d, %d, %d items", len(m0), len(m1), len(m2))
	}
}

// enablePITR enables point-in-time recovery on table and checks the
// answer.
func enablePITR(t *testing.T, c *dynamodb.Client, table string) {
	t.Helper()
	out, err := c.UpdateContinuousBackups(context.Background(), &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(table),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true), RecoveryPeriodInDays: aws.Int32(7)}})
	if err != nil {
		t.Fatal(err)
	}
	d := out.ContinuousBackupsDescription.PointInTimeRecoveryDescription
	if d.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusEnabled || aws.ToInt32(d.RecoveryPeriodInDays) != 7 ||
		d.EarliestRestorableDateTime == nil || d.LatestRestorableDateTime == nil {
		t.Fatalf("enabled: %+v", d)
	}
}

// TestPointInTimeRecoveryErrors: the continuous backup operations and
// RestoreTableToPointInTime answer DynamoDB's shapes and errors, a
// restore by the source's ARN works, and disabling the recovery closes
// the window.
func TestPointInTimeRecoveryErrors(t *testing.T) {
	t.Parallel()
	n := startPITR(t)
	defer n.Close()
	c, ctx := client(n), context.Background()
	createPITRTable(t, c)
	l := &ledger{t: t, n: n, c: c, model: ledgerModel{}}
	for i := range 10 {
		l.put(fmt.Sprintf("k-%d", i), "v", i)
	}
	describe := func() *types.PointInTimeRecoveryDescription {
		t.Helper()
		out, err := c.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(pitrTable)})
		if err != nil {
			t.Fatal(err)
		}
		return out.ContinuousBackupsDescription.PointInTimeRecoveryDescription
	}
	restore := func(in *dynamodb.RestoreTableToPointInTimeInput) error {
		_, err := c.RestoreTableToPointInTime(ctx, in)
		return err
	}
	latest := func(source, target string) *dynamodb.RestoreTableToPointInTimeInput {
		return &dynamodb.RestoreTableToPointInTimeInput{SourceTableName: aws.String(source), TargetTableName: aws.String(target), UseLatestRestorableTime: aws.Bool(true)}
	}
	spec := func(on bool, days *int32) *types.PointInTimeRecoverySpecification {
		return &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(on), RecoveryPeriodInDays: days}
	}
	update := func(table string, s *types.PointInTimeRecoverySpecification) error {
		_, err := c.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(table), PointInTimeRecoverySpecification: s})
		return err
	}

	if d := describe(); d.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusDisabled || d.EarliestRestorableDateTime != nil || d.RecoveryPeriodInDays != nil {
		t.Fatalf("before enabling: %+v", d)
	}
	wantAPIError(t, restore(latest(pitrTable, "copy")), "PointInTimeRecoveryUnavailableException", "Point in time recovery is not enabled for table 'ledger'")
	wantAPIError(t, update(pitrTable, spec(true, aws.Int32(0))), "ValidationException",
		"1 validation error detected: Value '0' at 'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy constraint: Member must have value greater than or equal to 1")
	wantAPIError(t, update(pitrTable, spec(true, aws.Int32(36))), "ValidationException",
		"1 validation error detected: Value '36' at 'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy constraint: Member must have value less than or equal to 35")
	wantAPIError(t, update(pitrTable, spec(false, aws.Int32(3))), "ValidationException", "RecoveryPeriodInDays can only be specified when PointInTimeRecoveryEnabled is true")
	wantAPIError(t, update("nope", spec(true, nil)), "TableNotFoundException", "Table not found: nope")

	before := time.Now()
	if err := update(pitrTable, spec(true, nil)); err != nil {
		t.Fatal(err)
	}
	d := describe()
	if d.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusEnabled || aws.ToInt32(d.RecoveryPeriodInDays) != 35 ||
		d.EarliestRestorableDateTime.Before(before.Truncate(time.Millisecond)) || d.LatestRestorableDateTime.After(time.Now()) {
		t.Fatalf("enabled: %+v", d)
	}
	time.Sleep(300 * time.Millisecond) // the 200 ms settle

	at := func(tm time.Time) *dynamodb.RestoreTableToPointInTimeInput {
		return &dynamodb.RestoreTableToPointInTimeInput{SourceTableName: aws.String(pitrTable), TargetTableName: aws.String("copy"), RestoreDateTime: aws.Time(tm)}
	}
	wantAPIError(t, restore(at(before.Add(-time.Minute))), "InvalidRestoreTimeException", "RestoreDateTime must be between EarliestRestorableDateTime")
	wantAPIError(t, restore(at(time.Now().Add(time.Minute))), "InvalidRestoreTimeException", "RestoreDateTime must be between EarliestRestorableDateTime")
	both := at(time.Now().Add(-500 * time.Millisecond))
	both.UseLatestRestorableTime = aws.Bool(true)
	wantAPIError(t, restore(both), "ValidationException", "Only one of RestoreDateTime or UseLatestRestorableTime may be specified")
	wantAPIError(t, restore(&dynamodb.RestoreTableToPointInTimeInput{SourceTableName: aws.String(pitrTable), TargetTableName: aws.String("copy")}),
		"ValidationException", "Either RestoreDateTime or UseLatestRestorableTime must be specified")
	twoSources := latest(pitrTable, "copy")
	twoSources.SourceTableArn = aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/" + pitrTable)
	wantAPIError(t, restore(twoSources), "ValidationException", "Only one of SourceTableName or SourceTableArn may be specified")
	wantAPIError(t, restore(&dynamodb.RestoreTableToPointInTimeInput{TargetTableName: aws.String("copy"), UseLatestRestorableTime: aws.Bool(true)}),
		"ValidationException", "Either SourceTableName or SourceTableArn must be specified")
	wantAPIError(t, restore(latest("nope", "copy")), "TableNotFoundException", "Table not found: nope")
	wantAPIError(t, restore(latest(pitrTable, "a b")), "ValidationException", "1 validation error detected: Value 'a b' at 'targetTableName' failed to satisfy constraint")

	// By the source's ARN, with an override.
	time.Sleep(1100 * time.Millisecond) // the latest restorable time is a second behind
	wantAPIError(t, restore(latest(pitrTable, pitrTable)), "TableAlreadyExistsException", "Table already exists: ledger")
	byARN := &dynamodb.RestoreTableToPointInTimeInput{SourceTableArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/" + pitrTable),
		TargetTableName: aws.String("copy"), UseLatestRestorableTime: aws.Bool(true), BillingModeOverride: types.BillingModeProvisioned,
		ProvisionedThroughputOverride: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(50), WriteCapacityUnits: aws.Int64(50)}}
	if err := restore(byARN); err != nil {
		t.Fatal(err)
	}
	copied := waitRestored(t, c, "copy")
	if copied.BillingModeSummary != nil && copied.BillingModeSummary.BillingMode != types.BillingModeProvisioned ||
		aws.ToInt64(copied.ProvisionedThroughput.WriteCapacityUnits) != 50 {
		t.Fatalf("the override: %+v %+v", copied.BillingModeSummary, copied.ProvisionedThroughput)
	}
	if diff := modelDiff(l.scan("copy"), l.model); diff != "" {
		t.Fatalf("the copy differs: %s", diff)
	}

	if err := update(pitrTable, spec(false, nil)); err != nil {
		t.Fatal(err)
	}
	if d := describe(); d.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusDisabled || d.EarliestRestorableDateTime != nil {
		t.Fatalf("disabled: %+v", d)
	}
	wantAPIError(t, restore(latest(pitrTable, "copy2")), "PointInTimeRecoveryUnavailableException", "Point in time recovery is not enabled for table 'ledger'")
}

// TestPointInTimeRestoreUnderWrites restores a table of 1,000 items
// while a writer overwrites them one after another: a key written after
// the restore read the change log but before it read the key's page is
// restored as it was at the restore time all the same.
func TestPointInTimeRestoreUnderWrites(t *testing.T) {
	t.Parallel()
	n := startPITR(t)
	defer n.Close()
	c, ctx := client(n), context.Background()
	createPITRTable(t, c)
	enablePITR(t, c, pitrTable)
	l := &ledger{t: t, n: n, c: c, model: ledgerModel{}}
	const items = 1000
	for i := 0; i < items; i += 25 {
		var reqs []types.WriteRequest
		for j := i; j < i+25; j++ {
			it := ledgerItem(fmt.Sprintf("k-%04d", j), "before", j)
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
			l.model[fmt.Sprintf("k-%04d", j)] = it
		}
		out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{pitrTable: reqs}})
		if err != nil || len(out.UnprocessedItems) > 0 {
			t.Fatalf("batch write: %v %v", out, err)
		}
	}
	time.Sleep(300 * time.Millisecond) // the 200 ms settle
	at, want := l.mark()
	time.Sleep(time.Second) // the latest restorable time is a second behind
	stop, done := make(chan struct{}), make(chan error)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(pitrTable), Item: ledgerItem(fmt.Sprintf("k-%04d", i%items), "during", i)}); err != nil {
				<-stop
				done <- err
				return
			}
		}
	}()
	l.restore("ledger_copy", &at, want)
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestPointInTimeRestoreAfterNestedMerges: the records written after
// the restore time to a partition whose log was adopted by a partition
// later merged away itself (C into B, then B into A: A holds C's log
// through B's) are read, so the restore undoes them too.
func TestPointInTimeRestoreAfterNestedMerges(t *testing.T) {
	t.Parallel()
	n := startPITR(t)
	defer n.Close()
	c := client(n)
	createPITRTable(t, c)
	enablePITR(t, c, pitrTable)
	time.Sleep(300 * time.Millisecond) // the 200 ms settle
	l := &ledger{t: t, n: n, c: c, model: ledgerModel{}}
	pk := func(i int) string { return fmt.Sprintf("k-%03d", i) }
	for i := range 60 {
		l.put(pk(i), "first", i)
	}
	l.split(pk(20))
	l.split(pk(40))
	if got := len(l.partitions()); got < 3 {
		t.Fatalf("%d partitions after two splits", got)
	}
	at, want := l.mark()
	for i := range 60 {
		if i%4 == 0 {
			l.del(pk(i))
		} else {
			l.put(pk(i), "after", 100+i)
		}
	}
	parts := len(l.partitions())
	l.mergeAt(parts - 2)                // the last two: the next to last adopts the last one's log
	l.mergeAt(parts - 3)                // and is merged away in turn, its adopted log with it
	time.Sleep(1100 * time.Millisecond) // the latest restorable time is a second behind
	l.restore("ledger_copy", &at, want)
}

// TestPointInTimeRestoreAcrossNodes restores, on three nodes, a table
// whose partitions (split twice) are led wherever the cluster put them:
// the meta leader reads each partition's items and change log from its
// leader.
func TestPointInTimeRestoreAcrossNodes(t *testing.T) {
	t.Parallel()
	bucket := "file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "bucket"))
	member := func(join ...string) *node.Node {
		t.Helper()
		cfg := node.DefaultConfig()
		cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.AdminAddr, cfg.Join = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", join
		cfg.ReconcileInterval = 100 * time.Millisecond
		cfg.BackupBucket, cfg.BackupInterval, cfg.PITRSettle = bucket, 100*time.Millisecond, 200*time.Millisecond
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
	c, ctx := client(n2), context.Background()
	createPITRTable(t, c)
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(pitrTable)}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	enablePITR(t, client(n3), pitrTable)
	time.Sleep(300 * time.Millisecond) // the 200 ms settle
	l := &ledger{t: t, n: n1, c: client(n1), model: ledgerModel{}}
	pk := func(i int) string { return fmt.Sprintf("k-%03d", i) }
	for i := range 60 {
		l.put(pk(i), "first", i)
	}
	l.split(pk(20))
	l.split(pk(40))
	for i := 0; i < 60; i += 3 {
		l.put(pk(i), "second", 100+i)
	}
	for i := 1; i < 60; i += 5 {
		l.del(pk(i))
	}
	at, want := l.mark()
	for i := 0; i < 60; i += 2 {
		l.put(pk(i), "third", 200+i)
	}
	for i := 2; i < 60; i += 5 {
		l.del(pk(i))
	}
	l.split(pk(10))
	time.Sleep(time.Second) // the latest restorable time is a second behind
	for _, p := range l.partitions() {
		t.Logf("partition %d [%x, %x) led by node %d", p.ID, p.HashStart, p.HashEnd, p.Leader)
	}
	l.restore("ledger_copy", &at, want)
}

// TestPointInTimeRestoreWithIndexes restores a table with a global and a
// local secondary index: the local index's entries beside the items are
// not taken for items, and both indexes of the restored table hold the
// items as of the restore time.
func TestPointInTimeRestoreWithIndexes(t *testing.T) {
	t.Parallel()
	n := startPITR(t)
	defer n.Close()
	c, ctx := client(n), context.Background()
	createOrders(t, c, "orders")
	enablePITR(t, c, "orders")
	time.Sleep(300 * time.Millisecond) // the 200 ms settle
	want := itemMap{}
	for i := range 60 {
		it := orderItem(i, "v1")
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: it}); err != nil {
			t.Fatal(err)
		}
		want[itemID(it)] = it
	}
	time.Sleep(15 * time.Millisecond)
	at := time.Now()
	time.Sleep(15 * time.Millisecond)
	for i := 0; i < 60; i += 2 {
		it := orderItem(i, "v2")
		it["cust"] = &types.AttributeValueMemberS{Value: "moved"}
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second) // the latest restorable time is a second behind
	if _, err := c.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{SourceTableName: aws.String("orders"),
		TargetTableName: aws.String("orders_then"), RestoreDateTime: aws.Time(at)}); err != nil {
		t.Fatal(err)
	}
	d := waitRestored(t, c, "orders_then")
	if len(d.GlobalSecondaryIndexes) != 1 || len(d.LocalSecondaryIndexes) != 1 {
		t.Fatalf("the restored table's indexes: %+v %+v", d.GlobalSecondaryIndexes, d.LocalSecondaryIndexes)
	}
	if diff := diffItems(scanByID(t, c, "orders_then", ""), want); diff != "" {
		t.Fatalf("the restored table: %s", diff)
	}
	if diff := diffItems(scanByID(t, c, "orders_then", "byCustLocal"), want); diff != "" {
		t.Fatalf("the restored local index: %s", diff)
	}
	eventually(t, "the restored global index to hold the items", func() bool {
		return diffItems(scanByID(t, c, "orders_then", "byCust"), want) == ""
	})
}
