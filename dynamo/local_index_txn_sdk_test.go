package dynamo_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/node"
)

// TestSDKItemCollectionTransactionsRace: transactions and single writes
// racing into one item collection of a table with local indexes pass no
// more than fit one after the other: a transaction's prepared write counts
// against the collection's limit until it commits or aborts, for the
// writes and the other prepares evaluated meanwhile. The collection's
// index holds exactly the acknowledged writes.
func TestSDKItemCollectionTransactionsRace(t *testing.T) {
	c := startNodeWith(t, func(cfg *node.Config) { cfg.ItemCollectionLimit = 8 << 10 })
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	c = dynamodb.New(c.Options(), func(o *dynamodb.Options) { o.HTTPClient = &http.Client{Transport: tr} })
	ctx := context.Background()
	lsiTable(t, c, "ltab")
	pad := strings.Repeat("x", 500)
	row := func(pk string, sk int) map[string]types.AttributeValue {
		return avMap{"pk": s(pk), "sk": num(strconv.Itoa(sk)), "l": num("1"), "t": s("t"), "pad": s(pad)}
	}
	fits := 0
	for ; fits < 20; fits++ {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ltab"), Item: row("seq", fits)}); err != nil {
			wantCode(t, "the sequential write past the limit", err, "ItemCollectionSizeLimitExceededException")
			break
		}
	}
	// Three racers in four are transactions of two puts (the raced collection's
	// and one of a collection of their own), the others single puts.
	const racers = 24
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed, refused := 0, 0
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%4 != 3 {
				_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
					{Put: &types.Put{TableName: aws.String("ltab"), Item: row("race", i)}},
					{Put: &types.Put{TableName: aws.String("ltab"), Item: row("own"+strconv.Itoa(i), 0)}},
				}})
			} else {
				_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ltab"), Item: row("race", i)})
			}
			mu.Lock()
			defer mu.Unlock()
			var limit *types.ItemCollectionSizeLimitExceededException
			var canceled *types.TransactionCanceledException
			switch {
			case err == nil:
				passed++
			case errors.As(err, &limit):
				refused++
			case errors.As(err, &canceled) && len(canceled.CancellationReasons) == 2 &&
				aws.ToString(canceled.CancellationReasons[0].Code) == "ItemCollectionSizeLimitExceeded":
				refused++
			case errors.As(err, &canceled):
				// Another transaction's intent on... no item is shared: a
				// conflict here is a failure.
				t.Errorf("racer %d: %v (%+v)", i, err, canceled.CancellationReasons)
			default:
				t.Errorf("racer %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	t.Logf("%d racers passed, %d refused; %d writes fit one after the other", passed, refused, fits)
	if passed > fits || passed == 0 || passed+refused != racers {
		t.Fatalf("%d racers passed, %d refused; %d writes fit one after the other", passed, refused, fits)
	}
	q, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("ltab"), IndexName: aws.String("allL"), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: avMap{":p": s("race")}})
	if err != nil || int(q.Count) != passed {
		t.Fatalf("allL of the raced collection: %d entries (%v), want %d", q.Count, err, passed)
	}
}
