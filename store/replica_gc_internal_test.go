package store

import (
	"fmt"
	"strings"
	"testing"

	"github.com/partitadb/partita/partitapb"
)

func spansOf(s string) []*partitapb.Span {
	var out []*partitapb.Span
	for _, f := range strings.Fields(s) {
		lo, hi, _ := strings.Cut(f, "-")
		out = append(out, &partitapb.Span{Start: []byte(lo), End: []byte(hi)})
	}
	return out
}

func describeSpans(spans []*partitapb.Span) string {
	var parts []string
	for _, sp := range spans {
		parts = append(parts, fmt.Sprintf("%s-%s", sp.GetStart(), sp.GetEnd()))
	}
	return strings.Join(parts, " ")
}

func TestSubtractSpans(t *testing.T) {
	for _, tc := range []struct{ spans, cover, want string }{
		{"a-z", "", "a-z"},
		{"a-z", "a-z", ""},
		{"b-y", "a-z", ""},
		{"a-z", "c-f", "a-c f-z"},
		{"a-z", "c-f m-p", "a-c f-m p-z"},
		{"a-z", "m-p c-f", "a-c f-m p-z"},
		{"a-m", "m-z", "a-m"},         // adjacent, no overlap
		{"m-z", "a-m", "m-z"},         // adjacent, no overlap
		{"a-m", "k-z", "a-k"},         // overlaps the end
		{"k-z", "a-m", "m-z"},         // overlaps the start
		{"a-m p-z", "k-r", "a-k r-z"}, // two spans
		{"a-z", "f-c", "a-z"},         // an inverted cover covers nothing
		{"m-a", "", ""},               // an inverted span is dropped
	} {
		got := describeSpans(subtractSpans(spansOf(tc.spans), spansOf(tc.cover)))
		if got != tc.want {
			t.Errorf("%q minus %q = %q, want %q", tc.spans, tc.cover, got, tc.want)
		}
	}
}
