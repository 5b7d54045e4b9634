package replica

import "go.etcd.io/raft/v3/raftpb"

// entryCache keeps the most recent log entries of a replica in memory, so
// the leader sends new entries to followers without reading them back from
// Pebble. It holds a contiguous run of indexes, trimmed from the front to
// stay within maxBytes.
type entryCache struct {
	maxBytes int
	ents     []raftpb.Entry
	bytes    int
}

// add appends ents, first dropping any cached entries they replace.
func (c *entryCache) add(ents []raftpb.Entry) {
	if len(ents) == 0 || c.maxBytes <= 0 {
		return
	}
	first := ents[0].Index
	if len(c.ents) > 0 {
		cf := c.ents[0].Index
		switch {
		case first < cf || first > cf+uint64(len(c.ents)):
			c.reset() // not contiguous with the cache: start over
		default:
			for _, e := range c.ents[first-cf:] {
				c.bytes -= e.Size()
			}
			c.ents = c.ents[:first-cf]
		}
	}
	for _, e := range ents {
		c.ents = append(c.ents, e)
		c.bytes += e.Size()
	}
	for c.bytes > c.maxBytes && len(c.ents) > 1 {
		c.bytes -= c.ents[0].Size()
		c.ents = c.ents[1:]
	}
}

func (c *entryCache) reset() { c.ents, c.bytes = nil, 0 }

// get returns the cached entry at index.
func (c *entryCache) get(index uint64) (raftpb.Entry, bool) {
	if len(c.ents) == 0 || index < c.ents[0].Index || index >= c.ents[0].Index+uint64(len(c.ents)) {
		return raftpb.Entry{}, false
	}
	return c.ents[index-c.ents[0].Index], true
}

// slice returns a copy of entries [lo, hi), limited to maxSize bytes (at
// least one entry), when the cache holds all of them.
func (c *entryCache) slice(lo, hi, maxSize uint64) ([]raftpb.Entry, bool) {
	if len(c.ents) == 0 || lo < c.ents[0].Index || hi > c.ents[0].Index+uint64(len(c.ents)) || lo >= hi {
		return nil, false
	}
	src := c.ents[lo-c.ents[0].Index : hi-c.ents[0].Index]
	var size uint64
	n := 0
	for ; n < len(src); n++ {
		size += uint64(src[n].Size())
		if n > 0 && maxSize > 0 && size > maxSize {
			break
		}
	}
	return append([]raftpb.Entry(nil), src[:n]...), true
}

// dropTo forgets entries up to and including index.
func (c *entryCache) dropTo(index uint64) {
	for len(c.ents) > 0 && c.ents[0].Index <= index {
		c.bytes -= c.ents[0].Size()
		c.ents = c.ents[1:]
	}
}
