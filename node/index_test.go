package node_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/partitapb"
)

// gsiTable creates table "orders" (pk S, sk N) with two global secondary
// indexes: byCustomer (customer S, total N; INCLUDE note) and byStatus
// (status S, KEYS_ONLY).
func gsiTable(t *testing.T, db *dynamodb.Client) {
	t.Helper()
	s, n := types.ScalarAttributeTypeS, types.ScalarAttributeTypeN
	_, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: aws.String("orders"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: s}, {AttributeName: aws.String("sk"), AttributeType: n},
			{AttributeName: aws.String("customer"), AttributeType: s}, {AttributeName: aws.String("total"), AttributeType: n},
			{AttributeName: aws.String("status"), AttributeType: s},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		BillingMode: types.BillingModePayPerRequest,
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String("byCustomer"),
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("customer"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("total"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"note"}},
		}, {
			IndexName:  aws.String("byStatus"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("status"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// randomOrder is an item of orders whose index attributes are sometimes
// missing or of the wrong type (no index entry: sparse indexes).
func randomOrder(rng *rand.Rand, pk string, sk int) map[string]types.AttributeValue {
	it := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberN{Value: fmt.Sprint(sk)},
		"note":  &types.AttributeValueMemberS{Value: fmt.Sprint("n", rng.IntN(100))},
		"other": &types.AttributeValueMemberS{Value: "x"},
	}
	switch rng.IntN(5) {
	case 0: // no customer
	case 1:
		it["customer"] = &types.AttributeValueMemberN{Value: "7"} // wrong type
	default:
		it["customer"] = &types.AttributeValueMemberS{Value: fmt.Sprint("c", rng.IntN(4))}
	}
	if rng.IntN(4) > 0 {
		it["total"] = &types.AttributeValueMemberN{Value: fmt.Sprint(rng.IntN(6))}
	}
	if rng.IntN(3) > 0 {
		it["status"] = &types.AttributeValueMemberS{Value: []string{"open", "shipped"}[rng.IntN(2)]}
	}
	return it
}

// expectedEntries computes an index's entries from the base table's items,
// as DynamoDB defines them, each printed as a sorted "name=value" list.
func expectedEntries(base []map[string]types.AttributeValue, keys map[string]string, include []string) []string {
	var out []string
	for _, it := range base {
		entry := map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]}
		ok := true
		for name, typ := range keys {
			v, present := it[name]
			if !present || attrType(v) != typ {
				ok = false
			}
			entry[name] = v
		}
		if !ok {
			continue
		}
		for _, a := range include {
			if v, present := it[a]; present {
				entry[a] = v
			}
		}
		out = append(out, printItem(entry))
	}
	slices.Sort(out)
	return out
}

func attrType(v types.AttributeValue) string {
	switch v.(type) {
	case *types.AttributeValueMemberS:
		return "S"
	case *types.AttributeValueMemberN:
		return "N"
	}
	return "?"
}

func printItem(it map[string]types.AttributeValue) string {
	var parts []string
	for k, v := range it {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			parts = append(parts, k+"=S:"+v.Value)
		case *types.AttributeValueMemberN:
			parts = append(parts, k+"=N:"+v.Value)
		default:
			parts = append(parts, k+"=?")
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// scanAll scans the table, or one of its indexes, a few items a page.
func scanAll(t *testing.T, db *dynamodb.Client, index *string) []map[string]types.AttributeValue {
	t.Helper()
	var out []map[string]types.AttributeValue
	var start map[string]types.AttributeValue
	for {
		resp, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String("orders"), IndexName: index,
			Limit: aws.Int32(7), ExclusiveStartKey: start})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, resp.Items...)
		if resp.LastEvaluatedKey == nil {
			return out
		}
		start = resp.LastEvaluatedKey
	}
}

// indexDiff compares an index's entries, scanned through the API, with
// those computed from a scan of the base table ("" when equal).
func indexDiff(t *testing.T, db *dynamodb.Client, index string, keys map[string]string, include []string) string {
	t.Helper()
	want := expectedEntries(scanAll(t, db, nil), keys, include)
	var got []string
	for _, it := range scanAll(t, db, aws.String(index)) {
		got = append(got, printItem(it))
	}
	slices.Sort(got)
	if reflect.DeepEqual(got, want) {
		return ""
	}
	return fmt.Sprintf("index %s: %d entries, want %d\ngot  %v\nwant %v", index, len(got), len(want), got, want)
}

var (
	byCustomerKeys = map[string]string{"customer": "S", "total": "N"}
	byStatusKeys   = map[string]string{"status": "S"}
)

// waitIndexes polls until both indexes of orders equal what the base
// table computes, or the test's deadline passes.
func waitIndexes(t *testing.T, db *dynamodb.Client) {
	t.Helper()
	for {
		d := indexDiff(t, db, "byCustomer", byCustomerKeys, []string{"note"}) + indexDiff(t, db, "byStatus", byStatusKeys, nil)
		if d == "" {
			return
		}
		if dl, ok := t.Deadline(); ok && time.Until(dl) < 5*time.Second {
			t.Fatal(d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestGlobalIndexMaintained writes, overwrites and deletes random items
// of a table with two indexes (one sparse, projections INCLUDE and
// KEYS_ONLY) through the SDK; the indexes end up equal to the entries
// computed from the base table, and Query pages through an index in
// index order with LastEvaluatedKey holding the base keys.
func TestGlobalIndexMaintained(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	defer n.Close()
	ctx := context.Background()
	db := client(n)
	gsiTable(t, db)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		pk, sk := fmt.Sprint("p", rng.IntN(10)), rng.IntN(5)
		if i%7 == 6 {
			if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberN{Value: fmt.Sprint(sk)}}}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: randomOrder(rng, pk, sk)}); err != nil {
			t.Fatal(err)
		}
	}
	waitIndexes(t, db)
	waitUntil(t, "index lag 0 in the metrics", func() bool {
		return strings.Contains(scrape(t, n), `partita_gsi_lag_seconds{index="byCustomer",table="orders"} 0`+"\n")
	})

	// Query one customer's orders by total, two a page, newest first.
	var totals []string
	var start map[string]types.AttributeValue
	pages := 0
	for {
		resp, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("orders"), IndexName: aws.String("byCustomer"),
			KeyConditionExpression: aws.String("customer = :c AND #t >= :t"), ScanIndexForward: aws.Bool(false),
			ExpressionAttributeNames:  map[string]string{"#t": "total"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":c": &types.AttributeValueMemberS{Value: "c1"}, ":t": &types.AttributeValueMemberN{Value: "1"}},
			Limit:                     aws.Int32(2), ExclusiveStartKey: start})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range resp.Items {
			if _, ok := it["other"]; ok {
				t.Fatalf("a non-projected attribute came back: %v", printItem(it))
			}
			totals = append(totals, it["total"].(*types.AttributeValueMemberN).Value)
		}
		if resp.LastEvaluatedKey == nil {
			break
		}
		if len(resp.LastEvaluatedKey) != 4 {
			t.Fatalf("LastEvaluatedKey %v: want the index keys and the base keys", printItem(resp.LastEvaluatedKey))
		}
		start = resp.LastEvaluatedKey
	}
	var want []string
	for _, it := range scanAll(t, db, nil) {
		c, ok1 := it["customer"].(*types.AttributeValueMemberS)
		tot, ok2 := it["total"].(*types.AttributeValueMemberN)
		if ok1 && ok2 && c.Value == "c1" && tot.Value >= "1" {
			want = append(want, tot.Value)
		}
	}
	slices.Sort(want)
	slices.Reverse(want)
	if !reflect.DeepEqual(totals, want) || pages < 2 {
		t.Fatalf("query by customer: totals %v in %d pages, want %v", totals, pages, want)
	}
}

// TestGlobalIndexAPI checks what the API shows of indexes: DescribeTable,
// ListTables (no hidden table), and DynamoDB's errors.
func TestGlobalIndexAPI(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	defer n.Close()
	ctx := context.Background()
	db := client(n)
	gsiTable(t, db)
	d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	gsis := d.Table.GlobalSecondaryIndexes
	if len(gsis) != 2 || *gsis[0].IndexName != "byCustomer" || gsis[0].IndexStatus != types.IndexStatusActive ||
		gsis[0].Projection.ProjectionType != types.ProjectionTypeInclude || !strings.HasSuffix(*gsis[0].IndexArn, "table/orders/index/byCustomer") ||
		len(gsis[1].KeySchema) != 1 {
		t.Fatalf("DescribeTable indexes: %+v", gsis)
	}
	lt, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(lt.TableNames, []string{"orders"}) {
		t.Fatalf("ListTables: %q", lt.TableNames)
	}
	expectValidation := func(what string, err error, msg string) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || ae.ErrorMessage() != msg {
			t.Fatalf("%s: %v, want ValidationException %q", what, err, msg)
		}
	}
	q := func(in *dynamodb.QueryInput) error {
		in.TableName = aws.String("orders")
		in.KeyConditionExpression = aws.String("#s = :s")
		in.ExpressionAttributeNames = map[string]string{"#s": "status"}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: "open"}}
		_, err := db.Query(ctx, in)
		return err
	}
	expectValidation("consistent read", q(&dynamodb.QueryInput{IndexName: aws.String("byStatus"), ConsistentRead: aws.Bool(true)}),
		"Consistent reads are not supported on global secondary indexes")
	expectValidation("unknown index", q(&dynamodb.QueryInput{IndexName: aws.String("nope")}),
		"The table does not have the specified index: nope")
	expectValidation("select all", q(&dynamodb.QueryInput{IndexName: aws.String("byStatus"), Select: types.SelectAllAttributes}),
		"One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index byStatus because its projection type is not ALL")
	if err := q(&dynamodb.QueryInput{IndexName: aws.String("byStatus"), Select: types.SelectAllProjectedAttributes}); err != nil {
		t.Fatal(err)
	}
	s := types.ScalarAttributeTypeS
	create := func(mut func(*dynamodb.CreateTableInput)) error {
		in := &dynamodb.CreateTableInput{
			TableName:             aws.String("bad"),
			AttributeDefinitions:  []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: s}, {AttributeName: aws.String("g"), AttributeType: s}},
			KeySchema:             []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(1), WriteCapacityUnits: aws.Int64(1)},
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
				IndexName: aws.String("idx"), KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
				Projection:            &types.Projection{ProjectionType: types.ProjectionTypeAll},
				ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(1), WriteCapacityUnits: aws.Int64(1)},
			}},
		}
		mut(in)
		_, err := db.CreateTable(ctx, in)
		return err
	}
	expectValidation("no index throughput", create(func(in *dynamodb.CreateTableInput) { in.GlobalSecondaryIndexes[0].ProvisionedThroughput = nil }),
		"One or more parameter values were invalid: ProvisionedThroughput is not specified for index: idx")
	expectValidation("undefined index key", create(func(in *dynamodb.CreateTableInput) { in.AttributeDefinitions = in.AttributeDefinitions[:1] }),
		"One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [g], AttributeDefinitions: [pk]")
	expectValidation("duplicate index", create(func(in *dynamodb.CreateTableInput) {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, in.GlobalSecondaryIndexes[0])
	}), "One or more parameter values were invalid: Duplicate index name: idx")
	expectValidation("non-key attributes with ALL", create(func(in *dynamodb.CreateTableInput) {
		in.GlobalSecondaryIndexes[0].Projection.NonKeyAttributes = []string{"a"}
	}), "One or more parameter values were invalid: ProjectionType is ALL, but NonKeyAttributes is specified")
	expectValidation("unused definition", create(func(in *dynamodb.CreateTableInput) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("x"), AttributeType: s})
	}), "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
	if err := create(func(*dynamodb.CreateTableInput) {}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("bad")}); err != nil {
		t.Fatal(err)
	}
}

// TestGlobalIndexCreateAndDelete adds an index to a table holding items
// while a writer goes on (UpdateTable Create: CREATING and backfilling,
// then ACTIVE, the index equal to the one computed from the base table),
// then deletes it (DELETING, then gone), then adds it again under its name:
// it is backfilled again.
func TestGlobalIndexCreateAndDelete(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	defer n.Close()
	ctx := context.Background()
	db := client(n)
	gsiTable(t, db)
	rng := rand.New(rand.NewPCG(3, 4))
	put := func() {
		t.Helper()
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"),
			Item: randomOrder(rng, fmt.Sprint("p", rng.IntN(30)), rng.IntN(5))}); err != nil {
			t.Fatal(err)
		}
	}
	for range 200 {
		put()
	}
	// createByNote adds the index byNote and waits until it is ACTIVE and
	// equals the table.
	createByNote := func() {
		t.Helper()
		up, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("orders"),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("note"), AttributeType: types.ScalarAttributeTypeS}},
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
				IndexName:  aws.String("byNote"),
				KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("note"), KeyType: types.KeyTypeHash}},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			}}}})
		if err != nil {
			t.Fatal(err)
		}
		created := up.TableDescription.GlobalSecondaryIndexes[2]
		if *created.IndexName != "byNote" || created.IndexStatus != types.IndexStatusCreating || created.Backfilling == nil || !*created.Backfilling {
			t.Fatalf("new index: %+v", created)
		}
		for {
			put() // writes go on during the backfill
			d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders")})
			if err != nil {
				t.Fatal(err)
			}
			if d.Table.GlobalSecondaryIndexes[2].IndexStatus == types.IndexStatusActive {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		for range 50 {
			put()
		}
		for {
			d := indexDiff(t, db, "byNote", map[string]string{"note": "S"}, []string{"customer", "total", "status", "other"})
			if d == "" {
				break
			}
			if dl, ok := t.Deadline(); ok && time.Until(dl) < 5*time.Second {
				t.Fatal(d)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	createByNote()

	del, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("orders"),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String("byNote")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if st := del.TableDescription.GlobalSecondaryIndexes[2].IndexStatus; st != types.IndexStatusDeleting {
		t.Fatalf("deleted index: status %s", st)
	}
	d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Table.GlobalSecondaryIndexes) != 2 {
		t.Fatalf("indexes after the delete: %+v", d.Table.GlobalSecondaryIndexes)
	}
	_, err = db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("orders"), IndexName: aws.String("byNote")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorMessage() != "The table does not have the specified index: byNote" {
		t.Fatalf("scan of a deleted index: %v", err)
	}
	waitIndexes(t, db) // the other indexes are still maintained

	// Created again under the same name, the index is backfilled again
	// (the records of the deleted one's backfill do not count).
	createByNote()
}

// TestGlobalIndexRaisesAndLowersFloors: adding a global index to a table
// that logged nothing sets every partition's change floor to both images
// before its backfill, so no write escapes the index whichever node
// leads; deleting the index lowers the floors again, so the table stops
// paying for a log nobody reads.
func TestGlobalIndexRaisesAndLowersFloors(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	defer n.Close()
	ctx := context.Background()
	db := client(n)
	s := types.ScalarAttributeTypeS
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("plain"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: s}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest}); err != nil {
		t.Fatal(err)
	}
	floors := func(want partitapb.ChangeView) {
		t.Helper()
		for {
			fs, err := node.TableFloors(n, "plain")
			if err != nil {
				t.Fatal(err)
			}
			ok := len(fs) > 0
			for _, f := range fs {
				ok = ok && f.View == want
			}
			if ok {
				return
			}
			if dl, has := t.Deadline(); has && time.Until(dl) < 5*time.Second {
				t.Fatalf("floors %+v, want %v", fs, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for i := range 50 {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("plain"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}, "g": &types.AttributeValueMemberS{Value: fmt.Sprint(i % 4)}}}); err != nil {
			t.Fatal(err)
		}
	}
	floors(partitapb.ChangeView_CHANGE_VIEW_NONE)
	if _, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("plain"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("g"), AttributeType: s}},
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName: aws.String("byG"), KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}}}}}); err != nil {
		t.Fatal(err)
	}
	for {
		d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("plain")})
		if err != nil {
			t.Fatal(err)
		}
		if d.Table.GlobalSecondaryIndexes[0].IndexStatus == types.IndexStatusActive {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Raised before each partition's backfill, so already there.
	fs, err := node.TableFloors(n, "plain")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.View != partitapb.ChangeView_NEW_AND_OLD_IMAGES {
			t.Fatalf("an index went active before its partitions' floors were raised: %+v", fs)
		}
	}
	if _, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("plain"),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String("byG")}}}}); err != nil {
		t.Fatal(err)
	}
	floors(partitapb.ChangeView_CHANGE_VIEW_NONE)
}
