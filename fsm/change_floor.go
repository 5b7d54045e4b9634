package fsm

import (
	"encoding/binary"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// The change floor of a partition (SetChangeFloor) is the least view its
// change log keeps, in its replicated state: a leader's node learns a
// table's view from its copy of the directory, which can lag, and a write
// evaluated with a view older than a reader expects would be missing from
// the log. A reader that needs every write from some point on (a new
// global index's backfill) sets the floor and starts once it applied:
// every later write is logged, re-evaluated by its leader if it was
// evaluated with less.
//
// Its key holds the view (1 byte) then the table revision that set it
// (8 bytes), then, on a deleted table's kept partition (FenceDeletedTable,
// cluster version 17), a 1.

func changeFloorKey(partition uint64) []byte {
	return engine.LocalKey(partition, engine.ReplicatedLocal+"f")
}

// ChangeFloor is a partition's change floor: the least view its log
// keeps, set at table revision Revision.
type ChangeFloor struct {
	View     partitapb.ChangeView
	Revision uint64
	// Deleted marks a deleted table's partition, kept for its streams: it
	// refuses item writes (FenceDeletedTable).
	Deleted bool
}

// ReadChangeFloor returns partition's change floor as of r (the zero
// ChangeFloor: none).
func ReadChangeFloor(r engine.Reader, partition uint64) (ChangeFloor, error) {
	raw, err := engine.Get(r, changeFloorKey(partition))
	if errors.Is(err, engine.ErrNotFound) {
		return ChangeFloor{}, nil
	}
	if err != nil {
		return ChangeFloor{}, fmt.Errorf("fsm: read change floor: %w", err)
	}
	if len(raw) != 9 && (len(raw) != 10 || raw[9] != 1) {
		return ChangeFloor{}, fmt.Errorf("fsm: change floor of partition %d is corrupt", partition)
	}
	return ChangeFloor{View: partitapb.ChangeView(raw[0]), Revision: binary.BigEndian.Uint64(raw[1:9]), Deleted: len(raw) == 10}, nil
}

func writeChangeFloor(b *engine.Batch, partition uint64, f ChangeFloor) error {
	if f == (ChangeFloor{}) {
		if err := b.Delete(changeFloorKey(partition)); err != nil {
			return fmt.Errorf("fsm: clear change floor: %w", err)
		}
		return nil
	}
	raw := binary.BigEndian.AppendUint64([]byte{byte(f.View)}, f.Revision)
	if f.Deleted {
		raw = append(raw, 1)
	}
	if err := b.Set(changeFloorKey(partition), raw); err != nil {
		return fmt.Errorf("fsm: write change floor: %w", err)
	}
	return nil
}

// UnionView is the least view that keeps what both a and b keep.
func UnionView(a, b partitapb.ChangeView) partitapb.ChangeView {
	switch {
	case a == b || b == partitapb.ChangeView_CHANGE_VIEW_NONE:
		return a
	case a == partitapb.ChangeView_CHANGE_VIEW_NONE:
		return b
	case a == partitapb.ChangeView_KEYS_ONLY:
		return b
	case b == partitapb.ChangeView_KEYS_ONLY:
		return a
	}
	// Two different views among NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES.
	return partitapb.ChangeView_NEW_AND_OLD_IMAGES
}

// changeFloor returns the floor as of the commands applied so far (read
// once from the batch, then kept).
func (a *Applier) changeFloor() (ChangeFloor, error) {
	if !a.floorKnown {
		f, err := ReadChangeFloor(a.b, a.partition)
		if err != nil {
			return ChangeFloor{}, err
		}
		a.floor, a.floorKnown = f, true
	}
	return a.floor, nil
}

// KnowChangeFloor tells the Applier the partition's floor as of its
// batch's base state (the replica keeps it in memory), sparing a read.
func (a *Applier) KnowChangeFloor(f ChangeFloor) { a.floor, a.floorKnown = f, true }

// FloorChanged returns the floor after the commands applied so far, and
// whether one of them changed it.
func (a *Applier) FloorChanged() (ChangeFloor, bool) { return a.floor, a.floorChanged }

// applySetChangeFloor sets the floor unless the partition's was set at a
// newer table revision.
func (a *Applier) applySetChangeFloor(s *partitapb.SetChangeFloor) (*partitapb.Result, error) {
	cur, err := a.changeFloor()
	if err != nil {
		return nil, err
	}
	cs, err := a.changeState()
	if err != nil {
		return nil, err
	}
	// The log's end now: what follows was evaluated over the floor (a
	// stream's cut, docs/streams.md "Status").
	res := &partitapb.Result{ChangeLast: proto.Uint64(cs.Last)}
	if s.GetTableRevision() < cur.Revision {
		return res, nil
	}
	next := ChangeFloor{View: s.GetView(), Revision: s.GetTableRevision(), Deleted: cur.Deleted}
	if err := writeChangeFloor(a.b, a.partition, next); err != nil {
		return nil, err
	}
	a.floor, a.floorChanged = next, true
	return res, nil
}

// belowFloor refuses the Effects e of an item write that logs less than
// the partition's floor: its leader evaluated it with a view older than
// the floor's, and evaluates it again.
func (a *Applier) belowFloor(e *partitapb.Effects) (*partitapb.Result, error) {
	if e.GetValue() == nil && !e.GetDelete() {
		return nil, nil // writes no item
	}
	f, err := a.changeFloor()
	if err != nil || f.View == partitapb.ChangeView_CHANGE_VIEW_NONE {
		return nil, err
	}
	if UnionView(e.GetChangeView(), f.View) == e.GetChangeView() {
		return nil, nil
	}
	return reject(partitapb.Error_STALE_EVALUATION, "evaluated with change view %s, below the partition's floor %s",
		e.GetChangeView(), f.View), nil
}

// splitChangeFloor gives the right half of a split the partition's floor.
func (a *Applier) splitChangeFloor(right uint64) error {
	f, err := a.changeFloor()
	if err != nil || f == (ChangeFloor{}) {
		return err
	}
	return writeChangeFloor(a.b, right, f)
}

// mergeChangeFloor keeps, at a merge with right, what both halves' floors
// keep, at the newer revision.
func (a *Applier) mergeChangeFloor(right uint64) error {
	f, err := a.changeFloor()
	if err != nil {
		return err
	}
	rf, err := ReadChangeFloor(a.b, right)
	if err != nil || rf == (ChangeFloor{}) {
		return err
	}
	next := ChangeFloor{View: UnionView(f.View, rf.View), Revision: max(f.Revision, rf.Revision), Deleted: f.Deleted || rf.Deleted}
	if err := writeChangeFloor(a.b, a.partition, next); err != nil {
		return err
	}
	a.floor, a.floorChanged = next, true
	return nil
}

// applyFenceDeletedTable marks the partition as a deleted table's, kept
// for its streams: later item writes are refused (deletedTable).
func (a *Applier) applyFenceDeletedTable() (*partitapb.Result, error) {
	cur, err := a.changeFloor()
	if err != nil {
		return nil, err
	}
	if cur.Deleted {
		return &partitapb.Result{}, nil
	}
	next := cur
	next.Deleted = true
	if err := writeChangeFloor(a.b, a.partition, next); err != nil {
		return nil, err
	}
	a.floor, a.floorChanged = next, true
	return &partitapb.Result{}, nil
}

// deletedTable refuses the Effects e of an item write on a deleted
// table's partition with DynamoDB's error for a missing table: its router
// routed it by a record from before the delete.
func (a *Applier) deletedTable(e *partitapb.Effects) (*partitapb.Result, error) {
	if len(e.GetKey()) == 0 {
		return nil, nil
	}
	f, err := a.changeFloor()
	if err != nil || !f.Deleted {
		return nil, err
	}
	return reject(partitapb.Error_TABLE_NOT_FOUND, "Requested resource not found"), nil
}
