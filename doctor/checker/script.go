package checker

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/partitadb/partita/directory"
)

// scriptKeys are the keys ParseView knows.
var scriptKeys = []string{"zone", "sick", "healed", "suspect", "dead", "stopped", "decommissioning", "draining", "by", "reason", "fsync", "disk", "no-peer", "table", "gen", "voters", "learners",
	"outgoing", "replicas", "leader", "contact", "down", "lag", "lagging", "ack", "balanced", "range", "keys", "writes", "reads", "hot",
	"bytes", "cold", "changed"}

// ParseView reads the compact text form of a View that the doctor's
// scripts use (the checker's and the gate's testdata, scenario files),
// with times relative to now. One line per node or partition; blank lines
// and lines starting with # are skipped.
//
// A node line: n<ID> zone=Z [suspect=D|dead=D] [stopped=D]
// [decommissioning=D [by=WHO] [reason=WHY]] [draining=D [by=WHO]]
// [fsync=D] [sick=D] [disk=F] [no-peer], where D is how long before now the state began; a node is
// alive for an hour unless told otherwise. A partition line:
// p<ID> voters=1,2,3 leader=N [table=T] [gen=G] [balanced=D:FROM]
// [range=S-E] [writes=R] [reads=R] [hot=D] [keys=N:SHARE:MEDIAN] [bytes=N]
// [cold=D] [changed=D] (its range's last split or merge) [replicas=..]
// [learners=..] [outgoing=..] [contact=N:D,..] [down=N:D,..]
// [lag=N:L,..] [lagging=N:D,..] [ack=N:D,..] (the leader's measure of
// the replica's acknowledgement latency); contact D "never" is a replica the
// leader never heard from. Replicas are in contact and caught up unless
// told otherwise; the directory lists the voters unless replicas= says.
func ParseView(input string, now time.Time) (View, error) {
	var v View
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
			if !slices.Contains(scriptKeys, k) {
				return v, fmt.Errorf("%q: unknown key %q", line, k)
			}
			kv[k] = val
		}
		switch fields[0][0] {
		case 'n':
			n, err := parseNode(id, kv, now)
			if err != nil {
				return v, fmt.Errorf("%q: %w", line, err)
			}
			v.Nodes = append(v.Nodes, n)
		case 'p':
			p, err := parsePartition(id, kv, now)
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

func parseNode(id uint64, kv map[string]string, now time.Time) (Node, error) {
	n := Node{ID: id, Zone: kv["zone"], PeerAddr: fmt.Sprintf("n%d:7000", id),
		Liveness: directory.Alive, Since: now.Add(-time.Hour)}
	if _, ok := kv["no-peer"]; ok {
		n.PeerAddr = ""
	}
	for _, state := range []directory.Liveness{directory.Suspect, directory.Dead} {
		if ago, ok := kv[string(state)]; ok {
			d, err := time.ParseDuration(ago)
			if err != nil {
				return n, err
			}
			n.Liveness, n.Since = state, now.Add(-d)
		}
	}
	if d, ok := kv["disk"]; ok {
		used, err := strconv.ParseFloat(d, 64)
		if err != nil {
			return n, err
		}
		n.Health.DiskUsed = used
	}
	if ago, ok := kv["stopped"]; ok {
		d, err := time.ParseDuration(ago)
		if err != nil {
			return n, err
		}
		n.Stopped = now.Add(-d)
	}
	if ago, ok := kv["decommissioning"]; ok {
		d, err := time.ParseDuration(ago)
		if err != nil {
			return n, err
		}
		n.Decommissioning, n.DecommissionBy, n.DecommissionReason = now.Add(-d), kv["by"], kv["reason"]
	}
	if ago, ok := kv["draining"]; ok {
		d, err := time.ParseDuration(ago)
		if err != nil {
			return n, err
		}
		n.Draining, n.DrainBy = now.Add(-d), kv["by"]
	}
	if ago, ok := kv["healed"]; ok {
		d, err := time.ParseDuration(ago)
		if err != nil {
			return n, err
		}
		n.Health.HealedAt = now.Add(-d)
	}
	if ago, ok := kv["sick"]; ok {
		d, err := time.ParseDuration(ago)
		if err != nil {
			return n, err
		}
		n.Health.SickSince = now.Add(-d)
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

func parsePartition(id uint64, kv map[string]string, now time.Time) (Partition, error) {
	p := Partition{ID: id, Table: "t", Generation: 1}
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
	if b, ok := kv["balanced"]; ok { // D:FROM
		d, from, _ := strings.Cut(b, ":")
		ago, err := time.ParseDuration(d)
		if err != nil {
			return p, err
		}
		p.LeaderBalanced.At = now.Add(-ago)
		if p.LeaderBalanced.From, err = strconv.ParseUint(from, 10, 64); err != nil {
			return p, err
		}
	}
	if err := parseLoad(&p, kv, now); err != nil {
		return p, err
	}
	lists := map[string]*[]uint64{"voters": &p.Voters, "learners": &p.Learners, "outgoing": &p.Outgoing, "replicas": &p.Replicas}
	for key, dst := range lists {
		if *dst, err = ParseIDs(kv[key]); err != nil {
			return p, err
		}
	}
	if _, ok := kv["replicas"]; !ok {
		p.Replicas = slices.Clone(p.Voters)
	}
	members := slices.Concat(p.Voters, p.Learners, p.Outgoing)
	slices.Sort(members)
	for _, m := range slices.Compact(members) {
		p.Status = append(p.Status, Replica{Node: m, LastContact: now})
	}
	return p, parseReplicaState(&p, kv, now)
}

func parseReplicaState(p *Partition, kv map[string]string, now time.Time) error {
	return forPairs(kv, func(key string, node uint64, val string, r *Replica) error {
		if key == "lag" {
			lag, err := strconv.ParseUint(val, 10, 64)
			r.Lag = lag
			if r.LagSince.IsZero() && lag > 0 {
				r.LagSince = now
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
			r.LastContact = now.Add(-d)
		case "down":
			r.DownSince = now.Add(-d)
		case "lagging":
			r.LagSince = now.Add(-d)
		case "ack":
			r.AckLatency = d
		}
		return err
	}, p)
}

// forPairs calls f for each node:value pair of the replica keys, in a
// fixed key order (lagging after lag, so it overrides lag's default).
func forPairs(kv map[string]string, f func(key string, node uint64, val string, r *Replica) error, p *Partition) error {
	for _, key := range []string{"contact", "down", "lag", "lagging", "ack"} {
		if kv[key] == "" {
			continue
		}
		for _, pair := range strings.Split(kv[key], ",") {
			n, val, _ := strings.Cut(pair, ":")
			node, err := strconv.ParseUint(n, 10, 64)
			if err != nil {
				return err
			}
			i := slices.IndexFunc(p.Status, func(r Replica) bool { return r.Node == node })
			if i < 0 {
				p.Status = append(p.Status, Replica{Node: node})
				i = len(p.Status) - 1
			}
			if err := f(key, node, val, &p.Status[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// ParseIDs reads a comma-separated list of ids, as ParseView does; empty
// is none.
func ParseIDs(s string) ([]uint64, error) {
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

// parseLoad reads a partition's range=START-END (hex), writes=, reads=,
// hot= (how long its rates have been above a threshold), cold= (below
// the merge thresholds), changed= (since its range last changed), bytes=
// and keys=N:SHARE:MEDIAN (the sampled writes: how many, the top key's
// share, the median hash in hex).
func parseLoad(p *Partition, kv map[string]string, now time.Time) error {
	var err error
	if v, ok := kv["range"]; ok {
		start, end, _ := strings.Cut(v, "-")
		if p.HashStart, err = strconv.ParseUint(start, 16, 64); err != nil {
			return err
		}
		if p.HashEnd, err = strconv.ParseUint(end, 16, 64); err != nil {
			return err
		}
	}
	if v, ok := kv["keys"]; ok {
		f := strings.Split(v, ":")
		if len(f) != 3 {
			return fmt.Errorf("keys=%s: want N:SHARE:MEDIAN", v)
		}
		n, err := strconv.ParseUint(f[0], 10, 32)
		if err != nil {
			return err
		}
		p.KeySamples = uint32(n)
		if p.TopKeyShare, err = strconv.ParseFloat(f[1], 64); err != nil {
			return err
		}
		if p.MedianKeyHash, err = strconv.ParseUint(f[2], 16, 64); err != nil {
			return err
		}
	}
	for key, dst := range map[string]*float64{"writes": &p.WritesPerSec, "reads": &p.ReadsPerSec} {
		if v, ok := kv[key]; ok {
			if *dst, err = strconv.ParseFloat(v, 64); err != nil {
				return err
			}
		}
	}
	if v, ok := kv["bytes"]; ok {
		if p.Bytes, err = strconv.ParseInt(v, 10, 64); err != nil {
			return err
		}
	}
	for key, dst := range map[string]*time.Time{"hot": &p.HotSince, "cold": &p.ColdSince, "changed": &p.RangeSince} {
		if v, ok := kv[key]; ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				return err
			}
			*dst = now.Add(-d)
		}
	}
	return nil
}
