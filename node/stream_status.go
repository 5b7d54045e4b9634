package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/partitapb"
)

// StreamStatusJob is the name of the job that brings a table's stream
// from ENABLING to ENABLED, or DISABLING to DISABLED (docs/streams.md,
// "Status").
const StreamStatusJob = "stream-status"

// streamStatusEvery is the period of the stream-status job; the node
// that served an UpdateTable changing a stream also runs it at once.
const streamStatusEvery = time.Second

// errTableMoved is why a stream's cuts are not written: the table's
// record changed since its partitions were cut (the next attempt cuts
// them again).
var errTableMoved = errors.New("the table changed while its partitions were cut")

// errNothingToSettle ends a record update that another node's job made
// already.
var errNothingToSettle = errors.New("no stream to settle")

// registerStreamStatusJob registers the stream-status job. Every node
// runs it (on the tables its directory shows settling): two nodes
// settling one stream at once cut it twice, and the second finds it
// settled.
func (n *Node) registerStreamStatusJob(m *daemon.Manager) error {
	return m.Register(daemon.JobSpec{
		Name:     StreamStatusJob,
		Kind:     daemon.Periodic,
		Interval: streamStatusEvery,
		Jitter:   streamStatusEvery / 5,
		Timeout:  time.Minute,
		Run:      func(ctx context.Context, _ *daemon.Cycle) error { return n.settleStreams(ctx) },
	})
}

// settling says whether one of t's streams is ENABLING or DISABLING.
func settling(t *partitapb.Table) bool {
	if t.GetDeletedUnixNanos() != 0 {
		return false
	}
	for _, c := range t.GetStreamCuts() {
		if c.GetSettling() {
			return true
		}
	}
	return false
}

// settleStreams settles the streams of every table the node's directory
// shows ENABLING or DISABLING.
func (n *Node) settleStreams(ctx context.Context) error {
	var errs []error
	for _, t := range n.dir.Snapshot().Tables {
		if !settling(t) {
			continue
		}
		if err := n.settleTableStreams(ctx, t.GetName()); err != nil {
			errs = append(errs, fmt.Errorf("node: settle the stream of %q: %w", t.GetName(), err))
		}
	}
	return errors.Join(errs...)
}

// settleAttempts bounds the attempts of one cycle at one table whose
// record keeps changing (a split, another update).
const settleAttempts = 3

// settleTableStreams cuts each partition's change log of the named table
// for its settling stream, then writes the cuts and the stream's new
// status into the table's record. A cut sets the partition's change
// floor to the table's view (as a global index's backfill does): the
// records after the log's end at that point were evaluated with the
// view, so an ENABLING stream starts after it (and misses no write
// acknowledged after it shows ENABLED), a DISABLING one ends there.
func (n *Node) settleTableStreams(ctx context.Context, name string) error {
	var err error
	for range settleAttempts {
		var t *partitapb.Table
		if t, err = n.router.FreshTable(ctx, name); err != nil {
			return err
		}
		if !settling(t) {
			return nil
		}
		if err = n.settleOnce(ctx, t); !errors.Is(err, errTableMoved) {
			return err
		}
	}
	return err
}

// settleOnce cuts every partition of t (as read) and writes the cuts,
// refused with errTableMoved if t's record changed meanwhile.
func (n *Node) settleOnce(ctx context.Context, t *partitapb.Table) error {
	var cuts []*partitapb.StreamCut
	for _, p := range t.GetPartitions() {
		last, known, err := n.router.CutChangeLog(ctx, t, p)
		if err != nil {
			return fmt.Errorf("cut partition %d: %w", p.GetId(), err)
		}
		if known {
			cuts = append(cuts, &partitapb.StreamCut{Partition: p.GetId(), Seq: last})
		}
	}
	var status string
	_, err := n.router.UpdateTable(ctx, t.GetName(), func(cur *partitapb.Table) (*partitapb.Table, error) {
		if cur.GetRevision() != t.GetRevision() {
			return nil, errTableMoved
		}
		if !settling(cur) {
			return nil, errNothingToSettle
		}
		for _, c := range cur.GetStreamCuts() {
			if !c.GetSettling() {
				continue
			}
			if st := cur.GetStream(); st != nil && st.GetEnabledUnixNanos() == c.GetEnabledUnixNanos() {
				c.Starts, status = cuts, "ENABLED"
			} else {
				c.Ends, status = cuts, "DISABLED"
			}
			c.Settling = false
		}
		return cur, nil
	})
	if errors.Is(err, errNothingToSettle) {
		return nil
	}
	if err != nil {
		return err
	}
	n.log.Info("a stream settled", "table", t.GetName(), "status", status, "partitions", len(cuts))
	return nil
}
