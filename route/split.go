package route

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// Splitting a partition, the operation behind `partita ctl partition
// split` (and what a control plane calls): three proposals, in this order.
//
//  1. AllocatePartition on the meta partition reserves the right half's
//     id. Alone it changes nothing: an id reserved for a split that never
//     happens is a gap in the ids.
//  2. SplitRange on the partition is the split's one commit point: at
//     its log index every replica narrows its range and creates the right
//     half. It is a compare-and-set on the range generation the
//     coordinator read from the directory, and it is refused while the
//     partition changes its membership (a learner, a joint
//     configuration) or when the voters differ from the directory's
//     listing: a split that can no longer happen as planned is abandoned
//     here, and only the id is lost.
//  3. SplitPartition on the meta partition publishes the split in the
//     directory, a compare-and-set on the same range generation; it
//     succeeds again, changing nothing, if it was already recorded.
//
// The partition goes first because its log decides, and the directory
// only follows what the partition did: never the other way round, which
// would route requests to a right half that may never exist, and give a
// reconciler a partition to create from nothing while another replica
// owns its keys. A coordinator that dies between 2 and 3 leaves the
// directory one generation behind the partition: requests routed by it
// are refused with WRONG_RANGE, retried, and succeed once the record is
// made by the reconciler of the node leading the left half (RecordSplit,
// from the split record the left half keeps in its replicated state:
// member.Member.Reconcile). The gap lasts about one reconciler period; an
// operator running the split again meanwhile is refused (the range moved
// on) and changes nothing.

// ErrSplit marks a split request that cannot be carried out as asked (a
// partition unknown or already split at another point, a split point
// outside the range).
var ErrSplit = errors.New("route: cannot split")

// SplitRequest asks for a split of one partition of a table.
type SplitRequest struct {
	// Table is the table's record, as read from a fresh directory.
	Table *partitapb.Table
	// Partition is the id of the partition to split.
	Partition uint64
	// Hash is the first hash of the right half; 0 splits the range in its
	// middle unless Exact.
	Hash uint64
	// Exact: Hash is the split point even when 0 (a partition key whose
	// hash is 0, which is always refused: 0 starts the first range).
	Exact bool
	// Voters are the partition's raft voters when the directory lists
	// none (a single node's partitions); otherwise they are the listed
	// replicas.
	Voters []uint64
}

// Split splits a partition and records both halves in the directory; it
// returns the table's record afterwards.
func (s *Sender) Split(ctx context.Context, req SplitRequest) (*partitapb.Table, error) {
	p := findPartition(req.Table, req.Partition)
	if p == nil {
		return nil, fmt.Errorf("%w: table %s has no partition %d", ErrSplit, req.Table.GetName(), req.Partition)
	}
	h := req.Hash
	if h == 0 && !req.Exact {
		h = MiddleHash(p)
	}
	if !inside(p, h) {
		return nil, fmt.Errorf("%w: hash %#x is not strictly inside partition %d [%#x, %#x)", ErrSplit, h, p.GetId(), p.GetHashStart(), p.GetHashEnd())
	}
	res, err := s.proposeMeta(ctx, &partitapb.Command{Op: &partitapb.Command_AllocatePartition{AllocatePartition: &partitapb.AllocatePartition{}}})
	if err != nil {
		return nil, err
	}
	voters := p.GetReplicas()
	if len(voters) == 0 {
		voters = req.Voters
	}
	split := &partitapb.SplitRange{
		TableId: p.GetTableId(), SplitHash: h, RightPartition: res.GetPartitionId(),
		ExpectedGeneration: p.GetRangeGeneration(), Voters: voters,
	}
	cmd := &partitapb.Command{Id: newID(), RangeGeneration: p.GetRangeGeneration(), Op: &partitapb.Command_SplitRange{SplitRange: split}}
	res, err = s.Propose(ctx, p.GetId(), cmd)
	if err != nil {
		return nil, fmt.Errorf("route: split partition %d: %w", p.GetId(), err)
	}
	if res.GetError() != nil {
		return nil, fmt.Errorf("route: split partition %d: %w", p.GetId(), res.GetError())
	}
	return s.RecordSplit(ctx, req.Table.GetName(), p, split)
}

// RecordSplit records in the directory the split that partition p of
// table applied (its split record), the right half listed on the nodes p
// is listed on. It is idempotent: a split recorded already is not
// recorded twice.
func (s *Sender) RecordSplit(ctx context.Context, table string, p *partitapb.Partition, split *partitapb.SplitRange) (*partitapb.Table, error) {
	partition := p.GetId()
	res, err := s.proposeMeta(ctx, &partitapb.Command{Op: &partitapb.Command_SplitPartition{SplitPartition: &partitapb.SplitPartition{
		Table: table, Partition: partition, ExpectedRangeGeneration: split.GetExpectedGeneration(),
		SplitHash: split.GetSplitHash(), RightPartition: split.GetRightPartition(), RightReplicas: p.GetReplicas(),
	}}})
	if err != nil {
		return nil, fmt.Errorf("route: record the split of partition %d: %w", partition, err)
	}
	t := res.GetTable()
	for _, p := range t.GetPartitions() {
		s.cfg.Directory.SetReplicas(p.GetId(), p.GetReplicas())
	}
	return t, nil
}

// proposeMeta proposes a directory command (with a fresh id) and returns
// its result, or its rejection as the error.
func (s *Sender) proposeMeta(ctx context.Context, cmd *partitapb.Command) (*partitapb.Result, error) {
	cmd.Id = newID()
	res, err := s.Propose(ctx, directory.MetaPartition, cmd)
	if err != nil {
		return nil, err
	}
	if res.GetError() != nil {
		return nil, res.GetError()
	}
	return res, nil
}

// MiddleHash returns the hash in the middle of p's range.
func MiddleHash(p *partitapb.Partition) uint64 {
	lo, hi := p.GetHashStart(), p.GetHashEnd()
	width := hi - lo // modulo 2^64: hi 0 is the end of the space
	if width == 0 {
		return lo + 1<<63 // the whole space
	}
	return lo + width/2
}

// inside says h is strictly inside p's range: both halves non-empty.
func inside(p *partitapb.Partition, h uint64) bool {
	return h > p.GetHashStart() && (p.GetHashEnd() == 0 || h < p.GetHashEnd())
}

func findPartition(t *partitapb.Table, id uint64) *partitapb.Partition {
	i := slices.IndexFunc(t.GetPartitions(), func(p *partitapb.Partition) bool { return p.GetId() == id })
	if i < 0 {
		return nil
	}
	return t.GetPartitions()[i]
}

// newID returns a fresh command id.
func newID() []byte {
	id := make([]byte, 16)
	_, _ = rand.Read(id) // crypto/rand.Read never fails
	return id
}
