package fsm

import (
	"bytes"
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// Transactions (docs/transactions.md) keep two kinds of records in a
// partition's replicated local keys, so that snapshots carry them:
//
//	Xi<item key>  the intent (TxnIntent) of the transaction preparing the item
//	Xr<txn id>    the record (TxnRecord) of a transaction anchored here
//
// Every transaction command is evaluated by the leader under a latch
// (LatchKey) and proposed as Effects; apply writes the intent or record
// named by Effects.txn_key without reading.

// TxnIntentKey is the key of the intent on the item under key.
func TxnIntentKey(partition uint64, key []byte) []byte {
	return engine.LocalKey(partition, engine.ReplicatedLocal+"Xi"+string(key))
}

// TxnRecordKey is the key of the record of transaction id.
func TxnRecordKey(partition uint64, id []byte) []byte {
	return engine.LocalKey(partition, engine.ReplicatedLocal+"Xr"+string(id))
}

// IsTxnCommand says cmd is a transaction command (TxnPrepare, TxnResolve,
// TxnSetStatus): always evaluated by the leader, which holds its latch
// until it applies.
func IsTxnCommand(cmd *partitapb.Command) bool {
	switch cmd.GetOp().(type) {
	case *partitapb.Command_TxnPrepare, *partitapb.Command_TxnResolve, *partitapb.Command_TxnSetStatus:
		return true
	}
	return false
}

// LatchKey is the latch an evaluated command holds: its item's key, or
// for TxnSetStatus its record's (which no item key equals: item keys
// start with the data prefix).
func LatchKey(cmd *partitapb.Command) []byte {
	if s := cmd.GetTxnSetStatus(); s != nil {
		return append([]byte("Xr"), s.GetTxnId()...)
	}
	return ItemKey(cmd)
}

// LogsChange says the Effects e evaluated from cmd write an item, and so
// belong in the change log: transaction commands do only when a commit
// resolves an intent that writes.
func LogsChange(cmd *partitapb.Command, e *partitapb.Effects) bool {
	if !IsTxnCommand(cmd) {
		return true
	}
	return cmd.GetTxnResolve() != nil && (e.GetDelete() || e.GetValue() != nil)
}

// ReadTxnIntent returns the intent on the item under key in partition
// (nil: none).
func ReadTxnIntent(r engine.Reader, partition uint64, key []byte) (*partitapb.TxnIntent, error) {
	raw, err := engine.Get(r, TxnIntentKey(partition, key))
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fsm: read intent: %w", err)
	}
	in := &partitapb.TxnIntent{}
	if err := proto.Unmarshal(raw, in); err != nil {
		return nil, fmt.Errorf("fsm: corrupt intent: %w", err)
	}
	return in, nil
}

// readTxnRecord returns the record of transaction id (nil: none).
func readTxnRecord(r engine.Reader, partition uint64, id []byte) (*partitapb.TxnRecord, error) {
	raw, err := engine.Get(r, TxnRecordKey(partition, id))
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fsm: read transaction record: %w", err)
	}
	rec := &partitapb.TxnRecord{}
	if err := proto.Unmarshal(raw, rec); err != nil {
		return nil, fmt.Errorf("fsm: corrupt transaction record: %w", err)
	}
	return rec, nil
}

// TxnRecordEntry is a transaction record and its transaction's id.
type TxnRecordEntry struct {
	ID     []byte
	Record *partitapb.TxnRecord
}

// ReadTxnRecords returns the transaction records of partition as of r.
func ReadTxnRecords(r engine.Reader, partition uint64) ([]TxnRecordEntry, error) {
	prefix := engine.LocalKey(partition, engine.ReplicatedLocal+"Xr")
	it, err := r.NewIter(prefix, engine.LocalKey(partition, engine.ReplicatedLocal+"Xs"))
	if err != nil {
		return nil, fmt.Errorf("fsm: scan transaction records: %w", err)
	}
	var out []TxnRecordEntry
	for ok := it.First(); ok; ok = it.Next() {
		rec := &partitapb.TxnRecord{}
		if err := proto.Unmarshal(it.Value(), rec); err != nil {
			it.Close()
			return nil, fmt.Errorf("fsm: corrupt transaction record: %w", err)
		}
		out = append(out, TxnRecordEntry{ID: bytes.Clone(it.Key()[len(prefix):]), Record: rec})
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("fsm: scan transaction records: %w", err)
	}
	return out, nil
}

// txnConflict is the rejection of a command that met in, another
// transaction's intent, as of now (the command's time).
func txnConflict(in *partitapb.TxnIntent, now int64) *partitapb.Result {
	res := reject(partitapb.Error_TXN_CONFLICT, "Transaction is ongoing for the item")
	res.TxnConflict = in
	res.TxnConflictExpired = now > 0 && in.GetDeadlineUnixNanos() < now
	return res
}

// checkIntent refuses an item write cmd when its item holds an intent.
func checkIntent(r engine.Reader, d *partitapb.Descriptor, cmd *partitapb.Command) (*partitapb.Result, error) {
	in, err := ReadTxnIntent(r, d.GetPartition(), ItemKey(cmd))
	if err != nil || in == nil {
		return nil, err
	}
	return txnConflict(in, cmd.GetUnixNanos()), nil
}

// txnEffects are Effects of cmd on key that write nothing but txnKey.
func txnEffects(cmd *partitapb.Command, key []byte) *partitapb.Effects {
	return &partitapb.Effects{
		Id: cmd.GetId(), RangeGeneration: cmd.GetRangeGeneration(), Key: key, UnixNanos: cmd.GetUnixNanos(),
	}
}

// evalTxn evaluates a transaction command.
func evalTxn(r engine.Reader, ir itemReader, d *partitapb.Descriptor, cmd *partitapb.Command, hints EvalHints) (*partitapb.Effects, *partitapb.Result, error) {
	switch op := cmd.GetOp().(type) {
	case *partitapb.Command_TxnPrepare:
		return evalTxnPrepare(r, ir, d, cmd, op.TxnPrepare, hints)
	case *partitapb.Command_TxnResolve:
		return evalTxnResolve(r, d, cmd, op.TxnResolve)
	case *partitapb.Command_TxnSetStatus:
		return evalTxnSetStatus(r, d, cmd, op.TxnSetStatus)
	}
	return nil, reject(partitapb.Error_VALIDATION, "not a transaction command"), nil
}

// evalTxnPrepare writes p's intent unless another transaction holds one
// on the item, the action's condition fails, or the write would break a
// rule of the table's local secondary indexes (an index key's type or
// size, the item collection's limit). The Result carries the item as
// found (old_item), also on a failed condition.
func evalTxnPrepare(r engine.Reader, ir itemReader, d *partitapb.Descriptor, cmd *partitapb.Command, p *partitapb.TxnPrepare, hints EvalHints) (*partitapb.Effects, *partitapb.Result, error) {
	key := p.GetKey()
	e := txnEffects(cmd, key)
	held, err := ReadTxnIntent(r, d.GetPartition(), key)
	if err != nil {
		return nil, nil, err
	}
	if held != nil && !bytes.Equal(held.GetTxnId(), p.GetTxnId()) {
		// Answered at once, not recorded: the prepare may be retried
		// under its id once the intent is gone.
		return nil, txnConflict(held, cmd.GetUnixNanos()), nil
	}
	old, err := load(ir, key)
	if err != nil {
		return nil, nil, err
	}
	if held != nil { // prepared already: a retry
		e.TxnRead, e.OldImage = true, old.raw
		return e, &partitapb.Result{OldItem: old.raw, HasOld: old.item != nil}, nil
	}
	var (
		c   change
		res *partitapb.Result
	)
	switch a := p.GetAction().(type) {
	case *partitapb.TxnPrepare_Put:
		c, res, err = evalPut(ir, a.Put, false)
	case *partitapb.TxnPrepare_Update:
		c, res, err = evalUpdateItem(ir, a.Update, false)
	case *partitapb.TxnPrepare_Delete:
		c, res, err = evalDelete(ir, a.Delete)
	case *partitapb.TxnPrepare_Check:
		res, err = checkCondition(a.Check, old)
	default:
		res = reject(partitapb.Error_VALIDATION, "a transaction action needs one of Put, Update, Delete, ConditionCheck")
	}
	if err != nil {
		return nil, nil, err
	}
	if res.GetError() == nil && c.key != nil {
		// The entries are decided again when the intent commits
		// (resolveLocal); here only their refusals count.
		lim := collectionLimit{bytes: cmd.GetLocalCollectionLimit(), inFlight: hints.CollectionInFlight,
			prepared: preparedGrowth(r, d.GetPartition(), cmd.GetLocalIndexes())}
		probe := c
		if rej, err := localEntries(ir, cmd.GetLocalIndexes(), lim, &probe, &partitapb.Result{}); err != nil {
			return nil, nil, err
		} else if rej != nil {
			res = rej
		} else if probe.collDelta > 0 {
			// Counted as in flight by the leader until the prepare's
			// answer, then by the intent itself until it resolves.
			e.ReservedCollectionKey, e.ReservedCollectionDelta = probe.collKey, probe.collDelta
		}
	}
	if res == nil {
		res = &partitapb.Result{}
	}
	res.OldItem, res.HasOld = old.raw, old.item != nil
	if res.GetError() != nil {
		e.Error = res.GetError()
		keepImages(e, cmd, res)
		return e, res, nil
	}
	in := &partitapb.TxnIntent{
		TxnId: p.GetTxnId(), Anchor: p.GetAnchor(), DeadlineUnixNanos: p.GetDeadlineUnixNanos(),
		Value: c.value, Delete: c.del, Lock: !c.del && c.value == nil,
		Items: c.items, Bytes: c.bytes, OldValue: old.raw, HasOld: old.item != nil,
	}
	raw, err := proto.Marshal(in)
	if err != nil {
		return nil, nil, fmt.Errorf("fsm: encode intent: %w", err)
	}
	e.TxnKey, e.TxnValue = TxnIntentKey(d.GetPartition(), key), raw
	e.TxnRead, e.OldImage = true, old.raw
	return e, res, nil
}

// evalTxnResolve removes the intent of rs's transaction on its item,
// writing the intent's value first when it commits. Another
// transaction's intent, or none, is left as it is: the entry then writes
// nothing (it still goes through the log, so that its answer comes from
// the partition's current leader).
func evalTxnResolve(r engine.Reader, d *partitapb.Descriptor, cmd *partitapb.Command, rs *partitapb.TxnResolve) (*partitapb.Effects, *partitapb.Result, error) {
	key := rs.GetKey()
	e := txnEffects(cmd, key)
	in, err := ReadTxnIntent(r, d.GetPartition(), key)
	if err != nil {
		return nil, nil, err
	}
	if in == nil || !bytes.Equal(in.GetTxnId(), rs.GetTxnId()) {
		// A probe (no id), or another transaction's intent: report it.
		res := &partitapb.Result{}
		if in != nil {
			res.TxnConflict, res.TxnConflictExpired = in, in.GetDeadlineUnixNanos() < cmd.GetUnixNanos()
		}
		return e, res, nil
	}
	e.TxnKey, e.TxnDelete = TxnIntentKey(d.GetPartition(), key), true
	res := &partitapb.Result{}
	if rs.GetCommit() && !in.GetLock() {
		e.Value, e.Delete, e.Items, e.Bytes = in.GetValue(), in.GetDelete(), in.GetItems(), in.GetBytes()
		res.OldItem, res.HasOld = in.GetOldValue(), in.GetHasOld()
		res.NewItem, res.HasNew = in.GetValue(), !in.GetDelete()
		if err := resolveLocal(r, cmd.GetLocalIndexes(), key, in, e); err != nil {
			return nil, nil, err
		}
	}
	return e, res, nil
}

// resolveLocal puts in e the local secondary index entries (spec: the
// table's indexes, none for a table without) of the committing intent
// in on the item under key: from the item as the intent found it (no
// other write can have changed it since) to its value. The collection's
// limit was checked at the prepare, and every write and prepare of the
// collection evaluated since counted the intent's growth
// (preparedGrowth); a commit is not refused for it.
func resolveLocal(r engine.Reader, spec *partitapb.LocalIndexSpec, key []byte, in *partitapb.TxnIntent, e *partitapb.Effects) error {
	if len(spec.GetIndexes()) == 0 {
		return nil
	}
	c := change{key: key, items: in.GetItems(), bytes: in.GetBytes()}
	var err error
	if in.GetHasOld() {
		if c.oldItem, err = item.DecodeItem(in.GetOldValue()); err != nil {
			return fmt.Errorf("fsm: intent's old item: %w", err)
		}
	}
	if !in.GetDelete() {
		if c.newItem, err = item.DecodeItem(in.GetValue()); err != nil {
			return fmt.Errorf("fsm: intent's item: %w", err)
		}
	}
	if c.oldItem == nil && c.newItem == nil {
		return nil // the deletion of an item that was not there
	}
	lim := collectionLimit{bytes: math.MaxInt64}
	if rej, err := localEntries(engineItems{r}, spec, lim, &c, &partitapb.Result{}); err != nil || rej != nil {
		if rej != nil {
			err = fmt.Errorf("fsm: committing intent refused by its local indexes: %w", rej.GetError())
		}
		return err
	}
	e.LocalDeletes, e.LocalPuts = c.localDel, localPuts(c.localPut)
	e.LocalCollectionKey, e.LocalCollectionDelta, e.LocalStats = c.collKey, c.collDelta, c.localStats
	return nil
}

// evalTxnSetStatus changes a transaction record as TxnSetStatus says.
func evalTxnSetStatus(r engine.Reader, d *partitapb.Descriptor, cmd *partitapb.Command, s *partitapb.TxnSetStatus) (*partitapb.Effects, *partitapb.Result, error) {
	e := txnEffects(cmd, s.GetAnchorKey())
	key := TxnRecordKey(d.GetPartition(), s.GetTxnId())
	rec, err := readTxnRecord(r, d.GetPartition(), s.GetTxnId())
	if err != nil {
		return nil, nil, err
	}
	if s.GetForget() {
		if rec != nil {
			e.TxnKey, e.TxnDelete = key, true
		}
		return e, &partitapb.Result{TxnRecord: rec}, nil
	}
	next, res := nextTxnRecord(rec, s, cmd.GetUnixNanos())
	if res.GetError() != nil {
		e.Error = res.GetError()
		return e, res, nil
	}
	if next != rec {
		raw, err := proto.Marshal(next)
		if err != nil {
			return nil, nil, fmt.Errorf("fsm: encode transaction record: %w", err)
		}
		e.TxnKey, e.TxnValue = key, raw
	}
	return e, res, nil
}

// nextTxnRecord decides the record after s over rec (nil: none) at time
// now; it returns rec itself when nothing changes, and the Result.
func nextTxnRecord(rec *partitapb.TxnRecord, s *partitapb.TxnSetStatus, now int64) (*partitapb.TxnRecord, *partitapb.Result) {
	status := rec.GetStatus()
	switch s.GetStatus() {
	case partitapb.TxnStatus_TXN_PENDING:
		if rec == nil {
			next := &partitapb.TxnRecord{Status: partitapb.TxnStatus_TXN_PENDING, DeadlineUnixNanos: s.GetDeadlineUnixNanos(),
				Items: s.GetItems(), ClientToken: s.GetClientToken()}
			return next, &partitapb.Result{TxnRecord: next}
		}
		if status == partitapb.TxnStatus_TXN_ABORTED {
			return rec, txnRefused(rec, "the transaction was aborted")
		}
		return rec, &partitapb.Result{TxnRecord: rec}
	case partitapb.TxnStatus_TXN_COMMITTED:
		switch status {
		case partitapb.TxnStatus_TXN_PENDING:
			next := &partitapb.TxnRecord{Status: partitapb.TxnStatus_TXN_COMMITTED, DeadlineUnixNanos: rec.GetDeadlineUnixNanos(),
				Items: rec.GetItems(), ClientToken: rec.GetClientToken()}
			return next, &partitapb.Result{TxnRecord: next}
		case partitapb.TxnStatus_TXN_COMMITTED:
			return rec, &partitapb.Result{TxnRecord: rec}
		}
		return rec, txnRefused(rec, "the transaction was aborted")
	case partitapb.TxnStatus_TXN_ABORTED:
		switch {
		case rec == nil, status == partitapb.TxnStatus_TXN_PENDING && (s.GetCoordinator() || rec.GetDeadlineUnixNanos() < now):
			next := &partitapb.TxnRecord{Status: partitapb.TxnStatus_TXN_ABORTED, DeadlineUnixNanos: rec.GetDeadlineUnixNanos(),
				Items: rec.GetItems(), ClientToken: rec.GetClientToken()}
			return next, &partitapb.Result{TxnRecord: next}
		}
		return rec, &partitapb.Result{TxnRecord: rec}
	}
	return rec, reject(partitapb.Error_VALIDATION, "a transaction status change needs a status")
}

func txnRefused(rec *partitapb.TxnRecord, msg string) *partitapb.Result {
	res := reject(partitapb.Error_TXN_ABORTED, "%s", msg)
	res.TxnRecord = rec
	return res
}

// writeTxnKey writes or deletes the intent or record e names, if any.
func (a *Applier) writeTxnKey(e *partitapb.Effects) error {
	k := e.GetTxnKey()
	if len(k) > 0 {
		a.txnTouched = true
	}
	switch {
	case len(k) == 0:
		return nil
	case e.GetTxnDelete():
		if err := a.b.Delete(k); err != nil {
			return fmt.Errorf("fsm: delete transaction key: %w", err)
		}
	default:
		if err := a.b.Set(k, e.GetTxnValue()); err != nil {
			return fmt.Errorf("fsm: write transaction key: %w", err)
		}
	}
	return nil
}

// TxnTouched says an entry applied so far wrote or deleted a transaction
// key (an intent or a record).
func (a *Applier) TxnTouched() bool { return a.txnTouched }

// HasIntents says partition holds an intent on some item, as of r.
func HasIntents(r engine.Reader, partition uint64) (bool, error) {
	it, err := r.NewIter(engine.LocalKey(partition, engine.ReplicatedLocal+"Xi"), engine.LocalKey(partition, engine.ReplicatedLocal+"Xj"))
	if err != nil {
		return false, fmt.Errorf("fsm: scan intents: %w", err)
	}
	found := it.First()
	if err := it.Close(); err != nil {
		return false, fmt.Errorf("fsm: scan intents: %w", err)
	}
	return found, nil
}

// txnBusy says the partition holds a transaction in progress: an intent,
// or a pending or committed record. Its range must not change then (a
// split or merge would leave intents and records with a partition that
// no longer owns their keys), so SplitRange and FreezeRange wait.
func (a *Applier) txnBusy() (bool, error) {
	p := a.partition
	for _, span := range [][2]string{{"Xi", "Xj"}, {"Xr", "Xs"}} {
		it, err := a.b.NewIter(engine.LocalKey(p, engine.ReplicatedLocal+span[0]), engine.LocalKey(p, engine.ReplicatedLocal+span[1]))
		if err != nil {
			return false, fmt.Errorf("fsm: scan transactions: %w", err)
		}
		busy, err := scanTxnBusy(it, span[0] == "Xr")
		if cerr := it.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("fsm: scan transactions: %w", cerr)
		}
		if busy || err != nil {
			return busy, err
		}
	}
	return false, nil
}

// scanTxnBusy says it holds an intent (records false) or a record of a
// transaction that is not aborted (records true).
func scanTxnBusy(it *engine.Iterator, records bool) (bool, error) {
	for ok := it.First(); ok; ok = it.Next() {
		if !records {
			return true, nil
		}
		rec := &partitapb.TxnRecord{}
		if err := proto.Unmarshal(it.Value(), rec); err != nil {
			return false, fmt.Errorf("fsm: corrupt transaction record: %w", err)
		}
		if rec.GetStatus() != partitapb.TxnStatus_TXN_ABORTED {
			return true, nil
		}
	}
	return false, it.Error()
}

// refuseWhileTxnBusy is the rejection of a range change (what) while the
// partition holds a transaction in progress, nil when it does not.
func (a *Applier) refuseWhileTxnBusy(what string) (*partitapb.Result, error) {
	busy, err := a.txnBusy()
	if err != nil || !busy {
		return nil, err
	}
	return reject(partitapb.Error_VALIDATION, "%s: partition %d holds a transaction in progress; retry", what, a.partition), nil
}

// preparedGrowth returns collectionLimit.prepared for partition's state r
// and a table's local indexes spec: the growth that the intents of
// transactions prepared and not resolved in an item collection will make
// to it if they commit (the deletions, which may abort, do not count as
// shrinking it), the intent on the item under self (the write being
// evaluated) left out. Nil for a table without local indexes.
func preparedGrowth(r engine.Reader, partition uint64, spec *partitapb.LocalIndexSpec) func(table uint64, pk item.Value, self []byte) (int64, error) {
	if len(spec.GetIndexes()) == 0 {
		return nil
	}
	return func(table uint64, pk item.Value, self []byte) (int64, error) {
		items, err := engine.DataKey(nil, table, pk, item.Value{}) // up to the partition key's kind byte
		if err != nil {
			return 0, fmt.Errorf("fsm: item collection: %w", err)
		}
		lo := TxnIntentKey(partition, items)
		hi := append([]byte(nil), lo...)
		hi[len(hi)-1]++
		it, err := r.NewIter(lo, hi)
		if err != nil {
			return 0, fmt.Errorf("fsm: scan a collection's intents: %w", err)
		}
		defer it.Close()
		skip := len(TxnIntentKey(partition, nil))
		var grow int64
		for ok := it.First(); ok; ok = it.Next() {
			key := it.Key()[skip:]
			if bytes.Equal(key, self) {
				continue
			}
			in := &partitapb.TxnIntent{}
			if err := proto.Unmarshal(it.Value(), in); err != nil {
				return 0, fmt.Errorf("fsm: corrupt intent: %w", err)
			}
			if in.GetLock() || in.GetDelete() {
				continue
			}
			e := &partitapb.Effects{}
			if err := resolveLocal(r, spec, append([]byte(nil), key...), in, e); err != nil {
				return 0, err
			}
			grow += max(e.GetLocalCollectionDelta(), 0)
		}
		if err := it.Error(); err != nil {
			return 0, fmt.Errorf("fsm: scan a collection's intents: %w", err)
		}
		return grow, nil
	}
}
