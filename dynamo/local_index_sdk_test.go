package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/node"
)

// lsiTable creates table name (pk S, sk N) with local secondary indexes
// byL (sort key l N, KEYS_ONLY), byT (sort key t S, INCLUDE extra) and
// allL (sort key l, ALL), and waits for it.
func lsiTable(t *testing.T, c *dynamodb.Client, name string) {
	t.Helper()
	ctx := context.Background()
	def := func(n string, typ types.ScalarAttributeType) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: typ}
	}
	keys := func(rng string) []types.KeySchemaElement {
		return []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String(rng), KeyType: types.KeyTypeRange}}
	}
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{def("pk", types.ScalarAttributeTypeS), def("sk", types.ScalarAttributeTypeN), def("l", types.ScalarAttributeTypeN), def("t", types.ScalarAttributeTypeS)},
		KeySchema:            keys("sk"),
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{
			{IndexName: aws.String("byL"), KeySchema: keys("l"), Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}},
			{IndexName: aws.String("byT"), KeySchema: keys("t"), Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"extra"}}},
			{IndexName: aws.String("allL"), KeySchema: keys("l"), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}},
		},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 10*time.Second); err != nil {
		t.Fatalf("wait for %s: %v", name, err)
	}
}

// lsiQuery runs a Query on index of table "ltab" for partition key pk, page
// by page with limit (0: none), and returns every item.
func lsiQuery(t *testing.T, c *dynamodb.Client, in dynamodb.QueryInput, limit int32) []avMap {
	t.Helper()
	in.TableName = aws.String("ltab")
	if in.KeyConditionExpression == nil {
		in.KeyConditionExpression = aws.String("pk = :p")
		in.ExpressionAttributeValues = avMap{":p": s("a")}
	}
	if limit > 0 {
		in.Limit = aws.Int32(limit)
	}
	var out []avMap
	for {
		res, err := c.Query(context.Background(), &in)
		if err != nil {
			t.Fatalf("Query %s: %v", aws.ToString(in.IndexName), err)
		}
		out = append(out, res.Items...)
		if res.LastEvaluatedKey == nil {
			return out
		}
		if limit > 0 && len(res.LastEvaluatedKey) != 3 {
			t.Fatalf("LastEvaluatedKey %v: want the table's keys and the index's", res.LastEvaluatedKey)
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// lsiEntries computes what index (sort key attr, of type N or S) holds
// for partition "a" from a consistent scan of the base table: the
// items having attr, by attr then sk.
func lsiEntries(t *testing.T, c *dynamodb.Client, attr string) string {
	t.Helper()
	res, err := c.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String("ltab"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	type row struct {
		n   float64
		s   string
		key string
	}
	var rows []row
	for _, it := range res.Items {
		if it["pk"].(*types.AttributeValueMemberS).Value != "a" {
			continue
		}
		var r row
		switch v := it[attr].(type) {
		case *types.AttributeValueMemberN:
			r.n, _ = strconv.ParseFloat(v.Value, 64)
		case *types.AttributeValueMemberS:
			r.s = v.Value
		default:
			continue
		}
		sk, _ := strconv.ParseFloat(it["sk"].(*types.AttributeValueMemberN).Value, 64)
		r.key = keyString(it)
		rows = append(rows, r)
		_ = sk
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].n != rows[j].n {
			return rows[i].n < rows[j].n
		}
		if rows[i].s != rows[j].s {
			return rows[i].s < rows[j].s
		}
		return skOf(rows[i].key) < skOf(rows[j].key)
	})
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = r.key
	}
	return strings.Join(keys, ",")
}

// checkLocalIndexes compares every index of table "ltab" for partition
// key "a", read whole and page by page, with what a consistent scan of
// the table implies.
func checkLocalIndexes(t *testing.T, c *dynamodb.Client, step string) {
	t.Helper()
	wantL, wantT := lsiEntries(t, c, "l"), lsiEntries(t, c, "t")
	for _, q := range []struct {
		index, want string
		limit       int32
	}{{"byL", wantL, 0}, {"byL", wantL, 2}, {"allL", wantL, 3}, {"byT", wantT, 0}, {"byT", wantT, 4}} {
		got := lsiQuery(t, c, dynamodb.QueryInput{IndexName: aws.String(q.index), ConsistentRead: aws.Bool(true)}, q.limit)
		if keyStrings(got) != q.want {
			t.Fatalf("%s: Query %s (limit %d): %s, want %s", step, q.index, q.limit, keyStrings(got), q.want)
		}
	}
}

// skOf returns the sort key number of a keyString.
func skOf(key string) int {
	_, after, _ := strings.Cut(key, "sk=")
	n, _ := strconv.Atoi(after)
	return n
}

// attrNames lists the attribute names of it, sorted.
func attrNames(it avMap) string {
	var names []string
	for k := range it {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, " ")
}

// TestSDKLocalIndexes drives local secondary indexes through every write
// path (PutItem, BatchWriteItem, UpdateItem, DeleteItem, PartiQL) and
// checks, after each step, that every index holds exactly the entries a
// scan of the base table implies, in index order, page by page.
func TestSDKLocalIndexes(t *testing.T) {
	c := startNode(t)
	ctx := context.Background()
	lsiTable(t, c, "ltab")

	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("ltab")})
	if err != nil {
		t.Fatalf("DescribeTable: %v", err)
	}
	var described []string
	for _, li := range d.Table.LocalSecondaryIndexes {
		described = append(described, fmt.Sprintf("%s %s/%s %s %v %v", aws.ToString(li.IndexName), aws.ToString(li.KeySchema[0].AttributeName),
			aws.ToString(li.KeySchema[1].AttributeName), li.Projection.ProjectionType, li.Projection.NonKeyAttributes,
			strings.HasSuffix(aws.ToString(li.IndexArn), "table/ltab/index/"+aws.ToString(li.IndexName))))
	}
	if got, want := strings.Join(described, "; "), "byL pk/l KEYS_ONLY [] true; byT pk/t INCLUDE [extra] true; allL pk/l ALL [] true"; got != want {
		t.Fatalf("DescribeTable LocalSecondaryIndexes: %s, want %s", got, want)
	}

	var items []avMap
	for i := range 12 {
		it := avMap{"pk": s("a"), "sk": num(strconv.Itoa(i)), "t": s("t" + strconv.Itoa(i%3)), "extra": s("e"), "o1": s("o")}
		if i != 7 {
			it["l"] = num(strconv.Itoa(100 - 3*i))
		}
		items = append(items, it)
	}
	items = append(items, avMap{"pk": s("b"), "sk": num("0"), "l": num("1"), "t": s("x")})
	putAll(t, c, "ltab", items[1:])
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ltab"), Item: items[0]}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
	check := func(step string) { t.Helper(); checkLocalIndexes(t, c, step) }
	check("after the puts")

	// UpdateItem moves an entry (l changes), removes one (l goes), and
	// DeleteItem and a PartiQL write change others.
	if _, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("ltab"), Key: avMap{"pk": s("a"), "sk": num("0")},
		UpdateExpression: aws.String("SET l = :v"), ExpressionAttributeValues: avMap{":v": num("1")}}); err != nil {
		t.Fatalf("UpdateItem: %v", err)
	}
	if _, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("ltab"), Key: avMap{"pk": s("a"), "sk": num("1")},
		UpdateExpression: aws.String("REMOVE l SET t = :t"), ExpressionAttributeValues: avMap{":t": s("zz")}}); err != nil {
		t.Fatalf("UpdateItem: %v", err)
	}
	if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("ltab"), Key: avMap{"pk": s("a"), "sk": num("2")}}); err != nil {
		t.Fatalf("DeleteItem: %v", err)
	}
	if _, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`UPDATE ltab SET l = 55 WHERE pk = 'a' AND sk = 7`)}); err != nil {
		t.Fatalf("ExecuteStatement: %v", err)
	}
	if _, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`DELETE FROM ltab WHERE pk = 'a' AND sk = 3`)}); err != nil {
		t.Fatalf("ExecuteStatement: %v", err)
	}
	check("after the updates")
	if got := keyStrings(lsiQuery(t, c, dynamodb.QueryInput{IndexName: aws.String("byL")}, 0)); !strings.HasPrefix(got, "pk=a sk=0,") {
		t.Fatalf("byL after moving sk=0 to l=1: %s", got)
	}

	// Key conditions on the index's sort key, both directions.
	got := lsiQuery(t, c, dynamodb.QueryInput{IndexName: aws.String("byL"), KeyConditionExpression: aws.String("pk = :p AND l BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: avMap{":p": s("a"), ":lo": num("55"), ":hi": num("70")}, ScanIndexForward: aws.Bool(false)}, 1)
	if keyStrings(got) != "pk=a sk=10,pk=a sk=11,pk=a sk=7" { // l = 70, 67, 55
		t.Fatalf("byL BETWEEN 55 AND 70 descending: %s", keyStrings(got))
	}

	// Projections: KEYS_ONLY and INCLUDE return what they keep; asking for
	// more reads it from the item.
	if got := lsiQuery(t, c, dynamodb.QueryInput{IndexName: aws.String("byL")}, 0); attrNames(got[0]) != "l pk sk" {
		t.Fatalf("KEYS_ONLY entry: %v", got[0])
	}
	if got := lsiQuery(t, c, dynamodb.QueryInput{IndexName: aws.String("byT")}, 0); attrNames(got[0]) != "extra pk sk t" {
		t.Fatalf("INCLUDE entry: %v", got[0])
	}
	if got := lsiQuery(t, c, dynamodb.QueryInput{IndexName: aws.String("byL"), Select: types.SelectAllAttributes}, 0); attrNames(got[0]) != "extra l o1 pk sk t" {
		t.Fatalf("Select ALL_ATTRIBUTES on KEYS_ONLY: %v", got[0])
	}
	if got := lsiQuery(t, c, dynamodb.QueryInput{IndexName: aws.String("byL"), ProjectionExpression: aws.String("o1, sk")}, 0); attrNames(got[0]) != "o1 sk" {
		t.Fatalf("ProjectionExpression on KEYS_ONLY: %v", got[0])
	}
	filtered := lsiQuery(t, c, dynamodb.QueryInput{IndexName: aws.String("byT"), FilterExpression: aws.String("o1 = :o"),
		KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: avMap{":p": s("a"), ":o": s("o")}}, 0)
	if len(filtered) == 0 || attrNames(filtered[0]) != "extra pk sk t" {
		t.Fatalf("filter on an attribute byT does not project: %v", filtered)
	}

	// Scan of an index reads its entries only; a scan of the table, items only.
	sc, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("ltab"), IndexName: aws.String("byL"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("Scan byL: %v", err)
	}
	wantScan := len(strings.Split(lsiEntries(t, c, "l"), ",")) + 1 // and pk=b
	if int(sc.Count) != wantScan {
		t.Fatalf("Scan byL: %d entries, want %d", sc.Count, wantScan)
	}
	base, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("ltab")})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	if base.Count != 11 {
		t.Fatalf("Scan of the table: %d items, want 11 (13 put, 2 deleted)", base.Count)
	}

	// Errors.
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ltab"), Item: avMap{"pk": s("a"), "sk": num("50"), "l": s("x")}})
	wantCode(t, "PutItem with l of another type", err, "ValidationException")
	if !strings.Contains(err.Error(), "One or more parameter values were invalid: Type mismatch for Index Key l Expected: N Actual: S IndexName: byL") {
		t.Fatalf("type mismatch message: %v", err)
	}
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ltab"), Item: avMap{"pk": s("a"), "sk": num("50"), "t": s("")}})
	wantCode(t, "PutItem with an empty index key", err, "ValidationException")
	if !strings.Contains(err.Error(), "The AttributeValue for a key attribute cannot contain an empty string value. IndexName: byT, IndexKey: t") {
		t.Fatalf("empty index key message: %v", err)
	}
	// An index sort key value is at most 1,024 bytes, as a table's.
	long := strings.Repeat("é", 512) // 1,024 bytes of UTF-8
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ltab"), Item: avMap{"pk": s("a"), "sk": num("60"), "t": s(long)}}); err != nil {
		t.Fatalf("PutItem with a 1,024-byte index key: %v", err)
	}
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("ltab"), Key: avMap{"pk": s("a"), "sk": num("60")},
		UpdateExpression: aws.String("SET t = :t"), ExpressionAttributeValues: avMap{":t": s(long + "x")}})
	wantCode(t, "UpdateItem with a 1,025-byte index key", err, "ValidationException")
	if !strings.Contains(err.Error(), "One or more parameter values were invalid: Size limit exceeded for Index Key t Actual Size: 1025 bytes Max Size: 1024 bytes IndexName: byT") {
		t.Fatalf("index key size message: %v", err)
	}
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ltab"), Item: avMap{"pk": s("a"), "sk": num("61"), "t": s(long + "x")}})
	wantCode(t, "PutItem with a 1,025-byte index key", err, "ValidationException")
	if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("ltab"), Key: avMap{"pk": s("a"), "sk": num("60")}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("ltab"), IndexName: aws.String("byL"), KeyConditionExpression: aws.String("pk = :p AND sk = :s"),
		ExpressionAttributeValues: avMap{":p": s("a"), ":s": num("1")}})
	wantCode(t, "Query byL on the table's sort key", err, "ValidationException")
	_, err = c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("ltab"), IndexName: aws.String("byL"), KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: avMap{":p": s("a")}, ExclusiveStartKey: avMap{"pk": s("a"), "sk": num("1")}})
	wantCode(t, "Query byL with a start key lacking l", err, "ValidationException")
	_, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("ltab"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("l"), AttributeType: types.ScalarAttributeTypeN}},
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{IndexName: aws.String("byL"),
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("l"), KeyType: types.KeyTypeHash}}, Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}}}})
	wantCode(t, "UpdateTable creating an index named as a local one", err, "ValidationException")
	check("after the refused writes")
}

// TestSDKItemCollections: on a table with local secondary indexes the
// writes report ItemCollectionMetrics when asked, a write that would grow
// an item collection past the limit (lowered to 8 KB here) gets
// ItemCollectionSizeLimitExceededException and writes nothing, other
// collections take writes, and a deletion makes room again. DescribeTable
// counts each index's entries.
func TestSDKItemCollections(t *testing.T) {
	c := startNodeWith(t, func(cfg *node.Config) { cfg.ItemCollectionLimit = 8 << 10 })
	ctx := context.Background()
	lsiTable(t, c, "ltab")
	pad := strings.Repeat("x", 500)
	put := func(pk string, sk int) (*dynamodb.PutItemOutput, error) {
		return c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ltab"), ReturnItemCollectionMetrics: types.ReturnItemCollectionMetricsSize,
			Item: avMap{"pk": s(pk), "sk": num(strconv.Itoa(sk)), "l": num("1"), "t": s("t"), "pad": s(pad)}})
	}
	// Each item weighs ~520 bytes, and again in allL (ALL), plus two small
	// entries: ~1.3 KB a write, so the seventh passes 8 KB.
	var err error
	written := 0
	for ; written < 20; written++ {
		var out *dynamodb.PutItemOutput
		if out, err = put("big", written); err != nil {
			break
		}
		m := out.ItemCollectionMetrics
		if m == nil || keyString(m.ItemCollectionKey) != "pk=big" || fmt.Sprint(m.SizeEstimateRangeGB) != "[0 1]" {
			t.Fatalf("put %d: ItemCollectionMetrics %+v", written, m)
		}
	}
	wantCode(t, "the write past the collection limit", err, "ItemCollectionSizeLimitExceededException")
	if written < 4 || written > 8 {
		t.Fatalf("%d writes fit in the collection, want about 6", written)
	}
	if _, err := put("other", 0); err != nil {
		t.Fatalf("a write to another collection: %v", err)
	}
	q, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("ltab"), IndexName: aws.String("allL"), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: avMap{":p": s("big")}})
	if err != nil || int(q.Count) != written {
		t.Fatalf("allL of the full collection: %d entries (%v), want %d: the refused write left none", q.Count, err, written)
	}
	del, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("ltab"), Key: avMap{"pk": s("big"), "sk": num("0")},
		ReturnItemCollectionMetrics: types.ReturnItemCollectionMetricsSize})
	if err != nil || del.ItemCollectionMetrics == nil {
		t.Fatalf("DeleteItem: %v %+v", err, del)
	}
	if _, err := put("big", 100); err != nil {
		t.Fatalf("a write after a deletion made room: %v", err)
	}
	upd, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("ltab"), Key: avMap{"pk": s("other"), "sk": num("0")},
		UpdateExpression: aws.String("REMOVE #p"), ExpressionAttributeNames: map[string]string{"#p": "pad"}, ReturnItemCollectionMetrics: types.ReturnItemCollectionMetricsSize})
	if err != nil || upd.ItemCollectionMetrics == nil || keyString(upd.ItemCollectionMetrics.ItemCollectionKey) != "pk=other" {
		t.Fatalf("UpdateItem: %v %+v", err, upd)
	}
	bw, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{ReturnItemCollectionMetrics: types.ReturnItemCollectionMetricsSize,
		RequestItems: map[string][]types.WriteRequest{"ltab": {
			{PutRequest: &types.PutRequest{Item: avMap{"pk": s("c1"), "sk": num("1"), "l": num("5")}}},
			{PutRequest: &types.PutRequest{Item: avMap{"pk": s("c2"), "sk": num("1")}}},
		}}})
	if err != nil || len(bw.ItemCollectionMetrics["ltab"]) != 2 {
		t.Fatalf("BatchWriteItem: %v %+v", err, bw)
	}
	plain, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ltab"), Item: avMap{"pk": s("c3"), "sk": num("1")}})
	if err != nil || plain.ItemCollectionMetrics != nil {
		t.Fatalf("PutItem without ReturnItemCollectionMetrics: %v %+v", err, plain)
	}

	// Each index's statistics count what a scan of it reads.
	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("ltab")})
	if err != nil {
		t.Fatal(err)
	}
	for _, li := range d.Table.LocalSecondaryIndexes {
		sc, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("ltab"), IndexName: li.IndexName, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToInt64(li.ItemCount) != int64(sc.Count) || aws.ToInt64(li.IndexSizeBytes) < 100*int64(sc.Count) {
			t.Fatalf("DescribeTable %s: ItemCount %d, IndexSizeBytes %d; a scan of it has %d entries",
				aws.ToString(li.IndexName), aws.ToInt64(li.ItemCount), aws.ToInt64(li.IndexSizeBytes), sc.Count)
		}
	}
}

// TestSDKItemCollectionConcurrentWrites: writes racing into one item
// collection are checked against its size with the writes in flight
// before them: no more of them pass than fit one after the other, and
// the collection holds exactly the ones acknowledged.
func TestSDKItemCollectionConcurrentWrites(t *testing.T) {
	c := startNodeWith(t, func(cfg *node.Config) { cfg.ItemCollectionLimit = 8 << 10 })
	// The racing writers open connections some of which stay unused; the
	// node's shutdown would wait 5 s for those: close them first.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	c = dynamodb.New(c.Options(), func(o *dynamodb.Options) { o.HTTPClient = &http.Client{Transport: tr} })
	ctx := context.Background()
	lsiTable(t, c, "ltab")
	pad := strings.Repeat("x", 500)
	put := func(pk string, sk int) error {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ltab"),
			Item: avMap{"pk": s(pk), "sk": num(strconv.Itoa(sk)), "l": num("1"), "t": s("t"), "pad": s(pad)}})
		return err
	}
	fits := 0
	for ; fits < 20; fits++ {
		if err := put("seq", 100+fits); err != nil {
			wantCode(t, "the sequential write past the limit", err, "ItemCollectionSizeLimitExceededException")
			break
		}
	}
	const writers = 24
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed, refused := 0, 0
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := put("race", 100+i)
			mu.Lock()
			defer mu.Unlock()
			var limit *types.ItemCollectionSizeLimitExceededException
			switch {
			case err == nil:
				passed++
			case errors.As(err, &limit):
				refused++
			default:
				t.Errorf("concurrent write %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	t.Logf("%d concurrent writes passed, %d refused; %d fit one after the other", passed, refused, fits)
	if passed > fits || passed == 0 || passed+refused != writers {
		t.Fatalf("%d concurrent writes passed, %d refused; %d fit one after the other", passed, refused, fits)
	}
	q, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("ltab"), IndexName: aws.String("allL"), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: avMap{":p": s("race")}})
	if err != nil || int(q.Count) != passed {
		t.Fatalf("allL of the raced collection: %d entries (%v), want %d", q.Count, err, passed)
	}
}

// TestSDKLocalIndexTTL: the TTL sweeper walks a partition holding local
// index entries between the items of its keys, deletes every expired
// item, and their entries go with them.
func TestSDKLocalIndexTTL(t *testing.T) {
	c := startNodeWith(t, func(cfg *node.Config) {
		cfg.TTLInterval, cfg.PartitionsPerTable = 100*time.Millisecond, 1
	})
	ctx := context.Background()
	lsiTable(t, c, "ltab")
	if _, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("ltab"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("exp")}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	pks := []string{"a", "b", "c", "d", "e", "f"}
	for _, pk := range pks {
		for sk, exp := range []int64{now + 3600, now - 5} {
			if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ltab"), Item: avMap{"pk": s(pk), "sk": num(strconv.Itoa(sk)),
				"l": num("7"), "t": s("t"), "exp": num(strconv.FormatInt(exp, 10))}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		sc, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("ltab"), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if int(sc.Count) == len(pks) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the expired item was not deleted: %d items", sc.Count)
		}
	}
	for _, ix := range []string{"byL", "byT", "allL"} {
		sc, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("ltab"), IndexName: aws.String(ix), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range sc.Items {
			if keyString(it) != "pk="+it["pk"].(*types.AttributeValueMemberS).Value+" sk=0" {
				t.Fatalf("%s after the TTL deletions holds %s", ix, keyString(it))
			}
		}
		if int(sc.Count) != len(pks) {
			t.Fatalf("%s after the TTL deletions: %d entries, want %d", ix, sc.Count, len(pks))
		}
	}
}
