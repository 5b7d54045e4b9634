package settings

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

// TestScripts runs the datadriven scripts of testdata/: checks of values
// against Partita's catalogue, changes of the overrides, and resolution.
//
//	check KEY VALUE [SCOPE]          validate an override
//	static                           a node's static values: KEY VALUE flag|env|file
//	change [author=A] [reason=R]     one version: lines set KEY VALUE [SCOPE] | unset KEY [SCOPE]
//	resolve KEY [node=N] [zone=Z] [table=T]
//	overrides [v=V]                  the overrides in force (at version V)
//	diff FROM TO                     the edits that turn version FROM into TO
//	rollback TO                      a new version equal to version TO
//	rollout KEY VALUE STAGE,... [min-requests=N]  start a staged rollout
//	next                             the edit of the rollout's next stage
//	judge                            lines before|after|other requests=N errors=N p99=D elections=N lag=N alerts=N silent=N
//	finish                           the edits that end the rollout, against the overrides in force
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		reg := MustRegistry(Catalog()...)
		var changes []Change
		static := map[string]Static{}
		var ro *Rollout
		state := func(v uint64) State {
			st, err := Replay(changes, v)
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
		commit := func(edits []Edit, author, reason string) string {
			c := Change{Version: uint64(len(changes)) + 1, Edits: edits, Author: author, Reason: reason}
			changes = append(changes, c)
			return fmt.Sprintf("v%d by %s (%s)", c.Version, author, reason)
		}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			args := d.CmdArgs
			pos := func(i int) string {
				if i >= len(args) || len(args[i].Vals) > 0 {
					return ""
				}
				return args[i].Key
			}
			kv := func(k string) string {
				var v string
				if d.HasArg(k) {
					d.ScanArgs(t, k, &v)
				}
				return v
			}
			switch d.Cmd {
			case "check":
				scope, err := ParseScope(pos(2))
				if err != nil {
					return "error: " + err.Error()
				}
				v, err := reg.Check(pos(0), pos(1), scope)
				if err != nil {
					return "error: " + err.Error()
				}
				return fmt.Sprintf("%s (%v)", v, v.Kind())
			case "static":
				for _, line := range lines(d.Input) {
					f := strings.Fields(line)
					from := map[string]SourceKind{"flag": FromFlag, "env": FromEnv, "file": FromFile}[f[2]]
					static[f[0]] = Static{Text: f[1], From: from}
				}
				if err := reg.CheckStatic(static); err != nil {
					return "error: " + err.Error()
				}
				return "ok"
			case "change":
				var edits []Edit
				for _, line := range lines(d.Input) {
					e, err := parseEdit(reg, line)
					if err != nil {
						return "error: " + err.Error()
					}
					edits = append(edits, e)
				}
				return commit(edits, kv("author"), kv("reason"))
			case "resolve":
				tg := Target{Node: kv("node"), Zone: kv("zone"), Table: kv("table")}
				e, err := reg.Resolve(pos(0), static, state(0), tg)
				out := fmt.Sprintf("%s = %s from %s", e.Name, e.Value, e.Source)
				if err != nil {
					out += "\nerror: " + err.Error()
				}
				return out
			case "overrides":
				var v uint64
				if d.HasArg("v") {
					d.ScanArgs(t, "v", &v)
				}
				var b strings.Builder
				for _, o := range state(v).Overrides() {
					fmt.Fprintf(&b, "%s=%s at %s (v%d)\n", o.Key, o.Value, o.Scope, o.Version)
				}
				return b.String()
			case "diff", "rollback":
				var from, to uint64
				if d.Cmd == "diff" {
					fmt.Sscan(pos(0), &from)
					fmt.Sscan(pos(1), &to)
				} else {
					from = uint64(len(changes))
					fmt.Sscan(pos(0), &to)
				}
				edits := Diff(state(from), state(to))
				var b strings.Builder
				for _, e := range edits {
					fmt.Fprintln(&b, e)
				}
				if d.Cmd == "rollback" {
					fmt.Fprintln(&b, commit(edits, "ops", fmt.Sprintf("rollback to v%d", to)))
				}
				return b.String()
			case "rollout":
				var stages []Scope
				for _, text := range strings.Split(pos(2), ",") {
					sc, err := ParseScope(text)
					if err != nil {
						return "error: " + err.Error()
					}
					stages = append(stages, sc)
				}
				m := DefaultMargins()
				if d.HasArg("min-requests") {
					d.ScanArgs(t, "min-requests", &m.MinRequests)
				}
				var err error
				if ro, err = NewRollout(reg, pos(0), pos(1), stages, m); err != nil {
					return "error: " + err.Error()
				}
				return fmt.Sprintf("rollout of %s=%s over %d stages", ro.Key, ro.Value, len(ro.Stages))
			case "next":
				if e, ok := ro.Next(); ok {
					return e.String()
				}
				return fmt.Sprintf("over (done=%v, halted=%v)", ro.Done(), ro.Halted() != nil)
			case "judge":
				var before, after Health
				var others []Health
				for _, line := range lines(d.Input) {
					f := strings.Fields(line)
					h := parseHealth(t, f[1:])
					switch f[0] {
					case "before":
						before = h
					case "after":
						after = h
					default:
						others = append(others, h)
					}
				}
				if regs := ro.Judge(before, after, others); len(regs) > 0 {
					return "halt:\n" + strings.Join(regs, "\n")
				}
				return "healthy"
			case "finish":
				var b strings.Builder
				for _, e := range ro.Finish(state(0)) {
					fmt.Fprintln(&b, e)
				}
				return b.String()
			}
			t.Fatalf("unknown command %q", d.Cmd)
			return ""
		})
	})
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// parseEdit reads "set KEY VALUE [SCOPE]" or "unset KEY [SCOPE]", checked
// as ctl config set checks them.
func parseEdit(reg *Registry, line string) (Edit, error) {
	f := strings.Fields(line)
	scopeAt := map[string]int{"set": 3, "unset": 2}[f[0]]
	scope := Cluster
	if len(f) > scopeAt {
		var err error
		if scope, err = ParseScope(f[scopeAt]); err != nil {
			return Edit{}, err
		}
	}
	if f[0] == "unset" {
		return Edit{Key: f[1], Scope: scope, Unset: true}, nil
	}
	v, err := reg.Check(f[1], f[2], scope)
	if err != nil {
		return Edit{}, err
	}
	return Edit{Key: f[1], Scope: scope, Value: v.String()}, nil
}

// parseHealth reads key=value fields of a Health.
func parseHealth(t *testing.T, fields []string) Health {
	var h Health
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		var err error
		switch k {
		case "requests":
			_, err = fmt.Sscan(v, &h.Requests)
		case "errors":
			_, err = fmt.Sscan(v, &h.Errors)
		case "p99":
			h.P99, err = time.ParseDuration(v)
		case "elections":
			_, err = fmt.Sscan(v, &h.Elections)
		case "lag":
			_, err = fmt.Sscan(v, &h.ApplyLag)
		case "alerts":
			_, err = fmt.Sscan(v, &h.Alerts)
		case "silent":
			_, err = fmt.Sscan(v, &h.Silent)
		case "latency": // GT-LE:COUNT,... (LE inf: no upper bound)
			for _, b := range strings.Split(v, ",") {
				span, count, _ := strings.Cut(b, ":")
				gt, le, _ := strings.Cut(span, "-")
				var lb LatencyBucket
				if lb.GT, err = time.ParseDuration(gt); err != nil {
					break
				}
				if le != "inf" {
					if lb.LE, err = time.ParseDuration(le); err != nil {
						break
					}
				}
				if _, err = fmt.Sscan(count, &lb.Count); err != nil {
					break
				}
				h.Latency = append(h.Latency, lb)
			}
		default:
			t.Fatalf("unknown health field %q", k)
		}
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	return h
}
