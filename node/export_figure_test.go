package node_test

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// exportFigure is the item count of TestExportFigure (0: skipped). It is
// a measurement, not a check: run it alone, without -race:
//
//	go test ./node/ -run TestExportFigure -export.figure=200000 -v
var exportFigure = flag.Int("export.figure", 0, "items of TestExportFigure's table (0: skip it)")

// exportFigureRate, when set (a size, as 2MiB), has TestExportFigure run
// exports without a bound and with export.max-read-bytes-per-sec at it,
// interleaved, twice each:
//
//	go test ./node/ -run TestExportFigure -export.figure=100000 -export.figure-rate=2MiB -v
var exportFigureRate = flag.String("export.figure-rate", "", "export.max-read-bytes-per-sec of TestExportFigure's bounded rounds")

// TestExportFigure measures an export of a table of -export.figure items
// on one node to a file:// bucket: its time and bytes, and the p50 and
// p99 of foreground PutItems (4 writers) before and during it.
func TestExportFigure(t *testing.T) {
	t.Parallel()
	if *exportFigure == 0 {
		t.Skip("a measurement: set -export.figure=N")
	}
	root := t.TempDir()
	n := startExports(t, "file://"+filepath.ToSlash(root)+"/{bucket}")
	c, ctx := client(n), context.Background()
	if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("big"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the table to be ACTIVE", func() bool {
		out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("big")})
		return err == nil && out.Table.TableStatus == types.TableStatusActive
	})
	start := time.Now()
	loadBig(t, c, *exportFigure)
	t.Logf("loaded %d items in %s", *exportFigure, time.Since(start).Round(time.Millisecond))

	before := foreground(t, c, func(stop <-chan struct{}) { time.Sleep(10 * time.Second) })
	exportOnce := func() *types.ExportDescription {
		var d *types.ExportDescription
		out, err := c.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{
			TableArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/big"), S3Bucket: aws.String("figure")})
		if err != nil {
			t.Error(err)
			return nil
		}
		for d == nil || d.ExportStatus == types.ExportStatusInProgress {
			time.Sleep(50 * time.Millisecond)
			got, err := c.DescribeExport(ctx, &dynamodb.DescribeExportInput{ExportArn: out.ExportDescription.ExportArn})
			if err != nil {
				t.Error(err)
				return nil
			}
			d = got.ExportDescription
		}
		return d
	}
	if *exportFigureRate != "" {
		// Rounds of an export without a bound and one with
		// export.max-read-bytes-per-sec, interleaved.
		for round := range 2 {
			for _, rate := range []string{"", *exportFigureRate} {
				verb, q := "unset", url.Values{"key": {"export.max-read-bytes-per-sec"}}
				if rate != "" {
					verb = "set"
					q.Set("value", rate)
				}
				if rate != "" || round > 0 {
					if code, _ := configDo(t, n, verb, q); code != http.StatusOK {
						t.Fatalf("%s export.max-read-bytes-per-sec: %d", verb, code)
					}
					time.Sleep(time.Second) // the override reaches the node
				}
				var d *types.ExportDescription
				fg := foreground(t, c, func(<-chan struct{}) { d = exportOnce() })
				t.Logf("round %d, rate %q: export %s in %s; foreground PutItem %s", round, cmp.Or(rate, "unlimited"),
					d.ExportStatus, d.EndTime.Sub(*d.StartTime).Round(time.Millisecond), fg)
			}
		}
		t.Logf("foreground PutItem without export: %s", before)
		return
	}
	var d *types.ExportDescription
	during := foreground(t, c, func(<-chan struct{}) { d = exportOnce() })
	var onDisk int64
	_ = filepath.WalkDir(filepath.Join(root, "figure"), func(_ string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if info, err := e.Info(); err == nil {
				onDisk += info.Size()
			}
		}
		return nil
	})
	t.Logf("export %s: %d items, BilledSizeBytes %d, %d bytes in the bucket (gzip), in %s",
		d.ExportStatus, aws.ToInt64(d.ItemCount), aws.ToInt64(d.BilledSizeBytes), onDisk, d.EndTime.Sub(*d.StartTime))
	t.Logf("foreground PutItem without export: %s", before)
	t.Logf("foreground PutItem during export:  %s", during)
}

// loadBig writes count items of about 200 bytes, 8 batches at a time.
func loadBig(t *testing.T, c *dynamodb.Client, count int) { loadItems(t, c, count, bigItem) }

// loadItems writes items item(0) ... item(count-1) to table "big" with
// BatchWriteItem, 8 batches at a time.
func loadItems(t *testing.T, c *dynamodb.Client, count int, item func(int) map[string]types.AttributeValue) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				from := int(next.Add(25)) - 25
				if from >= count {
					return
				}
				var reqs []types.WriteRequest
				for i := from; i < min(from+25, count); i++ {
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item(i)}})
				}
				for in := map[string][]types.WriteRequest{"big": reqs}; len(in) > 0; {
					out, err := c.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: in})
					if err != nil {
						t.Error(err)
						return
					}
					in = out.UnprocessedItems
				}
			}
		})
	}
	wg.Wait()
}

func bigItem(i int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk":    &types.AttributeValueMemberS{Value: fmt.Sprintf("item-%09d", i)},
		"n":     &types.AttributeValueMemberN{Value: fmt.Sprint(i)},
		"note":  &types.AttributeValueMemberS{Value: fmt.Sprintf("%0160d", i)},
		"flags": &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
	}
}

// foreground runs 4 PutItem writers while during runs, and describes
// their latencies.
func foreground(t *testing.T, c *dynamodb.Client, during func(stop <-chan struct{})) string {
	stop := make(chan struct{})
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				begin := time.Now()
				if _, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("big"),
					Item: bigItem(10_000_000 + w*1_000_000 + i%1000)}); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				lat = append(lat, time.Since(begin))
				mu.Unlock()
			}
		}()
	}
	begin := time.Now()
	during(stop)
	close(stop)
	wg.Wait()
	el := time.Since(begin)
	slices.Sort(lat)
	if len(lat) == 0 {
		return "no writes"
	}
	q := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))].Round(10 * time.Microsecond) }
	return fmt.Sprintf("%d writes in %s (%.0f/s), p50 %s, p99 %s, max %s", len(lat), el.Round(time.Millisecond),
		float64(len(lat))/el.Seconds(), q(0.50), q(0.99), lat[len(lat)-1].Round(10*time.Microsecond))
}
