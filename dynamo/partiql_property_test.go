package dynamo_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// TestSDKSelectPlansAgree writes random items, then runs random SELECTs
// twice: as planned (a get, queries or a scan, by what the WHERE clause
// fixes) and forced to a scan by OR-ing a clause that matches nothing.
// Both must return the same items, whatever the page size: the planner
// never loses or invents an item.
func TestSDKSelectPlansAgree(t *testing.T) {
	c := startNode(t)
	sdkTable(t, c, "agree", true)
	rng := rand.New(rand.NewPCG(3, 5))
	var items []avMap
	seen := map[string]bool{}
	for range 150 {
		pk, sk := "p"+strconv.Itoa(rng.IntN(5)), rng.IntN(40)
		if seen[pk+"/"+strconv.Itoa(sk)] {
			continue
		}
		seen[pk+"/"+strconv.Itoa(sk)] = true
		it := avMap{"pk": s(pk), "sk": num(strconv.Itoa(sk)), "v": num(strconv.Itoa(rng.IntN(10)))}
		if rng.IntN(3) > 0 {
			it["w"] = s(string(rune('a'+rng.IntN(4))) + "x")
		}
		items = append(items, it)
	}
	putAll(t, c, "agree", items)
	for i := range 200 {
		where := randomWhere(rng)
		limit := int32(1 + rng.IntN(20))
		planned := selectKeys(t, c, "SELECT * FROM agree WHERE "+where, limit)
		scanned := selectKeys(t, c, "SELECT * FROM agree WHERE "+where+" OR pk = 'none'", 0)
		if planned != scanned {
			t.Fatalf("statement %d, WHERE %s (limit %d):\nplanned %s\nscanned %s", i, where, limit, planned, scanned)
		}
	}
}

// randomWhere is a conjunction of one to three random predicates, often
// fixing the partition key and a sort key range.
func randomWhere(rng *rand.Rand) string {
	var parts []string
	switch rng.IntN(4) {
	case 0:
		parts = append(parts, fmt.Sprintf("pk = 'p%d'", rng.IntN(6)))
	case 1:
		parts = append(parts, fmt.Sprintf("pk IN ['p%d', 'p%d']", rng.IntN(6), rng.IntN(6)))
	case 2:
		parts = append(parts, fmt.Sprintf("'p%d' = pk", rng.IntN(6)))
	}
	preds := []func() string{
		func() string {
			return fmt.Sprintf("sk %s %d", []string{"=", "<", "<=", ">", ">=", "<>"}[rng.IntN(6)], rng.IntN(45))
		},
		func() string { a := rng.IntN(40); return fmt.Sprintf("sk BETWEEN %d AND %d", a, a+rng.IntN(10)) },
		func() string {
			return fmt.Sprintf("%d %s sk", rng.IntN(45), []string{"=", "<", "<=", ">", ">="}[rng.IntN(5)])
		},
		func() string { return fmt.Sprintf("v >= %d", rng.IntN(10)) },
		func() string { return fmt.Sprintf("begins_with(w, '%c')", 'a'+rng.IntN(4)) },
		func() string { return []string{"w IS MISSING", "w IS NOT MISSING", "w IS STRING"}[rng.IntN(3)] },
		func() string { return fmt.Sprintf("NOT (v = %d OR sk < %d)", rng.IntN(10), rng.IntN(40)) },
		func() string { return fmt.Sprintf("v IN [%d, %d]", rng.IntN(10), rng.IntN(10)) },
	}
	for range 1 + rng.IntN(3) {
		parts = append(parts, preds[rng.IntN(len(preds))]())
	}
	if rng.IntN(5) == 0 {
		parts = append(parts, fmt.Sprintf("sk = %d", rng.IntN(40)))
	}
	where := strings.Join(parts, " AND ")
	if rng.IntN(4) == 0 {
		where += fmt.Sprintf(" OR pk = 'p%d' AND v < %d", rng.IntN(6), rng.IntN(10))
	}
	return where
}

// selectKeys runs stmt through every page and returns the sorted keys of
// the items it returned.
func selectKeys(t *testing.T, c *dynamodb.Client, stmt string, limit int32) string {
	t.Helper()
	in := &dynamodb.ExecuteStatementInput{Statement: aws.String(stmt)}
	if limit > 0 {
		in.Limit = aws.Int32(limit)
	}
	var keys []string
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("%s: no last page", stmt)
		}
		out, err := c.ExecuteStatement(context.Background(), in)
		if err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		for _, it := range out.Items {
			keys = append(keys, str(it["pk"])+"/"+str(it["sk"]))
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	slices.Sort(keys)
	return strings.Join(keys, " ")
}
