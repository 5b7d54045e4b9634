package node_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/node"
)

// TestTransfersSurviveCoordinatorLoss: transfers between accounts run as
// transactions coordinated by two nodes; one of them is closed while its
// transactions are in flight. Transactions it left behind are recovered
// by the others (after their deadline) and the total of the accounts is
// the same through every node's reads, and after more transfers.
func TestTransfersSurviveCoordinatorLoss(t *testing.T) {
	t.Parallel()
	var recovered atomic.Int64
	start := func(join ...string) *node.Node {
		cfg := node.DefaultConfig()
		cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.Join = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0", join
		cfg.ReconcileInterval = 100 * time.Millisecond
		// Node 1 does not wait for its requests when closed: the
		// transactions it coordinates stop where they are.
		cfg.ShutdownTimeout = time.Millisecond
		cfg.Logger = slog.New(countingHandler{msg: "recovered a transaction left by its coordinator", n: &recovered})
		n, err := node.Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n1 := start()
	n2 := start(n1.PeerAddr())
	n3 := start(n1.PeerAddr())
	defer n2.Close()
	defer n3.Close()
	waitUntil(t, "meta on three voters", func() bool { return len(n1.MetaVoters()) == 3 })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const accounts, initial = 8, 100
	if _, err := client(n2).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("bank"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	w := dynamodb.NewTableExistsWaiter(client(n2), func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("bank")}, time.Minute); err != nil {
		t.Fatal(err)
	}
	acct := func(i int) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("acct", i)}}
	}
	var seed []types.TransactWriteItem
	for i := range accounts {
		it := acct(i)
		it["bal"] = &types.AttributeValueMemberN{Value: strconv.Itoa(initial)}
		seed = append(seed, types.TransactWriteItem{Put: &types.Put{TableName: aws.String("bank"), Item: it}})
	}
	if _, err := client(n2).TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: seed}); err != nil {
		t.Fatal(err)
	}
	transfer := func(db *dynamodb.Client, rng *rand.Rand) error {
		from, to := rng.IntN(accounts), rng.IntN(accounts-1)
		if to >= from {
			to++
		}
		amt := map[string]types.AttributeValue{":a": &types.AttributeValueMemberN{Value: strconv.Itoa(1 + rng.IntN(10))}}
		_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{TableName: aws.String("bank"), Key: acct(from), UpdateExpression: aws.String("SET bal = bal - :a"),
				ConditionExpression: aws.String("bal >= :a"), ExpressionAttributeValues: amt}},
			{Update: &types.Update{TableName: aws.String("bank"), Key: acct(to), UpdateExpression: aws.String("SET bal = bal + :a"),
				ExpressionAttributeValues: amt}},
		}})
		return err
	}
	var (
		stop      atomic.Bool
		committed [2]atomic.Int64
		wg        sync.WaitGroup
	)
	for i, n := range []*node.Node{n1, n2} {
		for g := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db, rng := client(n), rand.New(rand.NewPCG(uint64(i), uint64(g)))
				for !stop.Load() {
					err := transfer(db, rng)
					var tce *types.TransactionCanceledException
					switch {
					case err == nil:
						committed[i].Add(1)
					case errors.As(err, &tce):
					case i == 0:
						return // node 1 is gone
					default:
						t.Errorf("transfer through node 2: %v", err)
						return
					}
				}
			}()
		}
	}
	waitUntil(t, "transfers through node 1", func() bool { return committed[0].Load() >= 20 })
	if err := n1.Close(); err != nil {
		t.Logf("close node 1 (it does not wait for its requests): %v", err)
	}
	after := committed[1].Load()
	waitUntil(t, "transfers through node 2 after node 1 closed", func() bool { return committed[1].Load() >= after+20 })
	stop.Store(true)
	wg.Wait()

	for _, n := range []*node.Node{n2, n3} {
		sum := 0
		var gets []types.TransactGetItem
		for i := range accounts {
			out, err := client(n).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("bank"), Key: acct(i), ConsistentRead: aws.Bool(true)})
			if err != nil || out.Item == nil {
				t.Fatalf("get account %d: %v", i, err)
			}
			v, _ := strconv.Atoi(out.Item["bal"].(*types.AttributeValueMemberN).Value)
			sum += v
			gets = append(gets, types.TransactGetItem{Get: &types.Get{TableName: aws.String("bank"), Key: acct(i)}})
		}
		if sum != accounts*initial {
			t.Fatalf("total read through %s = %d, want %d", n.APIURL(), sum, accounts*initial)
		}
		out, err := client(n).TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: gets})
		if err != nil {
			t.Fatalf("TransactGetItems: %v", err)
		}
		sum = 0
		for _, r := range out.Responses {
			v, _ := strconv.Atoi(r.Item["bal"].(*types.AttributeValueMemberN).Value)
			sum += v
		}
		if sum != accounts*initial {
			t.Fatalf("TransactGetItems total through %s = %d, want %d", n.APIURL(), sum, accounts*initial)
		}
	}
	t.Logf("committed through node 1: %d, through node 2: %d; transactions recovered: %d",
		committed[0].Load(), committed[1].Load(), recovered.Load())
}

// countingHandler counts the log records whose message is msg.
type countingHandler struct {
	msg string
	n   *atomic.Int64
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.n.Add(1)
	}
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }
