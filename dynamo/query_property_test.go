package dynamo_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// propItem is one item of the property test, by its key.
type propItem struct {
	pk string
	sk int
}

// TestSDKQueryMatchesBruteForce writes random items, then runs random key
// conditions (random operator, bounds, direction and page size) through
// the SDK: every Query must return exactly the brute-force selection of
// all items, in sort key order.
func TestSDKQueryMatchesBruteForce(t *testing.T) {
	c := startNode(t)
	sdkTable(t, c, "prop", true)
	rng := rand.New(rand.NewPCG(7, 11))
	seen := map[propItem]bool{}
	var all []propItem
	var items []avMap
	for range 300 {
		it := propItem{pk: "p" + strconv.Itoa(rng.IntN(6)), sk: rng.IntN(200) - 100}
		if seen[it] {
			continue
		}
		seen[it] = true
		all = append(all, it)
		items = append(items, avMap{"pk": s(it.pk), "sk": num(strconv.Itoa(it.sk))})
	}
	putAll(t, c, "prop", items)
	for i := range 300 {
		q := randomQuery(rng)
		want := q.bruteForce(all)
		got := q.run(t, c)
		if got != want {
			t.Fatalf("query %d %s (forward %v, limit %d):\ngot  %s\nwant %s", i, q.cond, q.forward, q.limit, got, want)
		}
	}
}

// propQuery is a random query.
type propQuery struct {
	pk      string
	op      string
	a, b    int
	cond    string
	forward bool
	limit   int32
}

var propOps = []string{"", "=", "<", "<=", ">", ">=", "BETWEEN"}

func randomQuery(rng *rand.Rand) propQuery {
	q := propQuery{pk: "p" + strconv.Itoa(rng.IntN(7)), op: propOps[rng.IntN(len(propOps))],
		a: rng.IntN(220) - 110, forward: rng.IntN(2) == 0, limit: int32(rng.IntN(8))}
	q.b = q.a + rng.IntN(80)
	q.cond = "pk = :p"
	switch q.op {
	case "":
	case "BETWEEN":
		q.cond += " AND sk BETWEEN :a AND :b"
	default:
		q.cond += " AND sk " + q.op + " :a"
	}
	return q
}

// matches evaluates the sort key condition by hand.
func (q propQuery) matches(sk int) bool {
	switch q.op {
	case "=":
		return sk == q.a
	case "<":
		return sk < q.a
	case "<=":
		return sk <= q.a
	case ">":
		return sk > q.a
	case ">=":
		return sk >= q.a
	case "BETWEEN":
		return sk >= q.a && sk <= q.b
	}
	return true
}

func (q propQuery) bruteForce(all []propItem) string {
	var sks []int
	for _, it := range all {
		if it.pk == q.pk && q.matches(it.sk) {
			sks = append(sks, it.sk)
		}
	}
	slices.Sort(sks)
	if !q.forward {
		slices.Reverse(sks)
	}
	keys := make([]string, len(sks))
	for i, sk := range sks {
		keys[i] = "pk=" + q.pk + " sk=" + strconv.Itoa(sk)
	}
	return strings.Join(keys, ",")
}

func (q propQuery) run(t *testing.T, c *dynamodb.Client) string {
	t.Helper()
	values := avMap{":p": s(q.pk)}
	if q.op != "" {
		values[":a"] = num(strconv.Itoa(q.a))
	}
	if q.op == "BETWEEN" {
		values[":b"] = num(strconv.Itoa(q.b))
	}
	in := &dynamodb.QueryInput{TableName: aws.String("prop"), KeyConditionExpression: aws.String(q.cond),
		ExpressionAttributeValues: values, ScanIndexForward: aws.Bool(q.forward)}
	if q.limit > 0 {
		in.Limit = aws.Int32(q.limit)
	}
	p := dynamodb.NewQueryPaginator(c, in)
	var got []avMap
	for pages := 0; p.HasMorePages(); pages++ {
		if pages > 200 {
			t.Fatal("query does not end")
		}
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", q.cond, err)
		}
		got = append(got, out.Items...)
	}
	return keyStrings(got)
}
