package daemon

import (
	"container/list"
	"sync"
)

// Cache is a job's memory across cycles: a map from string keys to values,
// bounded in entries, that evicts the least recently used entry when full.
// A job uses it to reuse what it computed last cycle (a partition's last
// seen applied index, a parsed config). It is safe for concurrent use by a
// job's cycle and its workers, and is kept for the manager's lifetime.
type Cache struct {
	mu        sync.Mutex
	max       int
	ll        *list.List // front is most recently used
	items     map[string]*list.Element
	hits      uint64
	misses    uint64
	evictions uint64
}

// CacheStats counts a cache's entries and traffic.
type CacheStats struct {
	Len       int    `json:"len"`
	Cap       int    `json:"cap"`
	Hits      uint64 `json:"hits"`
	Misses    uint64 `json:"misses"`
	Evictions uint64 `json:"evictions"`
}

type cacheEntry struct {
	key   string
	value any
}

// NewCache returns an empty cache holding at most maxEntries entries
// (at least one).
func NewCache(maxEntries int) *Cache {
	return &Cache{max: max(maxEntries, 1), ll: list.New(), items: map[string]*list.Element{}}
}

// Get returns the value of key and marks it recently used.
func (c *Cache) Get(key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		c.misses++
		return nil, false
	}
	c.hits++
	c.ll.MoveToFront(e)
	return e.Value.(*cacheEntry).value, true
}

// Put sets key to value, marks it recently used, and evicts the least
// recently used entry if the cache overflows.
func (c *Cache) Put(key string, value any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		e.Value.(*cacheEntry).value = value
		c.ll.MoveToFront(e)
		return
	}
	c.items[key] = c.ll.PushFront(&cacheEntry{key: key, value: value})
	for c.ll.Len() > c.max {
		c.removeElement(c.ll.Back())
		c.evictions++
	}
}

// Delete removes key and reports whether it was present.
func (c *Cache) Delete(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if ok {
		c.removeElement(e)
	}
	return ok
}

// Keys returns the keys from most to least recently used.
func (c *Cache) Keys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]string, 0, c.ll.Len())
	for e := c.ll.Front(); e != nil; e = e.Next() {
		keys = append(keys, e.Value.(*cacheEntry).key)
	}
	return keys
}

// Len returns the number of entries.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// Clear removes every entry; the counters are kept.
func (c *Cache) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ll.Init()
	clear(c.items)
}

// Stats returns the cache's size and counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Len: c.ll.Len(), Cap: c.max, Hits: c.hits, Misses: c.misses, Evictions: c.evictions}
}

func (c *Cache) removeElement(e *list.Element) {
	c.ll.Remove(e)
	delete(c.items, e.Value.(*cacheEntry).key)
}

// CacheGet returns the value of key in c as a T; false when absent or of
// another type.
func CacheGet[T any](c *Cache, key string) (T, bool) {
	v, ok := c.Get(key)
	t, isT := v.(T)
	return t, ok && isT
}
