package gate_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/doctor/gate"
)

// epoch is the time every script judges at.
var epoch = time.Unix(1_000_000, 0).UTC()

// script is one testdata file's state.
type script struct {
	view    checker.View
	cfg     checker.Config
	limits  gate.Limits
	gates   gate.Gates
	running []gate.Running
	starts  []time.Time
}

// TestGate runs testdata/*.txt:
//
//	cluster              the view, in checker.ParseView's form (times before epoch)
//	limits k=v...        per-node, per-zone, per-cluster, per-minute
//	config k=v...        contact, caught-up-lag
//	gate kind=K color=C  sets a kind's colour (the defaults otherwise)
//	running              replaces the operations in flight: one op per line
//	                     (the form below) with started=D (how long ago)
//	starts D,D,...       replaces the recent starts (how long ago each)
//	admit OP [color=C] [approved]
//	                     the verdict on OP, coloured by the gates unless color= says
//	step kind=K partition=P node=N
//	                     the verdict on one step
//
// An op is kind=K p=P [from=N] [to=N] [gen=G] [voters=..] [learners=..]:
// generation, voters and learners default to the partition's in the view
// (a plan made on this view), and p's leader stands in for a transfer's from.
func TestGate(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		s := &script{cfg: checker.DefaultConfig(epoch), limits: gate.DefaultLimits(), gates: gate.Default()}
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			out, err := s.run(td)
			if err != nil {
				t.Fatalf("%s: %v", td.Pos, err)
			}
			return out
		})
	})
}

func (s *script) run(td *datadriven.TestData) (string, error) {
	switch td.Cmd {
	case "cluster":
		v, err := checker.ParseView(td.Input, epoch)
		s.view = v
		return "ok", err
	case "limits":
		return "ok", s.setLimits(td.CmdArgs)
	case "config":
		return "ok", s.setConfig(td.CmdArgs)
	case "gate":
		args := argMap(td.CmdArgs)
		c, err := gate.ParseColor(args["color"])
		s.gates[checker.Kind(args["kind"])] = c // the zero Color on an error
		if err != nil {
			return err.Error(), nil
		}
		return "ok", nil
	case "running":
		return "ok", s.setRunning(td.Input)
	case "starts":
		s.starts = nil
		for _, a := range td.CmdArgs {
			d, err := time.ParseDuration(a.Key)
			if err != nil {
				return "", err
			}
			s.starts = append(s.starts, epoch.Add(-d))
		}
		return "ok", nil
	case "admit":
		return s.admit(td.CmdArgs)
	case "step":
		args := argMap(td.CmdArgs)
		p, err1 := strconv.ParseUint(args["partition"], 10, 64)
		n, err2 := strconv.ParseUint(args["node"], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return "", fmt.Errorf("step needs partition= and node=: %w", err)
		}
		return format(gate.CheckStep(gate.StepKind(args["kind"]), p, n, s.view, s.cfg)), nil
	}
	return "", fmt.Errorf("unknown command %q", td.Cmd)
}

func (s *script) admit(args []datadriven.CmdArg) (string, error) {
	kv := argMap(args)
	op, err := s.parseOp(kv)
	if err != nil {
		return "", err
	}
	color := s.gates.Color(op.Kind)
	if c, ok := kv["color"]; ok {
		if color, err = gate.ParseColor(c); err != nil {
			return "", err
		}
	}
	_, approved := kv["approved"]
	v := gate.Admit(op, s.view, s.cfg, s.running, s.starts, color, approved, s.limits, epoch)
	return format(v), nil
}

func format(v gate.Verdict) string {
	var b strings.Builder
	b.WriteString(v.Decision.String())
	for _, r := range v.Reasons {
		fmt.Fprintf(&b, "\n  %s", r)
	}
	return b.String()
}

func (s *script) setLimits(args []datadriven.CmdArg) error {
	bounds := map[string]*int{"per-node": &s.limits.PerNode, "per-zone": &s.limits.PerZone,
		"per-cluster": &s.limits.PerCluster, "per-minute": &s.limits.StartsPerMinute}
	for k, v := range argMap(args) {
		dst, ok := bounds[k]
		if !ok {
			return fmt.Errorf("unknown limit %q", k)
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return err
		}
		*dst = n
	}
	return nil
}

func (s *script) setConfig(args []datadriven.CmdArg) error {
	for k, v := range argMap(args) {
		var err error
		switch k {
		case "contact":
			s.cfg.ContactTimeout, err = time.ParseDuration(v)
		case "caught-up-lag":
			s.cfg.CaughtUpLag, err = strconv.ParseUint(v, 10, 64)
		default:
			err = fmt.Errorf("unknown config %q", k)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *script) setRunning(input string) error {
	s.running = nil
	for _, line := range strings.Split(input, "\n") {
		kv := map[string]string{}
		for _, f := range strings.Fields(line) {
			k, v, _ := strings.Cut(f, "=")
			kv[k] = v
		}
		if len(kv) == 0 {
			continue
		}
		op, err := s.parseOp(kv)
		if err != nil {
			return fmt.Errorf("%q: %w", line, err)
		}
		ago, err := time.ParseDuration(kv["started"])
		if err != nil {
			return fmt.Errorf("%q: %w", line, err)
		}
		s.running = append(s.running, gate.Running{Op: op, Started: epoch.Add(-ago)})
	}
	return nil
}

// parseOp builds an op stamped with its partition as the view has it,
// unless gen=, voters= or learners= say otherwise.
func (s *script) parseOp(kv map[string]string) (checker.Op, error) {
	op := checker.Op{Kind: checker.Kind(kv["kind"])}
	var err error
	ids := map[string]*uint64{"p": &op.Partition, "from": &op.From, "to": &op.To, "gen": &op.Generation}
	for k, dst := range ids {
		if v, ok := kv[k]; ok {
			if *dst, err = strconv.ParseUint(v, 10, 64); err != nil {
				return op, err
			}
		}
	}
	for _, p := range s.view.Partitions {
		if p.ID != op.Partition {
			continue
		}
		op.Table, op.Voters, op.Learners = p.Table, p.Voters, p.Learners
		if _, ok := kv["gen"]; !ok {
			op.Generation = p.Generation
		}
		if op.Kind == checker.TransferLeader && op.From == 0 {
			op.From = p.Leader
		}
	}
	lists := map[string]*[]uint64{"voters": &op.Voters, "learners": &op.Learners}
	for k, dst := range lists {
		if v, ok := kv[k]; ok {
			if *dst, err = checker.ParseIDs(v); err != nil {
				return op, err
			}
		}
	}
	return op, nil
}

func argMap(args []datadriven.CmdArg) map[string]string {
	out := map[string]string{}
	for _, a := range args {
		out[a.Key] = strings.Join(a.Vals, ",")
	}
	return out
}
