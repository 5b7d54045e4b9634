package item

import (
	"strings"
	"testing"
)

func TestNumberSize(t *testing.T) {
	tests := []struct {
		n    string
		want int
	}{
		{"0", 1},
		{"1", 2},
		{"27", 2},
		{"-27", 3},
		{"461", 3},
		{"100", 2},     // one base-100 digit: 01|00
		{"1000", 2},    // 10|00
		{"1203000", 4}, // 01|20|30|00
		{"1.5", 3},     // 01.50
		{"0.5", 2},     // .50
		{"0.05", 2},    // .05
		{"0.005", 2},   // .00|50
		{"12.34", 3},
		{"1786461547", 6},
		{"1e125", 2},
		{strings.Repeat("9", 38), 20},
		{"-" + strings.Repeat("9", 38), 21},
		{"9." + strings.Repeat("9", 37), 21},
	}
	for _, tt := range tests {
		if got := MustNumber(tt.n).Size(); got != tt.want {
			t.Errorf("Size(%s) = %d, want %d", tt.n, got, tt.want)
		}
	}
}

func TestValueSize(t *testing.T) {
	tests := []struct {
		v    Value
		want int
	}{
		{S(""), 0},
		{S("héllo"), 6},
		{B([]byte{1, 2, 3}), 3},
		{Bool(false), 1},
		{Null(), 1},
		{N(MustNumber("27")), 2},
		{Value{Type: TypeL}, 3},
		{Value{Type: TypeM}, 3},
		{Value{Type: TypeL, L: []Value{S("ab"), Null()}}, 3 + 3 + 2},
		{Value{Type: TypeM, M: map[string]Value{"k": S("ab"), "kk": Bool(true)}}, 3 + (1 + 2 + 1) + (2 + 1 + 1)},
		{Value{Type: TypeSS, SS: []string{"a", "bc"}}, 3},
		{Value{Type: TypeNS, NS: nums("27", "-27")}, 5},
		{Value{Type: TypeBS, BS: [][]byte{{1}, {2, 3}}}, 3},
		{Value{Type: TypeL, L: []Value{{Type: TypeL, L: []Value{S("x")}}}}, 3 + 1 + (3 + 1 + 1)},
	}
	for i, tt := range tests {
		if got := tt.v.Size(); got != tt.want {
			t.Errorf("%d: Size(%v) = %d, want %d", i, tt.v, got, tt.want)
		}
	}
}

func TestItemSize(t *testing.T) {
	it := Item{"id": S("abc"), "n": N(MustNumber("27")), "m": {Type: TypeM, M: map[string]Value{"a": Null()}}}
	want := (2 + 3) + (1 + 2) + (1 + 3 + 1 + 1 + 1)
	if got := it.Size(); got != want {
		t.Errorf("Item.Size() = %d, want %d", got, want)
	}
	if got := (Item{}).Size(); got != 0 {
		t.Errorf("empty Item.Size() = %d", got)
	}
}
