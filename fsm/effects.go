package fsm

import (
	"encoding/binary"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// EffectsFormat is the first byte of a raft entry that holds Effects
// rather than a Command. A protobuf message starts with a tag, and a tag's
// field number is at least 1, so its first byte is at least 0x08: the two
// formats never share a first byte, and a log written by an older node
// (Commands only) reads as it always did.
const EffectsFormat byte = 1

// IsEffects says a raft entry's data holds Effects.
func IsEffects(data []byte) bool { return len(data) > 0 && data[0] == EffectsFormat }

// EncodeEffects returns the raft entry data of e.
func EncodeEffects(e *partitapb.Effects) ([]byte, error) {
	out := make([]byte, 1, 1+proto.Size(e))
	out[0] = EffectsFormat
	out, err := proto.MarshalOptions{}.MarshalAppend(out, e)
	if err != nil {
		return nil, fmt.Errorf("fsm: encode effects: %w", err)
	}
	return out, nil
}

// DecodeEffects decodes the raft entry data of an Effects entry.
func DecodeEffects(data []byte) (*partitapb.Effects, error) {
	if !IsEffects(data) {
		return nil, errors.New("fsm: not an effects entry")
	}
	e := &partitapb.Effects{}
	if err := proto.Unmarshal(data[1:], e); err != nil {
		return nil, fmt.Errorf("fsm: corrupt effects: %w", err)
	}
	return e, nil
}

// IsItemWrite says cmd is an item write, which a leader may evaluate
// (Evaluate) and propose as Effects.
func IsItemWrite(cmd *partitapb.Command) bool { return isItemCommand(cmd) }

// ItemKey is the key of the item an item write names (nil for another
// command).
func ItemKey(cmd *partitapb.Command) []byte {
	switch op := cmd.GetOp().(type) {
	case *partitapb.Command_PutItem:
		return op.PutItem.GetKey()
	case *partitapb.Command_UpdateItem:
		return op.UpdateItem.GetKey()
	case *partitapb.Command_DeleteItem:
		return op.DeleteItem.GetKey()
	case *partitapb.Command_TxnPrepare:
		return op.TxnPrepare.GetKey()
	case *partitapb.Command_TxnResolve:
		return op.TxnResolve.GetKey()
	}
	return nil
}

// Evaluate evaluates the item write cmd against the state in r of the
// partition whose range is d, as Apply would apply it there: it checks
// the condition, computes the new item and the statistics' change, and
// returns them as Effects (without term and lease index: the proposer
// sets them) with the command's full Result (the images). A command the
// range fence refuses, or that is not an item write, yields no Effects:
// its Result is the answer. The caller holds the item's latch, so that
// no other write of the item evaluates at the same time. prior, when not
// nil, is the item's write still in flight: cmd is evaluated over it (the
// caller sets depends_on).
func Evaluate(r engine.Reader, d *partitapb.Descriptor, cmd *partitapb.Command, prior *Prior, hints EvalHints) (*partitapb.Effects, *partitapb.Result, error) {
	if res := fence(d, cmd); res != nil {
		return nil, res, nil
	}
	var ir itemReader = engineItems{r}
	if prior != nil {
		ir = priorItems{engineItems{r}, prior}
	}
	if IsTxnCommand(cmd) {
		return evalTxn(r, ir, d, cmd, hints)
	}
	if !IsItemWrite(cmd) {
		return nil, reject(partitapb.Error_VALIDATION, "only item writes are evaluated by the proposer"), nil
	}
	if !hints.NoIntents {
		if res, err := checkIntent(r, d, cmd); res != nil || err != nil {
			return nil, res, err
		}
	}
	lim := collectionLimit{bytes: cmd.GetLocalCollectionLimit(), inFlight: hints.CollectionInFlight}
	if !hints.NoIntents {
		lim.prepared = preparedGrowth(r, d.GetPartition(), cmd.GetLocalIndexes())
	}
	blind := hints.Blind && prior == nil && hints.NoIntents
	c, res, err := evalItemWrite(ir, cmd, false, blind, lim)
	if err != nil {
		return nil, nil, err
	}
	e := &partitapb.Effects{
		Id: cmd.GetId(), RangeGeneration: cmd.GetRangeGeneration(), Key: ItemKey(cmd),
		Value: c.value, Delete: c.del, Items: c.items, Bytes: c.bytes,
		Error: res.GetError(), UnixNanos: cmd.GetUnixNanos(),
		ByService:    cmd.GetDeleteItem().GetByService(),
		LocalDeletes: c.localDel, LocalPuts: localPuts(c.localPut),
		LocalCollectionKey: c.collKey, LocalCollectionDelta: c.collDelta, LocalStats: c.localStats,
		Blind: c.blind,
	}
	keepImages(e, cmd, res)
	return e, res, nil
}

// keepImages has the Effects e of cmd, evaluated to res, carry the images
// cmd's record keeps (Command.record_old, record_new): the old one in
// old_image, where a change record takes it only if its view keeps it;
// the new one is e's value already.
//
// With Command.record_sizes, e carries the answer's sizes too.
func keepImages(e *partitapb.Effects, cmd *partitapb.Command, res *partitapb.Result) {
	e.RecordOld, e.RecordNew = cmd.GetRecordOld(), cmd.GetRecordNew()
	if e.RecordOld && res.GetHasOld() {
		e.OldImage = res.GetOldItem()
	}
	if cmd.GetRecordSizes() && res.GetError() == nil {
		e.RecordSizes = true
		e.OldSize, e.NewSize, e.CollectionBytes = res.GetOldSize(), res.GetNewSize(), res.GetLocalCollectionBytes()
	}
}

// recorded is the Result an applied Effects e answers, and its
// at-most-once record keeps: e's error, and the images and sizes its
// command asked the record to keep, so that a retry answered from the
// record returns them as the first attempt did.
func recorded(e *partitapb.Effects) *partitapb.Result {
	res := &partitapb.Result{Error: e.GetError()}
	if e.GetRecordOld() && len(e.GetOldImage()) > 0 {
		res.OldItem, res.HasOld = e.GetOldImage(), true
	}
	if e.GetRecordNew() && e.GetError() == nil && !e.GetDelete() && e.GetValue() != nil {
		res.NewItem, res.HasNew = e.GetValue(), true
	}
	if e.GetRecordSizes() {
		res.OldSize, res.NewSize = proto.Int64(e.GetOldSize()), proto.Int64(e.GetNewSize())
		res.LocalCollectionBytes = e.GetCollectionBytes()
	}
	return res
}

// EvalHints are what the proposer knows of the partition that spares
// Evaluate reads.
type EvalHints struct {
	// NoIntents: the state evaluated against holds no intent on any item
	// (HasIntents), and no transaction command on the item is in flight.
	NoIntents bool
	// CollectionInFlight returns the size change of the item collection
	// whose size record is under key that this leader's writes still in
	// flight (proposed, not applied) make: the collection's size checked
	// against its limit is the applied one plus it. Nil: none.
	CollectionInFlight func(key []byte) int64
	// Blind lets a put that may be written blind (the package's Blind)
	// skip reading the item it replaces: the leader's change view for
	// the write is CHANGE_VIEW_NONE (a leader's view may be wider than
	// the command's) and it charges no capacity for the write. Evaluate
	// still reads when the item's write is in flight (its prior image is
	// at hand) or the partition may hold intents.
	Blind bool
}

// CollectionLatchKey is the latch a leader holds, beside the item's, from
// the evaluation of cmd to its proposal when cmd writes an item of a
// table with local secondary indexes: every write of the item's
// collection (its partition key; here, its hash) then evaluates over the
// ones in flight before it (EvalHints.CollectionInFlight), so two cannot
// both pass the collection's limit. Nil when cmd needs none.
func CollectionLatchKey(cmd *partitapb.Command) []byte {
	if len(cmd.GetLocalIndexes().GetIndexes()) == 0 || !IsItemWrite(cmd) && cmd.GetTxnPrepare() == nil {
		return nil
	}
	k := ItemKey(cmd)
	table, ok1 := engine.KeyTable(k)
	hash, ok2 := engine.KeyHash(k)
	if !ok1 || !ok2 {
		return nil
	}
	return engine.PartitionKeyPrefix([]byte("Xc"), table, hash)
}

// leaseIndexKey is the key of partition's lease state, in its replicated
// state: the lease-applied index (the highest Effects.lease_index
// applied), then the lease index of the last Effects entry refused after
// the lease check (by the range fence, or for depending on a refused
// entry), 8 bytes each.
func leaseIndexKey(partition uint64) []byte {
	return engine.LocalKey(partition, engine.ReplicatedLocal+"l")
}

// readLeaseState returns partition's lease-applied and refused indexes as
// of r (0: none).
func readLeaseState(r engine.Reader, partition uint64) (lai, refused uint64, err error) {
	raw, err := engine.Get(r, leaseIndexKey(partition))
	if errors.Is(err, engine.ErrNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("fsm: read lease index: %w", err)
	}
	if len(raw) != 16 {
		return 0, 0, fmt.Errorf("fsm: lease index of partition %d is corrupt", partition)
	}
	return binary.BigEndian.Uint64(raw), binary.BigEndian.Uint64(raw[8:]), nil
}

// ReadLeaseIndex returns partition's lease-applied index as of r: the
// highest Effects.lease_index applied (0: none).
func ReadLeaseIndex(r engine.Reader, partition uint64) (uint64, error) {
	lai, _, err := readLeaseState(r, partition)
	return lai, err
}

// leaseState returns the lease-applied and refused indexes as of the
// commands applied so far (read once from the batch, then kept).
func (a *Applier) leaseState() (lai, refused uint64, err error) {
	if !a.laiKnown {
		if a.lai, a.refused, err = readLeaseState(a.b, a.partition); err != nil {
			return 0, 0, err
		}
		a.laiKnown = true
	}
	return a.lai, a.refused, nil
}

// ApplyEffects applies the Effects e of an entry of raft term term,
// without reading the item: every replica writes what the leader
// evaluated. It refuses, with STALE_EVALUATION and writing nothing, an
// entry whose evaluation may have missed a write applied since: one
// evaluated in another term than the entry's (a leader's state is whole
// only in its own term) or whose lease index is not above the
// lease-applied index (an entry applied out of the order of its
// evaluation, or a second time). It refuses with WRONG_RANGE, as Apply
// does, a key outside the range. Otherwise it raises the lease-applied
// index to e's and returns the recorded Result (the error, no images).
func (a *Applier) ApplyEffects(e *partitapb.Effects, term uint64) (*partitapb.Result, error) {
	lai, refused, err := a.leaseState()
	if err != nil {
		return nil, err
	}
	if e.GetTerm() != term {
		return reject(partitapb.Error_STALE_EVALUATION, "evaluated in term %d, proposed in term %d", e.GetTerm(), term), nil
	}
	if e.GetLeaseIndex() <= lai {
		return reject(partitapb.Error_STALE_EVALUATION, "lease index %d is not above the applied %d", e.GetLeaseIndex(), lai), nil
	}
	a.lai, a.laiDirty = max(lai, e.GetLeaseIndex()), true
	if t := e.GetCollectBefore(); t > 0 {
		if err := a.collectRecords(t); err != nil {
			return nil, err
		}
	}
	if to := e.GetChangeTrimTo(); to > 0 {
		if err := a.trimChanges(to); err != nil {
			return nil, err
		}
	}
	for _, origin := range e.GetChangeDropAdopted() {
		if err := a.dropAdopted(origin); err != nil {
			return nil, err
		}
	}
	if d := e.GetDependsOn(); d > 0 && refused >= d {
		a.refused = max(refused, e.GetLeaseIndex())
		return reject(partitapb.Error_STALE_EVALUATION, "evaluated over lease index %d, and %d was refused", d, refused), nil
	}
	if res := fenceEffects(a.desc, e); res != nil {
		a.refused = max(refused, e.GetLeaseIndex())
		return res, nil
	}
	if res, err := a.deletedTable(e); res != nil || err != nil {
		a.refused = max(refused, e.GetLeaseIndex())
		return res, err
	}
	if res, err := a.belowFloor(e); res != nil || err != nil {
		a.refused = max(refused, e.GetLeaseIndex())
		return res, err
	}
	if e.GetError() != nil {
		return recorded(e), nil
	}
	c := change{key: e.GetKey(), value: e.GetValue(), del: e.GetDelete(), items: e.GetItems(), bytes: e.GetBytes(),
		blind:    e.GetBlind(),
		localDel: e.GetLocalDeletes(), localPut: localEntriesOf(e.GetLocalPuts()),
		localStats: e.GetLocalStats(), collKey: e.GetLocalCollectionKey(), collDelta: e.GetLocalCollectionDelta()}
	if err := a.write(c); err != nil {
		return nil, err
	}
	if err := a.writeTxnKey(e); err != nil {
		return nil, err
	}
	if e.GetTxnRead() {
		return &partitapb.Result{OldItem: e.GetOldImage(), HasOld: len(e.GetOldImage()) > 0}, nil
	}
	if err := a.appendChange(e, c); err != nil {
		return nil, err
	}
	return recorded(e), nil
}

// fenceEffects is fence for an Effects entry: the item write it was
// evaluated from names the same key and range generation.
func fenceEffects(d *partitapb.Descriptor, e *partitapb.Effects) *partitapb.Result {
	if g := e.GetRangeGeneration(); g != 0 && g < d.GetGeneration() {
		return reject(partitapb.Error_WRONG_RANGE, "partition %d: routed by range generation %d, the range is at %d",
			d.GetPartition(), g, d.GetGeneration())
	}
	if FrozenRight(d) {
		return reject(partitapb.Error_WRONG_RANGE, "partition %d: frozen for a merge into partition %d",
			d.GetPartition(), d.GetFrozen().GetLeft())
	}
	if !covers(d.GetSpans(), e.GetKey(), nil) {
		return reject(partitapb.Error_WRONG_RANGE, "partition %d: the command's keys are outside its range", d.GetPartition())
	}
	return nil
}

// flushLeaseIndex writes the lease state if an entry changed it.
func (a *Applier) flushLeaseIndex() error {
	if !a.laiDirty {
		return nil
	}
	raw := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(make([]byte, 0, 16), a.lai), a.refused)
	if err := a.b.Set(leaseIndexKey(a.partition), raw); err != nil {
		return fmt.Errorf("fsm: write lease index: %w", err)
	}
	a.laiDirty = false
	return nil
}
