package replica

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math/bits"
	"sync"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
)

// recordFilter answers, without reading the engine, that a command id has
// no at-most-once record in the partition: a Bloom filter of every id
// recorded there. A leader consults it before probing the records for a
// retried or forwarded command (readRecord), a probe that nearly always
// finds nothing and costs an engine iterator over the memtable and every
// level, for two keys.
//
// Once complete it holds every id with a record: those the records held
// in the state it was filled from (an engine snapshot taken between two
// of the replica's rounds, scanned on the leader's first need) and every
// id applied since, added by apply before its batch commits, whether the
// entry records it or not (a false positive costs only the probe). A
// snapshot or a merge replaces or adds records wholesale, and a replica
// that stops leading has no use for it: the filter is then emptied and
// idle (no id added, no memory held) until filled again. The ids are kept
// by their command's time, in buckets of a quarter of the retry window: a
// bucket whose every command is older than the partition's collection
// floor is dropped, since a retry older than the floor is never answered
// from the filter (readRecord probes, then refuses it). Untimed ids
// (internal commands, the old format's records) are kept for good. So
// the filter rests on no assumption about clocks: it covers every record
// the engine may hold for a command at or above the floor.
type recordFilter struct {
	mu      sync.Mutex
	seed    maphash.Seed
	state   filterState
	gen     uint64 // resets so far: a fill begun before one does not complete
	span    int64  // nanoseconds of command time per bucket
	buckets map[int64]*idBloom
	untimed *idBloom
}

type filterState uint8

const (
	filterIdle filterState = iota
	filterFilling
	filterComplete
)

// idBloom is one bucket's filter: a chain of Bloom filters, each twice the
// size of the one before, a new one started when the last holds as many
// ids as it was sized for (so a bucket grows with the rate of writes).
type idBloom struct {
	sets []bloomSet
}

type bloomSet struct {
	bits  []uint64
	n, of int // ids added; ids sized for (8 bits each: about 2% false positives with 4 probes)
}

const (
	bloomProbes   = 4
	bloomFirstIDs = 1 << 10
	bloomMaxIDs   = 1 << 21
)

func newRecordFilter(window int64) *recordFilter {
	return &recordFilter{seed: maphash.MakeSeed(), span: max(window/4, 1), buckets: map[int64]*idBloom{}}
}

// add notes id, of a command made at unixNanos (0: untimed), unless the
// filter is idle. A filter whose buckets outgrow maxFilterBuckets (no
// readRecord came to drop those below the floor) goes idle instead: its
// memory stays bounded, and the next need fills it again.
func (f *recordFilter) add(id []byte, unixNanos int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state == filterIdle {
		return // a follower's apply: no hash, nothing kept
	}
	if _, ok := f.buckets[unixNanos/f.span]; !ok && unixNanos > 0 && len(f.buckets) >= maxFilterBuckets {
		f.resetLocked()
		return
	}
	f.bucket(unixNanos).add(maphash.Bytes(f.seed, id))
}

// maxFilterBuckets bounds a filter's buckets: with the floor following
// the retry window, a leader's filter holds about five.
const maxFilterBuckets = 16

// bucket returns the filter of the commands made at unixNanos.
func (f *recordFilter) bucket(unixNanos int64) *idBloom {
	if unixNanos <= 0 {
		if f.untimed == nil {
			f.untimed = &idBloom{}
		}
		return f.untimed
	}
	k := unixNanos / f.span
	b := f.buckets[k]
	if b == nil {
		b = &idBloom{}
		f.buckets[k] = b
	}
	return b
}

// absent reports that id certainly has no record: the filter is complete
// and does not hold it. It drops the buckets wholly below floor first.
func (f *recordFilter) absent(id []byte, floor int64) bool {
	h := maphash.Bytes(f.seed, id)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state != filterComplete {
		return false
	}
	for k := range f.buckets {
		if (k+1)*f.span <= floor {
			delete(f.buckets, k)
		}
	}
	if f.untimed != nil && f.untimed.has(h) {
		return false
	}
	for _, b := range f.buckets {
		if b.has(h) {
			return false
		}
	}
	return true
}

// reset empties the filter and makes it idle; a fill in progress does not
// complete.
func (f *recordFilter) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resetLocked()
}

func (f *recordFilter) resetLocked() {
	f.state, f.untimed = filterIdle, nil
	f.gen++
	clear(f.buckets)
}

// idle says the filter needs filling.
func (f *recordFilter) idle() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state == filterIdle
}

// begin starts a fill: from now on apply adds the ids it records. Call it
// with the replica's rounds held off, then take the state to scan before
// letting them run. It returns the reset count to hand to finish.
func (f *recordFilter) begin() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state = filterFilling
	return f.gen
}

// fill adds the ids of partition's records in r (the state taken after
// begin returned gen), and completes the filter unless it was reset since;
// reset, it stops within fillCheckEvery records.
func (f *recordFilter) fill(r engine.Reader, partition uint64, gen uint64) error {
	timed, untimed := fsm.RecordPrefixes(partition)
	for _, p := range []struct {
		prefix []byte
		timed  bool
	}{{timed, true}, {untimed, false}} {
		end := append([]byte(nil), p.prefix...)
		end[len(end)-1]++
		it, err := r.NewIter(p.prefix, end)
		if err != nil {
			return err
		}
		n := 0
		for ok := it.First(); ok; ok = it.Next() {
			if n++; n%fillCheckEvery == 0 && f.stale(gen) {
				return it.Close()
			}
			k, t := it.Key()[len(p.prefix):], int64(0)
			if p.timed {
				if len(k) < 8 {
					continue
				}
				t, k = int64(binary.BigEndian.Uint64(k)), k[8:]
			}
			f.add(k, t)
		}
		if err := it.Error(); err != nil {
			it.Close()
			return fmt.Errorf("replica: partition %d: read records: %w", partition, err)
		}
		if err := it.Close(); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gen == gen && f.state == filterFilling {
		f.state = filterComplete
	}
	return nil
}

// fillCheckEvery is how many records a fill reads between checks that
// the filter was not reset.
const fillCheckEvery = 1024

// stale says the filter was reset since the fill of gen began.
func (f *recordFilter) stale(gen uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gen != gen
}

// fillOwner owns the goroutines filling a replica's record filter: start
// admits one until refuse; wait waits for those admitted.
type fillOwner struct {
	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
}

func (o *fillOwner) start() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.stopped {
		return false
	}
	o.wg.Add(1)
	return true
}

func (o *fillOwner) done() { o.wg.Done() }

func (o *fillOwner) refuse() {
	o.mu.Lock()
	o.stopped = true
	o.mu.Unlock()
}

func (o *fillOwner) wait() { o.wg.Wait() }

func (b *idBloom) add(h uint64) {
	if len(b.sets) == 0 || b.sets[len(b.sets)-1].n >= b.sets[len(b.sets)-1].of {
		of := bloomFirstIDs
		if len(b.sets) > 0 {
			of = min(2*b.sets[len(b.sets)-1].of, bloomMaxIDs)
		}
		b.sets = append(b.sets, bloomSet{bits: make([]uint64, of/8), of: of})
	}
	s := &b.sets[len(b.sets)-1]
	mask := uint64(len(s.bits)*64 - 1)
	h1, h2 := h, bits.RotateLeft64(h, 32)|1
	for i := range uint64(bloomProbes) {
		p := (h1 + i*h2) & mask
		s.bits[p/64] |= 1 << (p % 64)
	}
	s.n++
}

func (b *idBloom) has(h uint64) bool {
	h1, h2 := h, bits.RotateLeft64(h, 32)|1
sets:
	for i := range b.sets {
		s := &b.sets[i]
		mask := uint64(len(s.bits)*64 - 1)
		for j := range uint64(bloomProbes) {
			p := (h1 + j*h2) & mask
			if s.bits[p/64]&(1<<(p%64)) == 0 {
				continue sets
			}
		}
		return true
	}
	return false
}
