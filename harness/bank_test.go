package harness_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/harness"
	"github.com/partitadb/partita/router"
)

// TestBank runs transfers and read transactions between accounts spread
// over a table's 4 partitions on a 3-node cluster, through real routers
// as coordinators, while the nemesis crashes, isolates, pauses and
// freezes nodes, coordinators die mid-transaction and the routers' clock
// jumps past transactions' deadlines. At the end (faults healed, the
// clock past every deadline) every account must be readable, the history
// must check (BankRun.Check: atomic, at most once, acknowledged transfers
// applied and cancelled ones not, balances the sum of their transfers,
// reads consistent snapshots, all serializable), no intent may remain,
// and every partition's replicas must agree.
func TestBank(t *testing.T) {
	scenarios := map[string]struct {
		faults []harness.Fault
		jumps  time.Duration
		stalls float64
		skew   time.Duration
		opTime time.Duration // 0: the workload's default
		// longer runs the workload twice as long: the faults leave it
		// little time to run.
		longer bool
		// accounts and kills override the workload's defaults (0: keep).
		accounts int
		kills    float64
	}{
		// Coordinators die; no other fault. Their intents stand until the
		// end (the deadline is 5 s of the routers' clock, which does not
		// jump here): fewer kills over more accounts keep the bank going.
		"kills": {faults: []harness.Fault{}, accounts: 16, kills: 0.03},
		// Coordinators die and deadlines pass under live transactions:
		// recoveries race coordinators.
		"kills-deadlines": {faults: []harness.Fault{}, jumps: 300 * time.Millisecond},
		// Coordinators stall past their deadline between prepares:
		// others recover their transactions meanwhile.
		"stalls": {faults: []harness.Fault{}, stalls: 0.2},
		// Everything at once.
		"mixed": {
			faults: []harness.Fault{harness.FaultNodeCrash, harness.FaultLeaderCrash, harness.FaultMinorityPartition,
				harness.FaultPause, harness.FaultFreeze, harness.FaultLossyNetwork, harness.FaultLeaderTransfer},
			jumps: 500 * time.Millisecond, stalls: 0.05, skew: 2 * time.Second,
		},
		// Every node crashes at once, leaders crash, lease clocks jump.
		"crash-all": {faults: []harness.Fault{harness.FaultCrashAll, harness.FaultClockJump, harness.FaultLeaderCrash, harness.FaultNodeCrash},
			jumps: 500 * time.Millisecond, longer: true},
		// Impatient clients under crashes and isolation, no coordinator
		// killed: many transactions end at their client's deadline, with
		// prepares and commits in flight.
		"impatient": {faults: []harness.Fault{harness.FaultLeaderCrash, harness.FaultMinorityPartition, harness.FaultPause},
			opTime: 200 * time.Millisecond, jumps: 500 * time.Millisecond, kills: -1},
		// Coordinators' clocks disagree by up to the deadline either way: some
		// find others' transactions expired at once.
		"skew": {faults: []harness.Fault{harness.FaultNodeCrash}, skew: router.TxnDeadline, jumps: 400 * time.Millisecond},
	}
	for _, name := range []string{"kills", "kills-deadlines", "stalls", "skew", "mixed", "crash-all", "impatient"} {
		t.Run(name, func(t *testing.T) {
			for _, seed := range seeds() {
				t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
					sc := scenarios[name]
					d := workloadDuration()
					if sc.longer {
						d *= 2
					}
					runBank(t, seed, sc.faults, d, harness.Bank{Seed: seed, Jumps: sc.jumps, Stalls: sc.stalls, Accounts: sc.accounts, Kills: sc.kills, Skew: sc.skew, OpTimeout: sc.opTime})
				})
			}
		})
	}
}

// minCommitted is the fewest committed transfers that show the bank
// made progress under its faults.
const minCommitted = 5

func runBank(t *testing.T, seed uint64, faults []harness.Fault, d time.Duration, b harness.Bank) {
	c := harness.New(t, harness.Config{Seed: seed})
	c.BootstrapMeta()
	clock := &harness.TxnClock{}
	setup, cancelSetup := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancelSetup()
	bank, err := c.NewBank(setup, b, clock)
	if err != nil {
		t.Fatal(err)
	}
	parts := bank.Table().GetPartitions()
	if len(parts) < 2 {
		t.Fatalf("the bank's table has %d partitions, want several", len(parts))
	}
	// The workload runs for d, and on until minCommitted transfers have
	// committed (up to 4d): on a loaded machine, d alone may see fewer.
	ctx, cancel := context.WithTimeout(context.Background(), 4*d)
	defer cancel()
	var wg sync.WaitGroup
	if len(faults) > 0 {
		wg.Go(func() {
			c.RunNemesis(ctx, harness.Nemesis{Partition: parts[0].GetId(), Faults: faults, Seed: seed}, nil)
		})
	}
	wg.Go(func() {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if outcomes, _, _, _ := bank.Stats(); outcomes[harness.Committed] >= minCommitted {
				cancel()
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	err = bank.Run(ctx)
	cancel()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	outcomes, reads, failedReads, kills := bank.Stats()
	t.Logf("seed %d: transfers %d committed, %d cancelled, %d unknown; reads %d consistent, %d failed; coordinators killed %v",
		seed, outcomes[harness.Committed], outcomes[harness.Cancelled], outcomes[harness.Unknown], reads, failedReads, kills)
	if outcomes[harness.Committed] < minCommitted {
		t.Fatalf("only %d transfers committed: the cluster made no progress", outcomes[harness.Committed])
	}

	// Every deadline passes: whoever meets an intent now recovers its
	// transaction.
	clock.Advance(router.TxnDeadline + time.Second)
	c.RestoreAll()
	for _, p := range parts {
		c.RequireConsistent(t, p.GetId())
	}
	final, cancelFinal := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelFinal()
	bal, logs, err := bank.Final(final)
	if err != nil {
		t.Fatal(err)
	}
	if bad := bank.Check(bal, logs); len(bad) > 0 {
		t.Fatalf("seed %d: the bank's history does not check:\n  %s", seed, strings.Join(bad, "\n  "))
	}
	// The final reads resolved every intent they met, and only accounts
	// take intents: none may remain.
	for _, p := range parts {
		c.RequireConsistent(t, p.GetId())
		intents, records, err := c.TxnLeftovers(p.GetId())
		if err != nil {
			t.Fatal(err)
		}
		if intents > 0 {
			t.Errorf("partition %d holds %d intents after every account was read", p.GetId(), intents)
		}
		t.Logf("partition %d keeps transaction records %v", p.GetId(), records)
	}
	c.RequireConsistent(t, directory.MetaPartition)

	// Splits wait for a partition's transactions to finish; records that
	// no one will ever forget (docs/transactions.md) keep them waiting.
	co := c.NewCoordinator(clock)
	for _, p := range parts {
		if _, err := co.Split(final, bank.Table().GetName(), p.GetId()); err != nil {
			t.Logf("partition %d does not split: %v", p.GetId(), err)
		}
	}
}
