package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor"
	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/doctor/gate"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
	"github.com/partitadb/partita/store"
)

// doctorRecords keeps the Doctor's settings and timeline in the directory:
// its writes are commands of the meta partition (stamped with the epoch
// of the Doctor that issues them, 0 for an operator's), its reads a walk
// of the meta partition's leader. It is doctor.Records.
type doctorRecords struct {
	n     *Node
	epoch uint64
}

var _ doctor.Records = doctorRecords{}

// Settings implements doctor.Records from a fresh directory, with the
// replication factor this node acts on (replication.go). A directory not
// read yet is an error: its defaults (not paused, no record of the
// factor) are not the cluster's.
func (r doctorRecords) Settings(ctx context.Context) (doctor.Settings, error) {
	s := ctl{n: r.n}.Directory(ctx).DoctorSettings
	if s == nil {
		return doctor.Settings{}, errors.New("node: the directory has not been read yet")
	}
	out := settingsOf(s)
	out.Replication = r.n.replicationOf(s)
	return out, nil
}

// Put implements doctor.Records.
func (r doctorRecords) Put(ctx context.Context, e *doctor.Entry) error {
	res, err := r.propose(ctx, &partitapb.Command{Op: &partitapb.Command_PutDoctorOp{
		PutDoctorOp: &partitapb.PutDoctorOp{Op: entryProto(*e)}}})
	if err != nil {
		return err
	}
	if res.GetDoctorOp() == nil {
		// A retry answered by its at-most-once record, which keeps no
		// entry: the entry was written, under an id unknown here. An id
		// of 0 would make every later update of it a new entry.
		return errors.New("node: doctor timeline: the entry was written, but its answer was lost")
	}
	e.ID = res.GetDoctorOp().GetId()
	return nil
}

// Entries implements doctor.Records.
func (r doctorRecords) Entries(ctx context.Context, from uint64, limit int) ([]doctor.Entry, error) {
	_, hi := directory.DoctorOpsSpan()
	res, err := r.n.sender.Walk(ctx, store.WalkRequest{Partition: directory.MetaPartition,
		Lo: directory.DoctorOpKey(max(from, 1)), Hi: hi, Consistent: true, MaxItems: limit})
	if err != nil {
		return nil, fmt.Errorf("node: reading the doctor's timeline: %w", err)
	}
	out := make([]doctor.Entry, 0, len(res.Values))
	for _, raw := range res.Values {
		op, err := directory.DecodeDoctorOp(raw)
		if err != nil {
			return nil, fmt.Errorf("node: reading the doctor's timeline: %w", err)
		}
		out = append(out, entryOf(op))
	}
	return out, nil
}

// decide approves or rejects an operation awaiting approval.
func (r doctorRecords) decide(ctx context.Context, id uint64, approve bool, by, reason string) error {
	_, err := r.propose(ctx, &partitapb.Command{Op: &partitapb.Command_DecideDoctorOp{
		DecideDoctorOp: &partitapb.DecideDoctorOp{Id: id, Approve: approve, By: by, Reason: reason}}})
	return err
}

// setGate sets (or, with GATE_UNSET, clears) kind's gate.
func (r doctorRecords) setGate(ctx context.Context, kind string, color partitapb.GateColor, by, reason string) error {
	_, err := r.propose(ctx, &partitapb.Command{Op: &partitapb.Command_SetDoctorGate{
		SetDoctorGate: &partitapb.SetDoctorGate{Kind: kind, Color: color, By: by, Reason: reason}}})
	return err
}

// setPaused pauses or resumes the Doctor.
func (r doctorRecords) setPaused(ctx context.Context, paused bool, by, reason string) error {
	_, err := r.propose(ctx, &partitapb.Command{Op: &partitapb.Command_SetDoctorPaused{
		SetDoctorPaused: &partitapb.SetDoctorPaused{Paused: paused, By: by, Reason: reason}}})
	return err
}

func (r doctorRecords) propose(ctx context.Context, cmd *partitapb.Command) (*partitapb.Result, error) {
	cmd.Id, cmd.UnixNanos, cmd.DoctorEpoch = router.RandomID(), r.n.now().UnixNano(), r.epoch
	res, err := r.n.proposeMeta(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if e := res.GetError(); e != nil {
		return nil, e
	}
	return res, nil
}

// settingsOf converts the directory's settings record (nil: none).
func settingsOf(s *partitapb.DoctorSettings) doctor.Settings {
	out := doctor.Settings{Gates: map[checker.Kind]gate.Color{}, Paused: s.GetPaused(),
		ChangedBy: s.GetChangedBy(), Reason: s.GetReason()}
	for k, c := range s.GetGates() {
		if gc, ok := colorOf(c); ok {
			out.Gates[checker.Kind(k)] = gc
		}
	}
	return out
}

func colorOf(c partitapb.GateColor) (gate.Color, bool) {
	switch c {
	case partitapb.GateColor_GREEN:
		return gate.Green, true
	case partitapb.GateColor_YELLOW:
		return gate.Yellow, true
	case partitapb.GateColor_RED:
		return gate.Red, true
	}
	return 0, false
}

func colorProto(c gate.Color) partitapb.GateColor {
	switch c {
	case gate.Green:
		return partitapb.GateColor_GREEN
	case gate.Yellow:
		return partitapb.GateColor_YELLOW
	case gate.Red:
		return partitapb.GateColor_RED
	}
	return partitapb.GateColor_GATE_UNSET
}

var states = map[doctor.State]partitapb.DoctorOp_State{
	doctor.Held: partitapb.DoctorOp_HELD, doctor.AwaitingApproval: partitapb.DoctorOp_AWAITING_APPROVAL,
	doctor.Approved: partitapb.DoctorOp_APPROVED, doctor.Running: partitapb.DoctorOp_RUNNING,
	doctor.Succeeded: partitapb.DoctorOp_SUCCEEDED, doctor.Failed: partitapb.DoctorOp_FAILED,
	doctor.Rejected: partitapb.DoctorOp_REJECTED, doctor.Stale: partitapb.DoctorOp_STALE,
	doctor.RolledBack: partitapb.DoctorOp_ROLLED_BACK,
}

func stateOf(s partitapb.DoctorOp_State) doctor.State {
	for k, v := range states {
		if v == s {
			return k
		}
	}
	return doctor.State(s.String())
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func timeOf(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// entryProto converts a timeline entry to its directory record.
func entryProto(e doctor.Entry) *partitapb.DoctorOp {
	op := &partitapb.DoctorOp{Id: e.ID, Epoch: e.Epoch, Kind: string(e.Op.Kind), Partition: e.Op.Partition,
		Table: e.Op.Table, From: e.Op.From, To: e.Op.To, At: e.Op.At, With: e.Op.With, Generation: e.Op.Generation,
		Voters: slices.Clone(e.Op.Voters), Learners: slices.Clone(e.Op.Learners), Priority: int32(e.Op.Priority),
		Checker: e.Op.Checker, Reasons: slices.Clone(e.Op.Reasons), Inputs: e.Inputs, Gate: colorProto(e.Gate),
		State: states[e.State], Validation: e.Validation, CreatedUnixNanos: nanos(e.Created),
		UpdatedUnixNanos: nanos(e.Updated), DeadlineUnixNanos: nanos(e.Deadline), DecidedBy: e.DecidedBy,
		Outcome: e.Outcome}
	for _, s := range e.Steps {
		op.Steps = append(op.Steps, &partitapb.DoctorStep{Name: s.Name, StartUnixNanos: nanos(s.Start),
			EndUnixNanos: nanos(s.End), Error: s.Err, Attempts: int32(s.Attempts)})
	}
	return op
}

// entryOf converts a directory record to a timeline entry.
func entryOf(op *partitapb.DoctorOp) doctor.Entry {
	g, _ := colorOf(op.GetGate())
	e := doctor.Entry{ID: op.GetId(), Epoch: op.GetEpoch(), Op: checker.Op{Kind: checker.Kind(op.GetKind()),
		Partition: op.GetPartition(), Table: op.GetTable(), From: op.GetFrom(), To: op.GetTo(), At: op.GetAt(),
		With: op.GetWith(), Generation: op.GetGeneration(), Voters: slices.Clone(op.GetVoters()), Learners: slices.Clone(op.GetLearners()),
		Priority: int(op.GetPriority()), Checker: op.GetChecker(), Reasons: slices.Clone(op.GetReasons())},
		Inputs: op.GetInputs(), Gate: g, State: stateOf(op.GetState()), Validation: op.GetValidation(),
		Created: timeOf(op.GetCreatedUnixNanos()), Updated: timeOf(op.GetUpdatedUnixNanos()),
		Deadline: timeOf(op.GetDeadlineUnixNanos()), DecidedBy: op.GetDecidedBy(), Outcome: op.GetOutcome()}
	for _, s := range op.GetSteps() {
		e.Steps = append(e.Steps, doctor.StepRecord{Name: s.GetName(), Start: timeOf(s.GetStartUnixNanos()),
			End: timeOf(s.GetEndUnixNanos()), Err: s.GetError(), Attempts: int(s.GetAttempts())})
	}
	return e
}
