// Package harness runs a Partita cluster inside one process, breaks it on
// purpose, and checks what clients saw.
//
// A Cluster is N raft stores (package store), each on its own Pebble
// engine, joined by a transport.Inmem network. By default the engines live
// on Pebble's crash-simulating in-memory filesystem, so a crash keeps only
// what was synced, like a power cut; Config.OnDisk puts them in
// directories under t.TempDir() instead.
//
//	c := harness.New(t, harness.Config{Nodes: 3, Seed: seed})
//	c.Bootstrap(1)                 // partition 1 on every node
//	leader := c.Leader(1)          // waits for an election
//	c.Crash(leader)                // no more messages; unsynced writes lost
//	c.Restart(leader)              // reopen from its disk
//	c.Partition(2)                 // node 2 alone on one side
//	c.Pause(3); c.Resume(3)        // hold node 3's messages, then flush them
//	c.Freeze(3); c.Thaw(3)         // a Pause that stops its ticks too (SIGSTOP)
//	c.JumpClock(3, -time.Millisecond) // move node 3's lease clock
//	c.SetFaults(transport.Faults{DropRate: 0.1, MaxDelay: time.Millisecond})
//	c.Heal()
//
// A Client routes commands to the leader as a router would: it follows
// leader hints, skips nodes that are down, and retries a command whose
// outcome is unknown with the same command id, which the replicas apply
// at most once. Its reads are linearizable: the leader's lease, or
// ReadIndex when it holds none (store.Store.ReadBarrier), then a read of
// the leader's engine. Put, Get and CompareAndSet wrap it as a
// key/value register per key (items {pk, v} of table p in partition p).
// The workload's swaps (SwapKey: a put that returns the value it
// replaced, as ReturnValues ALL_OLD does) and its refused
// compare-and-sets return what they found, which a retry answered from
// the write's at-most-once record must return too.
//
// Tables split (FaultSplit, Cluster.Split; split.go): clients follow
// their keys to the half that owns them, and RequireConsistentTable checks
// every half.
//
// Linearizability is checked with porcupine. RunKV drives concurrent
// clients and records every operation in a History (one whose outcome the
// client never learned stays open to the end: it may have happened at any
// point after its call, or not at all), while RunNemesis injects faults
// (AllFaults) and notes them on the history's timeline:
//
//	h := harness.NewHistory()
//	go c.RunNemesis(ctx, harness.Nemesis{Partition: 1, Seed: seed}, h)
//	err := c.RunKV(ctx, harness.Workload{Partition: 1, Seed: seed}, h)
//	h.RequireLinearizable(t, 30*time.Second)
//
// A violation fails the test with the path of porcupine's HTML
// visualisation. RequireConsistent checks that every replica applied the
// same index to the same state (a digest of the table and of the
// partition's replicated records).
//
// Transactions run through real routers (routers.go, bank.go): after
// BootstrapMeta (the directory), NewCoordinator starts a router.Router
// whose requests reach the stores in process, as a node's router does.
// Coordinator.Arm kills it at a point of its next transaction (after a
// prepare, around the commit point, after a resolution), Stall pauses it
// past its deadline, and the routers share a TxnClock that a test moves
// past transactions' deadlines. NewBank and BankRun.Run drive a bank
// workload (transfers and read transactions over accounts spread on a
// table's partitions); BankRun.Check verifies its history against the
// final state:
//
//	c.BootstrapMeta()
//	clock := &harness.TxnClock{}
//	bank, _ := c.NewBank(ctx, harness.Bank{Seed: seed, Jumps: 300 * time.Millisecond}, clock)
//	bank.Run(ctx)                      // with RunNemesis alongside
//	clock.Advance(router.TxnDeadline)  // every transaction expires
//	bal, hist, _ := bank.Final(ctx)    // reads recover what they meet
//	problems := bank.Check(bal, hist)
//
// Runs are seeded: the seed fixes every random choice of the harness, not
// the interleaving of goroutines, so a seed reproduces a schedule of
// faults and operations, not an exact execution.
package harness
