package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
)

// The key distributions.
const (
	// Uniform picks every existing item with the same probability.
	Uniform = "uniform"
	// Zipfian is YCSB's scrambled zipfian: a zipfian (constant 0.99) over
	// a fixed space of ten billion ranks, each rank hashed onto an item,
	// so that popular items are spread over the key space and the skew
	// does not depend on the number of items.
	Zipfian = "zipfian"
	// Latest favours the most recently inserted items: a zipfian over the
	// items counted back from the newest one (YCSB's skewed latest).
	Latest = "latest"
)

func validDistribution(d string) bool { return d == Uniform || d == Zipfian || d == Latest }

// chooser picks the index of an existing item among n (0 <= index < n,
// n >= 1), the newest items having the highest indexes. A chooser is used
// by one goroutine.
type chooser interface {
	next(rng *rand.Rand, n int64) int64
}

// newChoosers returns one chooser per client for a key space of records
// items (zeta is computed once and copied: it costs a pass over the items).
func newChoosers(distribution string, records int64, clients int) []chooser {
	cs := make([]chooser, clients)
	var base zipfian
	switch distribution {
	case Zipfian:
		base = *newZipfian(scrambledItems, scrambledZeta)
	case Latest:
		base = *newZipfian(max(records, 1), 0)
	}
	for i := range cs {
		z := base
		switch distribution {
		case Zipfian:
			cs[i] = scrambledZipfian{z: &z}
		case Latest:
			cs[i] = &latest{z: &z}
		default:
			cs[i] = uniform{}
		}
	}
	return cs
}

type uniform struct{}

func (uniform) next(rng *rand.Rand, n int64) int64 { return rng.Int64N(n) }

// zipfTheta is YCSB's zipfian constant.
const zipfTheta = 0.99

// scrambledItems and scrambledZeta are the rank space of the scrambled
// zipfian and its zeta(scrambledItems, zipfTheta), precomputed (a sum of ten
// billion terms), as YCSB does.
const (
	scrambledItems = 10_000_000_000
	scrambledZeta  = 26.46902820178302
)

// zipfian draws ranks 0..items-1, rank 0 the most likely, with the
// rejection-free method of Gray et al. ("Quickly generating billion-record
// synthetic databases", SIGMOD 1994), as YCSB does.
type zipfian struct {
	items            int64
	zetaN, zeta2     float64
	alpha, eta, half float64
}

// newZipfian returns a zipfian over items ranks; zetaN is zeta(items), or 0
// to compute it.
func newZipfian(items int64, zetaN float64) *zipfian {
	z := &zipfian{alpha: 1 / (1 - zipfTheta), zeta2: zeta(0, 2, 0), half: 1 + math.Pow(0.5, zipfTheta)}
	if zetaN == 0 {
		zetaN = zeta(0, items, 0)
	}
	z.items, z.zetaN = items, zetaN
	z.setEta()
	return z
}

// zeta adds the terms from+1..to of the zeta sum to partial.
func zeta(from, to int64, partial float64) float64 {
	for i := from + 1; i <= to; i++ {
		partial += 1 / math.Pow(float64(i), zipfTheta)
	}
	return partial
}

func (z *zipfian) setEta() {
	z.eta = (1 - math.Pow(2/float64(z.items), 1-zipfTheta)) / (1 - z.zeta2/z.zetaN)
}

// grow extends the rank space to items (only upwards), adding the new
// terms to zeta.
func (z *zipfian) grow(items int64) {
	if items <= z.items {
		return
	}
	z.zetaN = zeta(z.items, items, z.zetaN)
	z.items = items
	z.setEta()
}

// rank draws a rank in [0, items).
func (z *zipfian) rank(rng *rand.Rand) int64 {
	u := rng.Float64()
	uz := u * z.zetaN
	switch {
	case uz < 1:
		return 0
	case uz < z.half:
		return 1
	}
	r := int64(float64(z.items) * math.Pow(z.eta*u-z.eta+1, z.alpha))
	return min(r, z.items-1)
}

type scrambledZipfian struct{ z *zipfian }

func (s scrambledZipfian) next(rng *rand.Rand, n int64) int64 {
	return int64(fnv64(uint64(s.z.rank(rng))) % uint64(n))
}

// fnv64 is the FNV-1a hash of v's eight little-endian bytes.
func fnv64(v uint64) uint64 {
	h := uint64(14695981039346656037)
	for range 8 {
		h ^= v & 0xff
		h *= 1099511628211
		v >>= 8
	}
	return h
}

type latest struct{ z *zipfian }

func (l *latest) next(rng *rand.Rand, n int64) int64 {
	l.z.grow(n)
	return max(n-1-l.z.rank(rng), 0)
}

// The item layout. Item i has partition key itemKey(i) in the hash-key
// table. In the range table (workloads with scans), items are grouped by
// rangeGroup consecutive indexes under one partition key, ordered by a
// zero-padded sort key, so a scan is a Query on one partition key.
const rangeGroup = 100

func itemKey(i int64) string { return "key" + strconv.FormatInt(i, 10) }

func groupKey(i int64) string { return "group" + strconv.FormatInt(i/rangeGroup, 10) }

func sortKey(i int64) string { return fmt.Sprintf("%012d", i) }
