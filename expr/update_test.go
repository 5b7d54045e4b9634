package expr

import (
	"encoding/json"
	"testing"

	"github.com/partitadb/partita/item"
)

// base is the item most update tests start from.
func base() item.Item {
	return item.Item{
		"pk": str("k"), "s": str("hello"), "n": num("5"), "l": list(num("0"), num("1"), num("2")),
		"m": mapv("x", num("1"), "y", mapv("z", str("deep"))), "ss": ss("a", "b"), "ns": ns("1", "2"), "bs": bs("p"),
	}
}

// with returns base() with the given attributes replaced (nil values removed).
func with(kv ...any) item.Item {
	it := base()
	for i := 0; i < len(kv); i += 2 {
		if v, ok := kv[i+1].(item.Value); ok {
			it[kv[i].(string)] = v
		} else {
			delete(it, kv[i].(string))
		}
	}
	return it
}

func dump(it item.Item) string {
	b, err := json.Marshal(it)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func TestUpdateApply(t *testing.T) {
	tests := []struct {
		expr string
		it   item.Item // base() when nil
		want item.Item
	}{
		// SET: values, copies from the old item, arithmetic, functions.
		{expr: "SET s = :s, fresh = :n", want: with("s", str("abc"), "fresh", num("1"))},
		{expr: "SET fresh = s", want: with("fresh", str("hello"))},
		{expr: "SET s = n, n = s", want: with("s", num("5"), "n", str("hello"))},
		{expr: "SET n = n + :n", want: with("n", num("6"))},
		{expr: "SET n = :n - n", want: with("n", num("-4"))},
		{expr: "SET fresh = m.x + l[2]", want: with("fresh", num("3"))},
		{expr: "SET n = if_not_exists(n, :n2), fresh = if_not_exists(nope, :n2)", want: with("n", num("5"), "fresh", num("2"))},
		{expr: "SET fresh = if_not_exists(nope, :n) + :n2", want: with("fresh", num("3"))},
		{expr: "SET fresh = if_not_exists(s.x, :n)", want: with("fresh", num("1"))},
		{expr: "SET l = list_append(l, :l)", want: with("l", list(num("0"), num("1"), num("2"), num("1"), str("x")))},
		{expr: "SET l = list_append(:l2, l)", want: with("l", list(str("y"), num("0"), num("1"), num("2")))},
		{expr: "SET fresh = list_append(if_not_exists(nope, :l2), :l2)", want: with("fresh", list(str("y"), str("y")))},
		{expr: "SET s = (:s)", want: with("s", str("abc"))},
		// SET nested: map keys are created, list indexes past the end
		// append, in index order.
		{expr: "SET m.x = :s, m.y.w = :n, m.fresh = :n2", want: with("m", mapv("x", str("abc"), "y", mapv("z", str("deep"), "w", num("1")), "fresh", num("2")))},
		{expr: "SET l[1] = :s", want: with("l", list(num("0"), str("abc"), num("2")))},
		{expr: "SET l[9] = :s, l[7] = :n, l[3] = :n2", want: with("l", list(num("0"), num("1"), num("2"), num("2"), num("1"), str("abc")))},
		{expr: "SET #d = :n, #dot = :s", want: with("[3]", num("1"), "a.b", str("abc"))},
		// REMOVE: missing attributes and elements are ignored; list
		// indexes are those of the old list.
		{expr: "REMOVE s, nope, m.y, m.nope, l[7]", want: with("s", nil, "m", mapv("x", num("1")))},
		{expr: "REMOVE l[0], l[2]", want: with("l", list(num("1")))},
		{expr: "REMOVE m.x, m.y", want: with("m", mapv())},
		{expr: "REMOVE l[1] SET l[2] = :s", want: with("l", list(num("0"), str("abc")))},
		{expr: "SET l[2] = :s REMOVE l[1]", want: with("l", list(num("0"), str("abc")))},
		{
			expr: "REMOVE a[1] SET a[3] = :n5",
			it:   item.Item{"a": list(num("2"), num("3"), num("4"), num("5"), num("6"), num("7"))},
			want: item.Item{"a": list(num("2"), num("4"), num("5"), num("6"), num("7"))},
		},
		{expr: "REMOVE a.b[1].c, a.b[0]", it: item.Item{"a": mapv("b", list(num("0"), mapv("c", num("1"), "d", num("2"))))},
			want: item.Item{"a": mapv("b", list(mapv("d", num("2"))))}},
		// ADD: numbers add, sets merge, missing attributes are created.
		{expr: "ADD n :n2, fresh :n, ss :ss, ns :ns, bs :bs, newset :ss",
			want: with("n", num("7"), "fresh", num("1"), "ss", ss("a", "b", "x", "y"), "ns", ns("1", "2"), "bs", bs("p", "q"), "newset", ss("x", "y"))},
		{expr: "ADD m.x :n, m.y.c :ns, l[5] :n2", want: with("m", mapv("x", num("2"), "y", mapv("z", str("deep"), "c", ns("1", "2"))), "l", list(num("0"), num("1"), num("2"), num("2")))},
		// DELETE: members go; an emptied set goes; a missing attribute is fine.
		{expr: "DELETE ss :ss, ns :ns, nope :bs", want: with("ss", ss("a", "b"), "ns", nil)},
		{expr: "DELETE ss :ss", it: item.Item{"ss": ss("x", "z", "y")}, want: item.Item{"ss": ss("z")}},
		{expr: "DELETE bs :bs", want: with("bs", nil)},
		{expr: "DELETE m.s :ss", it: item.Item{"m": mapv("s", ss("x"))}, want: item.Item{"m": mapv()}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			in := tt.it
			if in == nil {
				in = base()
			}
			got, err := mustUpdate(t, tt.expr).Apply(in)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if !item.EqualItems(got, tt.want) {
				t.Errorf("got  %s\nwant %s", dump(got), dump(tt.want))
			}
		})
	}
}

// The nested update from DynamoDB's documentation of list behaviour: every
// value is read from the old item, appends land in index order, and
// UPDATED_NEW projects the updated paths of the new item.
func TestUpdateApplyNestedDocument(t *testing.T) {
	it := item.Item{"k": str("key"), "b": mapv("a", num("1"), "b", num("2"), "c", num("3")), "c": list(num("1"), num("3"))}
	env := NewEnv(nil, item.Item{":a": num("2"), ":b": ss("a")})
	u, err := ParseUpdate("set b.c=((c[1])+(b.a)),b.a = k,c[1] = k, c[4] = b.a - b.b, c[2] = b.c add c[8] :b, c[6] :a", env)
	if err != nil {
		t.Fatal(err)
	}
	got, err := u.Apply(it)
	if err != nil {
		t.Fatal(err)
	}
	want := item.Item{
		"k": str("key"), "b": mapv("a", str("key"), "b", num("2"), "c", num("4")),
		"c": list(num("1"), str("key"), num("3"), num("-1"), num("2"), ss("a")),
	}
	if !item.EqualItems(got, want) {
		t.Errorf("got  %s\nwant %s", dump(got), dump(want))
	}
	updated := u.Updated().Apply(got)
	wantNew := item.Item{"b": mapv("a", str("key"), "c", num("4")), "c": list(str("key"), num("3"), num("2"))}
	if !item.EqualItems(updated, wantNew) {
		t.Errorf("UPDATED_NEW got  %s\nwant %s", dump(updated), dump(wantNew))
	}
	wantOld := item.Item{"b": mapv("a", num("1"), "c", num("3")), "c": list(num("3"))}
	if old := u.Updated().Apply(it); !item.EqualItems(old, wantOld) {
		t.Errorf("UPDATED_OLD got  %s\nwant %s", dump(old), dump(wantOld))
	}
}

func TestUpdateApplyErrors(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"SET fresh = nope", msgMissingAttr},
		{"SET x = :n, y = x", msgMissingAttr},
		{"SET fresh = nope + :n", msgMissingAttr},
		{"SET fresh = list_append(nope, :l)", msgMissingAttr},
		{"SET fresh = list_append(:l, m.nope)", msgMissingAttr},
		{"SET fresh = s + :n", msgBadOperandType},
		{"SET fresh = :n - m", msgBadOperandType},
		{"SET fresh = list_append(ns, if_not_exists(f, :l))", msgBadOperandType},
		{"SET fresh = list_append(if_not_exists(s, :l), :l)", msgBadOperandType},
		{"ADD s :n", msgBadOperandType},
		{"ADD ns :n", msgBadOperandType},
		{"ADD n :ns", msgBadOperandType},
		{"ADD ss :ns", msgBadOperandType},
		{"ADD l :ss", msgBadOperandType},
		{"DELETE ns :ss", msgBadOperandType},
		{"DELETE n :ns", msgBadOperandType},
		{"DELETE m :ns", msgBadOperandType},
		{"SET s.x = :n", msgInvalidPath},
		{"SET nope.x = :n", msgInvalidPath},
		{"SET nope[0] = :n", msgInvalidPath},
		{"SET m[0] = :n", msgInvalidPath},
		{"SET l.x = :n", msgInvalidPath},
		{"SET l[0].x = :n", msgInvalidPath},
		{"SET l[7].x = :n", msgInvalidPath},
		{"SET m.nope.x = :n", msgInvalidPath},
		{"REMOVE s.x", msgInvalidPath},
		{"REMOVE nope.x", msgInvalidPath},
		{"REMOVE nope[0]", msgInvalidPath},
		{"REMOVE s[0]", msgInvalidPath},
		{"REMOVE m[0]", msgInvalidPath},
		{"ADD nope.x :n", msgInvalidPath},
		{"ADD s[1] :n", msgInvalidPath},
		{"DELETE nope.x :ss", msgInvalidPath},
		{"DELETE m[1] :ss", msgInvalidPath},
		{"SET n = :big + :big", "Number overflow. Attempting to store a number with magnitude larger than supported range"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := mustUpdate(t, tt.expr).Apply(base())
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Apply = %s, %v; want error %q", dump(got), err, tt.want)
			}
			if _, ok := err.(*Error); !ok {
				t.Errorf("error is %T, want *Error", err)
			}
		})
	}
}

// Apply never modifies its input, however deep the change.
func TestUpdateApplyCopyOnWrite(t *testing.T) {
	for _, expr := range []string{
		"SET m.y.z = :s, l[0] = :s, l[5] = :n, ss = :ss",
		"REMOVE m.y.z, l[1], s",
		"ADD m.y.q :n, ss :ss, ns :ns, l[9] :n",
		"DELETE ss :ss, ns :ns",
		"SET l = list_append(l, :l), fresh = l",
	} {
		in, orig := base(), base()
		out, err := mustUpdate(t, expr).Apply(in)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if !item.EqualItems(in, orig) {
			t.Errorf("%s modified its input: %s", expr, dump(in))
		}
		out["extra"] = str("x")
		if _, ok := in["extra"]; ok {
			t.Errorf("%s: result shares the input's top-level map", expr)
		}
	}
}

// A missing item starts empty; REMOVE and DELETE do nothing on it.
func TestUpdateApplyMissingItem(t *testing.T) {
	tests := []struct {
		expr string
		want item.Item
	}{
		{"SET a = :s ADD b :n, c :ss", item.Item{"a": str("abc"), "b": num("1"), "c": ss("x", "y")}},
		{"REMOVE x.y, z[0] DELETE w.v :ss", item.Item{}},
		{"SET a = if_not_exists(a, :n)", item.Item{"a": num("1")}},
	}
	for _, tt := range tests {
		got, err := mustUpdate(t, tt.expr).Apply(nil)
		if err != nil || !item.EqualItems(got, tt.want) || got == nil {
			t.Errorf("%s: got %s, %v; want %s", tt.expr, dump(got), err, dump(tt.want))
		}
	}
	for _, expr := range []string{"SET a.b = :n", "SET a[0] = :n", "SET a = b"} {
		if _, err := mustUpdate(t, expr).Apply(nil); err == nil {
			t.Errorf("%s on a missing item: want an error", expr)
		}
	}
}

// The result of Apply does not depend on the order of the actions.
func TestUpdateApplyDeterministic(t *testing.T) {
	a, err := mustUpdate(t, "SET l[8] = :s, l[4] = :n, m.b = :n ADD l[6] :n2 REMOVE l[0]").Apply(base())
	if err != nil {
		t.Fatal(err)
	}
	b, err := mustUpdate(t, "REMOVE l[0] ADD l[6] :n2 SET m.b = :n, l[4] = :n, l[8] = :s").Apply(base())
	if err != nil {
		t.Fatal(err)
	}
	if !item.EqualItems(a, b) {
		t.Errorf("order changed the result:\n%s\n%s", dump(a), dump(b))
	}
}

func TestCheckKeys(t *testing.T) {
	tests := []struct {
		expr string
		keys []string
		want string
	}{
		{"SET a = :s", []string{"pk"}, ""},
		{"SET pk = :s", []string{"pk"}, "pk"},
		{"ADD pk.b :n", []string{"pk"}, "pk"},
		{"DELETE pk :ss", []string{"pk"}, "pk"},
		{"REMOVE d SET b = :n, pk = :n", []string{"pk"}, "pk"},
		{"DELETE b :ns REMOVE pk", []string{"pk", "b"}, "b"},
		{"SET d[1] = :n ADD sk.b :n", []string{"pk", "sk"}, "sk"},
		{"SET a = pk.b + pk[1]", []string{"pk"}, ""},
		{"SET #a = :s", []string{"a"}, "a"},
	}
	for _, tt := range tests {
		err := mustUpdate(t, tt.expr).CheckKeys(tt.keys...)
		want := ""
		if tt.want != "" {
			want = "One or more parameter values were invalid: Cannot update attribute " + tt.want + ". This attribute is part of the key"
		}
		if got := errString(err); got != want {
			t.Errorf("%s: got %q, want %q", tt.expr, got, want)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// For an item that does not exist, operands can read the key.
func TestUpdateApplyToKey(t *testing.T) {
	key := item.Item{"pk": str("k")}
	got, err := mustUpdate(t, "SET dup = pk, b = if_not_exists(b, pk) REMOVE x.y, pk.z DELETE w.v :ss").ApplyToKey(key)
	want := item.Item{"pk": str("k"), "dup": str("k"), "b": str("k")}
	if err != nil || !item.EqualItems(got, want) {
		t.Errorf("got %s, %v; want %s", dump(got), err, dump(want))
	}
	if len(key) != 1 {
		t.Errorf("ApplyToKey modified the key: %s", dump(key))
	}
	if _, err := mustUpdate(t, "SET pk.x = :n").ApplyToKey(key); errString(err) != msgInvalidPath {
		t.Errorf("SET pk.x: got %v", err)
	}
}
