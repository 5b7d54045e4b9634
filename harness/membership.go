package harness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/partitadb/partita/store"
)

// FaultMembership replaces a voter of the partition (the leader half the
// time) with a node that hosts no replica of it: add the spare as a
// learner (it catches up by snapshot), promote it, remove the old voter
// (moving leadership first if it leads) and destroy the old replica. It
// needs a cluster with more nodes than voters; the change is not undone.
const FaultMembership Fault = "membership-change"

// Members returns the nodes in partition's membership (voters and
// learners) as its leader sees it, or nil without a leader.
func (c *Cluster) Members(partition uint64) []uint64 {
	st := c.Store(c.LeaderNow(partition))
	if st == nil || st.Replica(partition) == nil {
		return nil
	}
	cs := st.Replica(partition).ConfState()
	return append(append([]uint64(nil), cs.Voters...), cs.Learners...)
}

// replaceVoter performs one FaultMembership step and describes it.
func (c *Cluster) replaceVoter(partition uint64, rng *rand.Rand) string {
	leader := c.LeaderNow(partition)
	members := c.Members(partition)
	if leader == 0 || members == nil {
		return "membership change skipped: no leader"
	}
	var spares, voters []uint64
	for _, id := range c.Nodes() {
		switch {
		case slices.Contains(members, id):
			voters = append(voters, id)
		case c.Up(id):
			spares = append(spares, id)
		}
	}
	if len(spares) == 0 {
		return "membership change skipped: no live spare node"
	}
	spare := spares[rng.IntN(len(spares))]
	victim := voters[rng.IntN(len(voters))]
	if rng.IntN(2) == 0 {
		victim = leader
	}
	err := c.changeVoter(partition, spare, victim)
	return fmt.Sprintf("replace n%d with n%d: %v", victim, spare, errOrOK(err))
}

func (c *Cluster) changeVoter(partition, add, remove uint64) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Wait)
	defer cancel()
	if err := c.Store(add).AddEmptyReplica(partition); err != nil {
		return err
	}
	onLeader := func(f func(*store.Store) error) error {
		st := c.Store(c.Leader(partition))
		if st == nil {
			return errors.New("no leader")
		}
		return f(st)
	}
	if err := onLeader(func(st *store.Store) error { return st.AddLearner(ctx, partition, add) }); err != nil {
		return fmt.Errorf("add learner: %w", err)
	}
	if err := onLeader(func(st *store.Store) error { return st.PromoteLearner(ctx, partition, add) }); err != nil {
		return fmt.Errorf("promote: %w", err)
	}
	remove1 := func(st *store.Store) error { return st.RemoveReplica(ctx, partition, remove) }
	err := onLeader(remove1)
	if errors.Is(err, store.ErrLeadershipMoved) {
		err = onLeader(remove1)
	}
	if err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	if st := c.Store(remove); st != nil {
		return st.Destroy(partition)
	}
	return nil
}

func errOrOK(err error) string {
	if err != nil {
		return err.Error()
	}
	return "ok"
}
