package member

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/route"
	"github.com/partitadb/partita/store"
)

// Split splits partition of table at the partition key at ("": the
// middle of its hash range), from a fresh directory: the operation behind
// the admin route and `ctl partition split`, and what a control plane
// calls (route.Sender.Split, which it can also call directly). It returns
// the table's record afterwards.
func (m *Member) Split(ctx context.Context, table string, partition uint64, at string) (*partitapb.Table, error) {
	if err := m.Refresh(ctx); err != nil {
		return nil, err
	}
	t := m.dir.Snapshot().Table(table)
	if t == nil {
		return nil, fmt.Errorf("%w: no table %s", ErrNoTable, table)
	}
	var h uint64
	if at != "" {
		var err error
		if h, err = PartitionKeyHash(t, at); err != nil {
			return nil, err
		}
	}
	return m.cfg.Sender.Split(ctx, route.SplitRequest{Table: t, Partition: partition, Hash: h, Exact: at != "", Voters: m.voters(partition)})
}

// SplitAtHash splits partition of table so that the right half starts at
// hash (0: the middle of its range), as the Doctor's split checker asks.
func (m *Member) SplitAtHash(ctx context.Context, table string, partition, hash uint64) (*partitapb.Table, error) {
	if err := m.Refresh(ctx); err != nil {
		return nil, err
	}
	t := m.dir.Snapshot().Table(table)
	if t == nil {
		return nil, fmt.Errorf("%w: no table %s", ErrNoTable, table)
	}
	return m.cfg.Sender.Split(ctx, route.SplitRequest{Table: t, Partition: partition, Hash: hash, Exact: hash != 0,
		Voters: m.voters(partition)})
}

// voters returns the raft voters of this node's replica of partition (nil:
// none here).
func (m *Member) voters(partition uint64) []uint64 {
	if r := m.cfg.Store.Replica(partition); r != nil {
		return r.ConfState().Voters
	}
	return nil
}

// ErrNoTable: the directory lists no table of that name.
var ErrNoTable = errors.New("member: no such table")

// finishSplits records in the directory the splits that partitions this
// node leads applied but the directory does not list yet: their
// coordinator died between the partition's split and the directory's
// record (route/split.go).
func (m *Member) finishSplits(ctx context.Context) error {
	snap := m.dir.Snapshot()
	var errs []error
	for _, t := range snap.Tables {
		for _, p := range t.GetPartitions() {
			r := m.cfg.Store.Replica(p.GetId())
			if r == nil || r.Leader() != m.cfg.Self || r.Descriptor().GetGeneration() <= p.GetRangeGeneration() {
				continue
			}
			rec, err := m.splitRecord(p.GetId())
			if err != nil || rec == nil || rec.GetExpectedGeneration() != p.GetRangeGeneration() {
				errs = append(errs, err)
				continue
			}
			m.cfg.Logger.Info("recording a split its coordinator left unrecorded",
				"table", t.GetName(), "partition", p.GetId(), "right", rec.GetRightPartition())
			if _, err := m.cfg.Sender.RecordSplit(ctx, t.GetName(), p, rec); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// splitRecord reads the last split partition applied here (nil: none).
func (m *Member) splitRecord(partition uint64) (*partitapb.SplitRange, error) {
	raw, err := m.cfg.Engine.Get(fsm.SplitKey(partition))
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("member: read the split record of partition %d: %w", partition, err)
	}
	rec := &partitapb.SplitRange{}
	if err := proto.Unmarshal(raw, rec); err != nil {
		return nil, fmt.Errorf("member: corrupt split record of partition %d: %w", partition, err)
	}
	return rec, nil
}

// bornOfSplit says p was made by a split rather than by CreateTable: its
// replicas come from the left half's split or from snapshots, never from
// a bootstrap (which would start it empty beside the data it owns).
func bornOfSplit(p *partitapb.Partition) bool {
	return p.GetRangeGeneration() > fsm.FirstRangeGeneration
}

// addSplitReplica makes this node's replica of p, a partition born of a
// split, exist when no replica here claims its range any more (the local
// left half was given a snapshot taken after the split, or is gone): an
// empty replica its leader sends a snapshot to. While the local left half
// still owns the range it waits: that half's split creates it.
func (m *Member) addSplitReplica(p *partitapb.Partition) error {
	if m.cfg.Store.Destroyed(p.GetId()) {
		return nil // moved away from this node; the directory copy is stale
	}
	err := m.cfg.Store.AddEmptyReplicaUnclaimed(p.GetId(), directory.Spans(p))
	if errors.Is(err, store.ErrRangeClaimed) {
		return nil
	}
	return err
}

// listedTables returns the ids of the tables snap lists.
func listedTables(snap *directory.Snapshot) map[uint64]bool {
	ids := make(map[uint64]bool, len(snap.Tables))
	for _, t := range snap.Tables {
		ids[t.GetId()] = true
	}
	return ids
}

// ofListedTable says the replica's range belongs to a table the directory
// lists: a split's right half the directory does not record yet, not a
// deleted table's partition.
func ofListedTable(d *partitapb.Descriptor, tables map[uint64]bool) bool {
	for _, sp := range d.GetSpans() {
		if t, _, _, ok := fsm.ParseHashSpan(sp); ok && tables[t] {
			return true
		}
	}
	return false
}

// tableSpans says each of the replica's spans is a table's hash span.
func tableSpans(d *partitapb.Descriptor) bool {
	for _, sp := range d.GetSpans() {
		if _, _, _, ok := fsm.ParseHashSpan(sp); !ok {
			return false
		}
	}
	return true
}

// PartitionKeyHash returns the hash of the partition key value key (as
// written on a command line: a string, a number, or base64 for a binary
// key, by t's key schema): the first hash of the right half of a split
// "at" that key. Every item of one partition key has its hash, so a split
// never divides one partition key.
func PartitionKeyHash(t *partitapb.Table, key string) (uint64, error) {
	var name string
	for _, e := range t.GetKeySchema() {
		if e.GetKeyType() == "HASH" {
			name = e.GetAttributeName()
		}
	}
	for _, a := range t.GetAttributeDefinitions() {
		if a.GetAttributeName() != name {
			continue
		}
		switch a.GetAttributeType() {
		case "S":
			return item.Hash(item.S(key)), nil
		case "N":
			n, err := item.ParseNumber(key)
			if err != nil {
				return 0, fmt.Errorf("%w: partition key %q is not a number: %w", route.ErrSplit, key, err)
			}
			return item.Hash(item.N(n)), nil
		case "B":
			b, err := base64.StdEncoding.DecodeString(key)
			if err != nil {
				return 0, fmt.Errorf("%w: partition key %q is not base64: %w", route.ErrSplit, key, err)
			}
			return item.Hash(item.B(b)), nil
		}
	}
	return 0, fmt.Errorf("%w: table %s has no partition key definition", route.ErrSplit, t.GetName())
}
