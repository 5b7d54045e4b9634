// Package sim is a simulator of a Partita cluster in virtual time, for
// the doctor: an in-memory model of nodes and partitions (heartbeats,
// elections, replication lag, slow disks, broken replicas) stepped one
// tick at a time, that runs the real checker.Compute every Doctor cycle
// and applies the operations it admits step by step, the way the
// operator would. Many hours of cluster life run in seconds, with no
// goroutines and no wall clock: the same scenario gives the same output.
//
//	s, err := sim.New(sim.DefaultConfig()) // Admit, CheckStep: the gates
//	for i, zone := range []string{"a", "b", "c", "a"} {
//		s.AddNode(uint64(i+1), zone)
//	}
//	s.AddPartitions(24, 3)
//	s.Kill(2)
//	took, ok := s.RunUntil(5*time.Minute, func() bool { return len(s.Unsettled()) == 0 })
//	fmt.Print(s.Summary(), s.Timeline(), s.Violations)
//
// Each tick (Config.Tick):
//
//	events      scheduled revivals, ends of pauses and zone outages
//	heartbeats  every reachable node refreshes its heartbeat; liveness
//	            follows the directory's thresholds
//	elections   a partition whose leader is unreachable loses it, and
//	            after ElectionTimeout gets the healthy voter least behind,
//	            if its healthy voters make a quorum
//	replication reachable replicas are in the leader's contact and catch
//	            up at CatchUpRate; unreachable ones fall behind
//	doctor      every Cycle: View, checker.Compute, then Admit decides
//	            which operations start
//	operations  each running operation takes one step, re-checked by
//	            CheckStep: add-learner, catch-up (until the learner has
//	            the data), promote, transfer-leader, remove-voter
//	invariants  a quorum lost by an operation, two operations on one
//	            partition, an operation undoing the previous one within
//	            FlapWindow: each is recorded as a Violation
//
// Scenario files under testdata drive the simulator (see sim_test.go).
package sim
