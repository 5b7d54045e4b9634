package store

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
)

// The requests each partition serves on this node, counted where they are
// served (Propose, Get, Walk): cumulative counters and a fixed-bucket
// latency histogram, all atomics, read by the topology producer, which
// turns two readings into rates and quantiles over an interval.

// LatencyBounds are the upper bounds of the latency histogram's buckets;
// a last bucket counts what is slower than the last bound.
var LatencyBounds = [...]time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// ErrorKinds name the kinds of failed requests Load counts, by index.
var ErrorKinds = [...]string{"not_leader", "ambiguous", "timeout", "rejected", "internal", "throttled"}

const (
	errNotLeader = iota
	errAmbiguous
	errTimeout
	errRejected // a domain error in the result (condition failed, validation)
	errInternal
	errThrottled // refused by admission control (admission.go)
)

// Load is what a partition served on this node since its counters were
// created (the first request after the store started). A Get and a Walk
// count one read each; read bytes are the keys and values returned.
type Load struct {
	Reads, Writes         uint64
	ReadBytes, WriteBytes uint64
	Errors                [len(ErrorKinds)]uint64
	// Latency[i] counts requests that took at most LatencyBounds[i] (and
	// more than the bound before); the last counts the slower ones.
	Latency [len(LatencyBounds) + 1]uint64
	// KeyHashes are the partition key hashes of the most recent writes
	// (up to KeySamples of them): where a partition's write load is,
	// without a scan.
	KeyHashes []uint64
}

// KeySamples is how many recent writes' key hashes a partition keeps.
const KeySamples = 64

type loadCounters struct {
	reads, writes, readBytes, writeBytes atomic.Uint64
	errors                               [len(ErrorKinds)]atomic.Uint64
	latency                              [len(LatencyBounds) + 1]atomic.Uint64
	keys                                 [KeySamples]atomic.Uint64
	keyed                                atomic.Uint64 // writes whose key was sampled
}

// Load returns the counts of partition's requests served here (false: none
// yet).
func (s *Store) Load(partition uint64) (Load, bool) {
	v, ok := s.load.Load(partition)
	if !ok {
		return Load{}, false
	}
	c := v.(*loadCounters)
	l := Load{Reads: c.reads.Load(), Writes: c.writes.Load(), ReadBytes: c.readBytes.Load(), WriteBytes: c.writeBytes.Load()}
	for i := range c.errors {
		l.Errors[i] = c.errors[i].Load()
	}
	for i := range c.latency {
		l.Latency[i] = c.latency[i].Load()
	}
	n := min(c.keyed.Load(), KeySamples)
	l.KeyHashes = make([]uint64, n)
	for i := range l.KeyHashes {
		l.KeyHashes[i] = c.keys[i].Load()
	}
	return l, true
}

// counters returns partition's counters, creating them on first use.
func (s *Store) counters(partition uint64) *loadCounters {
	if v, ok := s.load.Load(partition); ok {
		return v.(*loadCounters)
	}
	v, _ := s.load.LoadOrStore(partition, new(loadCounters))
	return v.(*loadCounters)
}

// countWrite records a proposal served by this node.
func (s *Store) countWrite(partition uint64, cmd *partitapb.Command, res *partitapb.Result, err error, took time.Duration) {
	if errors.Is(err, ErrNoReplica) {
		return // not hosted here: nothing to attribute it to
	}
	c := s.counters(partition)
	c.writes.Add(1)
	c.writeBytes.Add(uint64(proto.Size(cmd)))
	if h, ok := engine.KeyHash(itemKey(cmd)); ok {
		c.keys[(c.keyed.Add(1)-1)%KeySamples].Store(h)
	}
	c.observe(took)
	if err == nil && res.GetError() != nil {
		c.errors[errRejected].Add(1)
	} else if err != nil {
		c.errors[errorKind(err)].Add(1)
	}
}

// countRead records a read served by this node.
func (s *Store) countRead(partition uint64, bytes int, err error, took time.Duration) {
	if errors.Is(err, ErrNoReplica) {
		return // not hosted here: nothing to attribute it to
	}
	c := s.counters(partition)
	c.reads.Add(1)
	c.readBytes.Add(uint64(bytes))
	c.observe(took)
	if err != nil {
		c.errors[errorKind(err)].Add(1)
	}
}

func (c *loadCounters) observe(d time.Duration) {
	i := 0
	for i < len(LatencyBounds) && d > LatencyBounds[i] {
		i++
	}
	c.latency[i].Add(1)
}

func errorKind(err error) int {
	var nl *replica.NotLeaderError
	switch {
	case errors.As(err, &nl):
		return errNotLeader
	case errors.Is(err, replica.ErrAmbiguous):
		return errAmbiguous
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return errTimeout
	}
	var pe *partitapb.Error
	if errors.As(err, &pe) {
		if pe.GetCode() == partitapb.Error_THROTTLED {
			return errThrottled
		}
		return errRejected
	}
	return errInternal
}

// forgetLoad drops a destroyed replica's counters.
func (s *Store) forgetLoad(partition uint64) { s.load.Delete(partition) }

// itemKey is the key an item command writes (nil for any other).
func itemKey(cmd *partitapb.Command) []byte {
	switch op := cmd.GetOp().(type) {
	case *partitapb.Command_PutItem:
		return op.PutItem.GetKey()
	case *partitapb.Command_UpdateItem:
		return op.UpdateItem.GetKey()
	case *partitapb.Command_DeleteItem:
		return op.DeleteItem.GetKey()
	}
	return nil
}
