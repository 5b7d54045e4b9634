package fsm_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
)

// TestDoctorOps runs testdata/doctor_ops.txt: the Doctor's timeline and
// settings commands, each applied to three replicas of the meta partition;
// the replicas must return the same results and hold the same records
// after every command.
//
//	keep n=N                                 bound the timeline to N records from now on
//	acquire node=N at=T for=D                AcquireDoctorLease (to hold an epoch)
//	put [doctor-epoch=E] [id=N] kind=K state=S [gate=G] [partition=P]
//	    [decided-by=X] [outcome=O] [epoch=E] at=T
//	decide id=N approve|reject [by=X] [reason=R] at=T
//	gate kind=K color=C [by=X] [reason=R] at=T
//	pause|resume [by=X] [reason=R] at=T
//
// Each prints the result (ok or the error, and the record it carries),
// then the timeline (id:state of every record, and the count record) and
// the settings.
func TestDoctorOps(t *testing.T) {
	replicas := []*engine.Engine{openEngine(t), openEngine(t), openEngine(t)}
	kept := fsm.DoctorOpsKept
	datadriven.RunTest(t, "testdata/doctor_ops.txt", func(t *testing.T, td *datadriven.TestData) string {
		if td.Cmd == "keep" {
			td.ScanArgs(t, "n", &kept)
			return fmt.Sprintf("keep %d\n", kept)
		}
		cmd := opsScriptCommand(t, td)
		var out string
		for i, eng := range replicas {
			got := describeOpsResult(applyKeeping(t, eng, proto.Clone(cmd).(*partitapb.Command), kept))
			got += describeTimeline(t, eng) + describeSettings(t, eng)
			if i > 0 && got != out {
				t.Fatalf("replica %d decided\n%s\nreplica 0 decided\n%s", i, got, out)
			}
			out = got
		}
		return out
	})
}

func applyKeeping(t *testing.T, eng *engine.Engine, cmd *partitapb.Command, kept int) *partitapb.Result {
	t.Helper()
	b := eng.NewIndexedBatch()
	d := &partitapb.Descriptor{Partition: directory.MetaPartition, Spans: directory.MetaSpans(), Generation: 1}
	res, err := fsm.ApplyKeeping(b, d, cmd, kept)
	if err != nil {
		b.Close()
		t.Fatalf("apply: %v", err)
	}
	if err := eng.Commit(b); err != nil {
		t.Fatal(err)
	}
	return res
}

// scriptArgs reads a script line's optional arguments.
type scriptArgs struct {
	t  *testing.T
	td *datadriven.TestData
}

func (a scriptArgs) u(key string) uint64 {
	var v uint64
	if a.td.HasArg(key) {
		a.td.ScanArgs(a.t, key, &v)
	}
	return v
}

func (a scriptArgs) s(key string) string {
	var v string
	if a.td.HasArg(key) {
		a.td.ScanArgs(a.t, key, &v)
	}
	return v
}

// enum returns the value of the enum named by key in names (0: absent).
func (a scriptArgs) enum(key string, names map[string]int32) int32 {
	s := a.s(key)
	v, ok := names[s]
	if s != "" && !ok {
		var n int32
		if _, err := fmt.Sscan(s, &n); err != nil {
			a.t.Fatalf("%s=%s: not a value", key, s)
		}
		return n
	}
	return v
}

func opsScriptCommand(t *testing.T, td *datadriven.TestData) *partitapb.Command {
	a := scriptArgs{t, td}
	cmd := &partitapb.Command{UnixNanos: int64(a.u("at")), DoctorEpoch: a.u("doctor-epoch")}
	switch td.Cmd {
	case "acquire":
		cmd.Op = &partitapb.Command_AcquireDoctorLease{AcquireDoctorLease: &partitapb.AcquireDoctorLease{
			Node: a.u("node"), DurationNanos: int64(a.u("for"))}}
	case "put":
		cmd.Op = &partitapb.Command_PutDoctorOp{PutDoctorOp: &partitapb.PutDoctorOp{Op: scriptOp(a)}}
	case "decide":
		cmd.Op = &partitapb.Command_DecideDoctorOp{DecideDoctorOp: &partitapb.DecideDoctorOp{
			Id: a.u("id"), Approve: td.HasArg("approve"), By: a.s("by"), Reason: a.s("reason")}}
	case "gate":
		cmd.Op = &partitapb.Command_SetDoctorGate{SetDoctorGate: &partitapb.SetDoctorGate{Kind: a.s("kind"),
			Color: partitapb.GateColor(a.enum("color", partitapb.GateColor_value)), By: a.s("by"), Reason: a.s("reason")}}
	case "pause", "resume":
		cmd.Op = &partitapb.Command_SetDoctorPaused{SetDoctorPaused: &partitapb.SetDoctorPaused{
			Paused: td.Cmd == "pause", By: a.s("by"), Reason: a.s("reason")}}
	case "version":
		cmd.Op = &partitapb.Command_SetClusterVersion{SetClusterVersion: &partitapb.SetClusterVersion{
			From: uint32(a.u("from")), To: uint32(a.u("to")), By: a.s("by")}}
	case "replication":
		cmd.Op = &partitapb.Command_SetReplicationFactor{SetReplicationFactor: &partitapb.SetReplicationFactor{
			Factor: uint32(a.u("factor")), IfAbsent: td.HasArg("if-absent"), By: a.s("by"), Reason: a.s("reason")}}
	default:
		t.Fatalf("unknown command %q", td.Cmd)
	}
	return cmd
}

func scriptOp(a scriptArgs) *partitapb.DoctorOp {
	return &partitapb.DoctorOp{Id: a.u("id"), Epoch: a.u("epoch"), Kind: a.s("kind"), Partition: a.u("partition"),
		State:     partitapb.DoctorOp_State(a.enum("state", partitapb.DoctorOp_State_value)),
		Gate:      partitapb.GateColor(a.enum("gate", partitapb.GateColor_value)),
		DecidedBy: a.s("decided-by"), Outcome: a.s("outcome")}
}

func describeOpsResult(res *partitapb.Result) string {
	var b strings.Builder
	if e := res.GetError(); e != nil {
		fmt.Fprintf(&b, "error %s: %s\n", e.GetCode(), e.GetMessage())
	} else {
		b.WriteString("ok\n")
	}
	if op := res.GetDoctorOp(); op != nil {
		fmt.Fprintf(&b, "result %s\n", opString(op))
	}
	if s := res.GetDoctorSettings(); s != nil {
		fmt.Fprintf(&b, "result %s\n", settingsString(s))
	}
	return b.String()
}

func opString(op *partitapb.DoctorOp) string {
	s := fmt.Sprintf("op %d epoch=%d kind=%s partition=%d state=%s gate=%s created=%d updated=%d",
		op.GetId(), op.GetEpoch(), op.GetKind(), op.GetPartition(), op.GetState(), op.GetGate(),
		op.GetCreatedUnixNanos(), op.GetUpdatedUnixNanos())
	if op.GetDecidedBy() != "" {
		s += " decided-by=" + op.GetDecidedBy()
	}
	if op.GetOutcome() != "" {
		s += " outcome=" + op.GetOutcome()
	}
	return s
}

// describeTimeline prints every op record as id:state and the count record.
func describeTimeline(t *testing.T, eng *engine.Engine) string {
	ops, err := directory.ScanDoctorOps(eng.Reader(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, op := range ops {
		parts = append(parts, fmt.Sprintf("%d:%s", op.GetId(), op.GetState()))
	}
	tl, err := directory.ReadDoctorTimeline(eng.Reader())
	if err != nil {
		t.Fatal(err)
	}
	if tl.Count != uint64(len(ops)) {
		t.Fatalf("the timeline counts %d records, holds %d", tl.Count, len(ops))
	}
	return fmt.Sprintf("timeline [%s] count=%d floor=%d\n", strings.Join(parts, " "), tl.Count, tl.Floor)
}

func describeSettings(t *testing.T, eng *engine.Engine) string {
	s, err := directory.ReadDoctorSettings(eng.Reader())
	if err != nil {
		t.Fatal(err)
	}
	return "settings " + settingsString(s) + "\n"
}

func settingsString(s *partitapb.DoctorSettings) string {
	var gates []string
	for kind, c := range s.GetGates() {
		gates = append(gates, kind+":"+c.String())
	}
	slices.Sort(gates)
	out := fmt.Sprintf("paused=%t gates=[%s] by=%s reason=%s changed=%d", s.GetPaused(), strings.Join(gates, " "),
		s.GetChangedBy(), s.GetReason(), s.GetChangedUnixNanos())
	if r := s.GetReplication(); r != nil {
		out += fmt.Sprintf(" replication=%d previous=%d by=%s reason=%s changed=%d", r.GetFactor(), r.GetPrevious(),
			r.GetChangedBy(), r.GetReason(), r.GetChangedUnixNanos())
	}
	return out
}

// The Doctor's commands are directory commands: a partition of a table
// refuses them and writes nothing.
func TestDoctorCommandsOnlyOnMeta(t *testing.T) {
	eng := openEngine(t)
	cmds := []*partitapb.Command{
		{Op: &partitapb.Command_PutDoctorOp{PutDoctorOp: &partitapb.PutDoctorOp{
			Op: &partitapb.DoctorOp{Kind: "k", State: partitapb.DoctorOp_HELD}}}},
		{Op: &partitapb.Command_DecideDoctorOp{DecideDoctorOp: &partitapb.DecideDoctorOp{Id: 1}}},
		{Op: &partitapb.Command_SetDoctorGate{SetDoctorGate: &partitapb.SetDoctorGate{
			Kind: "k", Color: partitapb.GateColor_RED}}},
		{Op: &partitapb.Command_SetDoctorPaused{SetDoctorPaused: &partitapb.SetDoctorPaused{Paused: true}}},
		{Op: &partitapb.Command_SetReplicationFactor{SetReplicationFactor: &partitapb.SetReplicationFactor{Factor: 3}}},
	}
	for _, cmd := range cmds {
		wantWrongRange(t, fmt.Sprintf("%T on a table's partition", cmd.GetOp()), apply(t, eng, part, cmd))
	}
	if got := describeTimeline(t, eng) + describeSettings(t, eng); got !=
		"timeline [] count=0 floor=0\nsettings paused=false gates=[] by= reason= changed=0\n" {
		t.Fatalf("refused commands wrote records:\n%s", got)
	}
}

// A put without an op is refused, not a panic.
func TestPutDoctorOpWithoutOp(t *testing.T) {
	eng := openEngine(t)
	res := apply(t, eng, directory.MetaPartition, &partitapb.Command{Op: &partitapb.Command_PutDoctorOp{
		PutDoctorOp: &partitapb.PutDoctorOp{}}})
	if !strings.Contains(res.GetError().GetMessage(), "the op is required") ||
		res.GetError().GetCode() != partitapb.Error_VALIDATION {
		t.Fatalf("put without an op = %v", res)
	}
}
