package cluster_test

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/store"
)

// memLocal is an in-memory node: partitions of key/value pairs written by
// PutItem and DeleteItem commands, walked with the store's limits, and a
// directory of nodes.
type memLocal struct {
	mu       sync.Mutex
	err      error // when set, every method fails with it
	block    bool  // when set, every method waits for its context
	joinErr  error // when set, Join fails with it
	data     map[uint64]map[string][]byte
	dir      directory.Snapshot
	nextNode uint64
	lastWalk cluster.WalkRequest // as the server passed it
	firsts   int                 // proposals marked as first attempts
}

var _ cluster.Local = (*memLocal)(nil)

func newMemLocal(partitions ...uint64) *memLocal {
	l := &memLocal{data: map[uint64]map[string][]byte{}, nextNode: 1}
	for _, p := range partitions {
		l.data[p] = map[string][]byte{}
	}
	return l
}

func (l *memLocal) setErr(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.err = err
}

func (l *memLocal) setJoinErr(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.joinErr = err
}

func (l *memLocal) setNodes(nodes ...*partitapb.Node) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dir.Nodes = nodes
}

// walked returns the last WalkRequest the server passed.
func (l *memLocal) walked() cluster.WalkRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastWalk
}

// enter fails the call as configured, and returns the partition's data.
func (l *memLocal) enter(ctx context.Context, partition uint64) (map[string][]byte, error) {
	l.mu.Lock()
	block, err := l.block, l.err
	l.mu.Unlock()
	if block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	if partition == 0 {
		return nil, nil
	}
	d, ok := l.data[partition]
	if !ok {
		return nil, fmt.Errorf("store: partition %d: %w", partition, store.ErrNoReplica)
	}
	return d, nil
}

func (l *memLocal) Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	d, err := l.enter(ctx, partition)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if cmd.GetFirstAttempt() {
		l.firsts++
	}
	var key []byte
	switch op := cmd.Op.(type) {
	case *partitapb.Command_PutItem:
		key = op.PutItem.Key
	case *partitapb.Command_DeleteItem:
		key = op.DeleteItem.Key
	default:
		return nil, partitapb.Errorf(partitapb.Error_VALIDATION, "unsupported command %T", op)
	}
	old, hasOld := d[string(key)]
	res := &partitapb.Result{OldItem: old, HasOld: hasOld}
	if put := cmd.GetPutItem(); put != nil {
		d[string(key)] = append([]byte{}, put.Item...)
		res.NewItem, res.HasNew = put.Item, true
	} else {
		delete(d, string(key))
	}
	return res, nil
}

func (l *memLocal) Get(ctx context.Context, partition uint64, key []byte, _ bool) ([]byte, error) {
	d, err := l.enter(ctx, partition)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return d[string(key)], nil
}

func (l *memLocal) Walk(ctx context.Context, req cluster.WalkRequest) (cluster.WalkResult, error) {
	d, err := l.enter(ctx, req.Partition)
	if err != nil {
		return cluster.WalkResult{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastWalk = req
	var keys []string
	for k := range d {
		if k >= string(req.Lo) && (len(req.Hi) == 0 || k < string(req.Hi)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if req.Reverse {
		slices.Reverse(keys)
	}
	var res cluster.WalkResult
	size := 0
	for i, k := range keys {
		if (req.MaxItems > 0 && i >= req.MaxItems) || (req.MaxBytes > 0 && size >= req.MaxBytes) {
			res.More = true
			break
		}
		res.Keys = append(res.Keys, []byte(k))
		res.Values = append(res.Values, d[k])
		size += len(k) + len(d[k])
	}
	return res, nil
}

func (l *memLocal) Join(ctx context.Context, n *partitapb.Node) (*partitapb.Node, error) {
	if _, err := l.enter(ctx, 0); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.joinErr != nil {
		return nil, l.joinErr
	}
	for _, m := range l.dir.Nodes {
		if m.PeerAddr == n.PeerAddr {
			return m, nil
		}
	}
	rec := &partitapb.Node{Id: l.nextNode, PeerAddr: n.PeerAddr, ApiAddr: n.ApiAddr, Zone: n.Zone}
	l.nextNode++
	l.dir.Nodes = append(l.dir.Nodes, rec)
	return rec, nil
}

func (l *memLocal) Directory(ctx context.Context) (*directory.Snapshot, error) {
	if _, err := l.enter(ctx, 0); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.dir
	return &d, nil
}

func (l *memLocal) CreateReplica(ctx context.Context, partition uint64) error {
	if _, err := l.enter(ctx, 0); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.data[partition]; ok {
		return partitapb.Errorf(partitapb.Error_VALIDATION, "partition %d already hosted", partition)
	}
	l.data[partition] = map[string][]byte{}
	return nil
}

// keysOf returns keys as strings, for comparisons.
func keysOf(keys [][]byte) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = string(k)
	}
	return out
}
