package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"google.golang.org/grpc"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/placement"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/transport"
)

// A node of a cluster (Config.PeerAddr set) finds its identity in its
// engine, or gets one: the first node of a new cluster is node 1 and
// bootstraps the meta partition alone; a new node joins through a member,
// which adds it to the directory through the meta leader. It then serves
// raft traffic and its peers' requests on the peer address, keeps a cached
// directory, and runs two jobs: "directory" refreshes the cache and creates
// the replicas placed on this node; on the meta leader, it also grows the
// meta partition to three voters as nodes join.

// startClusterStore brings up the peer listener, identity, transport and
// store of a cluster node.
func (n *Node) startClusterStore(ctx context.Context) error {
	var err error
	n.dir = directory.NewCache()
	var lc net.ListenConfig
	if n.peerLn, err = lc.Listen(ctx, "tcp", n.cfg.PeerAddr); err != nil {
		return fmt.Errorf("node: listen on %s: %w", n.cfg.PeerAddr, err)
	}
	ccfg := cluster.DefaultConfig()
	ccfg.Resolve, ccfg.Logger = n.dir.PeerAddr, n.log
	if n.client, err = cluster.NewClient(ccfg); err != nil {
		return err
	}
	if n.id, err = loadIdentity(n.eng); err != nil {
		return err
	}
	self := n.record()
	if n.id == 0 && len(n.cfg.Join) > 0 {
		if self, err = n.join(ctx, self); err != nil {
			return err
		}
		n.id = self.GetId()
		if err := saveIdentity(n.eng, n.id); err != nil {
			return err
		}
	}
	first := n.id == 0
	if first {
		n.id, self.Id = 1, 1
	}
	n.dir.AddNode(self)
	if err := n.startRaft(); err != nil {
		return err
	}
	if first {
		return n.bootstrapCluster(ctx, self)
	}
	return nil
}

// record is this node's directory record (without its id).
func (n *Node) record() *partitapb.Node {
	return &partitapb.Node{
		Id:       n.id,
		PeerAddr: n.advertise(n.peerLn.Addr().String()),
		Zone:     n.cfg.Zone,
		Version:  Version,
	}
}

// Version is the software version nodes report in the directory.
const Version = "0.1.0"

// advertise replaces the host of a listen address by AdvertiseHost.
func (n *Node) advertise(addr string) string {
	if n.cfg.AdvertiseHost == "" {
		return addr
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return net.JoinHostPort(n.cfg.AdvertiseHost, port)
}

// join asks the members in Config.Join to add this node, until one does.
func (n *Node) join(ctx context.Context, self *partitapb.Node) (*partitapb.Node, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var errs []error
	for attempt := 0; ctx.Err() == nil; attempt++ {
		addr := n.cfg.Join[attempt%len(n.cfg.Join)]
		rec, err := n.client.Join(ctx, addr, self)
		if err == nil {
			n.log.Info("joined the cluster", "node", rec.GetId(), "via", addr)
			return rec, nil
		}
		errs = append(errs, err)
		time.Sleep(200 * time.Millisecond)
	}
	return nil, fmt.Errorf("node: join %v: %w", n.cfg.Join, errors.Join(append(errs, ctx.Err())...))
}

// startRaft starts the gRPC transport, the store and the peer service.
func (n *Node) startRaft() error {
	tcfg := transport.DefaultConfig()
	tcfg.NodeID, tcfg.Resolve, tcfg.Logger, tcfg.Registerer = n.id, n.dir.PeerAddr, n.log, n.reg
	tr, err := transport.NewGRPC(tcfg)
	if err != nil {
		return err
	}
	n.tr = tr
	scfg := store.DefaultConfig()
	scfg.NodeID, scfg.Engine, scfg.Logger, scfg.Registerer = n.id, n.eng, n.log, n.reg
	scfg.Tracer = n.tracer("store")
	if n.store, err = store.NewStore(scfg); err != nil {
		return err
	}
	n.store.Start(tr)
	n.peerSrv = grpc.NewServer(transport.ServerOptions()...)
	tr.Register(n.peerSrv, n.store)
	cluster.Register(n.peerSrv, n.peer())
	n.peerWG.Add(1)
	go func() {
		defer n.peerWG.Done()
		if err := n.peerSrv.Serve(n.peerLn); err != nil {
			n.log.Error("peer server stopped", "err", err)
		}
	}()
	return nil
}

// bootstrapCluster makes this node the first member: it creates the meta
// partition with itself as only voter and registers itself as node 1.
func (n *Node) bootstrapCluster(ctx context.Context, self *partitapb.Node) error {
	if err := n.store.Bootstrap(directory.MetaPartition, []uint64{n.id}, directory.MetaSpans()...); err != nil {
		return err
	}
	self.Id = 0 // the directory assigns ids; the first one is 1
	rec, err := n.peerJoinLocal(ctx, self)
	if err != nil {
		return err
	}
	if rec.GetId() != n.id {
		return fmt.Errorf("node: bootstrap registered node %d, want %d", rec.GetId(), n.id)
	}
	n.log.Info("bootstrapped a new cluster", "node", n.id)
	return saveIdentity(n.eng, n.id)
}

// peerJoinLocal registers rec through this node's own meta replica,
// waiting for it to become leader.
func (n *Node) peerJoinLocal(ctx context.Context, rec *partitapb.Node) (*partitapb.Node, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		out, err := n.peer().Join(ctx, rec)
		if err == nil {
			return out, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("node: register: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stopPeers stops the peer service, the transport and the client.
func (n *Node) stopPeers() error {
	var err error
	if n.tr != nil {
		err = errors.Join(err, n.tr.Close())
	}
	if n.peerSrv != nil {
		n.peerSrv.Stop()
		n.peerWG.Wait()
	} else if n.peerLn != nil {
		n.peerLn.Close()
	}
	if n.client != nil {
		err = errors.Join(err, n.client.Close())
	}
	return err
}

// placement orders the known nodes for a new table's partitions (the
// policy is doctor/placement's).
func (n *Node) placement(ctx context.Context) ([]uint64, int, error) {
	// Place on the nodes the directory lists now, not on a stale cache.
	if err := n.refreshDirectory(ctx); err != nil {
		n.log.Warn("placing on a cached directory", "err", err)
	}
	order, err := placement.Order(n.dir.Snapshot(), n.now())
	return order, n.cfg.ReplicationFactor, err
}

// DirectoryJob names the job keeping the directory and the local replicas
// up to date.
const DirectoryJob = "directory"

func (n *Node) registerClusterJobs(m *daemon.Manager) error {
	return m.Register(daemon.JobSpec{
		Name:       DirectoryJob,
		Kind:       daemon.Periodic,
		Interval:   n.cfg.ReconcileInterval,
		Jitter:     n.cfg.ReconcileInterval / 5,
		Timeout:    10 * n.cfg.ReconcileInterval,
		RunAtStart: true,
		Run:        func(ctx context.Context, _ *daemon.Cycle) error { return n.reconcile(ctx) },
	})
}

// reconcile refreshes the directory, creates the replicas placed here,
// registers this node's current addresses, and grows the meta partition.
func (n *Node) reconcile(ctx context.Context) error {
	if err := n.refreshDirectory(ctx); err != nil {
		return err
	}
	var errs []error
	parts := n.dir.Snapshot().Partitions()
	for _, p := range parts {
		n.bootMu.Lock()
		errs = append(errs, n.bootstrapIfPlacedHere(p))
		n.bootMu.Unlock()
	}
	errs = append(errs, n.collectDeleted(parts))
	errs = append(errs, n.heartbeat(ctx), n.growMeta(ctx))
	return errors.Join(errs...)
}

// heartbeat updates this node's directory record when its heartbeat is
// due or its addresses differ from the ones listed (first start, restart
// elsewhere).
func (n *Node) heartbeat(ctx context.Context) error {
	want := n.listening.Load()
	if want == nil {
		return nil // not serving yet: next cycle
	}
	for _, rec := range n.dir.Nodes() {
		if rec.GetId() == n.id && rec.GetPeerAddr() == want.GetPeerAddr() &&
			rec.GetApiAddr() == want.GetApiAddr() && rec.GetAdminAddr() == want.GetAdminAddr() && rec.GetZone() == want.GetZone() &&
			n.now().Sub(time.Unix(0, rec.GetHeartbeatUnixNanos())) < directory.HeartbeatInterval {
			return nil
		}
	}
	cmd := &partitapb.Command{Id: router.RandomID(), UnixNanos: n.now().UnixNano(),
		Op: &partitapb.Command_PutNode{PutNode: &partitapb.PutNode{Node: want}}}
	res, err := clusterStore{n}.Propose(ctx, directory.MetaPartition, cmd)
	if err != nil {
		return err
	}
	if res.GetError() != nil {
		return res.GetError()
	}
	n.dir.AddNode(res.GetNode())
	return nil
}

// growMeta adds a voter to the meta partition, on its leader, while it has
// fewer than three and more nodes exist.
func (n *Node) growMeta(ctx context.Context) error {
	r := n.store.Replica(directory.MetaPartition)
	if r == nil || r.Leader() != n.id {
		return nil
	}
	voters := r.ConfState().Voters
	if len(voters) >= 3 {
		return nil
	}
	var errs []error
	for _, rec := range n.dir.Nodes() {
		id := rec.GetId()
		if slices.Contains(voters, id) || rec.GetPeerAddr() == "" || directory.NodeLiveness(rec, n.now()) != directory.Alive {
			continue
		}
		if err := n.client.CreateReplica(ctx, id, directory.MetaPartition); err != nil {
			errs = append(errs, fmt.Errorf("node: grow meta to node %d: %w", id, err))
			continue // unreachable: try the next node
		}
		if err := n.store.AddLearner(ctx, directory.MetaPartition, id); err != nil {
			return err
		}
		return n.store.PromoteLearner(ctx, directory.MetaPartition, id)
	}
	return errors.Join(errs...)
}

// PeerAddr is the node-to-node address this node listens on ("" outside a
// cluster).
func (n *Node) PeerAddr() string {
	if n.peerLn == nil {
		return ""
	}
	return n.peerLn.Addr().String()
}

// ID is this node's id in its cluster (1 for a single node).
func (n *Node) ID() uint64 { return n.id }

// MetaVoters returns the meta partition's voters as this node's replica
// sees them (nil without one).
func (n *Node) MetaVoters() []uint64 {
	r := n.store.Replica(directory.MetaPartition)
	if r == nil {
		return nil
	}
	return r.ConfState().Voters
}

// handOffTimeout bounds the leadership transfers of a graceful shutdown.
const handOffTimeout = 5 * time.Second

// handOffLeadership moves the leadership of every partition this node
// leads to another voter, so that stopping it costs no election timeout.
// Partitions with no other live voter keep their leader.
func (n *Node) handOffLeadership(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, handOffTimeout)
	defer cancel()
	moved, kept := 0, 0
	for _, r := range n.store.Replicas() {
		if r.Leader() != n.id || len(r.ConfState().Voters) < 2 {
			continue
		}
		if err := n.store.TransferLeadership(ctx, r.Partition()); err != nil {
			kept++
			continue
		}
		moved++
	}
	n.log.Info("handed off leadership before stopping", "moved", moved, "kept", kept)
}

// collectDeleted destroys the local replicas of deleted tables' partitions.
// A partition missing from the directory is known deleted (not merely too
// new for this copy of it) when the directory lists a partition with a
// higher id: ids are assigned in the meta log's order. The table's data
// went with DestroyRange through the partition's own log; this removes the
// raft state left on nodes other than the one that deleted the table.
func (n *Node) collectDeleted(parts []*partitapb.Partition) error {
	listed := make(map[uint64]bool, len(parts))
	var maxID uint64
	for _, p := range parts {
		listed[p.GetId()] = true
		maxID = max(maxID, p.GetId())
	}
	var errs []error
	for _, r := range n.store.Replicas() {
		id := r.Partition()
		if id == directory.MetaPartition || listed[id] || id >= maxID {
			continue
		}
		n.log.Info("removing the replica of a deleted table's partition", "partition", id)
		errs = append(errs, n.store.Destroy(id))
	}
	return errors.Join(errs...)
}

// Replicas is the number of replicas this node hosts.
func (n *Node) Replicas() int { return len(n.store.Replicas()) }
