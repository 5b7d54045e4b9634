package member

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/store"
)

// Peer is what this node does for the other nodes: its store's replicas,
// and the directory when it holds a meta replica.
func (m *Member) Peer() cluster.Local { return peer{m} }

type peer struct{ m *Member }

var _ cluster.Local = peer{}

func (p peer) Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	return p.m.cfg.Store.Propose(ctx, partition, cmd)
}

func (p peer) Get(ctx context.Context, partition uint64, key []byte, consistent bool) ([]byte, error) {
	return p.m.cfg.Store.Get(ctx, partition, key, consistent)
}

func (p peer) Walk(ctx context.Context, req cluster.WalkRequest) (cluster.WalkResult, error) {
	return p.m.cfg.Store.Walk(ctx, req)
}

// Join adds the node to the directory through the meta leader, here or
// forwarded to it: a joining node may contact any member.
func (p peer) Join(ctx context.Context, rec *partitapb.Node) (*partitapb.Node, error) {
	return p.m.Join(ctx, rec)
}

// Directory serves the catalogue from this node's meta replica after a
// read barrier.
func (p peer) Directory(ctx context.Context) (*directory.Snapshot, error) {
	return p.m.LocalDirectory(ctx, true)
}

func (p peer) CreateReplica(ctx context.Context, partition uint64) error {
	if err := p.fence(ctx); err != nil {
		return err
	}
	return p.m.cfg.Store.AddEmptyReplica(partition)
}

// Join adds or updates rec in the directory through the meta leader,
// wherever the Sender finds it (this node's replica when it leads).
func (m *Member) Join(ctx context.Context, rec *partitapb.Node) (*partitapb.Node, error) {
	id := m.cfg.NewID()
	if rec.GetId() == 0 && len(rec.GetJoinId()) > 0 {
		// Every attempt of the node's join, through any member, is one
		// command: a second is answered by the first's record.
		id = append([]byte(joinCommandPrefix), rec.GetJoinId()...)
	}
	cmd := &partitapb.Command{Id: id, UnixNanos: m.cfg.Now().UnixNano(),
		Op: &partitapb.Command_PutNode{PutNode: &partitapb.PutNode{Node: rec}}}
	res, err := m.cfg.Sender.Propose(ctx, directory.MetaPartition, cmd)
	if err != nil {
		return nil, err
	}
	if res.GetError() != nil {
		return nil, res.GetError()
	}
	n := res.GetNode()
	if n == nil {
		// A retry answered by its at-most-once record (the first attempt
		// applied, its answer was lost), which keeps no node: read the
		// record the command wrote. Asking again would give a new node a
		// second id, and leave the first as a member that never runs.
		if n, err = m.joinedRecord(ctx, rec, cmd.GetUnixNanos()); err != nil {
			return nil, err
		}
	}
	m.dir.AddNode(n)
	return n, nil
}

// joinCommandPrefix starts the command id of a join that names itself
// (Node.join_id).
const joinCommandPrefix = "join/"

// joinedRecordReads bounds joinedRecord's directory reads.
const joinedRecordReads = 3

// joinedRecord finds the record a PutNode of rec at time now wrote: by
// its id; for a new node, by its join id, or without one by its peer
// address and its join time, which is the command's time (applyPutNode).
// (A join id's first attempt may have come through another member, at
// another time.)
func (m *Member) joinedRecord(ctx context.Context, rec *partitapb.Node, now int64) (*partitapb.Node, error) {
	wrote := func(n *partitapb.Node) bool {
		switch {
		case rec.GetId() != 0:
			return n.GetId() == rec.GetId()
		case len(rec.GetJoinId()) > 0:
			return bytes.Equal(n.GetJoinId(), rec.GetJoinId())
		default:
			return n.GetPeerAddr() == rec.GetPeerAddr() && n.GetJoinedUnixNanos() == now
		}
	}
	for range joinedRecordReads {
		if err := m.RefreshConsistent(ctx); err != nil {
			return nil, fmt.Errorf("member: join: registered, but the answer was lost, and the directory is unreadable: %w", err)
		}
		for _, n := range m.dir.Nodes() {
			if wrote(n) {
				return n, nil
			}
		}
	}
	return nil, errors.New("member: join: registered, but the answer was lost, and the directory read shows no record of it")
}

// LocalDirectory reads the catalogue from this node's meta replica, after
// a read barrier when consistent.
func (m *Member) LocalDirectory(ctx context.Context, consistent bool) (*directory.Snapshot, error) {
	st := m.cfg.Store
	r := st.Replica(directory.MetaPartition)
	if r == nil {
		return nil, &replica.NotLeaderError{Partition: directory.MetaPartition, Leader: first(m.dir.MetaReplicas())}
	}
	if consistent {
		if err := st.ReadIndex(ctx, directory.MetaPartition); err != nil {
			return nil, err
		}
	}
	tables, err := directory.ReadTables(m.cfg.Engine.Reader())
	if err != nil {
		return nil, fmt.Errorf("member: directory: %w", err)
	}
	nodes, err := directory.ReadNodes(m.cfg.Engine.Reader())
	if err != nil {
		return nil, fmt.Errorf("member: directory: %w", err)
	}
	lease, err := directory.ReadDoctorLease(m.cfg.Engine.Reader())
	if err != nil {
		return nil, fmt.Errorf("member: directory: %w", err)
	}
	doctorSettings, err := directory.ReadDoctorSettings(m.cfg.Engine.Reader())
	if err != nil {
		return nil, fmt.Errorf("member: directory: %w", err)
	}
	overrides, err := directory.ReadSettingsState(m.cfg.Engine.Reader())
	if err != nil {
		return nil, fmt.Errorf("member: directory: %w", err)
	}
	cv, err := directory.ReadClusterVersion(m.cfg.Engine.Reader())
	if err != nil {
		return nil, fmt.Errorf("member: directory: %w", err)
	}
	if m.directoryRead != nil {
		m.directoryRead()
	}
	if st.Replica(directory.MetaPartition) != r {
		// Destroyed (moved away) meanwhile, and its records cleared with
		// it: what was read may be missing some.
		return nil, &replica.NotLeaderError{Partition: directory.MetaPartition, Leader: first(m.dir.MetaReplicas())}
	}
	return &directory.Snapshot{Tables: tables, Nodes: nodes, MetaReplicas: r.ConfState().Voters, DoctorLease: lease,
		DoctorSettings: doctorSettings, Settings: overrides, ClusterVersion: cv}, nil
}

func first(ids []uint64) uint64 {
	if len(ids) == 0 {
		return 0
	}
	return ids[0]
}

var _ cluster.ChangeReader = peer{}

// ReadChangesPage serves a page of a change log from this node's replica.
func (p peer) ReadChangesPage(ctx context.Context, req store.ChangesRequest) (store.ChangesPage, error) {
	return p.m.cfg.Store.ReadChangesPage(ctx, req)
}
