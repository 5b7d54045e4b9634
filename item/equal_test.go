package item

import "testing"

func nums(ss ...string) []Number {
	out := make([]Number, len(ss))
	for i, s := range ss {
		out[i] = MustNumber(s)
	}
	return out
}

func TestEqual(t *testing.T) {
	big := make([]string, 20)
	rev := make([]string, 20)
	for i := range big {
		big[i] = string(rune('a' + i))
		rev[19-i] = big[i]
	}
	tests := []struct {
		a, b Value
		want bool
	}{
		{S("a"), S("a"), true},
		{S("a"), S("b"), false},
		{S("1"), N(MustNumber("1")), false},
		{N(MustNumber("1")), N(MustNumber("1.00")), true},
		{B([]byte{1}), B([]byte{1}), true},
		{B([]byte{1}), B([]byte{1, 0}), false},
		{Bool(true), Bool(true), true},
		{Bool(true), Bool(false), false},
		{Null(), Null(), true},
		{Value{Type: TypeSS, SS: []string{"a", "b"}}, Value{Type: TypeSS, SS: []string{"b", "a"}}, true},
		{Value{Type: TypeSS, SS: []string{"a", "b"}}, Value{Type: TypeSS, SS: []string{"a", "c"}}, false},
		{Value{Type: TypeSS, SS: []string{"a"}}, Value{Type: TypeSS, SS: []string{"a", "b"}}, false},
		{Value{Type: TypeSS, SS: big}, Value{Type: TypeSS, SS: rev}, true},
		{Value{Type: TypeNS, NS: nums("1", "2.0")}, Value{Type: TypeNS, NS: nums("2", "1")}, true},
		{Value{Type: TypeBS, BS: [][]byte{{1}, {2}}}, Value{Type: TypeBS, BS: [][]byte{{2}, {1}}}, true},
		{Value{Type: TypeL, L: []Value{S("a"), S("b")}}, Value{Type: TypeL, L: []Value{S("a"), S("b")}}, true},
		{Value{Type: TypeL, L: []Value{S("a"), S("b")}}, Value{Type: TypeL, L: []Value{S("b"), S("a")}}, false},
		{Value{Type: TypeL, L: []Value{}}, Value{Type: TypeL}, true},
		{Value{Type: TypeM, M: map[string]Value{"x": N(MustNumber("1"))}}, Value{Type: TypeM, M: map[string]Value{"x": N(MustNumber("1.0"))}}, true},
		{Value{Type: TypeM, M: map[string]Value{"x": S("1")}}, Value{Type: TypeM, M: map[string]Value{"y": S("1")}}, false},
		{Value{Type: TypeM, M: map[string]Value{"x": S("1")}}, Value{Type: TypeM, M: map[string]Value{}}, false},
	}
	for i, tt := range tests {
		if got := Equal(tt.a, tt.b); got != tt.want {
			t.Errorf("%d: Equal(%v, %v) = %v, want %v", i, tt.a, tt.b, got, tt.want)
		}
		if got := Equal(tt.b, tt.a); got != tt.want {
			t.Errorf("%d: Equal(%v, %v) (swapped) = %v, want %v", i, tt.b, tt.a, got, tt.want)
		}
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b Value
		c    int
		ok   bool
	}{
		{S("a"), S("b"), -1, true},
		{S("b"), S("a"), 1, true},
		{S("Z"), S("a"), -1, true},
		{S("é"), S("z"), 1, true}, // UTF-8 bytes, not runes of a locale
		{N(MustNumber("10")), N(MustNumber("9")), 1, true},
		{N(MustNumber("-10")), N(MustNumber("9")), -1, true},
		{B([]byte{0x80}), B([]byte{0x7f}), 1, true},
		{B([]byte{1}), B([]byte{1, 0}), -1, true},
		{S("1"), N(MustNumber("1")), 0, false},
		{Bool(true), Bool(true), 0, false},
		{Null(), Null(), 0, false},
	}
	for i, tt := range tests {
		c, ok := Compare(tt.a, tt.b)
		if c != tt.c || ok != tt.ok {
			t.Errorf("%d: Compare = %d, %v; want %d, %v", i, c, ok, tt.c, tt.ok)
		}
	}
}
