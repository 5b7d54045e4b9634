package router

import (
	"bytes"
	"context"
	"fmt"
	"math/bits"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/store"
)

// SortOp is the operator of a Query's sort key condition.
type SortOp int

// Sort key operators. SortAny means no condition on the sort key.
const (
	SortAny SortOp = iota
	SortEQ
	SortLT
	SortLE
	SortGT
	SortGE
	SortBetween
	SortBeginsWith
)

// QuerySpec selects the items of one partition key, in sort key order.
type QuerySpec struct {
	// PK is the partition key value.
	PK item.Value
	// Op and Values are the sort key condition (Values: one operand, two
	// for SortBetween, none for SortAny).
	Op     SortOp
	Values []item.Value
	// Forward is ascending sort key order (ScanIndexForward).
	Forward bool
	// StartAfter is the key of the last item a previous page returned
	// (ExclusiveStartKey); nil to start at the beginning.
	StartAfter item.Item
	// Consistent asks for a strongly consistent read.
	Consistent bool
}

// Visit receives the items of a Query or Scan in order, with their size by
// DynamoDB's accounting; returning false stops the walk.
type Visit func(it item.Item, size int) bool

// Query calls visit for every item of t matching spec, in order, until visit
// returns false. The walk is one bounded iterator over one byte range: the
// sort key condition is a range of the order-preserving key encoding.
func (r *Router) Query(ctx context.Context, t *partitapb.Table, spec QuerySpec, visit Visit) error {
	ctx, cancel := r.bound(ctx, t)
	defer cancel()
	lo, hi, err := sortRange(t, spec)
	if err != nil {
		return err
	}
	if spec.StartAfter != nil {
		after, err := r.StorageKey(t, spec.StartAfter)
		if err != nil {
			return err
		}
		if spec.Forward {
			lo = maxKey(lo, successor(after))
		} else {
			hi = minKey(hi, after)
		}
	}
	if bytes.Compare(lo, hi) >= 0 {
		return nil
	}
	req := store.WalkRequest{Lo: lo, Hi: hi, Reverse: !spec.Forward, Consistent: spec.Consistent}
	rr := r.rerouter()
	owner := func(t *partitapb.Table) *partitapb.Partition { return partitionOf(t, spec.PK) }
	for {
		p := owner(t)
		req.Partition = p.GetId()
		_, err = r.walk(ctx, &req, decoder(t), visit)
		if !partitapb.IsWrongRange(err) {
			return err
		}
		if t, err = rr.reroute(ctx, t, p, err, owner); err != nil {
			return err
		}
	}
}

// sortRange returns the span [lo, hi) of the items of spec.PK that satisfy
// the sort key condition. In an index's table (composite) more keys follow
// the sort key's encoding, so a bound that takes the value itself covers
// every key it prefixes.
func sortRange(t *partitapb.Table, spec QuerySpec) (lo, hi []byte, err error) {
	after := successor
	if isIndexTable(t) || isLocalView(t) {
		after = prefixEnd
	}
	base, err := rangeBase(t, spec.PK)
	if err != nil {
		return nil, nil, partitapb.Errorf(partitapb.Error_VALIDATION, "%v", err)
	}
	end := prefixEnd(base)
	bound := func(i int) []byte {
		k, kerr := item.AppendKey(append([]byte(nil), base...), spec.Values[i])
		if kerr != nil && err == nil {
			err = partitapb.Errorf(partitapb.Error_VALIDATION, "%v", kerr)
		}
		return k
	}
	switch spec.Op {
	case SortAny:
		lo, hi = base, end
	case SortEQ:
		k := bound(0)
		lo, hi = k, after(k)
	case SortLT:
		lo, hi = base, bound(0)
	case SortLE:
		lo, hi = base, after(bound(0))
	case SortGT:
		lo, hi = after(bound(0)), end
	case SortGE:
		lo, hi = bound(0), end
	case SortBetween:
		lo, hi = bound(0), after(bound(1))
	case SortBeginsWith:
		p, perr := item.AppendKeyPrefix(append([]byte(nil), base...), spec.Values[0])
		if perr != nil {
			return nil, nil, partitapb.Errorf(partitapb.Error_VALIDATION, "%v", perr)
		}
		lo, hi = p, prefixEnd(p)
	default:
		return nil, nil, fmt.Errorf("router: unknown sort operator %d", spec.Op)
	}
	return lo, hi, err
}

// ScanSpec selects a parallel-scan segment and a resume point.
type ScanSpec struct {
	// Segment and TotalSegments split the table's hash space into
	// TotalSegments equal ranges; the scan covers range Segment.
	// TotalSegments 0 or 1 scans everything.
	Segment, TotalSegments int
	// StartAfter is the key of the last item a previous page returned.
	StartAfter item.Item
	// Consistent asks for a strongly consistent read.
	Consistent bool
}

// Scan calls visit for every item of t in the segment, walking partitions
// in hash order, until visit returns false.
func (r *Router) Scan(ctx context.Context, t *partitapb.Table, spec ScanSpec, visit Visit) error {
	ctx, cancel := r.bound(ctx, t)
	defer cancel()
	segLo, segHi := segmentHashes(spec.Segment, spec.TotalSegments)
	lo, hi := engine.HashSpan(t.GetId(), segLo, segHi)
	if spec.StartAfter != nil {
		after, err := r.StorageKey(t, spec.StartAfter)
		if err != nil {
			return err
		}
		lo = maxKey(lo, successor(after))
	}
	// Walk each partition's part of [lo, hi) in key (hash) order; with one
	// local engine the partitions are adjacent ranges of one keyspace. A
	// refused walk resumes where it stopped, by the new layout.
	rr := r.rerouter()
	for bytes.Compare(lo, hi) < 0 {
		p := partitionAtKey(t, lo)
		_, phi := engine.HashSpan(t.GetId(), p.GetHashStart(), p.GetHashEnd())
		req := store.WalkRequest{Partition: p.GetId(), Lo: lo, Hi: minKey(hi, phi), Consistent: spec.Consistent}
		more, err := r.walk(ctx, &req, decoder(t), visit)
		if partitapb.IsWrongRange(err) {
			at := req.Lo
			if t, err = rr.reroute(ctx, t, p, err, func(t *partitapb.Table) *partitapb.Partition { return partitionAtKey(t, at) }); err != nil {
				return err
			}
			lo = at
			continue
		}
		if err != nil || !more {
			return err
		}
		lo = phi
	}
	return nil
}

// segmentHashes returns the hash range [lo, hi) of a scan segment (hi == 0
// means the end of the hash space).
func segmentHashes(segment, total int) (lo, hi uint64) {
	if total <= 1 {
		return 0, 0
	}
	lo, _ = bits.Div64(uint64(segment), 0, uint64(total))
	if segment+1 < total {
		hi, _ = bits.Div64(uint64(segment+1), 0, uint64(total))
	}
	return lo, hi
}

// Walk page limits: a page is one round trip to the partition's replica.
const (
	walkPageItems = 256
	walkPageBytes = 1 << 20
)

// walk reads req's range page by page, decoding items for visit, until
// the range ends or visit returns false. It reports whether visit wanted
// more. Every page of a consistent walk passes its own read barrier.
//
// req moves on as pages arrive: after an error, it is where the walk
// stopped.
func (r *Router) walk(ctx context.Context, req *store.WalkRequest, decode func([]byte) (item.Item, bool, error), visit Visit) (bool, error) {
	req.MaxItems, req.MaxBytes = walkPageItems, walkPageBytes
	for {
		page, err := r.walkPage(ctx, *req)
		if err != nil {
			return false, err
		}
		for i, raw := range page.Values {
			v, ok, err := decode(raw)
			if err != nil {
				return false, fmt.Errorf("router: stored item %x is corrupt: %w", page.Keys[i], err)
			}
			if !ok {
				continue
			}
			if !visit(v, v.Size()) {
				return false, nil
			}
		}
		if !page.More || len(page.Keys) == 0 {
			return true, nil
		}
		last := page.Keys[len(page.Keys)-1]
		if req.Reverse {
			req.Hi = last
		} else {
			req.Lo = successor(last)
		}
	}
}

// successor returns k followed by 0x00, the smallest key greater than k.
// Encoded keys are self-delimiting, so no other item key has k as a prefix
// and [k, successor(k)) holds exactly k.
func successor(k []byte) []byte { return append(append([]byte(nil), k...), 0) }

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil // p is all 0xff: no upper bound
}

func maxKey(a, b []byte) []byte {
	if bytes.Compare(a, b) >= 0 {
		return a
	}
	return b
}

func minKey(a, b []byte) []byte {
	if bytes.Compare(a, b) <= 0 {
		return a
	}
	return b
}
