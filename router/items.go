package router

import (
	"context"
	"fmt"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// keyValues returns the partition and sort key values of key in t (the
// sort key has Type 0 when t has none). The wire layer has validated key.
func keyValues(t *partitapb.Table, key item.Item) (pk, sk item.Value, err error) {
	for _, e := range t.GetKeySchema() {
		v, ok := key[e.GetAttributeName()]
		if !ok {
			return pk, sk, partitapb.Errorf(partitapb.Error_VALIDATION,
				"The provided key element does not match the schema")
		}
		if e.GetKeyType() == "HASH" {
			pk = v
		} else {
			sk = v
		}
	}
	return pk, sk, nil
}

// StorageKey returns the engine key of the item with key in t.
func (r *Router) StorageKey(t *partitapb.Table, key item.Item) ([]byte, error) {
	if isIndexTable(t) {
		return indexStorageKey(t, key)
	}
	if isLocalView(t) {
		return localStorageKey(t, key)
	}
	pk, sk, err := keyValues(t, key)
	if err != nil {
		return nil, err
	}
	k, err := engine.DataKey(nil, t.GetId(), pk, sk)
	if err != nil {
		return nil, partitapb.Errorf(partitapb.Error_VALIDATION, "%v", err)
	}
	return k, nil
}

// Write proposes cmd to the partition of t that owns key. A command
// without an id or timestamp gets them here.
//
// t may be older than the partition layout: a replica that no longer owns
// key, or whose range moved to a newer generation, refuses the command with
// WRONG_RANGE and writes nothing. Write then re-reads the table's record
// and sends the same command, id included, to the partition that owns key
// now, until the request's deadline; the client never sees the refusal.
func (r *Router) Write(ctx context.Context, t *partitapb.Table, key item.Item, cmd *partitapb.Command) (*partitapb.Result, error) {
	pk, _, err := keyValues(t, key)
	if err != nil {
		return nil, err
	}
	return r.writeHash(ctx, t, item.Hash(pk), cmd)
}

// writeHash is Write to the partition of t that owns partition key hash
// h. An item write that meets the intent of a transaction whose deadline
// has passed recovers that transaction (recoverTxn) and is tried again.
func (r *Router) writeHash(ctx context.Context, t *partitapb.Table, h uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	if len(cmd.GetId()) == 0 {
		cmd.Id, cmd.FirstAttempt = r.cfg.NewID(), true
	}
	if cmd.GetUnixNanos() == 0 {
		cmd.UnixNanos = r.cfg.Now().UnixNano()
	}
	cmd.ChangeView, cmd.ChangeViewRevision = t.GetChangeView(), t.GetRevision()
	if !r.allows(clusterversion.RecordedImages) {
		// An older binary's replica would record no image: the records
		// of one write would differ between replicas.
		cmd.RecordOld, cmd.RecordNew = false, false
	}
	if !r.allows(clusterversion.RecordedSizes) {
		cmd.RecordSizes = false // the same, for the sizes
	}
	if !r.allows(clusterversion.BlindPuts) {
		cmd.Blind = false // an older binary's replica cannot apply a blind put
	}
	if cmd.LocalIndexes = LocalIndexSpec(t); cmd.LocalIndexes != nil {
		cmd.LocalCollectionLimit = r.cfg.ItemCollectionLimit
	}
	ctx, cancel := r.bound(ctx, t)
	defer cancel()
	ctx, cancelSender := r.cfg.Sender.Deadline(ctx)
	defer cancelSender()
	rr := r.rerouter()
	owner := func(t *partitapb.Table) *partitapb.Partition { return partitionOfHash(t, h) }
	recovered := 0
	for {
		p := owner(t)
		cmd.RangeGeneration = p.GetRangeGeneration()
		res, err := r.propose(ctx, p.GetId(), cmd)
		if err == nil && res.GetTxnConflictExpired() && recovered < maxRecoveries && (fsm.IsItemWrite(cmd) || cmd.GetTxnPrepare() != nil) {
			recovered++
			if err := r.recoverTxn(ctx, t, fsm.ItemKey(cmd), res.GetTxnConflict()); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil || !partitapb.IsWrongRange(res.GetError()) {
			return res, err
		}
		if t, err = rr.reroute(ctx, t, p, res.GetError(), owner); err != nil {
			return nil, err
		}
	}
}

// Get reads the item with key; nil when absent. A consistent read first
// waits for the partition's read barrier; an eventually consistent one reads
// the local replica as it is.
func (r *Router) Get(ctx context.Context, t *partitapb.Table, key item.Item, consistent bool) (item.Item, error) {
	ctx, cancel := r.bound(ctx, t)
	defer cancel()
	pk, _, err := keyValues(t, key)
	if err != nil {
		return nil, err
	}
	k, err := r.StorageKey(t, key)
	if err != nil {
		return nil, err
	}
	rr := r.rerouter()
	owner := func(t *partitapb.Table) *partitapb.Partition { return partitionOf(t, pk) }
	p := owner(t)
	raw, err := r.getSettled(ctx, t, p.GetId(), k, consistent)
	for partitapb.IsWrongRange(err) {
		if t, err = rr.reroute(ctx, t, p, err, owner); err != nil {
			return nil, err
		}
		p = owner(t)
		raw, err = r.getSettled(ctx, t, p.GetId(), k, consistent)
	}
	if err != nil || raw == nil {
		return nil, err
	}
	it, err := item.DecodeItem(raw)
	if err != nil {
		return nil, fmt.Errorf("router: stored item is corrupt: %w", err)
	}
	return it, nil
}
