package node_test

import (
	"context"
	"flag"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/node"
)

// ttlFigure is the expired item count of TestTTLFigure (0: skipped); the
// table holds as many unexpired ones. A measurement, not a check: run it
// alone, without -race:
//
//	go test ./node/ -run TestTTLFigure -ttl.figure=20000 -v
var (
	ttlFigure           = flag.Int("ttl.figure", 0, "expired items of TestTTLFigure's table (0: skip it)")
	ttlFigureMaxDeletes = flag.Int("ttl.max-deletes", 0, "TestTTLFigure's Config.TTLMaxDeletes (0: the default)")
)

// TestTTLFigure measures the TTL sweeper on one node with its default
// interval: how fast it deletes -ttl.figure expired items from a table
// holding as many unexpired ones, and the p50 and p99 of foreground
// PutItems (4 writers) before and while it sweeps.
func TestTTLFigure(t *testing.T) {
	t.Parallel()
	if *ttlFigure == 0 {
		t.Skip("a measurement: set -ttl.figure=N")
	}
	n := startWith(t, func(c *node.Config) {
		if *ttlFigureMaxDeletes > 0 {
			c.TTLMaxDeletes = *ttlFigureMaxDeletes
		}
	})
	c, ctx := client(n), context.Background()
	createCapacityTable(t, c, "big", 0, 0)
	start := time.Now()
	past, future := start.Add(-time.Hour).Unix(), start.Add(24*time.Hour).Unix()
	total := 2 * *ttlFigure
	loadItems(t, c, total, func(i int) map[string]types.AttributeValue {
		it, exp := bigItem(i), future
		if i%2 == 0 {
			exp = past
		}
		it["exp"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(exp, 10)}
		return it
	})
	t.Logf("loaded %d items (%d expired) in %s", total, *ttlFigure, time.Since(start).Round(time.Millisecond))

	deleted := func() float64 { return sampleOrZero(t, n, `partita_ttl_deleted_items_total\{table="big"\}`) }
	before := foreground(t, c, func(<-chan struct{}) { time.Sleep(10 * time.Second) })
	var swept time.Duration
	during := foreground(t, c, func(<-chan struct{}) {
		if _, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("big"),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("exp")}}); err != nil {
			t.Error(err)
			return
		}
		begin := time.Now()
		for deadline := begin.Add(15 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if int(deleted()) >= *ttlFigure {
				swept = time.Since(begin)
				return
			}
		}
	})
	got := deleted()
	scanned := metric(t, n, `partita_ttl_scanned_items_total`)
	if swept == 0 {
		t.Logf("swept %.0f of %d expired items in 15 min (%.0f items read)", got, *ttlFigure, scanned)
	} else {
		t.Logf("swept %d expired items in %s: %.0f deletions/s; %.0f items read (%.1f per deletion)", *ttlFigure,
			swept.Round(time.Millisecond), float64(*ttlFigure)/swept.Seconds(), scanned, scanned/got)
	}
	t.Logf("foreground PutItem before the sweep: %s", before)
	t.Logf("foreground PutItem during the sweep: %s", during)
}

// sampleOrZero is the value of the sample of n's /metrics matching
// pattern, 0 while there is none (a labelled counter exists only after
// its first increment).
func sampleOrZero(t *testing.T, n *node.Node, pattern string) float64 {
	m := regexp.MustCompile(`(?m)^` + pattern + ` ([0-9.e+-]+)$`).FindStringSubmatch(scrape(t, n))
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
