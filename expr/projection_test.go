package expr

import (
	"testing"

	"github.com/partitadb/partita/item"
)

func TestProjectionApply(t *testing.T) {
	it := item.Item{
		"a": str("x"), "b": num("1"),
		"m":   mapv("x", num("1"), "y", mapv("z", str("deep"), "w", str("w")), "l", list(num("0"), mapv("k", num("1"), "j", num("2")))),
		"l":   list(str("l0"), mapv("p", num("1"), "q", num("2")), str("l2"), list(num("3"), num("4"))),
		"a.b": str("dotted"), "s": str("scalar"),
	}
	tests := []struct {
		expr string
		want item.Item
	}{
		{"a", item.Item{"a": str("x")}},
		{"a, b, nope", item.Item{"a": str("x"), "b": num("1")}},
		{"#dot", item.Item{"a.b": str("dotted")}},
		{"m.x, m.y.z", item.Item{"m": mapv("x", num("1"), "y", mapv("z", str("deep")))}},
		{"m.l[1].j", item.Item{"m": mapv("l", list(mapv("j", num("2"))))}},
		{"l[3], l[0]", item.Item{"l": list(str("l0"), list(num("3"), num("4")))}},
		{"l[1].q, l[3][1], l[2]", item.Item{"l": list(mapv("q", num("2")), str("l2"), list(num("4")))}},
		{"l[9], m.nope, s.x", item.Item{}}, {"s[0], m[0], l.x", item.Item{}},
		{"l[1].nope, l[0].x", item.Item{}},
		{"m.y.nope, a", item.Item{"a": str("x")}},
	}
	for _, tt := range tests {
		p, err := ParseProjection(tt.expr, testEnv())
		if err != nil {
			t.Fatalf("%s: %v", tt.expr, err)
		}
		got := p.Apply(it)
		if got == nil || !item.EqualItems(got, tt.want) {
			t.Errorf("%s:\n got  %s\n want %s", tt.expr, dump(got), dump(tt.want))
		}
	}
	p, _ := ParseProjection("a", testEnv())
	if p.Apply(nil) != nil {
		t.Errorf("Apply(nil) != nil")
	}
}

// NewProjection serves legacy AttributesToGet: plain top-level names,
// reserved words included.
func TestNewProjection(t *testing.T) {
	p := NewProjection(Attr("status"), Attr("a.b"), Attr("count"))
	got := p.Apply(item.Item{"status": str("s"), "a.b": str("d"), "a": mapv("b", str("x")), "x": str("y")})
	want := item.Item{"status": str("s"), "a.b": str("d")}
	if !item.EqualItems(got, want) {
		t.Errorf("got %s, want %s", dump(got), dump(want))
	}
}

func TestParsePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a.b[2].#s", "[a, b, [2], status]"},
		{"#dot", "[a.b]"},
		{"a, b", `Invalid ProjectionExpression: Syntax error; token: ",", near: "a, b"`},
		{"status", "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: status"},
		{"#x.y", "Invalid ProjectionExpression: An expression attribute name used in the document path is not defined; attribute name: #x"},
		{"", "Invalid ProjectionExpression: The expression can not be empty;"},
	}
	for _, tt := range tests {
		p, err := ParsePath(KindProjection, tt.in, testEnv())
		got := errString(err)
		if err == nil {
			got = p.String()
		}
		if got != tt.want {
			t.Errorf("ParsePath(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if v, ok := Attr("a.b").Get(testItem()); !ok || v.S != "dotted" {
		t.Errorf("Attr(a.b).Get = %v, %v", v, ok)
	}
}
