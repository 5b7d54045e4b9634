package expr

import (
	"testing"

	"github.com/partitadb/partita/item"
)

// Value constructors for tests.

func num(s string) item.Value { return item.N(item.MustNumber(s)) }
func str(s string) item.Value { return item.S(s) }
func bin(s string) item.Value { return item.B([]byte(s)) }

func list(vs ...item.Value) item.Value { return item.Value{Type: item.TypeL, L: vs} }

func mapv(kv ...any) item.Value {
	m := map[string]item.Value{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(item.Value)
	}
	return item.Value{Type: item.TypeM, M: m}
}

func ss(s ...string) item.Value { return item.Value{Type: item.TypeSS, SS: s} }

func ns(s ...string) item.Value {
	v := item.Value{Type: item.TypeNS}
	for _, x := range s {
		v.NS = append(v.NS, item.MustNumber(x))
	}
	return v
}

func bs(s ...string) item.Value {
	v := item.Value{Type: item.TypeBS}
	for _, x := range s {
		v.BS = append(v.BS, []byte(x))
	}
	return v
}

// testNames and testValues are the ExpressionAttributeNames and
// ExpressionAttributeValues every table test and testdata script can use.
func testNames() map[string]string {
	return map[string]string{
		"#a": "a", "#b": "b", "#c": "c", "#s": "status", "#d": "[3]", "#dot": "a.b", "#and": "and",
	}
}

func testValues() item.Item {
	return item.Item{
		":s": str("abc"), ":s2": str("abd"), ":pre": str("ab"), ":empty": str(""),
		":n": num("1"), ":n2": num("2"), ":n5": num("5"), ":big": num("9.9999999999999999999999999999999999999E+125"),
		":b": bin("hi"), ":b2": bin("hj"), ":l": list(num("1"), str("x")), ":l2": list(str("y")),
		":m": mapv("k", str("v")), ":ss": ss("x", "y"), ":ns": ns("1", "2"), ":bs": bs("p", "q"),
		":t": str("N"), ":tS": str("S"), ":dog": str("DOG"), ":bool": item.Bool(true), ":null": item.Null(),
	}
}

func testEnv() *Env { return NewEnv(testNames(), testValues()) }

// testItem is the item the evaluation tests read.
func testItem() item.Item {
	return item.Item{
		"pk": str("key"), "s": str("hello"), "s2": str("hello"), "n": num("1"), "n2": num("2"), "b": bin("hi there"),
		"bool": item.Bool(true), "nul": item.Null(),
		"l": list(num("1"), str("x"), list(num("3"))), "m": mapv("x", num("1"), "y", mapv("z", str("deep"))),
		"ss": ss("x", "y"), "ns": ns("1", "2", "3"), "bs": bs("p", "q"),
		"status": str("open"), "a.b": str("dotted"), "[3]": num("3"), "emptys": str(""),
	}
}

func mustCondition(t *testing.T, s string) *Condition {
	t.Helper()
	c, err := ParseCondition(KindCondition, s, testEnv())
	if err != nil {
		t.Fatalf("ParseCondition(%q): %v", s, err)
	}
	return c
}

func mustUpdate(t *testing.T, s string) *Update {
	t.Helper()
	u, err := ParseUpdate(s, testEnv())
	if err != nil {
		t.Fatalf("ParseUpdate(%q): %v", s, err)
	}
	return u
}
