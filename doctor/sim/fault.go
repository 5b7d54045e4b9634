package sim

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Errors of the fault and setup calls.
var (
	// ErrUnknown is returned for a node, partition or zone the model lacks.
	ErrUnknown = errors.New("sim: unknown")
	// ErrExists is returned for a node id already in use.
	ErrExists = errors.New("sim: exists")
	// ErrTooFewNodes is returned for partitions the nodes cannot host.
	ErrTooFewNodes = errors.New("sim: too few nodes")
)

// AddNode adds an up node in zone, alive as of now.
func (s *Sim) AddNode(id uint64, zone string) error {
	if s.Model.node(id) != nil {
		return fmt.Errorf("%w: node n%d", ErrExists, id)
	}
	s.Model.Nodes = append(s.Model.Nodes, &Node{ID: id, Zone: zone, Up: true, Heartbeat: s.Now,
		Liveness: "alive", Since: s.Now, Fsync: s.cfg.BaseFsync})
	return nil
}

// AddPartitions adds n partitions of rf voters: each voter on the node
// of a zone the partition lacks that holds the fewest voters, the leader
// the voter with the fewest leaders; all caught up.
func (s *Sim) AddPartitions(n, rf int) error {
	if len(s.Model.Nodes) < rf {
		return fmt.Errorf("%w: %d cannot host %d replicas", ErrTooFewNodes, len(s.Model.Nodes), rf)
	}
	voters, leaders := map[uint64]int{}, map[uint64]int{}
	for _, p := range s.Model.Partitions {
		for _, v := range p.Voters {
			voters[v]++
		}
		leaders[p.Leader]++
	}
	for range n {
		id := uint64(len(s.Model.Partitions) + 1)
		vs := spread(s.Model.Nodes, voters, rf)
		lead := slices.MinFunc(vs, func(a, b uint64) int { return cmp.Compare(leaders[a], leaders[b]) })
		leaders[lead]++
		p := &Partition{ID: id, Table: "t", Generation: 1, Voters: vs, Replicas: slices.Clone(vs),
			Leader: lead, replicas: map[uint64]*replica{}}
		for _, v := range vs {
			p.replicas[v] = &replica{lastContact: s.Now}
		}
		s.Model.Partitions = append(s.Model.Partitions, p)
	}
	return nil
}

// spread picks rf nodes, each the one holding the fewest voters (lowest
// id first) among the zones not yet picked, then among all; it counts
// the picks in voters.
func spread(nodes []*Node, voters map[uint64]int, rf int) []uint64 {
	var out []uint64
	zones := map[string]bool{}
	for len(out) < rf {
		var best *Node
		for _, n := range nodes {
			if slices.Contains(out, n.ID) || (zones[n.Zone] && len(zones) < distinctZones(nodes)) {
				continue
			}
			if best == nil || voters[n.ID] < voters[best.ID] {
				best = n
			}
		}
		out, zones[best.Zone] = append(out, best.ID), true
		voters[best.ID]++
	}
	return out
}

func distinctZones(nodes []*Node) int {
	zones := map[string]bool{}
	for _, n := range nodes {
		zones[n.Zone] = true
	}
	return len(zones)
}

func (s *Sim) mustNode(id uint64) (*Node, error) {
	n := s.Model.node(id)
	if n == nil {
		return nil, fmt.Errorf("%w node n%d", ErrUnknown, id)
	}
	return n, nil
}

// Kill stops node's process: no heartbeats, no replication.
func (s *Sim) Kill(id uint64) error {
	n, err := s.mustNode(id)
	if err == nil {
		n.Up = false
		s.record("kill n%d", id)
	}
	return err
}

// Revive restarts a killed node with the replicas it still has.
func (s *Sim) Revive(id uint64) error {
	n, err := s.mustNode(id)
	if err == nil {
		n.Up = true
		s.record("revive n%d", id)
	}
	return err
}

// Pause stops node for d, as SIGSTOP would: no heartbeats, no contact,
// then back as it was.
func (s *Sim) Pause(id uint64, d time.Duration) error {
	n, err := s.mustNode(id)
	if err == nil {
		n.PausedUntil = s.Now.Add(d)
		s.record("pause n%d for %v", id, d)
	}
	return err
}

// SlowDisk sets node's fsync p99 (BaseFsync heals it).
func (s *Sim) SlowDisk(id uint64, fsync time.Duration) error {
	n, err := s.mustNode(id)
	if err == nil {
		n.Fsync = fsync
		s.record("n%d fsync p99 %v", id, fsync)
	}
	return err
}

// SetDisk sets the fraction of node's data disk in use.
func (s *Sim) SetDisk(id uint64, used float64) error {
	n, err := s.mustNode(id)
	if err == nil {
		n.DiskUsed = used
		s.record("n%d disk %.0f%% used", id, used*100)
	}
	return err
}

// Join adds a new empty node in zone.
func (s *Sim) Join(id uint64, zone string) error {
	if err := s.AddNode(id, zone); err != nil {
		return err
	}
	s.record("join n%d zone=%s", id, zone)
	return nil
}

// Decommission marks node for decommissioning, as an operator's ctl node
// decommission does: the Doctor moves its replicas away, then removes it.
func (s *Sim) Decommission(id uint64) error {
	n, err := s.mustNode(id)
	if err == nil {
		n.Decommissioning = s.Now
		s.record("decommission n%d", id)
	}
	return err
}

// BreakReplica makes node's replica of partition unusable while the
// node lives on (its data removed, its apply loop stopped).
func (s *Sim) BreakReplica(node, partition uint64) error {
	p := s.Model.partition(partition)
	if p == nil || p.replicas[node] == nil {
		return fmt.Errorf("%w replica of p%d on n%d", ErrUnknown, partition, node)
	}
	p.replicas[node].brokenSince = s.Now
	s.record("break p%d on n%d", partition, node)
	return nil
}

// ZoneOutage cuts every node of zone off for d.
func (s *Sim) ZoneOutage(zone string, d time.Duration) error {
	if !slices.ContainsFunc(s.Model.Nodes, func(n *Node) bool { return n.Zone == zone }) {
		return fmt.Errorf("%w zone %q", ErrUnknown, zone)
	}
	s.Model.ZoneOut[zone] = s.Now.Add(d)
	s.record("zone %s out for %v", zone, d)
	return nil
}

// Cut loses the messages from node from to node to for d: a one-way
// network partition. Heartbeats to the directory still pass.
func (s *Sim) Cut(from, to uint64, d time.Duration) error {
	if _, err := s.mustNode(from); err != nil {
		return err
	}
	if _, err := s.mustNode(to); err != nil {
		return err
	}
	s.Model.Cuts[[2]uint64{from, to}] = s.Now.Add(d)
	s.record("cut n%d->n%d for %v", from, to, d)
	return nil
}

// Chaos pauses a random up node for pause every every (0 stops it).
func (s *Sim) Chaos(every, pause time.Duration) {
	s.chaosEvery, s.chaosPause, s.nextChaos = every, pause, s.Now.Add(every)
}

func (s *Sim) chaos() {
	if s.chaosEvery == 0 || s.Now.Before(s.nextChaos) {
		return
	}
	s.nextChaos = s.Now.Add(s.chaosEvery)
	var up []uint64
	for _, n := range s.Model.Nodes {
		if n.Up {
			up = append(up, n.ID)
		}
	}
	if len(up) > 0 {
		_ = s.Pause(up[s.rnd.IntN(len(up))], s.chaosPause)
	}
}
