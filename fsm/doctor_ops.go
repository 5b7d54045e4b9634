package fsm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// The Doctor's records in the meta partition: its timeline of operations
// (one record per operation, directory.DoctorOpKey) and its settings
// (gates, pause: directory.DoctorSettingsKey). The Doctor writes the
// timeline with its epoch, so the fence refuses a deposed Doctor's
// writes; operators decide operations and set the switches without one.

// DoctorOpsKept bounds the Doctor's timeline: creating an operation record
// beyond it deletes the oldest terminal records until at most this many
// remain. Records not in a terminal state are never deleted, so the
// timeline exceeds the bound only by those.
const DoctorOpsKept = 1000

// applyPutDoctorOp creates (id 0) or replaces a Doctor operation record.
func applyPutDoctorOp(a *Applier, cmd *partitapb.Command, put *partitapb.PutDoctorOp) (*partitapb.Result, error) {
	op := put.GetOp()
	if res := validateDoctorOp(op); res != nil {
		return res, nil
	}
	op = proto.Clone(op).(*partitapb.DoctorOp)
	op.UpdatedUnixNanos = cmd.GetUnixNanos()
	if op.GetId() == 0 {
		return createDoctorOp(a, cmd, op)
	}
	return replaceDoctorOp(a.b, op)
}

// validateDoctorOp refuses an op the timeline cannot hold.
func validateDoctorOp(op *partitapb.DoctorOp) *partitapb.Result {
	switch {
	case op == nil:
		return reject(partitapb.Error_VALIDATION, "doctor op: the op is required")
	case op.GetKind() == "":
		return reject(partitapb.Error_VALIDATION, "doctor op: the kind is required")
	case op.GetState() == partitapb.DoctorOp_STATE_UNSET || !knownEnum(op.GetState()):
		return reject(partitapb.Error_VALIDATION, "doctor op: invalid state %s", op.GetState())
	case !knownEnum(op.GetGate()):
		return reject(partitapb.Error_VALIDATION, "doctor op: invalid gate %s", op.GetGate())
	}
	return nil
}

// knownEnum reports whether v is a value its enum declares.
func knownEnum(v interface {
	Descriptor() protoreflect.EnumDescriptor
	Number() protoreflect.EnumNumber
}) bool {
	return v.Descriptor().Values().ByNumber(v.Number()) != nil
}

// createDoctorOp gives op the next id, writes it and applies retention.
func createDoctorOp(a *Applier, cmd *partitapb.Command, op *partitapb.DoctorOp) (*partitapb.Result, error) {
	id, err := nextID(a.b, directory.DoctorOpCounter, 1)
	if err != nil {
		return nil, err
	}
	op.Id = id
	op.CreatedUnixNanos = cmd.GetUnixNanos()
	if op.GetEpoch() == 0 {
		op.Epoch = cmd.GetDoctorEpoch()
	}
	if err := writeDoctorOp(a.b, op); err != nil {
		return nil, err
	}
	if err := retainDoctorOps(a.b, id, a.doctorOpsKept); err != nil {
		return nil, err
	}
	return &partitapb.Result{DoctorOp: op}, nil
}

// replaceDoctorOp replaces the existing record of op.Id with op.
func replaceDoctorOp(b *engine.Batch, op *partitapb.DoctorOp) (*partitapb.Result, error) {
	cur, err := directory.ReadDoctorOp(b, op.GetId())
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return reject(partitapb.Error_VALIDATION, "doctor op %d not found", op.GetId()), nil
	}
	if res := refuseReplace(cur, op); res != nil {
		return res, nil
	}
	if directory.DoctorOpTerminal(cur.GetState()) {
		return &partitapb.Result{DoctorOp: cur}, nil // a retry of the put that finished it
	}
	op.CreatedUnixNanos = cur.GetCreatedUnixNanos()
	if op.GetDecidedBy() == "" {
		op.DecidedBy = cur.GetDecidedBy()
	}
	if op.GetEpoch() == 0 {
		op.Epoch = cur.GetEpoch()
	}
	if err := writeDoctorOp(b, op); err != nil {
		return nil, err
	}
	return &partitapb.Result{DoctorOp: op}, nil
}

// refuseReplace returns the Result refusing to replace cur with op: cur
// is final (terminal, unless op puts the same state again: a retry), or
// op would undo an operator's approval.
func refuseReplace(cur, op *partitapb.DoctorOp) *partitapb.Result {
	var res *partitapb.Result
	switch {
	case directory.DoctorOpTerminal(cur.GetState()) && op.GetState() != cur.GetState():
		res = reject(partitapb.Error_VALIDATION, "doctor op %d is %s: a finished op cannot become %s",
			cur.GetId(), cur.GetState(), op.GetState())
	case cur.GetState() == partitapb.DoctorOp_APPROVED && op.GetState() == partitapb.DoctorOp_AWAITING_APPROVAL:
		res = reject(partitapb.Error_VALIDATION, "doctor op %d is APPROVED (by %q): it cannot await approval again",
			cur.GetId(), cur.GetDecidedBy())
	default:
		return nil
	}
	res.DoctorOp = cur
	return res
}

// applyDecideDoctorOp approves or rejects an op awaiting approval.
func applyDecideDoctorOp(b *engine.Batch, now int64, d *partitapb.DecideDoctorOp) (*partitapb.Result, error) {
	cur, err := directory.ReadDoctorOp(b, d.GetId())
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return reject(partitapb.Error_VALIDATION, "doctor op %d not found", d.GetId()), nil
	}
	if cur.GetState() != partitapb.DoctorOp_AWAITING_APPROVAL {
		res := reject(partitapb.Error_VALIDATION, "doctor op %d is %s, not AWAITING_APPROVAL", cur.GetId(), cur.GetState())
		res.DoctorOp = cur
		return res, nil
	}
	op := proto.Clone(cur).(*partitapb.DoctorOp)
	op.DecidedBy = d.GetBy()
	op.UpdatedUnixNanos = now
	if d.GetApprove() {
		op.State = partitapb.DoctorOp_APPROVED
	} else {
		op.State = partitapb.DoctorOp_REJECTED
		op.Outcome = d.GetReason()
	}
	if err := writeDoctorOp(b, op); err != nil {
		return nil, err
	}
	return &partitapb.Result{DoctorOp: op}, nil
}

func writeDoctorOp(b *engine.Batch, op *partitapb.DoctorOp) error {
	raw, err := directory.EncodeDoctorOp(op)
	if err != nil {
		return err
	}
	if err := b.Set(directory.DoctorOpKey(op.GetId()), raw); err != nil {
		return fmt.Errorf("fsm: write doctor op %d: %w", op.GetId(), err)
	}
	return nil
}

// retainDoctorOps counts the record newID just created and, when more
// than kept records exist, deletes the oldest terminal ones (never newID)
// until kept remain or none older is terminal. It reads from the smallest
// key and stops as soon as the count is back within the bound.
func retainDoctorOps(b *engine.Batch, newID uint64, kept int) error {
	n, err := readDoctorOpCount(b)
	if err != nil {
		return err
	}
	n++
	if n > uint64(kept) {
		if n, err = deleteOldestTerminal(b, newID, n, uint64(kept)); err != nil {
			return err
		}
	}
	if err := b.Set(directory.DoctorOpCountKey(), binary.BigEndian.AppendUint64(nil, n)); err != nil {
		return fmt.Errorf("fsm: write doctor op count: %w", err)
	}
	return nil
}

// deleteOldestTerminal deletes terminal records older than newID, oldest
// first, while more than kept of the n records remain; it returns how
// many remain.
func deleteOldestTerminal(b *engine.Batch, newID, n, kept uint64) (uint64, error) {
	doomed, err := oldestTerminal(b, newID, n-kept)
	if err != nil {
		return 0, err
	}
	for _, key := range doomed {
		if err := b.Delete(key); err != nil {
			return 0, fmt.Errorf("fsm: doctor op retention: %w", err)
		}
	}
	return n - uint64(len(doomed)), nil
}

// oldestTerminal returns the keys of the at most max oldest terminal
// records older than newID.
func oldestTerminal(b *engine.Batch, newID, max uint64) ([][]byte, error) {
	lo, _ := directory.DoctorOpsSpan()
	it, err := b.NewIter(lo, directory.DoctorOpKey(newID))
	if err != nil {
		return nil, fmt.Errorf("fsm: doctor op retention: %w", err)
	}
	defer it.Close()
	var keys [][]byte
	for ok := it.First(); ok && uint64(len(keys)) < max; ok = it.Next() {
		op, err := directory.DecodeDoctorOp(it.Value())
		if err != nil {
			return nil, fmt.Errorf("fsm: doctor op retention: key %q: %w", it.Key(), err)
		}
		if directory.DoctorOpTerminal(op.GetState()) {
			keys = append(keys, slices.Clone(it.Key()))
		}
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("fsm: doctor op retention: %w", err)
	}
	return keys, nil
}

func readDoctorOpCount(b *engine.Batch) (uint64, error) {
	raw, err := engine.Get(b, directory.DoctorOpCountKey())
	switch {
	case errors.Is(err, engine.ErrNotFound):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("fsm: read doctor op count: %w", err)
	case len(raw) != 8:
		return 0, errors.New("fsm: the doctor op count is corrupt")
	}
	return binary.BigEndian.Uint64(raw), nil
}

// applySetDoctorGate overrides the gate of one operation kind, or removes
// the override (GATE_UNSET).
func applySetDoctorGate(b *engine.Batch, now int64, g *partitapb.SetDoctorGate) (*partitapb.Result, error) {
	if g.GetKind() == "" {
		return reject(partitapb.Error_VALIDATION, "doctor gate: the operation kind is required"), nil
	}
	if !knownEnum(g.GetColor()) {
		return reject(partitapb.Error_VALIDATION, "doctor gate: invalid color %s", g.GetColor()), nil
	}
	s, err := directory.ReadDoctorSettings(b)
	if err != nil {
		return nil, err
	}
	if g.GetColor() == partitapb.GateColor_GATE_UNSET {
		delete(s.Gates, g.GetKind())
	} else {
		if s.Gates == nil {
			s.Gates = make(map[string]partitapb.GateColor)
		}
		s.Gates[g.GetKind()] = g.GetColor()
	}
	return writeDoctorSettings(b, s, g.GetBy(), g.GetReason(), now)
}

// applySetDoctorPaused pauses or resumes the Doctor.
func applySetDoctorPaused(b *engine.Batch, now int64, p *partitapb.SetDoctorPaused) (*partitapb.Result, error) {
	s, err := directory.ReadDoctorSettings(b)
	if err != nil {
		return nil, err
	}
	s.Paused = p.GetPaused()
	return writeDoctorSettings(b, s, p.GetBy(), p.GetReason(), now)
}

// writeDoctorSettings writes s as changed by whom, why and when.
func writeDoctorSettings(b *engine.Batch, s *partitapb.DoctorSettings, by, reason string, now int64) (*partitapb.Result, error) {
	s.ChangedBy, s.Reason, s.ChangedUnixNanos = by, reason, now
	raw, err := directory.EncodeDoctorSettings(s)
	if err != nil {
		return nil, err
	}
	if err := b.Set(directory.DoctorSettingsKey(), raw); err != nil {
		return nil, fmt.Errorf("fsm: write doctor settings: %w", err)
	}
	return &partitapb.Result{DoctorSettings: s}, nil
}
