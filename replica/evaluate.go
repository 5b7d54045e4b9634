package replica

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
)

// ErrNotReady: this replica leads its partition but has not yet applied
// an entry of its own term, so its state may lack writes of an earlier
// leader still in its log; an item write cannot be evaluated against it
// yet. Nothing was proposed: retry shortly.
var ErrNotReady = errors.New("replica: leader has not applied its term's first entry")

// evaluated is an item write this leader evaluated and proposed as
// Effects, until they apply here or leadership is lost: its item's key,
// its lease index, and its full Result (the images, which the log does
// not carry).
type evaluated struct {
	key string
	lai uint64
	res *partitapb.Result
	// coll and collDelta: the item collection whose size the write
	// changes, and by how much (counted in Replica.collFlight until the
	// write applies).
	coll      string
	collDelta int64
}

// pending is the last write of an item this leader proposed and has not
// yet applied: the next write of the item is evaluated over it, and
// depends on it.
type pending struct {
	lai   uint64
	prior fsm.Prior
	// txn: the write is a transaction command (fsm.IsTxnCommand), which
	// changes an intent or record that Prior does not model: the key's
	// next command waits until it applies (ErrNotReady).
	txn bool
}

// errTxnInFlight: a transaction command of the key is in flight; the
// next command of the key is evaluated once it applies.
var errTxnInFlight = fmt.Errorf("replica: a transaction command of the item is in flight: %w", ErrNotReady)

// ProposeEvaluated proposes the item write cmd (fsm.IsItemWrite) the way
// a leader does: under the item's latch it evaluates cmd against its
// applied state, over the item's last write still in flight if any (the
// Effects then depend on that write's), and proposes the resulting
// Effects, which every replica applies without reading. The latch is held
// from the evaluation to the proposal: the writes of one item are
// evaluated one after the other, in the order of the log, and pipelined.
//
// The returned channel receives the Outcome once the Effects apply here
// (or ErrAmbiguous if leadership is lost first); an Outcome whose Result
// carries STALE_EVALUATION wrote nothing and asks for a new evaluation. A
// command refused before proposing (the range fence) or already applied
// (its record) is answered at once.
//
// The at-most-once check is the leader's: a proposal of cmd's id still
// in flight here is joined, not repeated, and an applied one answers from
// its record (read unless cmd is a first attempt, as in Propose).
func (r *Replica) ProposeEvaluated(ctx context.Context, cmd *partitapb.Command) (<-chan Outcome, error) {
	if len(cmd.GetId()) == 0 {
		return nil, errors.New("replica: a command needs an id")
	}
	id := string(cmd.GetId())
	key := string(fsm.LatchKey(cmd))
	if err := r.latch.acquire(ctx, key); err != nil {
		return nil, fmt.Errorf("replica: partition %d: latch: %w", r.cfg.Partition, err)
	}
	defer r.latch.release(key)
	if ck := fsm.CollectionLatchKey(cmd); ck != nil {
		if err := r.latch.acquire(ctx, string(ck)); err != nil {
			return nil, fmt.Errorf("replica: partition %d: collection latch: %w", r.cfg.Partition, err)
		}
		defer r.latch.release(string(ck))
	}
	start := r.cfg.Now()
	ev, err := r.evaluate(cmd, key)
	switch {
	case err != nil:
		return nil, err
	case ev.joined != nil:
		return ev.joined, nil
	case ev.eff == nil:
		return answered(Outcome{Result: ev.res, ApplyStart: start, ApplyEnd: r.cfg.Now()}), nil
	}
	term, eff, res := ev.term, ev.eff, ev.res
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkLeader(); err != nil {
		return nil, err
	}
	if r.raw.BasicStatus().Term != term {
		return nil, ErrNotReady
	}
	r.nextLAI++
	eff.Term, eff.LeaseIndex = term, r.nextLAI
	eff.CollectBefore = r.collectDue()
	data, err := fsm.EncodeEffects(eff)
	if err != nil {
		return nil, err
	}
	ch := make(chan Outcome, 1)
	r.waiters[id] = append(r.waiters[id], ch)
	if err := r.raw.Propose(data); err != nil {
		r.dropWaiter(id, ch)
		return nil, r.proposeError(err)
	}
	done := &evaluated{key: key, lai: eff.LeaseIndex, res: res}
	r.evals[id] = done
	if eff.GetError() == nil && len(eff.GetLocalCollectionKey()) > 0 && eff.GetLocalCollectionDelta() != 0 {
		done.coll, done.collDelta = string(eff.GetLocalCollectionKey()), eff.GetLocalCollectionDelta()
		r.collFlight[done.coll] += done.collDelta
	} else if eff.GetError() == nil && len(eff.GetReservedCollectionKey()) > 0 && eff.GetReservedCollectionDelta() != 0 {
		// A transaction's prepare: its intent's growth, until the intent
		// itself is applied (fsm.preparedGrowth counts it then).
		done.coll, done.collDelta = string(eff.GetReservedCollectionKey()), eff.GetReservedCollectionDelta()
		r.collFlight[done.coll] += done.collDelta
	}
	if eff.GetError() == nil {
		r.pending[key] = &pending{lai: eff.LeaseIndex, prior: fsm.Prior{Key: eff.Key, Value: eff.Value, Delete: eff.Delete},
			txn: fsm.IsTxnCommand(cmd)}
	}
	return ch, nil
}

// evaluation is what evaluate decided: the term it evaluated in, the
// Effects to propose with the full Result; or a Result to answer at once
// (no Effects); or the channel of a proposal of the same id to join.
type evaluation struct {
	term   uint64
	eff    *partitapb.Effects
	res    *partitapb.Result
	joined <-chan Outcome
}

// evaluate evaluates cmd against the applied state, over key's write in
// flight if any, unless Halt came first.
func (r *Replica) evaluate(cmd *partitapb.Command, key string) (evaluation, error) {
	r.halt.RLock()
	defer r.halt.RUnlock()
	if r.halted {
		return evaluation{}, &NotLeaderError{Partition: r.cfg.Partition}
	}
	st, err := r.evalState(string(cmd.GetId()), key)
	if err != nil || st.joined != nil {
		return evaluation{joined: st.joined}, err
	}
	if st.pending != nil && st.pending.txn {
		return evaluation{}, errTxnInFlight
	}
	if !cmd.GetFirstAttempt() {
		res, found, err := r.readRecord(cmd, st.floor)
		if err != nil {
			return evaluation{}, err
		}
		if found {
			again, err := r.preparedByThisTxn(cmd, res)
			if err != nil || !again {
				return evaluation{res: res}, err
			}
		}
	}
	var prior *fsm.Prior
	if st.pending != nil {
		prior = &st.pending.prior
	}
	known, err := r.facts()
	if err != nil {
		return evaluation{}, err
	}
	clog, err := r.changeLog(st.desc, cmd.GetChangeView(), cmd.GetChangeViewRevision())
	if err != nil {
		return evaluation{}, err
	}
	hints := fsm.EvalHints{NoIntents: !known.intents, CollectionInFlight: r.collectionInFlight,
		Blind: !r.cfg.ExactPuts && clog.View == partitapb.ChangeView_CHANGE_VIEW_NONE}
	eff, res, err := fsm.Evaluate(r.cfg.Engine.Reader(), st.desc, cmd, prior, hints)
	if err != nil {
		return evaluation{}, fmt.Errorf("replica: partition %d: evaluate: %w", r.cfg.Partition, err)
	}
	if eff != nil && st.pending != nil {
		eff.DependsOn = st.pending.lai
	}
	if eff != nil && fsm.LogsChange(cmd, eff) {
		if err := r.withChange(eff, res, clog); err != nil {
			return evaluation{}, err
		}
	}
	return evaluation{term: st.term, eff: eff, res: res}, nil
}

// Halt stops evaluations: once it returns, none reads the engine, which
// the caller may then close. Later ones fail with NotLeaderError.
func (r *Replica) Halt() {
	r.stopFill()
	r.halt.Lock()
	r.halted = true
	r.halt.Unlock()
	// The snapshots made for MsgSnaps that no round sent are released
	// too, and none is made after: each pins a Pebble snapshot, and the
	// engine refuses to close while one is open.
	r.mu.Lock()
	defer r.mu.Unlock()
	r.engineDone = true
	r.releaseOutgoing()
}

// collectDue returns the time before which the next Effects collect the
// at-most-once records (0: not yet): a retry window behind this leader's
// clock, every tenth of a window.
func (r *Replica) collectDue() int64 {
	w := r.cfg.RecordWindow
	if w <= 0 {
		return 0
	}
	t := r.cfg.Now().Add(-w).UnixNano()
	if t < r.collectedTo+int64(w/10) {
		return 0
	}
	r.collectedTo = t
	return t
}

// evalView is what an evaluation needs of the replica's state: the term
// it evaluates in, the range (as of the last committed round), a bound at
// or above the records' collection floor and the item's write in flight
// (nil: none); or, when a proposal of the command's id is in flight, the
// channel that joins it.
type evalView struct {
	term    uint64
	desc    *partitapb.Descriptor
	floor   int64
	pending *pending
	joined  <-chan Outcome
}

// evalState returns the evalView of command id writing key, once this
// leader has applied an entry of its term (ErrNotReady until then). The
// first evaluation of a term starts the lease indexes it hands out above
// the partition's lease-applied index, and reads the floor: every Effects
// of an earlier term that can still apply is then applied, and in this
// term only this leader's entries raise the floor (collectDue raises the
// bound with them).
func (r *Replica) evalState(id, key string) (evalView, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkLeader(); err != nil {
		return evalView{}, err
	}
	if _, ok := r.evals[id]; ok {
		ch := make(chan Outcome, 1)
		r.waiters[id] = append(r.waiters[id], ch)
		return evalView{joined: ch}, nil
	}
	term := r.raw.BasicStatus().Term
	if r.appliedTerm != term {
		return evalView{}, ErrNotReady
	}
	if r.laiTerm != term {
		lai, err := fsm.ReadLeaseIndex(r.cfg.Engine.Reader(), r.cfg.Partition)
		if err != nil {
			return evalView{}, fmt.Errorf("replica: partition %d: %w", r.cfg.Partition, err)
		}
		floor, err := fsm.ReadRecordFloor(r.cfg.Engine.Reader(), r.cfg.Partition)
		if err != nil {
			return evalView{}, fmt.Errorf("replica: partition %d: %w", r.cfg.Partition, err)
		}
		r.nextLAI = max(r.nextLAI, lai)
		r.collectedTo = max(r.collectedTo, floor)
		r.laiTerm = term
	}
	return evalView{term: term, desc: r.published, floor: r.collectedTo, pending: r.pending[key]}, nil
}

// readRecord reads the at-most-once record of cmd: its timed record
// (fsm.CommandRecordKey), or the untimed one a Command of the old format
// left. A command timed below the collection floor without an untimed
// record, whose timed record may have been collected, is refused: whether
// it applied cannot be known.
//
// floor is at or above the partition's collection floor: evalState's.
func (r *Replica) readRecord(cmd *partitapb.Command, floor int64) (*partitapb.Result, bool, error) {
	id, t := string(cmd.GetId()), cmd.GetUnixNanos()
	keys := [][]byte{commandKey(r.cfg.Partition, id)}
	if t > 0 && t >= floor {
		if r.records.absent(cmd.GetId(), floor) {
			return nil, false, nil
		}
		r.fillRecords()
		keys = append([][]byte{fsm.CommandRecordKey(r.cfg.Partition, id, t)}, keys...)
	}
	_, raw, err := engine.ProbeFirst(r.cfg.Engine.Reader(), keys...)
	switch {
	case err == nil:
		res := &partitapb.Result{}
		if err := proto.Unmarshal(raw, res); err != nil {
			return nil, false, fmt.Errorf("replica: corrupt command record: %w", err)
		}
		return res, true, nil
	case !errors.Is(err, engine.ErrNotFound):
		return nil, false, fmt.Errorf("replica: partition %d: read command record: %w", r.cfg.Partition, err)
	}
	if t > 0 && t < floor {
		return &partitapb.Result{Error: partitapb.Errorf(partitapb.Error_VALIDATION,
			"the request is older than the retry window of its partition: its outcome is unknown")}, true, nil
	}
	return nil, false, nil
}

// fillRecords starts filling the record filter when it is idle and no
// round of the replica runs: the state it scans is taken between two
// rounds, and apply adds the ids of every round after. The scan (up to a
// retry window of records) runs on a goroutine of its own, so that the
// write that found the filter idle does not wait for it; until it
// completes, writes probe the records as they would without a filter.
// With a round running it waits for a later call.
func (r *Replica) fillRecords() {
	if !r.records.idle() || !r.TryLock() {
		return
	}
	if !r.fills.start() {
		r.Unlock()
		return // halted or closed
	}
	gen := r.records.begin()
	snap := r.cfg.Engine.NewSnapshot()
	r.Unlock()
	go func() {
		defer r.fills.done()
		defer snap.Close()
		if r.fillStarted != nil {
			r.fillStarted()
		}
		if err := r.records.fill(snap, r.cfg.Partition, gen); err != nil {
			r.records.reset()
			r.cfg.Logger.Warn("could not fill the record filter: records are probed", "partition", r.cfg.Partition, "err", err)
		}
	}()
}

// stopFill ends the filling of the record filter for good: a fill in
// progress stops at its next check and is waited for (its engine snapshot
// closed), and none starts after.
func (r *Replica) stopFill() {
	r.fills.refuse()
	r.records.reset()
	r.fills.wait()
}

// preparedByThisTxn says a retried transaction prepare whose record was
// found (res) is evaluated again: its transaction's intent on the item
// still stands. The record keeps no item (recordCommand: a prepare asks
// for none), while the prepare's answer must carry the item as the
// prepare found it (a read transaction's every value); the intent keeps
// the item as it was until it resolves, and fsm answers a prepare of the intent's own transaction
// with it, writing nothing new. Once the intent is gone the record
// stands: evaluated again, the prepare would write a second intent.
func (r *Replica) preparedByThisTxn(cmd *partitapb.Command, res *partitapb.Result) (bool, error) {
	p := cmd.GetTxnPrepare()
	if p == nil || res.GetError() != nil {
		return false, nil
	}
	held, err := fsm.ReadTxnIntent(r.cfg.Engine.Reader(), r.cfg.Partition, p.GetKey())
	if err != nil {
		return false, fmt.Errorf("replica: partition %d: %w", r.cfg.Partition, err)
	}
	return held != nil && bytes.Equal(held.GetTxnId(), p.GetTxnId()), nil
}

// commandKey is the key of the untimed at-most-once record of command id
// (a Command's).
func commandKey(partition uint64, id string) []byte { return fsm.CommandRecordKey(partition, id, 0) }

// answered returns a channel holding o.
func answered(o Outcome) <-chan Outcome {
	ch := make(chan Outcome, 1)
	ch <- o
	return ch
}

// applyEffects applies an Effects entry: blind, with no read of the item
// or of the command's record (the leader checked both), recording the
// command unless the entry was refused.
func (r *Replica) applyEffects(ka *fsm.Applier, b *engine.Batch, data []byte, term uint64) (string, *partitapb.Result, uint64, error) {
	eff, err := fsm.DecodeEffects(data)
	if err != nil {
		return "", nil, 0, fmt.Errorf("replica: partition %d: %w", r.cfg.Partition, err)
	}
	res, err := ka.ApplyEffects(eff, term)
	if err != nil {
		return "", nil, 0, fmt.Errorf("replica: partition %d: %w", r.cfg.Partition, err)
	}
	id := string(eff.GetId())
	r.records.add(eff.GetId(), eff.GetUnixNanos())
	if code := res.GetError().GetCode(); code != partitapb.Error_STALE_EVALUATION && code != partitapb.Error_WRONG_RANGE {
		if err := recordCommand(b, fsm.CommandRecordKey(r.cfg.Partition, id, eff.GetUnixNanos()), res, eff.GetRecordOld(), eff.GetRecordNew(), eff.GetRecordSizes()); err != nil {
			return "", nil, 0, err
		}
	}
	return id, res, eff.GetLeaseIndex(), nil
}

// answerEffects answers the proposal whose Effects (lease index lai)
// applied: the item's next write is evaluated over the applied state
// again if it was the last one in flight, and its waiters get the full
// Result evaluated, or the refusal. An entry that is not this leader's
// current proposal of the id (an older one, refused) answers nobody.
func (r *Replica) answerEffects(a answer) {
	p, ok := r.evals[a.id]
	if !ok || p.lai != a.lai {
		return
	}
	delete(r.evals, a.id)
	if w := r.pending[p.key]; w != nil && w.lai == p.lai {
		delete(r.pending, p.key)
	}
	if p.coll != "" {
		if r.collFlight[p.coll] -= p.collDelta; r.collFlight[p.coll] == 0 {
			delete(r.collFlight, p.coll)
		}
	}
	o := a.o
	// The refusals at apply reach the waiters (a deleted table's
	// partition refuses with TABLE_NOT_FOUND, fsm.FenceDeletedTable);
	// otherwise they get what the leader evaluated.
	switch o.Result.GetError().GetCode() {
	case partitapb.Error_STALE_EVALUATION, partitapb.Error_WRONG_RANGE, partitapb.Error_TABLE_NOT_FOUND:
	default:
		o.Result = p.res
	}
	r.deliver(a.id, o)
}

// dropEvaluated forgets every proposal and write in flight: this replica
// no longer leads, and a leader evaluates only once every earlier entry
// that can apply has.
func (r *Replica) dropEvaluated() {
	r.records.reset()
	clear(r.evals)
	clear(r.pending)
	clear(r.collFlight)
}

// collectionInFlight is the size change that this leader's writes in
// flight make to the item collection whose size record is under key
// (fsm.EvalHints.CollectionInFlight). A write leaves the count once its
// answer is handled, just after its batch commits: in between it counts
// twice, which may refuse a write that would have fitted, never pass one
// that does not.
func (r *Replica) collectionInFlight(key []byte) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.collFlight[string(key)]
}
