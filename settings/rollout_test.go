package settings

import (
	"math"
	"testing"
)

// The binomial tail against values computed exactly (sums of
// C(n,i) p^i (1-p)^(n-i)), and at sizes where its first term
// underflows.
func TestBinomialTail(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		k, n uint64
		want float64
	}{
		{1, 9, 0.0864827525163591},
		{2, 9, 0.0034357300178462923},
		{7, 7, 1e-14},
		{20, 1000, 0.00328835978772744},
		{15, 1000, 0.08241231951608806},
		{5, 100, 0.003432321587754513},
		{1, 1, 0.01},
		{0, 5, 1},
		{6, 5, 0},
	} {
		got := binomialTail(c.k, c.n, 0.01)
		if (c.want == 0 && got != 0) || (c.want > 0 && math.Abs(got-c.want)/c.want > 1e-6) {
			t.Errorf("P(X >= %d), n=%d: %g, want %g", c.k, c.n, got, c.want)
		}
	}
	// A million requests: 1% slower is chance, 1.05% is not; and a
	// tail whose first term underflows is negligible.
	if p := binomialTail(10_000, 1_000_000, 0.01); p < 0.3 {
		t.Errorf("10,000 of 1,000,000: %g, want near a half", p)
	}
	if p := binomialTail(10_500, 1_000_000, 0.01); p > 1e-5 {
		t.Errorf("10,500 of 1,000,000: %g, want below 1e-5", p)
	}
	if p := binomialTail(500_000, 1_000_000, 0.01); p != 0 {
		t.Errorf("half of 1,000,000: %g, want 0", p)
	}
	if SlowSignificant(1, 9) || !SlowSignificant(2, 9) || SlowSignificant(0, 100) {
		t.Error("SlowSignificant disagrees with the tail")
	}
}
