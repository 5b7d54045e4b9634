package fsm_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// lsiSpec is the tests' table: pk S, sk N, index byL on l (N, KEYS_ONLY)
// and index byT on t (S, INCLUDE x).
var lsiSpec = &partitapb.LocalIndexSpec{HashKey: "pk", RangeKey: "sk", Indexes: []*partitapb.LocalIndex{
	{Name: "byL", KeySchema: []*partitapb.KeyElement{{AttributeName: "pk", KeyType: "HASH"}, {AttributeName: "l", KeyType: "RANGE"}},
		ProjectionType: "KEYS_ONLY", RangeType: "N"},
	{Name: "byT", KeySchema: []*partitapb.KeyElement{{AttributeName: "pk", KeyType: "HASH"}, {AttributeName: "t", KeyType: "RANGE"}},
		ProjectionType: "INCLUDE", NonKeyAttributes: []string{"x"}, RangeType: "S"},
}}

// randomItemWrite returns a random put, update or delete of one of a few
// items, with the index attributes sometimes absent.
func randomItemWrite(t *testing.T, rng *rand.Rand, i int) *partitapb.Command {
	pk, sk := item.S(fmt.Sprint("p", rng.IntN(2))), item.N(item.MustNumber(fmt.Sprint(rng.IntN(4))))
	k, err := engine.DataKey(nil, 1, pk, sk)
	if err != nil {
		t.Fatal(err)
	}
	cmd := &partitapb.Command{Id: []byte(fmt.Sprint("c", i)), LocalIndexes: lsiSpec}
	switch rng.IntN(4) {
	case 0, 1:
		it := item.Item{"pk": pk, "sk": sk, "x": item.S(fmt.Sprint(i)), "y": item.S("y")}
		if rng.IntN(3) > 0 {
			it["l"] = item.N(item.MustNumber(fmt.Sprint(rng.IntN(5))))
		}
		if rng.IntN(3) > 0 {
			it["t"] = item.S(fmt.Sprint("t", rng.IntN(5)))
		}
		cmd.Op = &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: k, Item: item.EncodeItem(it)}}
	case 2:
		upd := &partitapb.Expression{Text: "SET l = :l, x = :x", Values: item.EncodeItem(item.Item{
			":l": item.N(item.MustNumber(fmt.Sprint(rng.IntN(5)))), ":x": item.S(fmt.Sprint(i))})}
		if rng.IntN(2) == 0 {
			upd = &partitapb.Expression{Text: "REMOVE t SET x = :x", Values: item.EncodeItem(item.Item{":x": item.S(fmt.Sprint(i))})}
		}
		cmd.Op = &partitapb.Command_UpdateItem{UpdateItem: &partitapb.UpdateItem{Key: k,
			KeyItem: item.EncodeItem(item.Item{"pk": pk, "sk": sk}), Update: upd}}
	default:
		cmd.Op = &partitapb.Command_DeleteItem{DeleteItem: &partitapb.DeleteItem{Key: k}}
	}
	return cmd
}

// TestLocalIndexEffects evaluates random item writes on a leader's engine
// and applies their Effects there and, blind, on a follower's; a third
// engine applies the commands themselves. All three end with the same
// data, and in each the local index entries are exactly those the items
// imply: sparse, projected, one per item and index.
func TestLocalIndexEffects(t *testing.T) {
	leader, follower, direct := openEngine(t), openEngine(t), openEngine(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		cmd := randomItemWrite(t, rng, i)
		eff, res, err := fsm.Evaluate(leader.Reader(), rangeOf(part), cmd, nil, fsm.EvalHints{})
		if err != nil || res.GetError() != nil {
			t.Fatalf("evaluate %d: %v %v", i, err, res.GetError())
		}
		eff.Term, eff.LeaseIndex = 1, uint64(i+1)
		applyEffects(t, leader, eff)
		applyEffects(t, follower, eff)
		if res := apply(t, direct, part, cmd); res.GetError() != nil {
			t.Fatalf("apply %d: %v", i, res.GetError())
		}
	}
	want := dataOf(t, leader)
	if !equalData(dataOf(t, follower), want) || !equalData(dataOf(t, direct), want) {
		t.Fatal("the follower's or the direct apply's data differ from the leader's")
	}
	items, entries := 0, 0
	for _, kv := range want {
		if i, _, ok := engine.DecodeLocalEntry(kv[1]); !ok {
			items++
		} else if i != engine.LocalCollection {
			entries++
		}
	}
	implied := impliedEntries(t, want)
	if got := entryData(want); !equalData(got, implied) {
		t.Fatalf("entries:\n%s\nwant (from the items):\n%s", dump(got), dump(implied))
	}
	if items == 0 || entries == 0 || entries >= 2*items {
		t.Fatalf("%d items and %d entries: the writes should leave both, and some items outside an index", items, entries)
	}
	st, err := fsm.ReadStats(leader.Reader(), part)
	if err != nil || st.Items != int64(items) {
		t.Fatalf("stats %+v (%v), want %d items: entries are not items", st, err, items)
	}
	if got, want := fmt.Sprint(st.Local), fmt.Sprint(impliedStats(t, implied)); got != want {
		t.Fatalf("local index stats %s, want %s", got, want)
	}
	if got, want := collections(t, want, true), collections(t, want, false); got != want {
		t.Fatalf("item collection size records %s, want %s (from the items and entries)", got, want)
	}
}

// impliedStats sums entries by index.
func impliedStats(t *testing.T, entries [][2][]byte) [fsm.MaxLocalIndexes]fsm.IndexStats {
	t.Helper()
	var out [fsm.MaxLocalIndexes]fsm.IndexStats
	for _, kv := range entries {
		i, enc, _ := engine.DecodeLocalEntry(kv[1])
		p, err := item.DecodeItem(enc)
		if err != nil {
			t.Fatal(err)
		}
		out[i].Items++
		out[i].Bytes += fsm.EntrySize(p)
	}
	return out
}

// collections returns the size of each item collection of data: from
// its size record (recorded), or summed from its items and entries.
func collections(t *testing.T, data [][2][]byte, recorded bool) string {
	t.Helper()
	sizes := map[string]int64{}
	for _, kv := range data {
		pk, _, err := item.DecodeKey(kv[0][17:], item.TypeS)
		if err != nil {
			t.Fatal(err)
		}
		i, enc, entry := engine.DecodeLocalEntry(kv[1])
		switch {
		case recorded && entry && i == engine.LocalCollection:
			sizes[pk.S] += int64(binary.BigEndian.Uint64(enc))
		case recorded || (entry && i == engine.LocalCollection):
		case entry:
			p, _ := item.DecodeItem(enc)
			sizes[pk.S] += fsm.EntrySize(p)
		default:
			it, _ := item.DecodeItem(kv[1])
			sizes[pk.S] += int64(it.Size())
		}
	}
	return fmt.Sprint(sizes)
}

// TestLocalIndexTypeMismatch: an item whose index sort key has another
// type than the index's is refused, and nothing is written.
func TestLocalIndexTypeMismatch(t *testing.T) {
	eng := openEngine(t)
	k, _ := engine.DataKey(nil, 1, item.S("a"), item.N(item.MustNumber("1")))
	cmd := &partitapb.Command{Id: []byte("c"), LocalIndexes: lsiSpec, Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: k,
		Item: item.EncodeItem(item.Item{"pk": item.S("a"), "sk": item.N(item.MustNumber("1")), "l": item.S("one")})}}}
	res := apply(t, eng, part, cmd)
	want := "One or more parameter values were invalid: Type mismatch for Index Key l Expected: N Actual: S IndexName: byL"
	if res.GetError().GetCode() != partitapb.Error_VALIDATION || res.GetError().GetMessage() != want {
		t.Fatalf("result %v, want VALIDATION %q", res.GetError(), want)
	}
	if d := dataOf(t, eng); len(d) != 0 {
		t.Fatalf("wrote %d keys", len(d))
	}
}

// dataOf returns every key and value of table 1 in eng.
func dataOf(t *testing.T, eng *engine.Engine) [][2][]byte {
	t.Helper()
	lo, hi := engine.HashSpan(1, 0, 0)
	it, err := eng.NewIter(lo, hi)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out [][2][]byte
	for ok := it.First(); ok; ok = it.Next() {
		out = append(out, [2][]byte{bytes.Clone(it.Key()), bytes.Clone(it.Value())})
	}
	return out
}

// entryData keeps the local index entries of data.
func entryData(data [][2][]byte) [][2][]byte {
	var out [][2][]byte
	for _, kv := range data {
		if i, _, ok := engine.DecodeLocalEntry(kv[1]); ok && i != engine.LocalCollection {
			out = append(out, kv)
		}
	}
	return out
}

// impliedEntries computes the entries the items of data should have.
func impliedEntries(t *testing.T, data [][2][]byte) [][2][]byte {
	t.Helper()
	var out [][2][]byte
	for _, kv := range data {
		if engine.IsLocalEntry(kv[1]) {
			continue
		}
		it, err := item.DecodeItem(kv[1])
		if err != nil {
			t.Fatal(err)
		}
		for i, attr := range []string{"l", "t"} {
			v, ok := it[attr]
			if !ok {
				continue
			}
			k, err := engine.LocalEntryKey(nil, 1, it["pk"], byte(i), v, it["sk"])
			if err != nil {
				t.Fatal(err)
			}
			proj := item.Item{"pk": it["pk"], "sk": it["sk"], attr: v}
			if x, ok := it["x"]; ok && attr == "t" {
				proj["x"] = x
			}
			out = append(out, [2][]byte{k, engine.LocalEntryValue(byte(i), item.EncodeItem(proj))})
		}
	}
	slices.SortFunc(out, func(a, b [2][]byte) int { return bytes.Compare(a[0], b[0]) })
	return out
}

func equalData(a, b [][2][]byte) bool {
	return slices.EqualFunc(a, b, func(x, y [2][]byte) bool { return bytes.Equal(x[0], y[0]) && bytes.Equal(x[1], y[1]) })
}

func dump(data [][2][]byte) string {
	var b bytes.Buffer
	for _, kv := range data {
		fmt.Fprintf(&b, "%x = %x\n", kv[0], kv[1])
	}
	return b.String()
}
