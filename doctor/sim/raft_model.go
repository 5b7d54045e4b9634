package sim

import (
	"math/rand/v2"
	"time"
)

// elect keeps p's leadership in step with its nodes: a leader
// unreachable, or cut off from a quorum (raft's check-quorum), loses it;
// after the election timeout the serving voter least behind (ties broken
// by rnd) among those linked to a quorum wins it. A former leader back
// before anyone else won resumes.
func (m *Model) elect(p *Partition, now time.Time, timeout time.Duration, rnd *rand.Rand) {
	if p.Leader != 0 {
		if m.serving(p, p.Leader, now) && m.hasQuorum(p, now) {
			return
		}
		p.formerLeader, p.Leader, p.LeaderLost = p.Leader, 0, now
	}
	if p.formerLeader != 0 && m.serving(p, p.formerLeader, now) && now.Sub(p.LeaderLost) < timeout {
		p.Leader, p.formerLeader, p.LeaderLost = p.formerLeader, 0, time.Time{}
		return
	}
	if now.Sub(p.LeaderLost) < timeout || !m.hasQuorum(p, now) {
		return
	}
	var best []uint64
	var bestLag uint64
	for _, v := range p.Voters {
		if !m.serving(p, v, now) || !m.reachesQuorum(p, v, now) {
			continue
		}
		switch lag := p.replicas[v].lag; {
		case len(best) == 0 || lag < bestLag:
			best, bestLag = []uint64{v}, lag
		case lag == bestLag:
			best = append(best, v)
		}
	}
	if len(best) == 0 {
		return
	}
	p.Leader, p.formerLeader, p.LeaderLost = best[rnd.IntN(len(best))], 0, time.Time{}
	p.replicas[p.Leader].lag, p.replicas[p.Leader].lagSince = 0, time.Time{}
}

// reachesQuorum says candidate is linked to a quorum of p's serving voters.
func (m *Model) reachesQuorum(p *Partition, candidate uint64, now time.Time) bool {
	n := 0
	for _, v := range p.Voters {
		if m.serving(p, v, now) && m.linked(candidate, v, now) {
			n++
		}
	}
	return n >= len(p.Voters)/2+1
}

// replicate moves p's replicas on by one tick: serving replicas are in
// the leader's contact and catch up (a follower on a slow disk keeps a
// steady lag), the others fall behind by the writes they miss.
func (m *Model) replicate(p *Partition, now time.Time, cfg *Config) {
	if p.Leader == 0 {
		return
	}
	secs := uint64(cfg.Tick / time.Second)
	if secs == 0 {
		secs = 1
	}
	for id, r := range p.replicas {
		switch {
		case id == p.Leader:
			r.lag, r.lagSince, r.lastContact = 0, time.Time{}, now
		case m.follows(p, id, now):
			r.lastContact = now
			r.lag = max(m.slowLag(id, cfg), r.lag-min(r.lag, cfg.CatchUpRate*secs))
		default:
			r.lag += cfg.WriteRate * secs
		}
		if r.lag == 0 {
			r.lagSince = time.Time{}
		} else if r.lagSince.IsZero() {
			r.lagSince = now
		}
	}
}

// slowLag is the steady lag of a follower on node: its writes wait for
// its fsyncs.
func (m *Model) slowLag(id uint64, cfg *Config) uint64 {
	n := m.node(id)
	if n.Fsync <= cfg.BaseFsync {
		return 0
	}
	return uint64((n.Fsync-cfg.BaseFsync)/time.Millisecond) * cfg.SlowLagPerMs
}
