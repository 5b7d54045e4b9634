package store

import (
	"context"
	"time"

	"github.com/partitadb/partita/replica"
)

// initLeases gives the store's replicas one lease policy, from the
// configuration: on or off, and a lease's length from the ticks.
func (s *Store) initLeases() {
	if s.cfg.Replica.Leases == nil {
		s.cfg.Replica.Leases = &replica.Leases{}
	}
	s.cfg.Replica.Leases.SetEnabled(s.cfg.LeaseReads)
	s.setLeaseDuration()
}

// setLeaseDuration derives a lease's length from the tick in force and
// the replicas' election timeout. A change voids the leases held.
func (s *Store) setLeaseDuration() {
	s.cfg.Replica.Leases.SetDuration(replica.LeaseDuration(s.TickInterval(), s.cfg.Replica.ElectionTicks))
}

// voteHold is how long a replica opened at start drops vote requests: a
// lease, and an election timeout more to cover the ticks' slack.
func (s *Store) voteHold() time.Duration { return s.electionTimeout() }

// electionTimeout is the replicas' election timeout at the tick in force.
func (s *Store) electionTimeout() time.Duration {
	return time.Duration(s.cfg.Replica.ElectionTicks) * s.TickInterval()
}

// SetLeaseReads turns lease reads on or off (raft.lease-reads).
func (s *Store) SetLeaseReads(on bool) { s.cfg.Replica.Leases.SetEnabled(on) }

// LeaseReads says whether this node's leaders serve reads from leases.
func (s *Store) LeaseReads() bool { return s.cfg.Replica.Leases.Enabled() }

// ReadBarrier returns once a consistent read of partition may read this
// node's applied state: at once when its replica holds a valid leader
// lease, else after a ReadIndex round trip.
func (s *Store) ReadBarrier(ctx context.Context, partition uint64) error {
	r := s.Replica(partition)
	if r == nil {
		return s.noReplica(partition)
	}
	if ok, renew := r.LeaseRead(); ok {
		if renew {
			s.sched.enqueue(partition)
		}
		s.m.consistentReads.WithLabelValues("lease").Inc()
		return ctx.Err()
	}
	s.m.consistentReads.WithLabelValues("read_index").Inc()
	return s.ReadIndex(ctx, partition)
}
