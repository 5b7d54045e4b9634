package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// Splits in the harness. A table starts as one partition (Bootstrap(p):
// table p, partition p); FaultSplit splits one of its partitions in the
// middle of its hash range through the production command (SplitRange).
// There is no directory: the layout is what the running replicas'
// descriptors say, the newest range generation winning (Owner), and
// Reconcile plays the part of a node's reconciler, creating the empty
// replica of a right half on a node that missed the split (it then gets a
// snapshot). Key/value clients address a table and a key, and follow a
// split as the router does (WRONG_RANGE: ask the new owner).

// FaultSplit splits one partition of the nemesis's table in the middle
// of its hash range. It is not undone (merges are not in the harness).
const FaultSplit Fault = "split"

// firstSplitID is the id of the first right half: partition ids of
// splits never collide with the tables' own.
const firstSplitID = 1000

// Layout returns the partitions of table: every partition a running
// replica's descriptor places in table's key span, at its newest range
// generation.
func (c *Cluster) Layout(table uint64) map[uint64]*partitapb.Descriptor {
	span := Span(table)
	out := map[uint64]*partitapb.Descriptor{}
	for _, id := range c.Nodes() {
		st := c.Store(id)
		if st == nil {
			continue
		}
		for _, r := range st.Replicas() {
			d := r.Descriptor()
			sps := d.GetSpans()
			if len(sps) != 1 || bytes.Compare(sps[0].GetStart(), span.GetStart()) < 0 || bytes.Compare(sps[0].GetEnd(), span.GetEnd()) > 0 {
				continue
			}
			if old, ok := out[r.Partition()]; !ok || d.GetGeneration() > old.GetGeneration() {
				out[r.Partition()] = d
			}
		}
	}
	return out
}

// Owner returns the partition owning key of table: of the running
// replicas whose range holds the key, the one at the newest range
// generation (table itself when none is running).
func (c *Cluster) Owner(table uint64, key string) uint64 {
	k := ItemKey(table, key)
	owner, gen := table, uint64(0)
	for p, d := range c.Layout(table) {
		if covers(d, k) && d.GetGeneration() > gen {
			owner, gen = p, d.GetGeneration()
		}
	}
	return owner
}

// covers says d's range holds key.
func covers(d *partitapb.Descriptor, key []byte) bool {
	for _, sp := range d.GetSpans() {
		if bytes.Compare(sp.GetStart(), key) <= 0 && bytes.Compare(key, sp.GetEnd()) < 0 {
			return true
		}
	}
	return false
}

// Split splits partition of table in the middle of its hash range, the
// right half getting a new id, and describes what happened.
func (c *Cluster) Split(ctx context.Context, table, partition uint64) string {
	d := c.Layout(table)[partition]
	if d == nil {
		return fmt.Sprintf("split p%d: no running replica", partition)
	}
	t, lo, hi, ok := fsm.ParseHashSpan(d.GetSpans()[0])
	width := hi - lo // wraps to the right width when hi is 0 (the end of the hash space)
	if !ok || t != table || (width < 2 && !(lo == 0 && hi == 0)) {
		return fmt.Sprintf("split p%d: range too small", partition)
	}
	mid := lo + width/2
	if lo == 0 && hi == 0 {
		mid = 1 << 63
	}
	c.mu.Lock()
	c.splits++
	right := uint64(firstSplitID) + c.splits
	c.mu.Unlock()
	for c.LeaderNow(partition) == 0 {
		if !sleep(ctx, c.cfg.TickInterval) {
			return fmt.Sprintf("split p%d: no leader", partition)
		}
	}
	voters := c.Voters(partition)
	cmd := &partitapb.Command{Id: c.nextOpID(), Op: &partitapb.Command_SplitRange{SplitRange: &partitapb.SplitRange{
		TableId: table, SplitHash: mid, RightPartition: right, ExpectedGeneration: d.GetGeneration(), Voters: voters,
	}}}
	res, err := c.NewClient().Propose(ctx, partition, cmd)
	outcome := "ok"
	switch {
	case err != nil:
		outcome = "unknown: " + err.Error()
	case res.GetError() != nil:
		outcome = "refused: " + res.GetError().GetMessage()
	}
	return fmt.Sprintf("split p%d at %#x -> p%d: %s", partition, mid, right, outcome)
}

// Voters returns partition's voters as its leader sees them.
func (c *Cluster) Voters(partition uint64) []uint64 {
	st := c.Store(c.LeaderNow(partition))
	if st == nil || st.Replica(partition) == nil {
		return nil
	}
	return append([]uint64(nil), st.Replica(partition).ConfState().Voters...)
}

// splitRandom performs one FaultSplit on a partition of table chosen at
// random.
func (c *Cluster) splitRandom(table uint64, rng *rand.Rand) string {
	layout := c.Layout(table)
	if len(layout) == 0 {
		return "split: no partition running"
	}
	ids := make([]uint64, 0, len(layout))
	for p := range layout {
		ids = append(ids, p)
	}
	sortIDs(ids)
	p := ids[rng.IntN(len(ids))]
	ctx, cancel := context.WithTimeout(context.Background(), 50*c.cfg.TickInterval)
	defer cancel()
	return c.Split(ctx, table, p)
}

func sortIDs(ids []uint64) {
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
}

// Reconcile creates, on every running node its leader lists, the empty
// replica of each partition of table the node lacks, as a node's
// reconciler does, unless another replica there still claims its range
// (the node has not caught up on the split yet): its leader then sends it
// a snapshot.
func (c *Cluster) Reconcile(table uint64) {
	for p, d := range c.Layout(table) {
		for _, id := range c.Members(p) {
			st := c.Store(id)
			if st == nil || st.Replica(p) != nil || st.Destroyed(p) {
				continue
			}
			// Refused while the range is claimed; a later pass succeeds.
			_ = st.AddEmptyReplicaUnclaimed(p, d.GetSpans())
		}
	}
}

// errMoved: the key is no longer in the partition a client asked.
var errMoved = errors.New("harness: the key moved to another partition")

// proposeKey proposes cmd, a write of key of table, to the partition
// owning the key, following splits until ctx ends.
func (cl *Client) proposeKey(ctx context.Context, table uint64, key string, cmd *partitapb.Command) (*partitapb.Result, error) {
	for {
		res, err := cl.Propose(ctx, cl.c.Owner(table, key), cmd)
		if err != nil || res.GetError().GetCode() != partitapb.Error_WRONG_RANGE {
			return res, err
		}
		// Refused, not applied: ask the owner the replicas name now.
		if !sleep(ctx, cl.c.cfg.TickInterval) {
			return nil, fmt.Errorf("%w: %s", ErrNotApplied, res.GetError().GetMessage())
		}
	}
}

// PutKey writes value under key of table, wherever splits moved it.
func (cl *Client) PutKey(ctx context.Context, table uint64, key, value string) error {
	res, err := cl.proposeKey(ctx, table, key, cl.PutCommand(table, key, value, false, ""))
	if err != nil {
		return err
	}
	if e := res.GetError(); e != nil {
		return fmt.Errorf("harness: put rejected: %s", e.GetMessage())
	}
	return nil
}

// SwapKey writes value under key of table, wherever splits moved it, and
// returns the value it replaced ("" for none): a PutItem with
// ReturnValues ALL_OLD, whose answer a retry takes from the write's
// at-most-once record (Command.record_old).
func (cl *Client) SwapKey(ctx context.Context, table uint64, key, value string) (string, error) {
	cmd := cl.PutCommand(table, key, value, false, "")
	cmd.RecordOld = true
	res, err := cl.proposeKey(ctx, table, key, cmd)
	if err != nil {
		return "", err
	}
	if e := res.GetError(); e != nil {
		return "", fmt.Errorf("harness: put rejected: %s", e.GetMessage())
	}
	return oldValue(res)
}

// CompareAndSetKey is CompareAndSet of key of table, wherever splits
// moved it; refused, it also returns the value it found ("" for none),
// as ReturnValuesOnConditionCheckFailure ALL_OLD does.
func (cl *Client) CompareAndSetKey(ctx context.Context, table uint64, key, expect, value string) (bool, string, error) {
	cmd := cl.PutCommand(table, key, value, true, expect)
	cmd.RecordOld = true
	res, err := cl.proposeKey(ctx, table, key, cmd)
	if err != nil {
		return false, "", err
	}
	switch e := res.GetError(); {
	case e == nil:
		return true, "", nil
	case e.GetCode() == partitapb.Error_CONDITION_FAILED:
		found, err := oldValue(res)
		return false, found, err
	default:
		return false, "", fmt.Errorf("harness: conditional put rejected: %s", e.GetMessage())
	}
}

// oldValue is the value of the old item res carries ("" for none).
func oldValue(res *partitapb.Result) (string, error) {
	if !res.GetHasOld() {
		return "", nil
	}
	it, err := item.DecodeItem(res.GetOldItem())
	if err != nil {
		return "", fmt.Errorf("harness: decode old item: %w", err)
	}
	return it["v"].S, nil
}

// GetKey reads key of table linearizably, wherever splits moved it: the
// value is read from the owner's leader after its read index, and kept
// only if that replica's range still held the key after the read.
func (cl *Client) GetKey(ctx context.Context, table uint64, key string) (string, error) {
	k := ItemKey(table, key)
	for {
		p := cl.c.Owner(table, key)
		var v string
		err := cl.read(ctx, p, func(d func() *partitapb.Descriptor, eng *engine.Engine) error {
			var err error
			if v, err = ValueOf(eng, table, key); err != nil {
				return err
			}
			if !covers(d(), k) {
				return errMoved
			}
			return nil
		})
		if !errors.Is(err, errMoved) {
			return v, err
		}
		if !sleep(ctx, cl.c.cfg.TickInterval) {
			return "", fmt.Errorf("%w: %w", ErrNotApplied, err)
		}
	}
}
