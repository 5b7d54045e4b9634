package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/placement"
	"github.com/partitadb/partita/member"
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
	if err := n.startClient(); err != nil {
		return err
	}
	if n.id, err = loadIdentity(n.eng); err != nil {
		return err
	}
	self := n.record()
	if err := n.loadClusterKey(); err != nil {
		return err
	}
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
		n.auth.bootstrap = true
	}
	if err := n.ensureClusterKey(first || len(n.cfg.Join) == 0); err != nil {
		return err
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
	vr := n.versions()
	rec := &partitapb.Node{Id: n.id, Zone: n.cfg.Zone, Version: Version, WriteFormat: n.writeFormat(),
		MinVersion: uint32(vr.Min), MaxVersion: uint32(vr.Max), StartedUnixNanos: n.started.UnixNano()}
	if n.peerLn != nil {
		rec.PeerAddr = n.advertise(n.peerLn.Addr().String())
	}
	return rec
}

// writeFormat is how this node's leaders propose item writes, as its
// directory record says.
func (n *Node) writeFormat() string {
	if n.store == nil && n.cfg.LegacyWrites || n.store != nil && n.store.LegacyWrites() {
		return "commands"
	}
	return "effects"
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
// The attempts share a join id (Node.join_id).
func (n *Node) join(ctx context.Context, self *partitapb.Node) (*partitapb.Node, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	// One name for every attempt: an attempt that registered the node
	// but whose answer was lost is not repeated under a second id.
	self.JoinId = router.RandomID()
	var errs []error
	for attempt := 0; ctx.Err() == nil; attempt++ {
		addr := n.cfg.Join[attempt%len(n.cfg.Join)]
		rec, key, err := n.client.JoinWithToken(ctx, addr, self, n.cfg.JoinToken)
		if err == nil {
			n.log.Info("joined the cluster", "node", rec.GetId(), "via", addr, "cluster_key", key != nil)
			return rec, n.takeClusterKey(key)
		}
		if errors.Is(err, cluster.ErrJoinRefused) {
			n.log.Error("cannot join: the cluster refused this node", "via", addr, "err", err)
			return nil, err
		}
		if cerr := n.checkPeerHandshake(ctx, addr); cerr != nil {
			n.log.Error("cannot join: the TLS handshake with a member was refused", "via", addr, "err", cerr)
			return nil, cerr
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
	tcfg.Advertise, tcfg.DialOptions = n.record().GetPeerAddr(), n.peerDialOptions()
	tr, err := transport.NewGRPC(tcfg)
	if err != nil {
		return err
	}
	n.tr = tr
	n.resolver.Store(tr)
	if err := n.checkStoredVersion(); err != nil {
		return err
	}
	scfg, err := n.storeConfig(n.id)
	if err != nil {
		return err
	}
	if n.store, err = store.NewStore(scfg); err != nil {
		return err
	}
	n.store.Start(tr)
	if err := n.startSender(); err != nil {
		return err
	}
	if err := n.startMember(); err != nil {
		return err
	}
	// Stop waits for the handlers: one still running when the engine
	// closes would read a closed engine.
	opts := append(transport.ServerOptions(), grpc.WaitForHandlers(true))
	n.peerSrv = grpc.NewServer(append(opts, n.peerServerOptions()...)...)
	var h transport.Handler = n.store
	if n.cfg.DropRaft != nil {
		h = dropRaft{Store: n.store, drop: n.cfg.DropRaft}
	}
	tr.Register(n.peerSrv, h)
	cluster.Register(n.peerSrv, cluster.WithJoinPolicy(n.peerService(), n.clusterKeyBytes, n.admitJoin), cluster.ServeSettings(n))
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
	if err := n.startClusterVersion(ctx); err != nil {
		return err
	}
	if err := n.startReplicationFactor(ctx); err != nil {
		return err
	}
	n.log.Info("bootstrapped a new cluster", "node", n.id, "cluster_version", n.versions().Max)
	return saveIdentity(n.eng, n.id)
}

// peerJoinLocal registers rec through this node's own meta replica,
// waiting for it to become leader.
func (n *Node) peerJoinLocal(ctx context.Context, rec *partitapb.Node) (*partitapb.Node, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		out, err := n.member.Join(ctx, rec)
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

// watchDirectory has every directory update refresh what follows it: the
// change logs of this node's replicas, the router's tables, and the nodes
// the cluster client keeps connections to (a removed node's close).
func (n *Node) watchDirectory() {
	n.dir.OnUpdate(func(s *directory.Snapshot) {
		n.setChangeLogsOf(s.Tables)
		n.router.ObserveTables(s.Tables)
		if n.client != nil && len(s.Nodes) > 0 {
			ids := make([]uint64, 0, len(s.Nodes))
			for _, rec := range s.Nodes {
				ids = append(ids, rec.GetId())
			}
			n.client.Retain(ids)
		}
	})
}

// placement orders the known nodes for a new table's partitions (the
// policy is doctor/placement's), with the cluster's replication factor.
func (n *Node) placement(ctx context.Context) ([]uint64, int, error) {
	// Place on the nodes the directory lists now, not on a stale cache.
	if err := n.refreshDirectory(ctx); err != nil {
		n.log.Warn("placing on a cached directory", "err", err)
	}
	snap := n.dir.Snapshot()
	if snap.DoctorSettings == nil {
		return nil, 0, errors.New("node: placement: the directory has not been read yet")
	}
	rep := n.replicationOf(snap.DoctorSettings)
	if rep.Fallback {
		n.log.Info("placing a new table with this node's --replication-factor: the cluster records no replication factor",
			"factor", rep.Factor)
	}
	order, err := placement.Order(snap, n.now())
	return order, rep.Factor, err
}

// DirectoryJob names the job keeping the directory and the local replicas
// up to date.
const DirectoryJob = "directory"

// IntroduceJob names the job announcing a restarted node's new peer
// address to the members it was given to join.
const IntroduceJob = "introduce"

func (n *Node) registerClusterJobs(m *daemon.Manager) error {
	if n.tr != nil && len(n.cfg.Join) > 0 {
		if err := m.Register(daemon.JobSpec{
			Name:       IntroduceJob,
			Kind:       daemon.Periodic,
			Interval:   introduceInterval,
			Jitter:     introduceInterval / 5,
			Timeout:    3 * introduceInterval, // two waves of introductions, each bounded by one
			RunAtStart: true,
			Run:        func(ctx context.Context, _ *daemon.Cycle) error { return n.introduce(ctx) },
		}); err != nil {
			return err
		}
	}
	return m.Register(daemon.JobSpec{
		Name:       DirectoryJob,
		Kind:       daemon.Periodic,
		Interval:   n.cfg.ReconcileInterval,
		Jitter:     n.cfg.ReconcileInterval / 5,
		Timeout:    10 * n.cfg.ReconcileInterval,
		RunAtStart: true,
		Run: func(ctx context.Context, _ *daemon.Cycle) error {
			err := n.member.Reconcile(ctx)
			n.followClusterVersion()
			n.noteReplicationFlag()
			return err
		},
	})
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

// Replicas is the number of replicas this node hosts.
func (n *Node) Replicas() int { return len(n.store.Replicas()) }

// PeerConnections returns the peer addresses this node's cluster client
// holds connections to, sorted.
func (n *Node) PeerConnections() []string {
	if n.client == nil {
		return nil
	}
	return n.client.Addresses()
}

// startClient creates the client of the other nodes' cluster service (a
// single node has one too, for `ctl`: every other node is unknown to it).
func (n *Node) startClient() error {
	ccfg := cluster.DefaultConfig()
	ccfg.Resolve, ccfg.Logger, ccfg.DialOptions = n.resolvePeer, n.log, n.peerDialOptions()
	var err error
	n.client, err = cluster.NewClient(ccfg)
	return err
}

// resolvePeer returns node id's peer address as the transport resolves
// it (an address the node's own stream announced wins over the
// directory's until the directory's changes), or the directory's before
// the transport starts. The cluster client resolves through it, so that
// a node that moved is reached by forwarded requests (the heartbeat that
// records its new address among them) as soon as by raft.
func (n *Node) resolvePeer(id uint64) (string, error) {
	if tr := n.resolver.Load(); tr != nil {
		return tr.Resolve(id)
	}
	return n.dir.PeerAddr(id)
}

// startMember sets up this node's part in the cluster (see package member).
func (n *Node) startMember() error {
	var err error
	n.member, err = member.New(member.Config{
		Self: n.id, Store: n.store, Engine: n.eng, Sender: n.sender, Client: n.client,
		Seeds: n.cfg.Join, Now: n.now, NewID: router.RandomID, Logger: n.log, OrphanGrace: n.cfg.OrphanGrace,
	})
	return err
}

// proposeMeta proposes cmd to the meta partition wherever its leader is,
// retrying (same command id: applied at most once) while leadership moves.
func (n *Node) proposeMeta(ctx context.Context, cmd *partitapb.Command) (*partitapb.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, metaRetryTimeout)
	defer cancel()
	return n.sender.Propose(ctx, directory.MetaPartition, cmd)
}

// metaRetryTimeout bounds proposeMeta's retries.
const metaRetryTimeout = 15 * time.Second

// refreshDirectory reloads the directory cache (see member.Refresh).
func (n *Node) refreshDirectory(ctx context.Context) error { return n.member.Refresh(ctx) }

// dropRaft is the store as the transport's handler, dropping the incoming
// raft messages of the partitions Config.DropRaft names (fault
// injection: a replica that stopped answering on a live node).
// Snapshots pass through the embedded store.
type dropRaft struct {
	*store.Store
	drop func(partition uint64) bool
}

func (d dropRaft) HandleRaft(msgs []transport.Message) {
	keep := make([]transport.Message, 0, len(msgs))
	for _, m := range msgs {
		if !d.drop(m.Partition) {
			keep = append(keep, m)
		}
	}
	if len(keep) > 0 {
		d.Store.HandleRaft(keep)
	}
}

// introduceInterval is the period of the introduce job.
const introduceInterval = time.Second

// introduce announces this node's peer address to the members it was
// given to join (Config.Join), while the directory lists it at another
// one. A node restarted on a new address is found by the others through
// its own raft streams, sent to the addresses the directory lists; but
// when every node of a cluster restarted on a new address, none of those
// answers, and the directory cannot record the new ones without a meta
// quorum, which needs the nodes to reach each other first. Introduced,
// a member answers this node at its new address and says where it is
// now (transport.GRPC.Introduce). It also says where it reaches the
// other nodes, when this node would look for them elsewhere, and this
// node introduces itself to those in turn: the meta leader, say, may be
// one it was not given, that cannot reach it either.
func (n *Node) introduce(ctx context.Context) error {
	self := n.record().GetPeerAddr()
	snap := n.dir.Snapshot()
	if listed := snap.Node(n.id); listed == nil || listed.GetPeerAddr() == self {
		return nil // the directory has this node where it is (or knows no better)
	}
	known := map[uint64]string{}
	for _, rec := range snap.Nodes {
		if id := rec.GetId(); id != n.id {
			if addr, err := n.resolvePeer(id); err == nil {
				known[id] = addr
			}
		}
	}
	seen := map[string]bool{self: true}
	var errs []error
	introduced := 0
	for wave, addrs := 0, n.cfg.Join; wave < 2 && len(addrs) > 0; wave++ {
		var heard []string
		for _, o := range n.introduceTo(ctx, addrs, known, seen) {
			if o.err != nil {
				errs = append(errs, o.err)
				continue
			}
			introduced++
			for _, a := range o.elsewhere {
				heard = append(heard, a)
			}
		}
		addrs = heard
	}
	if introduced > 0 {
		return nil // a member unreachable among others (down, or moved too) is no failure of the cycle
	}
	return errors.Join(errs...)
}

// introduction is the outcome of introducing this node at one address.
type introduction struct {
	elsewhere map[uint64]string
	err       error
}

// introduceTo introduces this node at each of addrs not seen yet (marking
// them seen), concurrently, each bounded by introduceInterval. A member
// on a binary from before introductions (a rolling upgrade) is left out.
func (n *Node) introduceTo(ctx context.Context, addrs []string, known map[uint64]string, seen map[string]bool) []introduction {
	var todo []string
	for _, addr := range addrs {
		if !seen[addr] {
			seen[addr] = true
			todo = append(todo, addr)
		}
	}
	out := make([]introduction, len(todo))
	var wg sync.WaitGroup
	for i, addr := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ictx, cancel := context.WithTimeout(ctx, introduceInterval)
			defer cancel()
			out[i].elsewhere, out[i].err = n.tr.Introduce(ictx, addr, known)
			if out[i].err == nil {
				n.log.Info("introduced this node's new peer address to a member", "member", addr, "addr", n.record().GetPeerAddr())
			}
		}()
	}
	wg.Wait()
	return slices.DeleteFunc(out, func(o introduction) bool { return status.Code(o.err) == codes.Unimplemented })
}
