package daemon

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := NewCache(3)
	c.Put("a", 1)
	c.Put("b", 2)
	c.Put("c", 3)
	if _, ok := c.Get("a"); !ok { // a is now the most recent
		t.Fatal("a missing")
	}
	c.Put("d", 4) // evicts b
	if _, ok := c.Get("b"); ok {
		t.Fatal("b survived; the least recently used entry should go")
	}
	if got, want := c.Keys(), []string{"d", "a", "c"}; !slices.Equal(got, want) {
		t.Fatalf("keys = %v, want %v", got, want)
	}
	c.Put("c", 30) // overwrite refreshes without evicting
	if got, want := c.Keys(), []string{"c", "d", "a"}; !slices.Equal(got, want) {
		t.Fatalf("keys = %v, want %v", got, want)
	}
	if v, _ := CacheGet[int](c, "c"); v != 30 {
		t.Fatalf("c = %v, want 30", v)
	}
	st := c.Stats()
	want := CacheStats{Len: 3, Cap: 3, Hits: 2, Misses: 1, Evictions: 1}
	if st != want {
		t.Fatalf("stats = %+v, want %+v", st, want)
	}
}

func TestCacheGetTyped(t *testing.T) {
	c := NewCache(0) // at least one entry
	c.Put("n", 7)
	if _, ok := CacheGet[string](c, "n"); ok {
		t.Fatal("CacheGet of the wrong type succeeded")
	}
	if v, ok := CacheGet[int](c, "n"); !ok || v != 7 {
		t.Fatalf("CacheGet = %v, %v", v, ok)
	}
	c.Put("m", 8)
	if c.Len() != 1 {
		t.Fatalf("cache of 0 holds %d entries, want 1", c.Len())
	}
	if !c.Delete("m") || c.Delete("m") {
		t.Fatal("Delete reports presence wrongly")
	}
	c.Put("x", 1)
	c.Clear()
	if c.Len() != 0 || len(c.Keys()) != 0 {
		t.Fatal("Clear left entries")
	}
}

func TestCacheLivesAcrossCycles(t *testing.T) {
	h := newHarness(t)
	h.register(JobSpec{
		Name: "count", Kind: Periodic, Interval: time.Second, RunAtStart: true, CacheSize: 2,
		Run: func(ctx context.Context, c *Cycle) error {
			n, _ := CacheGet[int](c.Cache, "runs")
			c.Cache.Put("runs", n+1)
			c.Cache.Put(fmt.Sprint("cycle-", n), n)
			return nil
		},
	})
	h.start()
	h.next()
	for range 3 {
		h.step(time.Second)
		h.next()
	}
	c, err := h.m.Cache("count")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := CacheGet[int](c, "runs"); n != 4 {
		t.Fatalf("runs = %d after 4 cycles", n)
	}
	if got := h.info("count").Cache; got.Len != 2 || got.Cap != 2 || got.Evictions != 3 {
		t.Fatalf("cache stats = %+v", got)
	}
}

// FuzzCache checks the cache against a simple model: a slice ordered from
// least to most recently used.
func FuzzCache(f *testing.F) {
	f.Add(uint8(2), []byte{0, 1, 2, 3, 1, 0, 4})
	f.Add(uint8(1), []byte{5, 5, 5, 133, 7})
	f.Add(uint8(0), []byte{})
	f.Add(uint8(8), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 129, 200, 65, 66})
	f.Fuzz(func(t *testing.T, size uint8, ops []byte) {
		capacity := max(int(size%16), 1)
		c := NewCache(int(size % 16))
		var model []string // least recently used first
		touch := func(k string) {
			model = slices.DeleteFunc(model, func(s string) bool { return s == k })
			model = append(model, k)
		}
		for i, op := range ops {
			k := fmt.Sprint(op % 8)
			switch op >> 6 {
			case 0, 1: // put
				c.Put(k, i)
				touch(k)
				if len(model) > capacity {
					model = model[1:]
				}
			case 2: // get
				_, ok := c.Get(k)
				if ok != slices.Contains(model, k) {
					t.Fatalf("op %d: Get(%s) = %v, model %v", i, k, ok, model)
				}
				if ok {
					touch(k)
				}
			case 3: // delete
				present := slices.Contains(model, k)
				if c.Delete(k) != present {
					t.Fatalf("op %d: Delete(%s) != %v", i, k, present)
				}
				model = slices.DeleteFunc(model, func(s string) bool { return s == k })
			}
			keys := c.Keys()
			slices.Reverse(keys)
			if !slices.Equal(keys, model) {
				t.Fatalf("op %d: keys %v, model %v", i, keys, model)
			}
		}
	})
}

// FuzzBackoffDelay checks that delays grow monotonically up to the cap.
func FuzzBackoffDelay(f *testing.F) {
	f.Add(int64(time.Second), int64(time.Minute), 2.0, 10)
	f.Add(int64(1), int64(1<<62), 1000.0, 1<<30)
	f.Add(int64(0), int64(0), 0.0, 0)
	f.Fuzz(func(t *testing.T, initial, maxDelay int64, mult float64, n int) {
		b := Backoff{Initial: time.Duration(initial), Max: time.Duration(maxDelay), Multiplier: mult}
		if b.Validate() != nil {
			return
		}
		capDelay := b.withDefaults().Max
		prev := time.Duration(0)
		for i := range 64 {
			failures := n%1000 + i
			d := b.Delay(failures)
			if d < 0 || d > capDelay || d < prev {
				t.Fatalf("Delay(%d) = %v after %v, cap %v (%+v)", failures, d, prev, capDelay, b)
			}
			prev = d
		}
	})
}
