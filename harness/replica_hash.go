package harness

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// ReplicaState is one node's view of a partition: its applied index and a
// digest of the partition's replicated state (the table's items and the
// replicated local records: statistics, applied command ids).
type ReplicaState struct {
	Node    uint64
	Applied uint64
	Digest  [32]byte
}

// ReplicaStates returns the state of every running replica of partition.
func (c *Cluster) ReplicaStates(partition uint64) ([]ReplicaState, error) {
	var out []ReplicaState
	for _, id := range c.Nodes() {
		st := c.Store(id)
		if st == nil || st.Replica(partition) == nil {
			continue
		}
		r := st.Replica(partition)
		s := ReplicaState{Node: id}
		ran, err := c.WithEngine(id, st, func(eng *engine.Engine) error {
			// Held for a processing round, the replica's lock keeps the
			// engine and the applied index in step: a round applies into
			// the engine at its commit and moves the index after it.
			r.Lock()
			defer r.Unlock()
			d, err := digest(eng, partition, r.Descriptor().GetSpans())
			if err != nil {
				return err
			}
			s.Applied, s.Digest = r.Applied(), d
			return nil
		})
		if err != nil {
			return nil, err
		}
		if ran {
			out = append(out, s)
		}
	}
	return out, nil
}

// replicatedSpans are the key spans of partition's replicated state: its
// items (data: the spans of its range) and its replicated local records.
func replicatedSpans(partition uint64, data []*partitapb.Span) [][2][]byte {
	var out [][2][]byte
	for _, sp := range data {
		out = append(out, [2][]byte{sp.GetStart(), sp.GetEnd()})
	}
	localLo := engine.LocalKey(partition, engine.ReplicatedLocal)
	localHi := append(engine.LocalKey(partition, engine.ReplicatedLocal), 0xff)
	return append(out, [2][]byte{localLo, localHi})
}

// scan calls fn with every key/value pair of partition's replicated state,
// its items those of the spans data.
func scan(eng *engine.Engine, partition uint64, data []*partitapb.Span, fn func(k, v []byte)) error {
	for _, span := range replicatedSpans(partition, data) {
		it, err := eng.NewIter(span[0], span[1])
		if err != nil {
			return err
		}
		for ok := it.First(); ok; ok = it.Next() {
			fn(it.Key(), it.Value())
		}
		err = it.Error()
		if cerr := it.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("harness: scan: %w", err)
		}
	}
	return nil
}

// digest hashes the replicated state of partition in eng, its items
// those of the spans data.
func digest(eng *engine.Engine, partition uint64, data []*partitapb.Span) ([32]byte, error) {
	h := sha256.New()
	err := scan(eng, partition, data, func(k, v []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(k)))
		h.Write(n[:])
		h.Write(k)
		binary.BigEndian.PutUint64(n[:], uint64(len(v)))
		h.Write(n[:])
		h.Write(v)
	})
	var d [32]byte
	h.Sum(d[:0])
	return d, err
}

// diff describes up to max differences between the replicated states of
// partition on nodes a and b.
func (c *Cluster) diff(a, b, partition uint64, max int) string {
	load := func(id uint64) map[string]string {
		m := make(map[string]string)
		st := c.Store(id)
		if st == nil {
			return m
		}
		d, _ := st.Descriptor(partition)
		c.WithEngine(id, st, func(eng *engine.Engine) error {
			return scan(eng, partition, d.GetSpans(), func(k, v []byte) { m[string(k)] = string(v) })
		})
		return m
	}
	ma, mb := load(a), load(b)
	var out []string
	for k, v := range ma {
		if w, ok := mb[k]; !ok || w != v {
			out = append(out, fmt.Sprintf("  %q: node %d %q, node %d %q (present %v)", k, a, v, b, w, ok))
		}
	}
	for k, v := range mb {
		if _, ok := ma[k]; !ok {
			out = append(out, fmt.Sprintf("  %q: only on node %d: %q", k, b, v))
		}
	}
	sort.Strings(out)
	if len(out) > max {
		out = append(out[:max], fmt.Sprintf("  ... %d more", len(out)-max))
	}
	return strings.Join(out, "\n")
}

// WaitApplied waits until every running replica of partition has applied
// the same index, at least the leader's commit index.
func (c *Cluster) WaitApplied(partition uint64) bool {
	return c.waitFor(func() bool {
		ls := c.Store(c.LeaderNow(partition))
		if ls == nil {
			return false
		}
		commit := ls.Replica(partition).Status().Commit
		for _, id := range c.Members(partition) {
			st := c.Store(id)
			if st == nil || st.Replica(partition) == nil {
				return false
			}
			if st.Replica(partition).Applied() < commit {
				return false
			}
		}
		return true
	})
}

// RequireConsistent waits for every replica of partition to catch up,
// then fails t unless all of them have applied the same index with the
// same state.
func (c *Cluster) RequireConsistent(t testing.TB, partition uint64) {
	t.Helper()
	if !c.WaitApplied(partition) {
		t.Fatalf("replicas of partition %d did not catch up within %v", partition, c.cfg.Wait)
	}
	var states []ReplicaState
	stable := c.waitFor(func() bool {
		var err error
		states, err = c.ReplicaStates(partition)
		if err != nil {
			t.Fatal(err)
		}
		return len(states) == len(c.Members(partition)) && sameApplied(states)
	})
	if !stable {
		t.Fatalf("replicas of partition %d never agreed on an applied index: %+v", partition, states)
	}
	for _, s := range states[1:] {
		if s.Digest != states[0].Digest {
			t.Fatalf("partition %d diverged at applied index %d: node %d has state %x, node %d has %x; first differences:\n%s",
				partition, s.Applied, states[0].Node, states[0].Digest[:8], s.Node, s.Digest[:8],
				c.diff(states[0].Node, s.Node, partition, 10))
		}
	}
}

// RequireConsistentTable is RequireConsistent for every partition of
// table: its halves, after splits.
func (c *Cluster) RequireConsistentTable(t testing.TB, table uint64) {
	t.Helper()
	placed := c.waitFor(func() bool {
		c.Reconcile(table)
		for p := range c.Layout(table) {
			members := c.Members(p)
			if members == nil {
				return false
			}
			for _, id := range members {
				if st := c.Store(id); st == nil || st.Replica(p) == nil {
					return false
				}
			}
		}
		return true
	})
	if !placed {
		t.Fatalf("the partitions of table %d are not on all their members after %v: %v", table, c.cfg.Wait, c.Layout(table))
	}
	for p := range c.Layout(table) {
		c.RequireConsistent(t, p)
	}
}

func sameApplied(states []ReplicaState) bool {
	for _, s := range states[1:] {
		if s.Applied != states[0].Applied {
			return false
		}
	}
	return true
}
