package replica

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
)

// DefaultChangeRetention is how long a change log keeps its records
// unless the table's setting (changelog.retention) says otherwise: 24
// hours, as a DynamoDB stream does.
const DefaultChangeRetention = 24 * time.Hour

// ChangeLogs tells the leaders of a store's replicas what each table's
// change log keeps (its view) and for how long. A leader puts the view
// of the item's table into the Effects it proposes (fsm.WithChange), so
// apply needs no lookup, and trims the log to the retention. Its zero
// value logs nothing and retains DefaultChangeRetention. Safe for
// concurrent use.
type ChangeLogs struct {
	retention atomic.Int64 // nanoseconds; 0: DefaultChangeRetention
	tables    atomic.Pointer[map[uint64]TableChangeLog]
}

// TableChangeLog is one table's change log: the view (CHANGE_VIEW_NONE:
// no log), the retention (0: the ChangeLogs') and the revision of the
// table record they were read from (Table.revision).
type TableChangeLog struct {
	View      partitapb.ChangeView
	Retention time.Duration
	Revision  uint64
}

// SetRetention sets the retention of the tables without their own (0:
// DefaultChangeRetention).
func (c *ChangeLogs) SetRetention(d time.Duration) { c.retention.Store(int64(d)) }

// SetTables replaces the change logs of the tables named by id: every
// table the node knows, those that log nothing included (their revision
// decides against a router's older hint). A table absent from tables is
// unknown: a write to it logs with its router's hint.
func (c *ChangeLogs) SetTables(tables map[uint64]TableChangeLog) { c.tables.Store(&tables) }

// forRange is the change log of the table whose range desc holds, its
// retention filled in, and whether the node knows the table.
func (c *ChangeLogs) forRange(desc *partitapb.Descriptor) (t TableChangeLog, known bool) {
	if c == nil {
		return TableChangeLog{Retention: DefaultChangeRetention}, false
	}
	if m := c.tables.Load(); m != nil && len(*m) > 0 && len(desc.GetSpans()) > 0 {
		if id, _, _, ok := fsm.ParseHashSpan(desc.GetSpans()[0]); ok {
			t, known = (*m)[id]
		}
	}
	if t.Retention <= 0 {
		t.Retention = time.Duration(c.retention.Load())
	}
	if t.Retention <= 0 {
		t.Retention = DefaultChangeRetention
	}
	return t, known
}

// maxTrimEvery bounds how long a leader waits between two trims of its
// partition's change log; a tenth of the retention when that is shorter.
const maxTrimEvery = time.Minute

// changeLog returns the change log of a write to the range desc as this
// leader evaluates it, widened to the partition's change floor. Its view
// is that of the newer of two table records: this node's (ChangeLogs)
// and the one the command's router read (hint, at revision hintRev:
// Command.change_view and change_view_revision). So a table created
// with a stream logs its first writes wherever they are led, and a view
// turned off is not turned back on by a router whose cache has not seen
// it yet. A hint without a revision (a router before the field) counts
// only where this node's view is none.
func (r *Replica) changeLog(desc *partitapb.Descriptor, hint partitapb.ChangeView, hintRev uint64) (TableChangeLog, error) {
	t, known := r.cfg.ChangeLogs.forRange(desc)
	switch {
	case hintRev == 0:
		if t.View == partitapb.ChangeView_CHANGE_VIEW_NONE {
			t.View = hint
		}
	case !known || hintRev > t.Revision:
		t.View = hint
	}
	floor, err := r.changeFloor()
	if err != nil {
		return TableChangeLog{}, err
	}
	t.View = fsm.UnionView(t.View, floor.View)
	return t, nil
}

// withChange completes the Effects eff of a write this leader evaluated
// with the Result res: the view of the table's change log t (changeLog),
// and, when a trim is due, the sequence below which the records are
// older than the retention and the adopted logs whose every record is.
func (r *Replica) withChange(eff *partitapb.Effects, res *partitapb.Result, t TableChangeLog) error {
	now := r.cfg.Now()
	fsm.WithChange(eff, res, t.View, now.UnixNano())
	due := r.trimAt.Load()
	if now.UnixNano() < due || !r.trimAt.CompareAndSwap(due, now.Add(min(t.Retention/10, maxTrimEvery)).UnixNano()) {
		return nil
	}
	// One snapshot: a trim applying meanwhile must not delete a record
	// the bisection reads.
	snap := r.cfg.Engine.NewSnapshot()
	defer snap.Close()
	cutoff := now.Add(-t.Retention).UnixNano()
	to, err := fsm.ChangeTrimPoint(snap, r.cfg.Partition, cutoff)
	if err != nil {
		return fmt.Errorf("replica: partition %d: %w", r.cfg.Partition, err)
	}
	drop, err := fsm.ExpiredAdoptedLogs(snap, r.cfg.Partition, cutoff)
	if err != nil {
		return fmt.Errorf("replica: partition %d: %w", r.cfg.Partition, err)
	}
	eff.ChangeTrimTo, eff.ChangeDropAdopted = to, drop
	return nil
}

// ReadChanges returns up to limit (0: no limit) of the replica's change
// records after sequence after, with the log's state, as of its
// committed applied state: one engine snapshot, so the page and the
// state agree.
func (r *Replica) ReadChanges(after uint64, limit int) (fsm.Changes, error) {
	snap := r.cfg.Engine.NewSnapshot()
	defer snap.Close()
	c, err := fsm.ReadChanges(snap, r.cfg.Partition, after, limit)
	if err != nil {
		return fsm.Changes{}, fmt.Errorf("replica: partition %d: %w", r.cfg.Partition, err)
	}
	floor, err := fsm.ReadChangeFloor(snap, r.cfg.Partition)
	if err != nil {
		return fsm.Changes{}, fmt.Errorf("replica: partition %d: %w", r.cfg.Partition, err)
	}
	c.FloorRevision = floor.Revision
	return c, nil
}

// ReadAdoptedChanges is ReadChanges of the change log of origin that the
// replica's partition adopted when it merged origin.
func (r *Replica) ReadAdoptedChanges(origin, after uint64, limit int) (fsm.Changes, error) {
	snap := r.cfg.Engine.NewSnapshot()
	defer snap.Close()
	c, err := fsm.ReadAdoptedChanges(snap, r.cfg.Partition, origin, after, limit)
	if err != nil {
		return fsm.Changes{}, fmt.Errorf("replica: partition %d: %w", r.cfg.Partition, err)
	}
	return c, nil
}

// ChangeSegments returns the segments of the replica's change log (their
// range generations and parents), as of its committed applied state.
func (r *Replica) ChangeSegments() ([]*partitapb.ChangeSegment, error) {
	segs, err := fsm.ReadChangeSegments(r.cfg.Engine.Reader(), r.cfg.Partition)
	if err != nil {
		return nil, fmt.Errorf("replica: partition %d: %w", r.cfg.Partition, err)
	}
	return segs, nil
}

// facts are what evaluation needs of the partition's committed state
// beyond the item: its change floor, and whether it holds any intent.
// The replica keeps them in memory once read; a round that changes them
// drops them before its answers go out.
type facts struct {
	floor   fsm.ChangeFloor
	intents bool
}

// facts returns the partition's facts as of the committed applied state.
func (r *Replica) facts() (facts, error) {
	if f := r.known.Load(); f != nil {
		return *f, nil
	}
	r.knownMu.Lock()
	defer r.knownMu.Unlock()
	if f := r.known.Load(); f != nil {
		return *f, nil
	}
	floor, err := fsm.ReadChangeFloor(r.cfg.Engine.Reader(), r.cfg.Partition)
	if err != nil {
		return facts{}, fmt.Errorf("replica: partition %d: %w", r.cfg.Partition, err)
	}
	intents, err := fsm.HasIntents(r.cfg.Engine.Reader(), r.cfg.Partition)
	if err != nil {
		return facts{}, fmt.Errorf("replica: partition %d: %w", r.cfg.Partition, err)
	}
	f := facts{floor: floor, intents: intents}
	r.known.Store(&f)
	return f, nil
}

// HoldsIntents reports whether the partition may hold a transaction's
// intent, as of the committed applied state (from memory once read, as
// evaluation's NoIntents hint is): false means a read of its items need
// not look for one. A round that writes an intent drops the memory
// before the prepare is answered, so a transaction whose prepare was
// acknowledged is seen; a read that misses an intent not yet answered
// precedes the transaction, whose items still hold their committed
// values.
func (r *Replica) HoldsIntents() (bool, error) {
	f, err := r.facts()
	return f.intents, err
}

// changeFloor returns the partition's change floor (fsm.ReadChangeFloor)
// as of the committed applied state.
func (r *Replica) changeFloor() (fsm.ChangeFloor, error) {
	f, err := r.facts()
	return f.floor, err
}

// ChangeFloor is the partition's change floor as of the committed
// applied state, from memory once read: a caller that proposed a floor
// and got its answer sees it.
func (r *Replica) ChangeFloor() (fsm.ChangeFloor, error) { return r.changeFloor() }

// forgetFacts drops the facts kept in memory, once a committed round may
// have changed them: the next evaluation reads them again.
func (r *Replica) forgetFacts() {
	r.knownMu.Lock()
	defer r.knownMu.Unlock()
	r.known.Store(nil)
}

// AdoptedSegments returns the segments of the log of origin the replica's
// partition adopted at a merge (none when it kept none), as of its
// committed applied state.
func (r *Replica) AdoptedSegments(origin uint64) ([]*partitapb.ChangeSegment, error) {
	segs, err := fsm.ReadAdoptedSegments(r.cfg.Engine.Reader(), r.cfg.Partition, origin)
	if err != nil {
		return nil, fmt.Errorf("replica: partition %d: %w", r.cfg.Partition, err)
	}
	return segs, nil
}
