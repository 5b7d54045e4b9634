package router

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/route"
)

// Transactions (docs/transactions.md): a coordinator, here, runs a
// two-phase commit over the partitions of a transaction's items.
//
//	1. TxnSetStatus PENDING   the record, in the partition of the first item (the anchor)
//	2. TxnPrepare on each item, in parallel: condition checked, intent written
//	3. TxnSetStatus COMMITTED the commit point (only if every prepare succeeded)
//	4. TxnResolve on each item, in parallel: the intent's value written (or
//	   dropped on abort), the intent removed
//	5. TxnSetStatus forget    the record removed once no intent refers to it
//	                          (before step 4 when the transaction aborts)
//
// A read transaction takes the same path with lock intents: once every
// lock is held the values it read form one snapshot, valid if its record
// then commits (no recovery aborted it, releasing a lock, meanwhile).
// A coordinator that dies leaves intents behind; whoever meets one after
// its deadline aborts the record if still pending (recoverTxn) and
// resolves the intent by the record's final status.

// TxnDeadline is how long after its start a transaction's intents stand
// before whoever meets them may abort it (if its record is still
// pending).
const TxnDeadline = 5 * time.Second

// maxRecoveries bounds the recoveries of expired transactions one command
// makes before it answers with the conflict.
const maxRecoveries = 8

// TxnAction is one item of a transaction: its table, and the prepare of
// its action, whose key is the item's storage key (StorageKey). The
// coordinator fills in the transaction's id, anchor and deadline.
type TxnAction struct {
	Table   *partitapb.Table
	Prepare *partitapb.TxnPrepare
	// RecordOld asks the prepare's at-most-once record to keep the item
	// a refusal found (ReturnValuesOnConditionCheckFailure ALL_OLD), so
	// that a retried prepare answers with it too (Command.record_old).
	RecordOld bool
}

// TxnOutcome is what a transaction did: committed (a write transaction
// whose every action prepared), and each action's prepare Result in
// order: no error (prepared; old_item the item as read), CONDITION_FAILED
// (old_item), TXN_CONFLICT, a VALIDATION or ITEM_TOO_LARGE error; nil for
// an action not prepared because another one failed first.
type TxnOutcome struct {
	Committed bool
	Results   []*partitapb.Result
}

// Prepared says every action prepared.
func (o TxnOutcome) Prepared() bool {
	for _, res := range o.Results {
		if res == nil || res.GetError() != nil {
			return false
		}
	}
	return true
}

// TransactWrite runs the write transaction actions (at least one): all
// of them apply, or none. An error means its outcome may be unknown
// (the commit's answer was lost): recovery settles it.
func (r *Router) TransactWrite(ctx context.Context, actions []TxnAction) (TxnOutcome, error) {
	return r.transact(ctx, actions, true)
}

// TransactGet reads the items of actions (Prepare.action a check without
// condition) as of one point: each Result's old_item is its item.
func (r *Router) TransactGet(ctx context.Context, actions []TxnAction) (TxnOutcome, error) {
	return r.transact(ctx, actions, false)
}

func (r *Router) transact(ctx context.Context, actions []TxnAction, write bool) (TxnOutcome, error) {
	if err := r.NeedVersion(clusterversion.Transactions, "Transactions"); err != nil {
		return TxnOutcome{}, err
	}
	for _, a := range actions {
		if a.Prepare.GetCheck() == nil && len(a.Table.GetLocalIndexes()) > 0 {
			if err := r.NeedVersion(clusterversion.LocalIndexTransactions, "Transactions writing to tables with local secondary indexes"); err != nil {
				return TxnOutcome{}, err
			}
		}
	}
	return r.transactUntil(ctx, actions, write, txnRunAll)
}

// txnStop is where a coordinator stops: txnRunAll in service; tests stop
// it earlier to play a coordinator that died there.
type txnStop int

const (
	txnRunAll txnStop = iota
	txnStopPrepared
	txnStopCommitted
)

// txnRun is how a coordinator runs one transaction.
type txnRun struct {
	// stop is where it stops (txnRunAll in service).
	stop txnStop
	// id is the transaction's id (nil: a new one).
	id []byte
	// token is the ClientRequestToken the transaction runs (TxnRecord.client_token).
	token string
	// committed, if set, is called once the transaction committed and
	// its intents are resolved, before its record is forgotten; the
	// record stays (for the sweep) if it fails.
	committed func(context.Context, TxnOutcome) error
}

func (r *Router) transactUntil(ctx context.Context, actions []TxnAction, write bool, stop txnStop) (TxnOutcome, error) {
	return r.transactRun(ctx, actions, write, txnRun{stop: stop})
}

func (r *Router) transactRun(ctx context.Context, actions []TxnAction, write bool, run txnRun) (TxnOutcome, error) {
	if len(actions) == 0 {
		return TxnOutcome{}, errors.New("router: a transaction needs an action")
	}
	ctx, cancel := r.bound(ctx, actions[0].Table)
	defer cancel()
	stop, id := run.stop, run.id
	if id == nil {
		id = r.cfg.NewID()
	}
	anchorTable := actions[0].Table
	anchor := &partitapb.TxnAnchor{Table: anchorTable.GetName(), Key: actions[0].Prepare.GetKey()}
	deadline := r.cfg.Now().Add(TxnDeadline).UnixNano()
	status := func(ctx context.Context, s *partitapb.TxnSetStatus) (*partitapb.Result, error) {
		s.TxnId, s.AnchorKey, s.Coordinator = id, anchor.GetKey(), true
		return r.setTxnStatus(ctx, anchorTable, s)
	}
	// Once the transaction has started, the coordinator cleans up after
	// it (releases its intents, forgets its record) even when the caller
	// gives up (a client that disconnects, a request's deadline): left
	// to recovery, its intents would refuse their items until the
	// deadline, and its record would stay. The cleanup is bounded by the
	// deadline: past it, whoever meets an intent recovers it anyway.
	cleanup, cancelCleanup := context.WithTimeout(context.WithoutCancel(ctx), TxnDeadline)
	defer cancelCleanup()
	forget := func() {
		if _, err := status(cleanup, &partitapb.TxnSetStatus{Forget: true}); err != nil {
			r.cfg.Logger.DebugContext(ctx, "transaction record left for recovery", "err", err)
		}
	}
	items := make([]*partitapb.TxnItem, len(actions))
	for i, a := range actions {
		items[i] = &partitapb.TxnItem{Table: a.Table.GetName(), Key: a.Prepare.GetKey()}
	}
	if _, err := status(ctx, &partitapb.TxnSetStatus{Status: partitapb.TxnStatus_TXN_PENDING,
		DeadlineUnixNanos: deadline, Items: items, ClientToken: run.token}); err != nil {
		forget() // in case the record was written
		return TxnOutcome{}, err
	}
	for _, a := range actions {
		a.Prepare.TxnId, a.Prepare.Anchor, a.Prepare.DeadlineUnixNanos = id, anchor, deadline
	}
	out := TxnOutcome{Results: make([]*partitapb.Result, len(actions))}
	prepErr := r.eachAction(actions, func(i int, a TxnAction) error {
		res, err := r.prepare(ctx, a)
		out.Results[i] = res
		return err
	})
	if stop == txnStopPrepared {
		return out, prepErr
	}
	// The commit point. A read transaction takes it too: its snapshot
	// holds only if no recovery aborted it (and so released a lock)
	// before every lock was taken, and a committed record can no longer
	// be aborted. Its locks then resolve as committed, writing nothing.
	committed := false
	if prepErr == nil && ctx.Err() != nil {
		// The caller left before the commit point: abort.
		prepErr = fmt.Errorf("router: transaction: %w", ctx.Err())
	}
	if prepErr == nil && out.Prepared() {
		res, err := status(ctx, &partitapb.TxnSetStatus{Status: partitapb.TxnStatus_TXN_COMMITTED})
		if err != nil {
			return TxnOutcome{}, fmt.Errorf("router: transaction commit: %w", err)
		}
		if res.GetError() != nil { // aborted by a recovery: too slow
			for i := range out.Results {
				out.Results[i] = &partitapb.Result{Error: partitapb.Errorf(partitapb.Error_TXN_CONFLICT,
					"Transaction was aborted: it ran past its deadline")}
			}
		}
		committed = res.GetError() == nil
		out.Committed = committed && write
	}
	if stop == txnStopCommitted {
		return out, prepErr
	}
	if !committed {
		// Nothing can commit the transaction now: its record goes first,
		// so that a coordinator dying while it releases the intents leaves
		// no pending record behind (one stands until forgotten, and keeps
		// its partition from splitting). Whoever meets an intent left over
		// finds no record, writes an aborted one and drops the intent.
		forget()
	}
	resErr := r.eachAction(actions, func(_ int, a TxnAction) error {
		return r.resolve(cleanup, a.Table, a.Prepare.GetKey(), id, committed)
	})
	if committed && run.committed != nil {
		if err := run.committed(cleanup, out); err != nil {
			// The record stays until the sweep, which finishes its token.
			r.cfg.Logger.WarnContext(ctx, "transaction committed; its record left for the sweep", "err", err)
			resErr = errors.Join(resErr, err)
		}
	}
	if resErr == nil && committed {
		// No intent refers to the record any more.
		forget()
	}
	if prepErr != nil {
		return TxnOutcome{}, prepErr
	}
	if resErr != nil && committed {
		// Committed: whoever meets an unresolved intent finishes it.
		r.cfg.Logger.DebugContext(ctx, "transaction committed; some intents left for recovery", "err", resErr)
	}
	return out, nil
}

// eachAction calls f for every action in parallel and returns the first
// error.
func (r *Router) eachAction(actions []TxnAction, f func(int, TxnAction) error) error {
	errs := make([]error, len(actions))
	var wg sync.WaitGroup
	for i, a := range actions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(i, a)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// prepare proposes a's prepare; writeHash recovers expired transactions
// in its way.
func (r *Router) prepare(ctx context.Context, a TxnAction) (*partitapb.Result, error) {
	cmd := r.command()
	cmd.Op = &partitapb.Command_TxnPrepare{TxnPrepare: a.Prepare}
	cmd.RecordOld = a.RecordOld
	return r.writeKey(ctx, a.Table, a.Prepare.GetKey(), cmd)
}

// resolve resolves transaction id's intent on key of t.
func (r *Router) resolve(ctx context.Context, t *partitapb.Table, key, id []byte, commit bool) error {
	cmd := r.command()
	cmd.Op = &partitapb.Command_TxnResolve{TxnResolve: &partitapb.TxnResolve{Key: key, TxnId: id, Commit: commit}}
	res, err := r.writeKey(ctx, t, key, cmd)
	if err != nil {
		return err
	}
	if res.GetError() != nil {
		return res.GetError()
	}
	return nil
}

// setTxnStatus proposes s to the partition of t that owns s's anchor.
func (r *Router) setTxnStatus(ctx context.Context, t *partitapb.Table, s *partitapb.TxnSetStatus) (*partitapb.Result, error) {
	cmd := r.command()
	cmd.Op = &partitapb.Command_TxnSetStatus{TxnSetStatus: s}
	return r.writeKey(ctx, t, s.GetAnchorKey(), cmd)
}

// abortTxnRecord aborts transaction id's record, anchored at anchorKey of
// t, if it is still pending past its deadline (or writes an aborted one if
// there is none), and returns the record's status after: PENDING,
// COMMITTED or ABORTED, never unknown. Recoveries and sweeps resolve
// intents by that status, so an answer without the record cannot stand
// for ABORTED: it is a retry answered from the at-most-once record of an
// attempt that applied (its leader died before answering), which keeps
// the outcome but not the transaction's record. The status is then asked
// again by a new command, which changes nothing the first did not.
func (r *Router) abortTxnRecord(ctx context.Context, t *partitapb.Table, anchorKey, id []byte) (partitapb.TxnStatus, error) {
	for range abortAttempts {
		res, err := r.setTxnStatus(ctx, t, &partitapb.TxnSetStatus{AnchorKey: anchorKey, TxnId: id, Status: partitapb.TxnStatus_TXN_ABORTED})
		if err != nil {
			return 0, err
		}
		if rec := res.GetTxnRecord(); rec != nil {
			return rec.GetStatus(), nil
		}
		if res.GetError() != nil {
			return 0, res.GetError()
		}
	}
	return 0, fmt.Errorf("router: transaction %x: its record's status is unknown after %d answers without it", id, abortAttempts)
}

// abortAttempts bounds abortTxnRecord's commands: only a retry answers
// without the record, and a new command is a first attempt.
const abortAttempts = 3

// writeKey is writeHash to the partition of t that owns storage key k.
func (r *Router) writeKey(ctx context.Context, t *partitapb.Table, k []byte, cmd *partitapb.Command) (*partitapb.Result, error) {
	h, ok := engine.KeyHash(k)
	if !ok {
		return nil, fmt.Errorf("router: %x is not an item key", k)
	}
	return r.writeHash(ctx, t, h, cmd)
}

// recoverTxn settles the transaction of intent in, met on key of t after
// its deadline: it aborts the transaction's record if still pending (or
// writes an aborted one if there is none), then resolves the intent by
// the record's status. A record that is still pending (its deadline, by
// the anchor's leader's reading of the command's clock, has not passed)
// is left alone: the caller meets the conflict again.
func (r *Router) recoverTxn(ctx context.Context, t *partitapb.Table, key []byte, in *partitapb.TxnIntent) error {
	status := partitapb.TxnStatus_TXN_ABORTED
	at, err := r.Table(ctx, in.GetAnchor().GetTable())
	switch {
	case partitapb.IsCode(err, partitapb.Error_TABLE_NOT_FOUND):
		// The record went with its table: nothing can commit it now.
	case err != nil:
		return err
	default:
		if status, err = r.abortTxnRecord(ctx, at, in.GetAnchor().GetKey(), in.GetTxnId()); err != nil {
			return fmt.Errorf("router: recover transaction: %w", err)
		}
	}
	if status == partitapb.TxnStatus_TXN_PENDING {
		return nil
	}
	r.cfg.Logger.InfoContext(ctx, "recovered a transaction left by its coordinator",
		"table", t.GetName(), "status", status.String())
	return r.resolve(ctx, t, key, in.GetTxnId(), status == partitapb.TxnStatus_TXN_COMMITTED)
}

// probeAfter is how many times a read waits for a transaction's intent
// to go before it also asks whether the transaction expired.
const probeAfter = 8

// getSettled is get of the item under k in partition of t. A read that
// meets a transaction's intent waits for the transaction to resolve it,
// and recovers the transaction if its deadline passes first: a read
// never returns a value that a committed transaction replaced.
func (r *Router) getSettled(ctx context.Context, t *partitapb.Table, partition uint64, k []byte, consistent bool) ([]byte, error) {
	backoff := time.Millisecond
	for attempt := 1; ; attempt++ {
		raw, err := r.get(ctx, partition, k, consistent)
		if !partitapb.IsCode(err, partitapb.Error_TXN_CONFLICT) {
			return raw, err
		}
		if attempt >= probeAfter {
			if err := r.settle(ctx, t, k); err != nil {
				return nil, err
			}
		}
		if err := route.Sleep(ctx, backoff); err != nil {
			return nil, fmt.Errorf("router: waiting for a transaction: %w", err)
		}
		backoff = min(2*backoff, 50*time.Millisecond)
	}
}

// settle recovers the transaction whose intent is on k of t, if its
// deadline has passed.
func (r *Router) settle(ctx context.Context, t *partitapb.Table, k []byte) error {
	cmd := r.command()
	cmd.Op = &partitapb.Command_TxnResolve{TxnResolve: &partitapb.TxnResolve{Key: k}}
	res, err := r.writeKey(ctx, t, k, cmd)
	if err != nil {
		return err
	}
	if res.GetTxnConflictExpired() {
		return r.recoverTxn(ctx, t, k, res.GetTxnConflict())
	}
	return nil
}

// SweepTxnRecord settles and forgets transaction id's record rec, which
// its coordinator left in the anchor partition past its deadline (a
// coordinator that died): a pending record is aborted first; then every
// item's intent is resolved by the record's status, and the record
// goes. Records stand in the way of their partition's splits until then
// (fsm txnBusy). A record without its items (an older binary's) is left
// to the intents' recoveries; SweepTxnRecord reports false for it, and
// for one whose deadline has not passed by this router's clock.
func (r *Router) SweepTxnRecord(ctx context.Context, id []byte, rec *partitapb.TxnRecord) (bool, error) {
	items := rec.GetItems()
	if len(items) == 0 || r.cfg.Now().UnixNano() <= rec.GetDeadlineUnixNanos() {
		return false, nil
	}
	anchor, err := r.Table(ctx, items[0].GetTable())
	if err != nil {
		return false, err
	}
	status, err := r.abortTxnRecord(ctx, anchor, items[0].GetKey(), id)
	if err != nil {
		return false, fmt.Errorf("router: sweep transaction record: %w", err)
	}
	if status == partitapb.TxnStatus_TXN_PENDING {
		return false, nil // not past its deadline by the anchor leader's clock
	}
	for _, it := range items {
		t, err := r.Table(ctx, it.GetTable())
		if partitapb.IsCode(err, partitapb.Error_TABLE_NOT_FOUND) {
			continue // its intents went with it
		}
		if err != nil {
			return false, err
		}
		if err := r.resolve(ctx, t, it.GetKey(), id, status == partitapb.TxnStatus_TXN_COMMITTED); err != nil {
			return false, fmt.Errorf("router: sweep transaction record: %w", err)
		}
	}
	if status == partitapb.TxnStatus_TXN_COMMITTED && rec.GetClientToken() != "" {
		// Its token must say the transaction committed before the record
		// goes: a repeat of the request would otherwise run it again.
		if err := r.finishToken(ctx, &partitapb.FinishRequestToken{Token: rec.GetClientToken(), TxnId: id, Done: true}); err != nil {
			return false, fmt.Errorf("router: sweep transaction record: %w", err)
		}
	}
	res, err := r.setTxnStatus(ctx, anchor, &partitapb.TxnSetStatus{AnchorKey: items[0].GetKey(), TxnId: id, Forget: true})
	if err != nil {
		return false, fmt.Errorf("router: sweep transaction record: %w", err)
	}
	if res.GetError() != nil {
		return false, res.GetError()
	}
	return true, nil
}
