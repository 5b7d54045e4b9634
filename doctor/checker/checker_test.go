package checker_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/partitadb/partita/doctor/checker"
)

// epoch is the time every script's plans are made at.
var epoch = time.Unix(1_000_000, 0).UTC()

// TestCheckers runs testdata/*.txt:
//
//	cluster              the view, one line per node or partition (below)
//	config k=v...        rf, dead-after, down-after, contact, learner-timeout,
//	                     tolerance, moves, sick-factor, slow-lag, vantages
//	plan [dry-run]       the operations and their reasons [and the why-nots]
//	apply                plans and applies (as done) until a plan is empty
//	counts               replicas and leaders per node
//
// The cluster form is checker.ParseView's, with times relative to epoch.
func TestCheckers(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var view checker.View
		cfg := checker.DefaultConfig(epoch)
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			switch td.Cmd {
			case "cluster":
				v, err := checker.ParseView(td.Input, epoch)
				if err != nil {
					t.Fatalf("%s: %v", td.Pos, err)
				}
				view = v
				return "ok"
			case "config":
				if err := applyConfig(t, &cfg, td.CmdArgs); err != nil {
					t.Fatalf("%s: %v", td.Pos, err)
				}
				return "ok"
			case "plan":
				c := cfg
				c.DryRun = td.HasArg("dry-run")
				plan, err := checker.Compute(view, c)
				if err != nil {
					return err.Error()
				}
				return formatPlan(plan)
			case "apply":
				c := cfg
				var last checker.Plan
				rounds := 0
				for ; rounds < 20; rounds++ {
					plan, err := checker.Compute(view, c)
					if err != nil {
						return err.Error()
					}
					if len(plan.Ops) == 0 {
						break
					}
					last, view = plan, apply(view, plan)
				}
				return fmt.Sprintf("%d plans applied, the last:\n%s", rounds, formatPlan(last))
			case "counts":
				return formatCounts(view)
			}
			t.Fatalf("%s: unknown command %q", td.Pos, td.Cmd)
			return ""
		})
	})
}

func formatPlan(plan checker.Plan) string {
	var b strings.Builder
	if len(plan.Ops) == 0 {
		b.WriteString("no operations\n")
	}
	for _, op := range plan.Ops {
		fmt.Fprintf(&b, "%s\n", op)
		for _, r := range op.Reasons {
			fmt.Fprintf(&b, "  %s\n", r)
		}
	}
	if len(plan.Sick) > 0 {
		fmt.Fprintf(&b, "sick: %v\n", plan.Sick)
	}
	if len(plan.WhyNots) > 0 {
		b.WriteString("why not:\n")
	}
	for _, w := range plan.WhyNots {
		subject := "cluster"
		switch {
		case w.Partition != 0:
			subject = fmt.Sprintf("p%d", w.Partition)
		case w.Node != 0:
			subject = fmt.Sprintf("n%d", w.Node)
		}
		fmt.Fprintf(&b, "  %s [%s]: %s\n", subject, w.Checker, w.Reason)
	}
	return b.String()
}

func formatCounts(v checker.View) string {
	counts := v.Counts()
	var b strings.Builder
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "n%d: replicas=%d leaders=%d\n", n.ID, counts[n.ID].Replicas, counts[n.ID].Leaders)
	}
	return b.String()
}

func applyConfig(t *testing.T, cfg *checker.Config, args []datadriven.CmdArg) error {
	durations := map[string]*time.Duration{"dead-after": &cfg.DeadAfter, "zone-dead-after": &cfg.ZoneDeadAfter, "restart-grace": &cfg.RestartGrace, "down-after": &cfg.ReplicaDownAfter,
		"contact": &cfg.ContactTimeout, "learner-timeout": &cfg.LearnerTimeout, "sick-floor": &cfg.SickFloor,
		"split-after": &cfg.SplitAfter, "merge-after": &cfg.MergeAfter, "merge-cooldown": &cfg.MergeCooldown}
	ints := map[string]*int{"rf": &cfg.ReplicationFactor, "tolerance": &cfg.BalanceTolerance,
		"moves": &cfg.MaxBalanceMoves, "vantages": &cfg.SickVantages}
	for _, a := range args {
		val := a.SingleVal(t)
		var err error
		switch {
		case durations[a.Key] != nil:
			*durations[a.Key], err = time.ParseDuration(val)
		case ints[a.Key] != nil:
			*ints[a.Key], err = strconv.Atoi(val)
		case a.Key == "sick-factor":
			cfg.SickFactor, err = strconv.ParseFloat(val, 64)
		case a.Key == "slow-lag":
			cfg.SlowLag, err = strconv.ParseUint(val, 10, 64)
		case a.Key == "merge-bytes":
			cfg.MergeBytes, err = strconv.ParseInt(val, 10, 64)
		case a.Key == "split-writes":
			cfg.SplitWrites, err = strconv.ParseFloat(val, 64)
		case a.Key == "table-split-writes": // TABLE:RATE
			table, rate, _ := strings.Cut(val, ":")
			if cfg.TableSplitWrites == nil {
				cfg.TableSplitWrites = map[string]float64{}
			}
			cfg.TableSplitWrites[table], err = strconv.ParseFloat(rate, 64)
		default:
			err = fmt.Errorf("unknown config %q", a.Key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
