package sim_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/gate"
	"github.com/partitadb/partita/doctor/sim"
)

// TestScenarios runs testdata/*.txt, each a scenario in virtual time:
//
//	cluster nodes=N zones=a,b,c partitions=P rf=R [seed=S]
//	kill node=N | revive node=N | pause node=N for=D
//	slow-disk node=N fsync=D | heal-disk node=N | join node=N zone=Z
//	disk node=N used=F        the fraction of N's disk in use
//	decommission node=N       N marked for decommissioning (the Doctor
//	                          moves its replicas, then removes it)
//	break-replica node=N partition=P | zone-outage zone=Z for=D
//	cut from=N to=M for=D     messages from N to M lost for D
//	chaos every=D pause=D     a random node paused for D every D
//	run for=D                 advance the clock
//	run until=C max=D [node=N]
//	                          advance until C holds: healed (nothing
//	                          unsettled), balanced (voters and leaders per
//	                          live node within the tolerance), quiet
//	                          (the checkers propose nothing, nothing
//	                          runs), dead or
//	                          leaderless (node N dead, or leading nothing)
//	admit [cooldown=D]        admission: the default, or holding an
//	                          operation (not a repair) on a partition
//	                          changed less than D ago
//	violations                the invariants broken since the last
//	                          violations (acknowledged: the scenario
//	                          fails on any other)
//	print                     the layout summary
//	timeline                  the events since the last timeline
//	unsettled                 what keeps the cluster from its layout
//
// A scenario fails on any broken invariant its output does not show, and
// when its cluster, left alone after it, does not settle within
// settleWithin.
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var s *sim.Sim
		acked := 0 // violations printed by a violations directive
		unexpected := func() {
			if s == nil {
				return
			}
			settle(t, s)
			if len(s.Violations) > acked {
				t.Errorf("%s: invariants broken:\n%s", path, strings.Join(s.Violations[acked:], "\n"))
			}
		}
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			switch {
			case td.Cmd == "cluster":
				unexpected()
				s, acked = newCluster(t, td), 0
				return "ok"
			case s == nil:
				t.Fatalf("%s: no cluster yet", td.Pos)
			case td.Cmd == "violations":
				out := strings.Join(append(s.Violations[acked:], "--"), "\n")
				acked = len(s.Violations)
				return out
			}
			out, err := scenarioStep(s, td)
			if err != nil {
				return err.Error()
			}
			return out
		})
		unexpected()
	})
}

// settle lets s run on without chaos: every partition the nodes can
// host must end with RF serving voters, zone-spread where the zones
// allow, and no replica down.
func settle(t *testing.T, s *sim.Sim) {
	s.Chaos(0, 0)
	if _, ok := s.RunUntil(settleWithin, func() bool { return len(s.Unsettled()) == 0 }); !ok {
		t.Errorf("not settled %v after the scenario:\n%s", settleWithin, strings.Join(s.Unsettled(), "\n"))
	}
}

// settleWithin is how long a scenario's cluster has to settle after it.
const settleWithin = 10 * time.Minute

func newCluster(t *testing.T, td *datadriven.TestData) *sim.Sim {
	cfg := sim.DefaultConfig()
	if v, ok := arg(td, "seed"); ok {
		cfg.Seed = mustUint(t, v)
	}
	if v, _ := arg(td, "gates"); v != "off" {
		// The Doctor's own admission and step checks.
		cfg.Admit, cfg.CheckStep = sim.Gates(gate.Default(), gate.DefaultLimits(), cfg.Checker)
	}
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	zones := strings.Split(mustArg(t, td, "zones"), ",")
	nodes := int(mustUint(t, mustArg(t, td, "nodes")))
	for i := range nodes {
		if err := s.AddNode(uint64(i+1), zones[i%len(zones)]); err != nil {
			t.Fatal(err)
		}
	}
	rf := 3
	if v, ok := arg(td, "rf"); ok {
		rf = int(mustUint(t, v))
	}
	if err := s.AddPartitions(int(mustUint(t, mustArg(t, td, "partitions"))), rf); err != nil {
		t.Fatal(err)
	}
	return s
}

// scenarioStep runs one directive other than cluster.
func scenarioStep(s *sim.Sim, td *datadriven.TestData) (string, error) {
	node, _ := arg(td, "node")
	id, _ := strconv.ParseUint(node, 10, 64)
	dur := func(key string) time.Duration {
		v, _ := arg(td, key)
		d, _ := time.ParseDuration(v)
		return d
	}
	switch td.Cmd {
	case "kill":
		return "ok", s.Kill(id)
	case "revive":
		return "ok", s.Revive(id)
	case "pause":
		return "ok", s.Pause(id, dur("for"))
	case "slow-disk":
		return "ok", s.SlowDisk(id, dur("fsync"))
	case "heal-disk":
		return "ok", s.SlowDisk(id, sim.DefaultConfig().BaseFsync)
	case "disk":
		v, _ := arg(td, "used")
		used, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return "", err
		}
		return "ok", s.SetDisk(id, used)
	case "join":
		zone, _ := arg(td, "zone")
		return "ok", s.Join(id, zone)
	case "decommission":
		return "ok", s.Decommission(id)
	case "break-replica":
		p, _ := arg(td, "partition")
		pid, _ := strconv.ParseUint(p, 10, 64)
		return "ok", s.BreakReplica(id, pid)
	case "zone-outage":
		zone, _ := arg(td, "zone")
		return "ok", s.ZoneOutage(zone, dur("for"))
	case "cut":
		from, _ := arg(td, "from")
		to, _ := arg(td, "to")
		f, _ := strconv.ParseUint(from, 10, 64)
		t, _ := strconv.ParseUint(to, 10, 64)
		return "ok", s.Cut(f, t, dur("for"))
	case "admit":
		if d := dur("cooldown"); d > 0 {
			s.SetAdmit(s.Cooldown(d, nil))
		} else {
			s.SetAdmit(nil)
		}
		return "ok", nil
	case "chaos":
		s.Chaos(dur("every"), dur("pause"))
		return "ok", nil
	case "run":
		return run(s, td, id, dur)
	case "print":
		return s.Summary(), nil
	case "timeline":
		return s.Timeline(), nil
	case "unsettled":
		return strings.Join(append(s.Unsettled(), "--"), "\n"), nil
	}
	return "", fmt.Errorf("unknown directive %q", td.Cmd)
}

func run(s *sim.Sim, td *datadriven.TestData, id uint64, dur func(string) time.Duration) (string, error) {
	until, ok := arg(td, "until")
	if !ok {
		s.Run(dur("for"))
		return fmt.Sprintf("t=+%v", s.Elapsed()), nil
	}
	cond, err := condition(s, until, id)
	if err != nil {
		return "", err
	}
	took, held := s.RunUntil(dur("max"), cond)
	at := s.Elapsed()
	if !held {
		return fmt.Sprintf("not %s after %v (t=+%v)\n%s", until, took, at, strings.Join(s.Unsettled(), "\n")), nil
	}
	return fmt.Sprintf("%s after %v (t=+%v)", until, took, at), nil
}

func condition(s *sim.Sim, name string, id uint64) (func() bool, error) {
	switch name {
	case "healed":
		return func() bool { return len(s.Unsettled()) == 0 }, nil
	case "balanced":
		return func() bool { return balanced(s) }, nil
	case "quiet":
		return func() bool {
			plan, err := s.Plan()
			return err == nil && len(plan.Ops) == 0 && len(s.Running()) == 0
		}, nil
	case "dead":
		return func() bool { return nodeIs(s, id, directory.Dead) }, nil
	case "leaderless":
		return func() bool { return leaders(s)[id] == 0 }, nil
	}
	return nil, fmt.Errorf("unknown condition %q", name)
}

func nodeIs(s *sim.Sim, id uint64, l directory.Liveness) bool {
	for _, n := range s.Model.Nodes {
		if n.ID == id {
			return n.Liveness == l
		}
	}
	return false
}

func leaders(s *sim.Sim) map[uint64]int {
	out := map[uint64]int{}
	for _, p := range s.Model.Partitions {
		out[p.Leader]++
	}
	return out
}

// balanced says the alive nodes' voters and leaders are within the
// checkers' balance tolerance, and nothing is unsettled.
func balanced(s *sim.Sim) bool {
	tol := sim.DefaultConfig().Checker(s.Now).BalanceTolerance
	voters, lead := map[uint64]int{}, leaders(s)
	for _, p := range s.Model.Partitions {
		for _, v := range p.Voters {
			voters[v]++
		}
	}
	spread := func(c map[uint64]int) int {
		lo, hi := 1<<30, 0
		for _, n := range s.Model.Nodes {
			if n.Liveness == directory.Alive {
				lo, hi = min(lo, c[n.ID]), max(hi, c[n.ID])
			}
		}
		return hi - lo
	}
	return spread(voters) <= tol && spread(lead) <= tol && len(s.Unsettled()) == 0
}

func arg(td *datadriven.TestData, key string) (string, bool) {
	for _, a := range td.CmdArgs {
		if a.Key == key && len(a.Vals) > 0 {
			return strings.Join(a.Vals, ","), true
		}
	}
	return "", false
}

func mustArg(t *testing.T, td *datadriven.TestData, key string) string {
	v, ok := arg(td, key)
	if !ok {
		t.Fatalf("%s: %s= missing", td.Pos, key)
	}
	return v
}

func mustUint(t *testing.T, s string) uint64 {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
