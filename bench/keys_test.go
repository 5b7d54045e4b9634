package bench

import (
	"math/rand/v2"
	"testing"
)

// draw returns how often each of n items was chosen in draws picks.
func draw(t *testing.T, c chooser, n int64, draws int) []int {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	counts := make([]int, n)
	for range draws {
		i := c.next(rng, n)
		if i < 0 || i >= n {
			t.Fatalf("chose %d, outside [0, %d)", i, n)
		}
		counts[i]++
	}
	return counts
}

func maxCount(counts []int) int {
	m := 0
	for _, c := range counts {
		m = max(m, c)
	}
	return m
}

func TestChoosersStayInBounds(t *testing.T) {
	for _, d := range []string{Uniform, Zipfian, Latest} {
		for _, n := range []int64{1, 2, 3, 1000} {
			c := newChoosers(d, n, 1)[0]
			counts := draw(t, c, n, 5000)
			if n == 1 && counts[0] != 5000 {
				t.Fatalf("%s over one item: %v", d, counts)
			}
		}
	}
}

func TestZipfianIsSkewed(t *testing.T) {
	const n, draws = 1000, 100_000
	zipf := draw(t, newChoosers(Zipfian, n, 1)[0], n, draws)
	uni := draw(t, newChoosers(Uniform, n, 1)[0], n, draws)
	// The hottest of ten billion ranks takes 1/zeta = 3.8% of the draws;
	// uniformly, an item gets 0.1% (the busiest about 0.14%).
	if m := maxCount(zipf); m < draws*3/100 {
		t.Fatalf("zipfian's hottest item got %d of %d draws; want over 3%%", m, draws)
	}
	if m := maxCount(uni); m > draws/200 {
		t.Fatalf("uniform's busiest item got %d of %d draws; want under 0.5%%", m, draws)
	}
	// Scrambled: the hot items are spread, not the lowest indexes.
	low := 0
	for _, c := range zipf[:n/10] {
		low += c
	}
	if low > draws/4 {
		t.Fatalf("the lowest tenth of the items got %d of %d draws: not scrambled", low, draws)
	}
}

func TestZipfianRanksFollowTheLaw(t *testing.T) {
	z := newZipfian(100, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	counts := make([]int, 100)
	for range 200_000 {
		counts[z.rank(rng)]++
	}
	// Rank 0 is about twice as likely as rank 1 (1/1^0.99 vs 1/2^0.99),
	// and ten times rank 9.
	if r := float64(counts[0]) / float64(counts[1]); r < 1.8 || r > 2.2 {
		t.Fatalf("rank 0 / rank 1 = %.2f; want about 2", r)
	}
	if r := float64(counts[0]) / float64(counts[9]); r < 8 || r > 12 {
		t.Fatalf("rank 0 / rank 9 = %.2f; want about 10", r)
	}
}

func TestLatestFavoursRecentItems(t *testing.T) {
	const n, draws = 1000, 50_000
	c := newChoosers(Latest, n, 1)[0]
	counts := draw(t, c, n, draws)
	recent := 0
	for _, k := range counts[n-n/10:] {
		recent += k
	}
	if recent < draws/2 {
		t.Fatalf("the newest tenth of the items got %d of %d draws; want over half", recent, draws)
	}
	if counts[n-1] < counts[n-2] || counts[n-2] < counts[n/2] {
		t.Fatalf("newest %d, next %d, middle %d: not favouring the newest", counts[n-1], counts[n-2], counts[n/2])
	}
	// The key space grows with inserts: the newest item moves.
	grown := draw(t, c, 2*n, draws)
	if maxCount(grown) != grown[2*n-1] {
		t.Fatalf("after growth the newest item is not the most read")
	}
}

func TestZipfianGrowMatchesFreshZeta(t *testing.T) {
	z := newZipfian(10, 0)
	z.grow(5000)
	fresh := newZipfian(5000, 0)
	if d := z.zetaN - fresh.zetaN; d > 1e-9 || d < -1e-9 || z.eta != fresh.eta {
		t.Fatalf("grown zeta %v eta %v, fresh zeta %v eta %v", z.zetaN, z.eta, fresh.zetaN, fresh.eta)
	}
}
