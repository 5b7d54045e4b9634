package fsm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// Members is a partition's raft membership at the log position being
// applied (replicated state, like the descriptor): what a SplitRange
// checks its voters against.
type Members struct {
	Voters   []uint64
	Learners []uint64
	// Joint says a joint configuration is in force (a membership change
	// half done).
	Joint bool
}

// SetMembers tells the Applier the partition's membership; commands that
// depend on it (SplitRange) are refused while it is unknown.
func (a *Applier) SetMembers(m Members) { a.members, a.membersKnown = m, true }

// Descriptor returns the range the Applier fences commands to now: the
// one it was made with, or the left half of a split it applied.
func (a *Applier) Descriptor() *partitapb.Descriptor { return a.desc }

// DescriptorKey is the key of partition's descriptor, in its replicated
// local state.
func DescriptorKey(partition uint64) []byte {
	return engine.LocalKey(partition, engine.ReplicatedLocal+"d")
}

// SplitKey is the key of the last split partition applied (a SplitRange),
// in its replicated local state: what finishes the directory's record of
// a split whose coordinator died (route.FinishSplit).
func SplitKey(partition uint64) []byte {
	return engine.LocalKey(partition, engine.ReplicatedLocal+"p")
}

// WriteDescriptor writes d as its partition's descriptor into b.
func WriteDescriptor(b *engine.Batch, d *partitapb.Descriptor) error {
	raw, err := proto.Marshal(d)
	if err != nil {
		return fmt.Errorf("fsm: encode descriptor: %w", err)
	}
	if err := b.Set(DescriptorKey(d.GetPartition()), raw); err != nil {
		return fmt.Errorf("fsm: write descriptor: %w", err)
	}
	return nil
}

// applySplit narrows the range to its left half, writes the new
// descriptor, the statistics of both halves and the split record, and
// returns both descriptors. Creating the right half's raft group is the
// replica's part (its raft state is not replicated state). Subsequent
// commands of the batch are fenced to the left half.
func applySplit(a *Applier, op *partitapb.SplitRange) (*partitapb.Result, error) {
	left, right, res := splitDescriptors(a, op)
	if res != nil {
		return res, nil
	}
	if res, err := a.refuseWhileTxnBusy("split"); res != nil || err != nil {
		return res, err
	}
	if err := a.flushStats(); err != nil {
		return nil, err
	}
	if err := a.splitStats(right); err != nil {
		return nil, err
	}
	if err := WriteDescriptor(a.b, left); err != nil {
		return nil, err
	}
	if err := a.splitChangeLog(right.GetPartition(), left.GetGeneration()); err != nil {
		return nil, err
	}
	if err := a.splitChangeFloor(right.GetPartition()); err != nil {
		return nil, err
	}
	if err := a.splitIndexRound(right.GetPartition()); err != nil {
		return nil, err
	}
	raw, err := proto.Marshal(op)
	if err != nil {
		return nil, fmt.Errorf("fsm: encode split: %w", err)
	}
	if err := a.b.Set(SplitKey(a.partition), raw); err != nil {
		return nil, fmt.Errorf("fsm: write split: %w", err)
	}
	a.desc = left
	return &partitapb.Result{Split: &partitapb.SplitOutcome{Left: left, Right: right, Split: op}}, nil
}

// splitDescriptors checks op against the range and membership and returns
// the two halves, or the rejection.
func splitDescriptors(a *Applier, op *partitapb.SplitRange) (left, right *partitapb.Descriptor, res *partitapb.Result) {
	d := a.desc
	if g := op.GetExpectedGeneration(); g != d.GetGeneration() {
		return nil, nil, reject(partitapb.Error_VALIDATION, "split: partition %d is at range generation %d, not %d",
			d.GetPartition(), d.GetGeneration(), g)
	}
	if r := op.GetRightPartition(); r == 0 || r == d.GetPartition() {
		return nil, nil, reject(partitapb.Error_VALIDATION, "split: bad right partition %d", r)
	}
	if d.GetFrozen() != nil {
		return nil, nil, reject(partitapb.Error_VALIDATION, "split: partition %d is frozen for a merge", d.GetPartition())
	}
	if res := checkMembers(a, "split", op.GetVoters()); res != nil {
		return nil, nil, res
	}
	if len(d.GetSpans()) != 1 {
		return nil, nil, reject(partitapb.Error_VALIDATION, "split: partition %d owns %d spans, not one table range",
			d.GetPartition(), len(d.GetSpans()))
	}
	table, lo, hi, ok := ParseHashSpan(d.GetSpans()[0])
	h := op.GetSplitHash()
	if !ok || table != op.GetTableId() || h <= lo || (hi != 0 && h >= hi) {
		return nil, nil, reject(partitapb.Error_VALIDATION, "split: hash %#x is not strictly inside partition %d's range",
			h, d.GetPartition())
	}
	gen := d.GetGeneration() + 1
	ls, le := engine.HashSpan(table, lo, h)
	rs, re := engine.HashSpan(table, h, hi)
	left = &partitapb.Descriptor{Partition: d.GetPartition(), Spans: []*partitapb.Span{{Start: ls, End: le}}, Generation: gen}
	right = &partitapb.Descriptor{Partition: op.GetRightPartition(), Spans: []*partitapb.Span{{Start: rs, End: re}}, Generation: gen}
	return left, right, nil
}

// checkMembers refuses a split or merge (what) while a membership change
// runs, or when the voters the proposer listed (a split's right half's,
// a merge's other half's) are not the partition's.
func checkMembers(a *Applier, what string, voters []uint64) *partitapb.Result {
	m := a.members
	if !a.membersKnown || m.Joint || len(m.Learners) > 0 {
		return reject(partitapb.Error_VALIDATION, "%s: partition %d is changing its membership", what, a.partition)
	}
	got, want := slices.Sorted(slices.Values(m.Voters)), slices.Sorted(slices.Values(voters))
	if !slices.Equal(got, want) {
		return reject(partitapb.Error_VALIDATION, "%s: partition %d's voters are %v, not %v", what, a.partition, got, want)
	}
	return nil
}

// splitStats counts the items of the right half (a read of that half, no
// copy) and divides the partition's statistics between the halves: the
// right half's are exact, the left keeps the rest (any excess blind puts
// counted, with their count).
func (a *Applier) splitStats(right *partitapb.Descriptor) error {
	total, err := a.currentStats()
	if err != nil {
		return err
	}
	var r Stats
	if err := countSpan(a.b, right.GetSpans()[0], &r); err != nil {
		return fmt.Errorf("fsm: split: %w", err)
	}
	if err := writeStats(a.b, right.GetPartition(), r); err != nil {
		return err
	}
	return a.setStats(total.add(r, -1))
}

// ParseHashSpan returns the table and hash range [lo, hi) of a span made
// by engine.HashSpan (hi 0: the end of the hash space); ok is false for
// any other span.
func ParseHashSpan(sp *partitapb.Span) (table, lo, hi uint64, ok bool) {
	s, e := sp.GetStart(), sp.GetEnd()
	if len(s) != 17 || !engine.IsDataKey(s) {
		return 0, 0, 0, false
	}
	table, lo = binary.BigEndian.Uint64(s[1:9]), binary.BigEndian.Uint64(s[9:17])
	switch {
	case len(e) == 17 && bytes.Equal(e[:9], s[:9]):
		hi = binary.BigEndian.Uint64(e[9:17])
	case bytes.Equal(e, engine.TablePrefix(nil, table+1)):
		hi = 0
	default:
		return 0, 0, 0, false
	}
	return table, lo, hi, true
}
