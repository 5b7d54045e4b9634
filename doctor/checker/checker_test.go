package checker_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/partitadb/partita/directory"
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
// A node line: n<ID> zone=Z [suspect=D|dead=D] [fsync=D] [sick=D] [disk=F] [no-peer], where D
// is how long ago the state began. A partition line: p<ID> voters=1,2,3
// leader=N [table=T] [gen=G] [replicas=..] [learners=..] [outgoing=..]
// [contact=N:D,..] [down=N:D,..] [lag=N:L,..] [lagging=N:D,..]; contact
// D "never" is a replica the leader never heard from. Replicas are in
// contact and caught up unless told otherwise.
func TestCheckers(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var view checker.View
		cfg := checker.DefaultConfig(epoch)
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			switch td.Cmd {
			case "cluster":
				v, err := parseView(td.Input)
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
	durations := map[string]*time.Duration{"dead-after": &cfg.DeadAfter, "down-after": &cfg.ReplicaDownAfter,
		"contact": &cfg.ContactTimeout, "learner-timeout": &cfg.LearnerTimeout, "sick-floor": &cfg.SickFloor}
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
		default:
			err = fmt.Errorf("unknown config %q", a.Key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

var knownKeys = []string{"zone", "sick", "suspect", "dead", "fsync", "disk", "no-peer", "table", "gen", "voters", "learners",
	"outgoing", "replicas", "leader", "contact", "down", "lag", "lagging"}

// parseView reads the compact cluster form described on TestCheckers.
func parseView(input string) (checker.View, error) {
	var v checker.View
	for _, line := range strings.Split(input, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		id, err := strconv.ParseUint(fields[0][1:], 10, 64)
		if err != nil {
			return v, fmt.Errorf("%q: %w", line, err)
		}
		kv := map[string]string{}
		for _, f := range fields[1:] {
			k, val, _ := strings.Cut(f, "=")
			if !slices.Contains(knownKeys, k) {
				return v, fmt.Errorf("%q: unknown key %q", line, k)
			}
			kv[k] = val
		}
		switch fields[0][0] {
		case 'n':
			n, err := parseNode(id, kv)
			if err != nil {
				return v, fmt.Errorf("%q: %w", line, err)
			}
			v.Nodes = append(v.Nodes, n)
		case 'p':
			p, err := parsePartition(id, kv)
			if err != nil {
				return v, fmt.Errorf("%q: %w", line, err)
			}
			v.Partitions = append(v.Partitions, p)
		default:
			return v, fmt.Errorf("%q: a line starts with n<id> or p<id>", line)
		}
	}
	return v, nil
}

func parseNode(id uint64, kv map[string]string) (checker.Node, error) {
	n := checker.Node{ID: id, Zone: kv["zone"], PeerAddr: fmt.Sprintf("n%d:7000", id),
		Liveness: directory.Alive, Since: epoch.Add(-time.Hour)}
	if _, ok := kv["no-peer"]; ok {
		n.PeerAddr = ""
	}
	for _, state := range []directory.Liveness{directory.Suspect, directory.Dead} {
		if ago, ok := kv[string(state)]; ok {
			d, err := time.ParseDuration(ago)
			if err != nil {
				return n, err
			}
			n.Liveness, n.Since = state, epoch.Add(-d)
		}
	}
	if d, ok := kv["disk"]; ok {
		used, err := strconv.ParseFloat(d, 64)
		if err != nil {
			return n, err
		}
		n.Health.DiskUsed = used
	}
	if ago, ok := kv["sick"]; ok {
		d, err := time.ParseDuration(ago)
		if err != nil {
			return n, err
		}
		n.Health.SickSince = epoch.Add(-d)
	}
	if f, ok := kv["fsync"]; ok {
		d, err := time.ParseDuration(f)
		if err != nil {
			return n, err
		}
		n.Health.FsyncP99 = d
	}
	return n, nil
}

func parsePartition(id uint64, kv map[string]string) (checker.Partition, error) {
	p := checker.Partition{ID: id, Table: "t", Generation: 1}
	if t, ok := kv["table"]; ok {
		p.Table = t
	}
	var err error
	if g, ok := kv["gen"]; ok {
		if p.Generation, err = strconv.ParseUint(g, 10, 64); err != nil {
			return p, err
		}
	}
	if p.Leader, err = strconv.ParseUint(kv["leader"], 10, 64); kv["leader"] != "" && err != nil {
		return p, err
	}
	lists := map[string]*[]uint64{"voters": &p.Voters, "learners": &p.Learners, "outgoing": &p.Outgoing, "replicas": &p.Replicas}
	for key, dst := range lists {
		if *dst, err = parseIDs(kv[key]); err != nil {
			return p, err
		}
	}
	if _, ok := kv["replicas"]; !ok {
		p.Replicas = slices.Clone(p.Voters)
	}
	members := slices.Concat(p.Voters, p.Learners, p.Outgoing)
	slices.Sort(members)
	for _, m := range slices.Compact(members) {
		p.Status = append(p.Status, checker.Replica{Node: m, LastContact: epoch})
	}
	return p, parseReplicaState(&p, kv)
}

func parseReplicaState(p *checker.Partition, kv map[string]string) error {
	return forPairs(kv, func(key string, node uint64, val string, r *checker.Replica) error {
		if key == "lag" {
			lag, err := strconv.ParseUint(val, 10, 64)
			r.Lag = lag
			if r.LagSince.IsZero() && lag > 0 {
				r.LagSince = epoch
			}
			return err
		}
		if key == "contact" && val == "never" {
			r.LastContact = time.Time{}
			return nil
		}
		d, err := time.ParseDuration(val)
		switch key {
		case "contact":
			r.LastContact = epoch.Add(-d)
		case "down":
			r.DownSince = epoch.Add(-d)
		case "lagging":
			r.LagSince = epoch.Add(-d)
		}
		return err
	}, p)
}

// forPairs calls f for each node:value pair of the replica keys, in a
// fixed key order (lagging after lag, so it overrides lag's default).
func forPairs(kv map[string]string, f func(key string, node uint64, val string, r *checker.Replica) error, p *checker.Partition) error {
	for _, key := range []string{"contact", "down", "lag", "lagging"} {
		if kv[key] == "" {
			continue
		}
		for _, pair := range strings.Split(kv[key], ",") {
			n, val, _ := strings.Cut(pair, ":")
			node, err := strconv.ParseUint(n, 10, 64)
			if err != nil {
				return err
			}
			i := slices.IndexFunc(p.Status, func(r checker.Replica) bool { return r.Node == node })
			if i < 0 {
				p.Status = append(p.Status, checker.Replica{Node: node})
				i = len(p.Status) - 1
			}
			if err := f(key, node, val, &p.Status[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func parseIDs(s string) ([]uint64, error) {
	if s == "" {
		return nil, nil
	}
	var out []uint64
	for _, f := range strings.Split(s, ",") {
		id, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}
