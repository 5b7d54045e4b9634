package router_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
)

func putItem(t *testing.T, r *router.Router, tbl *partitapb.Table, it item.Item) {
	t.Helper()
	key := item.Item{"pk": it["pk"], "sk": it["sk"]}
	sk, err := r.StorageKey(tbl, key)
	if err != nil {
		t.Fatal(err)
	}
	cmd := &partitapb.Command{Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: sk, Item: item.EncodeItem(it)}}}
	if res, err := r.Write(context.Background(), tbl, key, cmd); err != nil || res.GetError() != nil {
		t.Fatalf("put: %v %v", err, res.GetError())
	}
}

// brute returns the items of pk satisfying the condition, in order.
func brute(all []item.Item, spec router.QuerySpec) []item.Item {
	var out []item.Item
	for _, it := range all {
		if !item.Equal(it["pk"], spec.PK) || !matches(it["sk"], spec) {
			continue
		}
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b item.Item) int {
		c, _ := item.Compare(a["sk"], b["sk"])
		if !spec.Forward {
			return -c
		}
		return c
	})
	return out
}

func matches(sk item.Value, spec router.QuerySpec) bool {
	cmp := func(i int) int { c, _ := item.Compare(sk, spec.Values[i]); return c }
	switch spec.Op {
	case router.SortEQ:
		return cmp(0) == 0
	case router.SortLT:
		return cmp(0) < 0
	case router.SortLE:
		return cmp(0) <= 0
	case router.SortGT:
		return cmp(0) > 0
	case router.SortGE:
		return cmp(0) >= 0
	case router.SortBetween:
		return cmp(0) >= 0 && cmp(1) <= 0
	case router.SortBeginsWith:
		return strings.HasPrefix(sk.S, spec.Values[0].S)
	}
	return true
}

func query(t *testing.T, r *router.Router, tbl *partitapb.Table, spec router.QuerySpec, limit int) []item.Item {
	t.Helper()
	var out []item.Item
	for {
		var page []item.Item
		err := r.Query(context.Background(), tbl, spec, func(it item.Item, _ int) bool {
			page = append(page, it)
			return len(page) < limit
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		if len(page) < limit {
			return out
		}
		last := page[len(page)-1]
		spec.StartAfter = item.Item{"pk": last["pk"], "sk": last["sk"]}
	}
}

// TestQueryMatchesBruteForce: random items, random sort key conditions and
// page sizes; Query (resumed page by page) returns exactly the brute-force
// answer in the same order.
func TestQueryMatchesBruteForce(t *testing.T) {
	for _, skType := range []item.Type{item.TypeS, item.TypeN} {
		t.Run(skType.String(), func(t *testing.T) {
			r := newRouter(t)
			schema := table()
			schema.AttributeDefinitions = nil
			tbl, err := r.CreateTable(context.Background(), schema)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, uint64(skType)))
			randSK := func() item.Value {
				if skType == item.TypeN {
					return item.N(item.MustNumber(fmt.Sprintf("%d.%d", rng.IntN(200)-100, rng.IntN(10))))
				}
				const alphabet = "ab\x00c"
				b := make([]byte, 1+rng.IntN(4))
				for i := range b {
					b[i] = alphabet[rng.IntN(len(alphabet))]
				}
				return item.S(string(b))
			}
			var all []item.Item
			seen := map[string]bool{}
			for len(all) < 300 {
				it := item.Item{"pk": item.S(fmt.Sprint("p", rng.IntN(4))), "sk": randSK()}
				id := fmt.Sprint(it["pk"].S, "|", it["sk"])
				if seen[id] {
					continue
				}
				seen[id] = true
				putItem(t, r, tbl, it)
				all = append(all, it)
			}
			ops := []router.SortOp{router.SortAny, router.SortEQ, router.SortLT, router.SortLE, router.SortGT, router.SortGE, router.SortBetween}
			if skType == item.TypeS {
				ops = append(ops, router.SortBeginsWith)
			}
			for i := range 400 {
				spec := router.QuerySpec{PK: item.S(fmt.Sprint("p", rng.IntN(5))), Op: ops[rng.IntN(len(ops))], Forward: rng.IntN(2) == 0}
				a, b := randSK(), randSK()
				if c, _ := item.Compare(a, b); c > 0 {
					a, b = b, a
				}
				switch spec.Op {
				case router.SortAny:
				case router.SortBetween:
					spec.Values = []item.Value{a, b}
				default:
					spec.Values = []item.Value{a}
				}
				want := brute(all, spec)
				got := query(t, r, tbl, spec, 1+rng.IntN(7))
				if len(got) != len(want) {
					t.Fatalf("case %d %+v: got %d items, want %d", i, spec, len(got), len(want))
				}
				for j := range got {
					if !item.Equal(item.M(got[j]), item.M(want[j])) {
						t.Fatalf("case %d %+v: item %d = %v, want %v", i, spec, j, got[j], want[j])
					}
				}
			}
		})
	}
}

// TestParallelScanSegmentsCoverEverythingOnce checks that for 1..16
// segments, resumed page by page, every item is returned exactly once.
func TestParallelScanSegmentsCoverEverythingOnce(t *testing.T) {
	r := newRouter(t)
	tbl, err := r.CreateTable(context.Background(), table())
	if err != nil {
		t.Fatal(err)
	}
	const n = 250
	for i := range n {
		putItem(t, r, tbl, item.Item{"pk": item.S(fmt.Sprint("k", i)), "sk": item.N(item.MustNumber(fmt.Sprint(i % 3)))})
	}
	for total := 1; total <= 16; total++ {
		seen := map[string]int{}
		for seg := range total {
			spec := router.ScanSpec{Segment: seg, TotalSegments: total}
			for {
				var page []item.Item
				err := r.Scan(context.Background(), tbl, spec, func(it item.Item, _ int) bool {
					page = append(page, it)
					return len(page) < 17
				})
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range page {
					seen[it["pk"].S+"/"+it["sk"].N.String()]++
				}
				if len(page) < 17 {
					break
				}
				last := page[len(page)-1]
				spec.StartAfter = item.Item{"pk": last["pk"], "sk": last["sk"]}
			}
		}
		if len(seen) != n {
			t.Fatalf("%d segments: saw %d distinct items, want %d", total, len(seen), n)
		}
		for k, c := range seen {
			if c != 1 {
				t.Fatalf("%d segments: item %s returned %d times", total, k, c)
			}
		}
	}
}
