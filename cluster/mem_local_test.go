package cluster_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/topology"
)

// memLocal is an in-memory node: partitions of key/value pairs written by
// PutItem and DeleteItem commands, walked with the store's limits, and a
// directory of nodes.
type memLocal struct {
	mu       sync.Mutex
	err      error           // when set, every method fails with it
	block    bool            // when set, every method waits for its context
	released []error         // the context errors that ended blocked calls
	deadline []time.Duration // the time left on each blocked call's context
	joinErr  error           // when set, Join fails with it
	data     map[uint64]map[string][]byte
	dir      directory.Snapshot
	nextNode uint64
	lastWalk cluster.WalkRequest // as the server passed it
	firsts   int                 // proposals marked as first attempts
	parents  []trace.SpanContext // the span each proposal's context carried
	readers  []trace.SpanContext // the span each Get's and Walk's context carried
	conf     map[uint64]cluster.Membership
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
		d, _ := ctx.Deadline()
		l.mu.Lock()
		l.deadline = append(l.deadline, time.Until(d))
		l.mu.Unlock()
		<-ctx.Done()
		l.mu.Lock()
		l.released = append(l.released, ctx.Err())
		l.mu.Unlock()
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
	l.parents = append(l.parents, trace.SpanContextFromContext(ctx))
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
	l.readBy(ctx)
	d, err := l.enter(ctx, partition)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return d[string(key)], nil
}

// readBy records the span ctx carries for a read.
func (l *memLocal) readBy(ctx context.Context) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.readers = append(l.readers, trace.SpanContextFromContext(ctx))
}

func (l *memLocal) Walk(ctx context.Context, req cluster.WalkRequest) (cluster.WalkResult, error) {
	l.readBy(ctx)
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

// ReplicaStatus lists the hosted partitions as led by node 1, with the
// configurations the membership calls made.
func (l *memLocal) ReplicaStatus(ctx context.Context) (topology.LocalReplicas, error) {
	if _, err := l.enter(ctx, 0); err != nil {
		return topology.LocalReplicas{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := topology.LocalReplicas{Node: 1, Replicas: []topology.LocalReplica{}}
	for _, p := range slices.Sorted(maps.Keys(l.data)) {
		m := l.conf[p]
		out.Replicas = append(out.Replicas, topology.LocalReplica{Partition: p, Leader: true, Lead: 1, Term: 2,
			Applied: uint64(len(l.data[p])), Voters: m.Voters, Learners: m.Learners})
	}
	return out, nil
}

func (l *memLocal) AddLearner(ctx context.Context, partition, node uint64) (cluster.Membership, error) {
	return l.change(ctx, partition, func(m *cluster.Membership) {
		if !slices.Contains(m.Voters, node) && !slices.Contains(m.Learners, node) {
			m.Learners = append(m.Learners, node)
		}
	})
}

func (l *memLocal) PromoteLearner(ctx context.Context, partition, node uint64) (cluster.Membership, error) {
	return l.change(ctx, partition, func(m *cluster.Membership) {
		if i := slices.Index(m.Learners, node); i >= 0 {
			m.Learners = slices.Delete(m.Learners, i, i+1)
			m.Voters = append(m.Voters, node)
		}
	})
}

func (l *memLocal) RemoveVoter(ctx context.Context, partition, node uint64) (cluster.Membership, error) {
	if node == 1 {
		return cluster.Membership{}, fmt.Errorf("mem: partition %d: %w", partition, cluster.ErrLeadershipMoved)
	}
	return l.change(ctx, partition, func(m *cluster.Membership) {
		m.Voters = slices.DeleteFunc(m.Voters, func(id uint64) bool { return id == node })
		m.Learners = slices.DeleteFunc(m.Learners, func(id uint64) bool { return id == node })
	})
}

// change applies f to partition's configuration.
func (l *memLocal) change(ctx context.Context, partition uint64, f func(*cluster.Membership)) (cluster.Membership, error) {
	if _, err := l.enter(ctx, partition); err != nil {
		return cluster.Membership{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conf == nil {
		l.conf = map[uint64]cluster.Membership{}
	}
	m, ok := l.conf[partition]
	if !ok {
		m = cluster.Membership{Voters: []uint64{1}}
	}
	f(&m)
	l.conf[partition] = m
	return m, nil
}

func (l *memLocal) TransferLeadership(ctx context.Context, partition, _ uint64) (uint64, error) {
	if _, err := l.enter(ctx, partition); err != nil {
		return 0, err
	}
	return 0, &replica.NotLeaderError{Partition: partition, Leader: 1}
}

func (l *memLocal) DestroyReplica(ctx context.Context, partition uint64) error {
	if _, err := l.enter(ctx, 0); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range l.dir.Replicas(partition) {
		if n == 1 {
			return fmt.Errorf("mem: partition %d: %w", partition, cluster.ErrStillListed)
		}
	}
	delete(l.data, partition)
	delete(l.conf, partition)
	return nil
}

func (l *memLocal) setTables(tables ...*partitapb.Table) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dir.Tables = tables
}
