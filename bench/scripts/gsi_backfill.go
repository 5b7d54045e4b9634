//go:build ignore

// Command gsi_backfill measures the backfill of a global secondary index added to
// a loaded table while writes go on (docs/indexes.md, "Figures"), against
// a running cluster (bench/scripts/gsi_backfill.sh starts one):
//
//	go run bench/scripts/gsi_backfill.go -endpoint http://127.0.0.1:8000 -items 1000000
//
// It creates table -table, loads -items items of about 100 bytes with
// BatchWriteItem, starts -writers clients that put, move and delete
// items, adds a KEYS_ONLY index on "g" with UpdateTable, polls
// DescribeTable every second until the index is ACTIVE, stops the writers
// and compares the index with a scan of the table until they are equal
// (or a minute passed).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

var (
	endpoints = flag.String("endpoint", "http://127.0.0.1:8000", "DynamoDB endpoints, comma-separated")
	items     = flag.Int("items", 1000000, "items loaded before the index is added")
	writers   = flag.Int("writers", 8, "clients writing while the backfill runs")
	loaders   = flag.Int("loaders", 16, "clients loading the table")
	table     = flag.String("table", "gsifig", "table name")
	skipLoad  = flag.Bool("skip-load", false, "the table is loaded already")
	dropIndex = flag.Bool("drop-index", false, "with -skip-load: delete the table's index first, if it has one")
)

func main() {
	flag.Parse()
	ctx := context.Background()
	var clients []*dynamodb.Client
	for _, e := range strings.Split(*endpoints, ",") {
		clients = append(clients, dynamodb.New(dynamodb.Options{
			Region: "us-east-1", BaseEndpoint: aws.String(e),
			Credentials: credentials.NewStaticCredentialsProvider("figure", "figure", ""),
		}))
	}
	c := clients[0]
	if !*skipLoad {
		if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            table,
			BillingMode:          types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		}); err != nil {
			log.Fatal(err)
		}
		start := time.Now()
		load(ctx, clients)
		d := time.Since(start)
		fmt.Printf("loaded %d items in %s (%.0f items/s)\n", *items, d.Round(time.Millisecond), float64(*items)/d.Seconds())
	}

	if *dropIndex {
		drop(ctx, c)
	}
	stop := make(chan struct{})
	var wrote atomic.Int64
	var wg sync.WaitGroup
	for w := range *writers {
		wg.Go(func() { write(ctx, clients[w%len(clients)], uint64(w), stop, &wrote) })
	}
	time.Sleep(2 * time.Second)
	start := time.Now()
	if _, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName:            table,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS}},
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName:  aws.String("byg"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}}},
	}); err != nil {
		log.Fatal(err)
	}
	w0 := wrote.Load()
	for {
		time.Sleep(time.Second)
		out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: table})
		if err != nil {
			log.Printf("DescribeTable: %v", err)
			continue
		}
		ix := out.Table.GlobalSecondaryIndexes[0]
		fmt.Printf("%6.0fs %s backfilling=%v items=%d\n", time.Since(start).Seconds(), ix.IndexStatus,
			aws.ToBool(ix.Backfilling), aws.ToInt64(ix.ItemCount))
		if ix.IndexStatus == types.IndexStatusActive {
			break
		}
	}
	d := time.Since(start)
	writes := wrote.Load() - w0
	close(stop)
	wg.Wait()
	fmt.Printf("backfill: %d items in %s: %.0f items/s; %d writes meanwhile (%.0f/s)\n",
		*items, d.Round(time.Millisecond), float64(*items)/d.Seconds(), writes, float64(writes)/d.Seconds())

	for i := 0; ; i++ {
		cs := time.Now()
		missing, extra, n := compare(ctx, c)
		fmt.Printf("compare %d (%s): %d entries expected, %d missing, %d extra\n", i, time.Since(cs).Round(time.Millisecond), n, missing, extra)
		if missing == 0 && extra == 0 {
			fmt.Println("the index equals a projection of a scan of the table")
			return
		}
		if i == 10 {
			fmt.Println("the index does NOT equal the table")
			os.Exit(1)
		}
		time.Sleep(5 * time.Second)
	}
}

// drop deletes index "byg" of the table and waits until it is gone.
func drop(ctx context.Context, c *dynamodb.Client) {
	for deleted := false; ; time.Sleep(time.Second) {
		if !deleted {
			_, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: table,
				GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String("byg")}}},
			})
			deleted = err == nil
			if err != nil {
				log.Printf("delete the index: %v", err)
			}
		}
		out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: table})
		if err == nil && len(out.Table.GlobalSecondaryIndexes) == 0 {
			return
		}
	}
}

// item is item i: about 100 bytes; one in 20 has no "g" (sparse).
func item(i int, g int) map[string]types.AttributeValue {
	it := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("item-%09d", i)},
		"p":  &types.AttributeValueMemberS{Value: fmt.Sprintf("%070d", i)},
	}
	if g%20 != 0 {
		it["g"] = &types.AttributeValueMemberS{Value: fmt.Sprintf("g-%05d", g%5000)}
	}
	return it
}

func load(ctx context.Context, clients []*dynamodb.Client) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for l := range *loaders {
		c := clients[l%len(clients)]
		wg.Go(func() {
			for {
				from := int(next.Add(25)) - 25
				if from >= *items {
					return
				}
				var reqs []types.WriteRequest
				for i := from; i < min(from+25, *items); i++ {
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item(i, i)}})
				}
				for in := map[string][]types.WriteRequest{*table: reqs}; len(in) > 0; {
					out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: in})
					if err != nil {
						log.Fatalf("load: %v", err)
					}
					in = out.UnprocessedItems
				}
			}
		})
	}
	wg.Wait()
}

// write puts, moves and deletes items until stop closes: six in ten
// change an item's "g", two in ten delete one, two in ten add new ones.
func write(ctx context.Context, c *dynamodb.Client, seed uint64, stop <-chan struct{}, wrote *atomic.Int64) {
	rng := rand.New(rand.NewPCG(seed, 19))
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		var err error
		switch r := rng.IntN(10); {
		case r < 6:
			_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: item(rng.IntN(*items), rng.Int())})
		case r < 8:
			_, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: table, Key: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("item-%09d", rng.IntN(*items))}}})
		default:
			_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: item(*items+int(seed)*10000000+n, rng.Int())})
		}
		if err != nil {
			log.Printf("write: %v", err)
			continue
		}
		wrote.Add(1)
	}
}

// compare scans the table and the index; it returns the entries the table
// implies that the index lacks, the index's entries the table does not
// imply, and the entries the table implies.
func compare(ctx context.Context, c *dynamodb.Client) (missing, extra, want int) {
	expect := scan(ctx, c, nil)
	got := scan(ctx, c, aws.String("byg"))
	for k, g := range expect {
		if got[k] != g {
			if missing++; missing <= 5 {
				fmt.Printf("  %s: table g=%q, index g=%q\n", k, g, got[k])
			}
		}
	}
	for k, g := range got {
		if expect[k] != g {
			if extra++; extra <= 5 {
				fmt.Printf("  %s: index g=%q, table g=%q\n", k, g, expect[k])
			}
		}
	}
	return missing, extra, len(expect)
}

// scan reads pk -> g of the table (items with a "g") or of the index, in
// four parallel segments.
func scan(ctx context.Context, c *dynamodb.Client, index *string) map[string]string {
	const segments = 4
	out := make(map[string]string)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for s := range segments {
		wg.Go(func() {
			in := &dynamodb.ScanInput{TableName: table, IndexName: index, Segment: aws.Int32(int32(s)), TotalSegments: aws.Int32(segments)}
			p := dynamodb.NewScanPaginator(c, in)
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					log.Fatalf("scan: %v", err)
				}
				mu.Lock()
				for _, it := range page.Items {
					g, ok := it["g"].(*types.AttributeValueMemberS)
					if !ok {
						continue
					}
					pk := it["pk"].(*types.AttributeValueMemberS).Value
					if old, dup := out[pk]; dup {
						fmt.Printf("  %s: two entries, g=%q and g=%q\n", pk, old, g.Value)
					}
					out[pk] = g.Value
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return out
}
