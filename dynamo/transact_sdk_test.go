package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/node"
)

func acctKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": s(id)}
}

func balanceOf(t *testing.T, it map[string]types.AttributeValue) int {
	t.Helper()
	n, ok := it["bal"].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("item %v has no numeric bal", it)
	}
	var v int
	if _, err := fmt.Sscan(n.Value, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func getBalance(t *testing.T, c *dynamodb.Client, table, id string) int {
	t.Helper()
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: acctKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("GetItem %s: %v", id, err)
	}
	if out.Item == nil {
		return -1
	}
	return balanceOf(t, out.Item)
}

func putAcct(table, id string, bal int) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table),
		Item: map[string]types.AttributeValue{"pk": s(id), "bal": num(fmt.Sprint(bal))}}}
}

// transfer is the TransactWriteItems of amount from one account to
// another, refused when from has less.
func transfer(table, from, to string, amount int) *dynamodb.TransactWriteItemsInput {
	amt := map[string]types.AttributeValue{":a": num(fmt.Sprint(amount))}
	return &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: aws.String(table), Key: acctKey(from),
			UpdateExpression: aws.String("SET bal = bal - :a"), ConditionExpression: aws.String("bal >= :a"),
			ExpressionAttributeValues: amt, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
		{Update: &types.Update{TableName: aws.String(table), Key: acctKey(to),
			UpdateExpression: aws.String("SET bal = bal + :a"), ExpressionAttributeValues: amt}},
	}}
}

func cancellation(t *testing.T, err error) []types.CancellationReason {
	t.Helper()
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("error %v (%s), want TransactionCanceledException", err, errorCode(err))
	}
	return tce.CancellationReasons
}

func TestSDKTransactWriteItems(t *testing.T) {
	c := startNode(t)
	ctx := context.Background()
	sdkTable(t, c, "acct", false)
	sdkTable(t, c, "log", true)
	if _, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		putAcct("acct", "a", 100), putAcct("acct", "b", 0),
	}}); err != nil {
		t.Fatalf("create accounts: %v", err)
	}
	in := transfer("acct", "a", "b", 30)
	in.TransactItems = append(in.TransactItems,
		types.TransactWriteItem{Put: &types.Put{TableName: aws.String("log"),
			Item: map[string]types.AttributeValue{"pk": s("a"), "sk": num("1"), "what": s("a->b 30")}}},
		types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String("acct"), Key: acctKey("c"),
			ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String("acct"), Key: acctKey("gone")}})
	if _, err := c.TransactWriteItems(ctx, in); err != nil {
		t.Fatalf("transfer: %v", err)
	}
	if a, b := getBalance(t, c, "acct", "a"), getBalance(t, c, "acct", "b"); a != 70 || b != 30 {
		t.Fatalf("balances after transfer a=%d b=%d, want 70 30", a, b)
	}

	// A failed condition cancels all: reasons in request order, the item
	// when asked for.
	in = transfer("acct", "a", "b", 1000)
	in.TransactItems[0], in.TransactItems[1] = in.TransactItems[1], in.TransactItems[0]
	in.TransactItems = append(in.TransactItems, putAcct("acct", "x", 5))
	_, err := c.TransactWriteItems(ctx, in)
	reasons := cancellation(t, err)
	if len(reasons) != 3 || aws.ToString(reasons[0].Code) != "None" || aws.ToString(reasons[1].Code) != "ConditionalCheckFailed" ||
		aws.ToString(reasons[2].Code) != "None" {
		t.Fatalf("reasons %+v, want None, ConditionalCheckFailed, None", reasons)
	}
	if reasons[1].Item == nil || balanceOf(t, reasons[1].Item) != 70 {
		t.Fatalf("ConditionalCheckFailed item %v, want a's item (bal 70)", reasons[1].Item)
	}
	if !strings.Contains(err.Error(), "[None, ConditionalCheckFailed, None]") {
		t.Fatalf("message %q lacks the reasons", err.Error())
	}
	if a, b, x := getBalance(t, c, "acct", "a"), getBalance(t, c, "acct", "b"), getBalance(t, c, "acct", "x"); a != 70 || b != 30 || x != -1 {
		t.Fatalf("after a cancelled transaction a=%d b=%d x=%d, want 70 30 absent", a, b, x)
	}

	// TransactGetItems reads them together, in order.
	got, err := c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
		{Get: &types.Get{TableName: aws.String("acct"), Key: acctKey("b")}},
		{Get: &types.Get{TableName: aws.String("acct"), Key: acctKey("nobody")}},
		{Get: &types.Get{TableName: aws.String("log"), Key: map[string]types.AttributeValue{"pk": s("a"), "sk": num("1")},
			ProjectionExpression: aws.String("what")}},
	}})
	if err != nil {
		t.Fatalf("TransactGetItems: %v", err)
	}
	if len(got.Responses) != 3 || balanceOf(t, got.Responses[0].Item) != 30 || got.Responses[1].Item != nil ||
		len(got.Responses[2].Item) != 1 || got.Responses[2].Item["what"] == nil {
		t.Fatalf("TransactGetItems responses %+v", got.Responses)
	}
}

func TestSDKTransactValidation(t *testing.T) {
	c := startNode(t)
	ctx := context.Background()
	sdkTable(t, c, "acct", false)
	cases := []struct {
		name string
		in   *dynamodb.TransactWriteItemsInput
		code string
		msg  string
	}{
		{"same item twice", &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			putAcct("acct", "a", 1), {Delete: &types.Delete{TableName: aws.String("acct"), Key: acctKey("a")}}}},
			"ValidationException", "Transaction request cannot include multiple operations on one item"},
		{"two actions", &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{
			Put:    putAcct("acct", "a", 1).Put,
			Delete: &types.Delete{TableName: aws.String("acct"), Key: acctKey("b")}}}},
			"ValidationException", "TransactItems can only contain one of Check, Put, Update or Delete"},
		{"no action", &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{}}},
			"ValidationException", "TransactItems can only contain one of Check, Put, Update or Delete"},
		{"empty", &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{}},
			"ValidationException", "Member must have length greater than or equal to 1"},
		{"no table", &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{putAcct("nope", "a", 1)}},
			"ResourceNotFoundException", "Requested resource not found"},
	}
	var many []types.TransactWriteItem
	for i := range 101 {
		many = append(many, putAcct("acct", fmt.Sprint(i), 1))
	}
	cases = append(cases, struct {
		name string
		in   *dynamodb.TransactWriteItemsInput
		code string
		msg  string
	}{"101 actions", &dynamodb.TransactWriteItemsInput{TransactItems: many}, "ValidationException", "Member must have length less than or equal to 100"})
	for _, tc := range cases {
		_, err := c.TransactWriteItems(ctx, tc.in)
		wantCode(t, tc.name, err, tc.code)
		if !strings.Contains(err.Error(), tc.msg) {
			t.Fatalf("%s: message %q, want %q", tc.name, err.Error(), tc.msg)
		}
	}
	if got := getBalance(t, c, "acct", "a"); got != -1 {
		t.Fatalf("a refused transaction wrote: bal %d", got)
	}
}

func TestSDKTransactIdempotency(t *testing.T) {
	c := startNode(t)
	ctx := context.Background()
	sdkTable(t, c, "acct", false)
	incr := func(by string) *dynamodb.TransactWriteItemsInput {
		return &dynamodb.TransactWriteItemsInput{ClientRequestToken: aws.String("token-1"), TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{TableName: aws.String("acct"), Key: acctKey("n"), UpdateExpression: aws.String("ADD bal :one"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(by)}}},
		}}
	}
	for range 3 {
		if _, err := c.TransactWriteItems(ctx, incr("1")); err != nil {
			t.Fatalf("TransactWriteItems with a token: %v", err)
		}
	}
	if got := getBalance(t, c, "acct", "n"); got != 1 {
		t.Fatalf("bal after the same request three times = %d, want 1", got)
	}
	_, err := c.TransactWriteItems(ctx, incr("2"))
	wantCode(t, "another request with the token", err, "IdempotentParameterMismatchException")
}

// TestSDKBankTransfers runs concurrent transfers between accounts spread
// over the table's partitions, and concurrent TransactGetItems of every
// account: each read sees the same total, and so does the end.
func TestSDKBankTransfers(t *testing.T) {
	c := startNode(t)
	ctx := context.Background()
	sdkTable(t, c, "bank", false)
	const (
		accounts  = 8
		initial   = 100
		writers   = 4
		transfers = 20
	)
	var seed []types.TransactWriteItem
	for i := range accounts {
		seed = append(seed, putAcct("bank", fmt.Sprint("acct", i), initial))
	}
	if _, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: seed}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	var reads []types.TransactGetItem
	for i := range accounts {
		reads = append(reads, types.TransactGetItem{Get: &types.Get{TableName: aws.String("bank"), Key: acctKey(fmt.Sprint("acct", i))}})
	}
	total := func() (int, error) {
		out, err := c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: reads})
		if err != nil {
			return 0, err
		}
		sum := 0
		for _, r := range out.Responses {
			sum += balanceOf(t, r.Item)
		}
		return sum, nil
	}
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		committed int
		failures  []string
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	done := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for range transfers {
				from, to := rng.IntN(accounts), rng.IntN(accounts-1)
				if to >= from {
					to++
				}
				for attempt := 0; ; attempt++ {
					_, err := c.TransactWriteItems(ctx, transfer("bank", fmt.Sprint("acct", from), fmt.Sprint("acct", to), 1+rng.IntN(20)))
					if err == nil {
						mu.Lock()
						committed++
						mu.Unlock()
						break
					}
					if errorCode(err) != "TransactionCanceledException" {
						fail("transfer: %v", err)
						return
					}
					if attempt == 50 || !strings.Contains(err.Error(), "TransactionConflict") {
						break // a refused condition, or a hot pair: next transfer
					}
				}
			}
		}()
	}
	readerDone := make(chan struct{})
	consistentReads := 0
	go func() {
		defer close(readerDone)
		for {
			select {
			case <-done:
				return
			default:
			}
			sum, err := total()
			switch {
			case err == nil && sum != accounts*initial:
				fail("TransactGetItems saw a total of %d, want %d", sum, accounts*initial)
				return
			case err == nil:
				consistentReads++
			case errorCode(err) != "TransactionCanceledException":
				fail("TransactGetItems: %v", err)
				return
			}
		}
	}()
	wg.Wait()
	close(done)
	<-readerDone
	for _, f := range failures {
		t.Error(f)
	}
	sum := 0
	for i := range accounts {
		sum += getBalance(t, c, "bank", fmt.Sprint("acct", i))
	}
	if sum != accounts*initial {
		t.Fatalf("final total %d, want %d", sum, accounts*initial)
	}
	if committed == 0 {
		t.Fatal("no transfer committed")
	}
	if n, err := total(); err != nil || n != accounts*initial {
		t.Fatalf("final TransactGetItems total %d (%v), want %d", n, err, accounts*initial)
	}
	t.Logf("%d transfers committed, %d consistent concurrent reads", committed, consistentReads)
}

// TestSDKTransactionsLocalIndexes: transactions writing to a table with
// local secondary indexes keep its entries: puts, an update moving an
// entry, a delete, a sparse item, PartiQL inserts; a canceled
// transaction leaves none; a write breaking an index rule or the item
// collection's limit cancels the transaction. After each step every
// index equals what a scan of the table implies.
func TestSDKTransactionsLocalIndexes(t *testing.T) {
	c := startNodeWith(t, func(cfg *node.Config) { cfg.ItemCollectionLimit = 8 << 10 })
	ctx := context.Background()
	lsiTable(t, c, "ltab")
	put := func(it avMap) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String("ltab"), Item: it}}
	}
	key := func(sk string) avMap { return avMap{"pk": s("a"), "sk": num(sk)} }
	write := func(step string, items ...types.TransactWriteItem) error {
		t.Helper()
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		return err
	}
	if err := write("puts", put(avMap{"pk": s("a"), "sk": num("1"), "l": num("5"), "t": s("x")}),
		put(avMap{"pk": s("a"), "sk": num("2"), "l": num("3")}),
		put(avMap{"pk": s("a"), "sk": num("3"), "t": s("y"), "extra": s("e")})); err != nil {
		t.Fatalf("TransactWriteItems of puts: %v", err)
	}
	checkLocalIndexes(t, c, "after the puts")
	if got := lsiQuery(t, c, dynamodb.QueryInput{IndexName: aws.String("byT"), ConsistentRead: aws.Bool(true)}, 0); keyStrings(got) != "pk=a sk=1,pk=a sk=3" || got[1]["extra"] == nil {
		t.Fatalf("byT after the puts: %v", got)
	}

	if err := write("update, delete, check, sparse put",
		types.TransactWriteItem{Update: &types.Update{TableName: aws.String("ltab"), Key: key("1"),
			UpdateExpression: aws.String("SET l = :l REMOVE t"), ExpressionAttributeValues: avMap{":l": num("9")}}},
		types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String("ltab"), Key: key("2")}},
		types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String("ltab"), Key: key("3"), ConditionExpression: aws.String("attribute_exists(t)")}},
		put(avMap{"pk": s("a"), "sk": num("4")})); err != nil {
		t.Fatalf("TransactWriteItems of an update, a delete, a check and a put: %v", err)
	}
	checkLocalIndexes(t, c, "after the update and delete")
	if got := lsiEntries(t, c, "l"); got != "pk=a sk=1" {
		t.Fatalf("items with l after the update and delete: %s", got)
	}

	var canceled *types.TransactionCanceledException
	err := write("canceled", put(avMap{"pk": s("a"), "sk": num("5"), "l": num("1")}),
		types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String("ltab"), Key: key("2"), ConditionExpression: aws.String("attribute_exists(pk)")}})
	if !errors.As(err, &canceled) {
		t.Fatalf("a transaction with a failing check: %v, want TransactionCanceledException", err)
	}
	err = write("type mismatch", put(avMap{"pk": s("a"), "sk": num("6"), "l": s("not a number")}))
	if !errors.As(err, &canceled) || aws.ToString(canceled.CancellationReasons[0].Code) != "ValidationError" ||
		!strings.Contains(aws.ToString(canceled.CancellationReasons[0].Message), "Type mismatch for Index Key l") {
		t.Fatalf("a transaction putting l of another type: %v, want a ValidationError reason", err)
	}
	checkLocalIndexes(t, c, "after the canceled transactions")

	if _, err := c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: []types.ParameterizedStatement{
		{Statement: aws.String(`INSERT INTO "ltab" VALUE {'pk': 'a', 'sk': 7, 'l': 2}`)},
		{Statement: aws.String(`UPDATE "ltab" SET t = 'z' WHERE pk = 'a' AND sk = 4`)},
	}}); err != nil {
		t.Fatalf("ExecuteTransaction: %v", err)
	}
	checkLocalIndexes(t, c, "after ExecuteTransaction")

	// The collection's limit (8 KB here): ~1.3 KB a write with its entries.
	pad := strings.Repeat("x", 500)
	for i := 100; ; i++ {
		err := write("fill", put(avMap{"pk": s("big"), "sk": num(strconv.Itoa(i)), "l": num("1"), "t": s("t"), "pad": s(pad)}))
		if err == nil {
			if i > 120 {
				t.Fatal("the item collection took 20 transactions of 1.3 KB: no limit")
			}
			continue
		}
		if !errors.As(err, &canceled) || aws.ToString(canceled.CancellationReasons[0].Code) != "ItemCollectionSizeLimitExceeded" {
			t.Fatalf("a transaction past the collection limit: %v, want an ItemCollectionSizeLimitExceeded reason", err)
		}
		break
	}
	checkLocalIndexes(t, c, "at the end")
}
