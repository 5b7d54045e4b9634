package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/dynamo"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/member"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/route"
	"github.com/partitadb/partita/router"
	"github.com/partitadb/partita/settings"
	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/telemetry"
	"github.com/partitadb/partita/topology/ingest"
	"github.com/partitadb/partita/topology/publish"
	"github.com/partitadb/partita/transport"
)

// Config configures a node.
type Config struct {
	// DataDir holds the node's data; created if missing.
	DataDir string
	// APIAddr is the DynamoDB API listen address ("127.0.0.1:8000"; port 0
	// picks a free port).
	APIAddr string
	// AdminAddr is the admin endpoint's listen address (metrics, health,
	// readiness, log level, jobs); empty: no admin endpoint.
	AdminAddr string
	// Pprof exposes /debug/pprof on the admin endpoint.
	Pprof bool
	// Level is the log level the admin endpoint may change (nil: fixed).
	Level *slog.LevelVar
	// OTLPEndpoint is the OpenTelemetry collector the node's traces go
	// to over OTLP/gRPC ("host:4317", "http://host:4317" or
	// "https://host:4317"); empty: no tracing, at no cost.
	OTLPEndpoint string
	// TracerProvider, if set, replaces the provider OTLPEndpoint would
	// build (tests give one with an in-memory exporter). The node flushes
	// it on Close but does not shut it down.
	TracerProvider trace.TracerProvider
	// PeerAddr is the node-to-node RPC listen address; empty runs a
	// single node on its own (no peers, every partition local).
	PeerAddr string
	// AdvertisePeer and AdvertiseAPI are the addresses other nodes and
	// clients use to reach this one (default: the listen addresses, with
	// the host of AdvertiseHost when set).
	AdvertiseHost string
	// Join lists peer addresses of existing members; empty with PeerAddr
	// set bootstraps a new cluster. Ignored by a node that already joined.
	Join []string
	// JoinToken admits this node to a closed cluster whose nodes have no
	// certificates (`partita ctl join-token create`; auth_tokens.go).
	JoinToken string
	// Zone is the node's failure domain; placement spreads replicas
	// across zones.
	Zone string
	// ReplicationFactor is the replication factor a new cluster starts
	// with: the first node records it in the directory, where the
	// cluster's factor is kept (replication.go). On any other node it
	// counts only while the cluster records none (a cluster an older
	// binary made). 0: 3; at most 7.
	ReplicationFactor int
	// ReconcileInterval is the period of the directory refresh and of the
	// job that creates the replicas placed on this node.
	ReconcileInterval time.Duration
	// Region and AccountID appear in ARNs.
	Region    string
	AccountID string
	// Auth turns on the verification of the SigV4 signature of every
	// DynamoDB request (node/auth.go); off, any access key is accepted.
	Auth AuthConfig
	// TLS secures the listeners, the peer connections and the admin
	// endpoint's changes (tls.go); zero: plain text, admin open.
	TLS TLSConfig
	// PartitionsPerTable is the number of partitions of a new table.
	PartitionsPerTable uint32
	// TableStatsInterval is the period of the table-stats job.
	TableStatsInterval time.Duration
	// GlobalIndexInterval is the period of the job that applies the base
	// partitions' change logs to their global secondary indexes
	// (docs/indexes.md); it runs again at once while a log has more.
	GlobalIndexInterval time.Duration
	// IndexSweepInterval is the period of the job that seals the
	// partitions of global indexes whose backfill is over and collects
	// their tombstones (docs/indexes.md, "Tombstones"); 0: never.
	IndexSweepInterval time.Duration
	// backfillBudget, when set (tests), replaces backfillBudget.
	backfillBudget time.Duration
	// backfillPause, when set (tests), is called by a global index
	// backfill between its read of a page of items and its write, with
	// the page; the function it returns (if not nil) gets the write's
	// outcome.
	backfillPause func(partition uint64, page []item.Item) func(error)
	// ItemCollectionLimit bounds the item collections (the items of one
	// partition key and their local index entries) of tables with local
	// secondary indexes; 0: DynamoDB's 10 GB. Tests lower it.
	ItemCollectionLimit int64
	// PartitionMaxBytes is the size past which the split job splits a
	// partition this node leads (0: no splits by size); SplitInterval is
	// the job's period (docs/splits.md).
	PartitionMaxBytes int64
	SplitInterval     time.Duration
	// RecountInterval is the least time between two recounts of a
	// partition this node leads whose statistics counted blind puts
	// (member.RecountStats; 0: member.DefaultRecountInterval).
	RecountInterval time.Duration
	// TTLInterval is the period of the ttl job, which deletes the expired
	// items of the partitions this node leads (0: never); TTLMaxDeletes
	// bounds its deletes per cycle (0: 1,000).
	TTLInterval   time.Duration
	TTLMaxDeletes int
	// OnJobCycle, if set, is called after each background job cycle (see
	// daemon.Config.OnCycle); tests wait for cycles with it.
	OnJobCycle func(daemon.CycleRecord)
	// ShutdownTimeout bounds the wait for in-flight requests on Close.
	ShutdownTimeout time.Duration
	// APILimits and AdminLimits bound the time and connections clients
	// hold of the DynamoDB API and admin listeners (zero: the defaults).
	APILimits, AdminLimits HTTPLimits
	// MaxInflight bounds the DynamoDB operations running at once; beyond
	// it clients get ThrottlingException (see dynamo.Config.MaxInflight).
	MaxInflight int
	// Capacity is admission control: what tables and partitions may
	// consume, and the control plane's rate.
	Capacity CapacityConfig
	// LegacyWrites makes this node's leaders propose item writes as
	// commands every replica evaluates (store.Config.LegacyWrites): set on
	// every node while a cluster upgrades from nodes that cannot apply
	// effects. The directory record shows it (write_format). Without it,
	// the cluster version decides (clusterversion.Effects).
	LegacyWrites bool
	// MetricsHistoryInterval is the period at which the node samples the
	// metrics its console charts (0: 5 s; console.go).
	MetricsHistoryInterval time.Duration
	// MaxClusterVersion, when set, lowers the newest cluster version this
	// node's binary claims to support (clusterversion.Latest), as an older
	// binary would: for upgrade tests and drills.
	MaxClusterVersion uint32
	// UpgradeSoak is how long the Doctor's health must stay green before
	// it finalises a cluster version (DefaultUpgradeSoak when 0).
	UpgradeSoak time.Duration
	// Logger receives the node's logs; the node adds trace ids to the
	// records logged inside a traced request.
	Logger *slog.Logger
	// TopologyInterval is the period of the node's topology snapshots.
	TopologyInterval time.Duration
	// TopologyBucket is the URL of the bucket topology snapshots are
	// published to (file://, mem://, s3://, gs://, azblob://); empty: the
	// fast path to the Doctor only.
	TopologyBucket string
	// BackupBucket is the URL of the bucket on-demand backups are written
	// to (file://, mem://, s3://, gs://, azblob://; docs/backups.md);
	// empty: a "backups" folder in DataDir, which a cluster's nodes do not
	// share.
	BackupBucket string
	// BackupInterval is the period of the backup job, which writes the
	// partitions of new backups and fills restored tables (0: no backups).
	BackupInterval time.Duration
	// ExportBucketURL is the URL of the bucket an export's S3Bucket names
	// (docs/exports.md), "{bucket}" standing for the name: say
	// "s3://{bucket}?region=R" or "file:///exports/{bucket}". Empty: a
	// folder per bucket under DataDir/exports, which a cluster's nodes do
	// not share. Exports run at BackupInterval.
	ExportBucketURL string
	// PITRSettle is how long after point-in-time recovery is enabled a
	// table's restorable window opens: the time every leader needs to
	// take up its wider change view (0: dynamo.DefaultPITRSettle).
	PITRSettle time.Duration
	// TopologyRetention is how long the bucket keeps snapshots.
	TopologyRetention time.Duration
	// TopologyWrapBucket, if set, wraps the topology bucket once opened
	// (tests stall or fail it with publish.FaultyBucket).
	TopologyWrapBucket func(publish.Bucket) publish.Bucket
	// Ingest tunes the node's topology ingester (see ingest.go).
	Ingest IngestConfig
	// Doctor runs the Doctor embedded in this node: it takes part in the
	// election of the active one (node/doctor.go).
	Doctor bool
	// DoctorLease is the length of the Doctor lease (0: the default,
	// lease.DefaultDuration); renewals come every third of it.
	DoctorLease time.Duration
	// DoctorOptions tune the Doctor (node/doctor.go).
	DoctorOptions DoctorConfig
	// FsyncDelay, if set, is fault injection for tests: every fsync of
	// the node's storage first waits what it returns (a slow disk).
	FsyncDelay func() time.Duration
	// Clock, if set, is the clock of the node's DynamoDB endpoint, of
	// the times its router stamps on commands and of its replicas (nil:
	// time.Now): tests move it to expire stream iterators and trim change
	// logs without waiting.
	Clock func() time.Time
	// Settings are the node's static values of run-time settings (package
	// settings), from its flags, environment and file; the directory's
	// overrides win over them.
	Settings map[string]settings.Static
	// DropRaft, if set, is fault injection for tests: the raft messages
	// this node receives for the partitions it names are dropped (their
	// replicas here stop answering while the node lives).
	DropRaft func(partition uint64) bool
	// OrphanGrace, if set, replaces the minute a replica removed without
	// learning it is watched before its leader is asked (member.Config;
	// tests shorten it).
	OrphanGrace time.Duration
}

// DefaultConfig returns the configuration of `partita dev`.
func DefaultConfig() Config {
	return Config{
		DataDir:             "partita-data",
		APIAddr:             "127.0.0.1:8000",
		Region:              "us-east-1",
		AccountID:           "000000000000",
		PartitionsPerTable:  4,
		TableStatsInterval:  30 * time.Second,
		GlobalIndexInterval: 200 * time.Millisecond,
		IndexSweepInterval:  time.Minute,
		PartitionMaxBytes:   member.DefaultPartitionMaxBytes,
		SplitInterval:       10 * time.Second,
		TTLInterval:         10 * time.Second,
		BackupInterval:      5 * time.Second,
		PITRSettle:          dynamo.DefaultPITRSettle,
		ReplicationFactor:   3,
		ReconcileInterval:   500 * time.Millisecond,
		ShutdownTimeout:     10 * time.Second,
		APILimits:           DefaultAPILimits(),
		AdminLimits:         DefaultAdminLimits(),
		MaxInflight:         dynamo.DefaultMaxInflight,
		Capacity:            DefaultCapacityConfig(),
		Logger:              slog.New(slog.DiscardHandler),
		TopologyInterval:    5 * time.Second,
		TopologyRetention:   7 * 24 * time.Hour,
		Doctor:              false,
	}
}

// Validate reports missing or contradictory settings.
func (c Config) Validate() error {
	switch {
	case c.DataDir == "":
		return errors.New("node: DataDir is required")
	case c.APIAddr == "":
		return errors.New("node: APIAddr is required")
	case c.Logger == nil:
		return errors.New("node: Logger is required")
	case c.ShutdownTimeout <= 0:
		return errors.New("node: ShutdownTimeout must be positive")
	case c.TableStatsInterval <= 0:
		return errors.New("node: TableStatsInterval must be positive")
	case c.OTLPEndpoint != "" && c.TracerProvider != nil:
		return errors.New("node: OTLPEndpoint and TracerProvider are exclusive")
	case c.Auth.PeerAuth != "" && c.Auth.PeerAuth != PeerAuthRequire && c.Auth.PeerAuth != PeerAuthAccept:
		return fmt.Errorf("node: Auth.PeerAuth %q: want %q or %q", c.Auth.PeerAuth, PeerAuthRequire, PeerAuthAccept)
	case c.DoctorLease < 0:
		return errors.New("node: DoctorLease must not be negative")
	case c.ReplicationFactor < 0 || c.ReplicationFactor > directory.MaxReplicationFactor:
		return fmt.Errorf("node: ReplicationFactor %d: it must be from %d to %d (0: %d)", c.ReplicationFactor,
			directory.MinReplicationFactor, directory.MaxReplicationFactor, defaultReplicationFactor)
	case c.MaxInflight < 0:
		return errors.New("node: MaxInflight must not be negative")
	case c.Capacity.PartitionReadUnits < 0 || c.Capacity.PartitionWriteUnits < 0 ||
		c.Capacity.ControlPlaneRate < 0 || c.Capacity.ControlPlaneBurst < 0:
		return errors.New("node: capacity limits must not be negative")
	case c.TopologyInterval <= 0 || c.TopologyRetention <= 0:
		return errors.New("node: TopologyInterval and TopologyRetention must be positive")
	}
	return errors.Join(c.APILimits.validate("API"), c.AdminLimits.validate("admin"), c.TLS.validate(), c.validateSettings())
}

// Node is a running node. Close stops it.
type Node struct {
	upg upgradeState
	cfg Config
	log *slog.Logger
	reg *prometheus.Registry
	// restoresFailed counts the restores and imports given up
	// (backup_restore.go, import.go).
	restoresFailed *prometheus.CounterVec
	tp             telemetry.TracerProvider
	eng            *engine.Engine
	store          *store.Store
	router         *router.Router
	backups        *backups // nil without a backup job
	exports        *exports // nil without an export job
	sender         *route.Sender
	jobs           *daemon.Manager
	draining       atomic.Bool
	conns          *connMetrics
	sec            *security // tls.go
	// peerSecret is the credential of peer calls (peer_auth.go).
	peerSecret peerSecret
	// cluster is the cluster id every peer call names (peer_identity.go).
	cluster *clusterIdentity
	// peerUpgrade is set with AuthConfig.PeerAuth PeerAuthAccept.
	peerUpgrade *peerAuthUpgrade

	// Cluster mode (PeerAddr set).
	id      uint64
	dir     *directory.Cache
	client  *cluster.Client
	tr      *transport.GRPC
	peerSrv *grpc.Server
	peerLn  net.Listener
	peerWG  sync.WaitGroup
	member  *member.Member
	ingest  *ingest.Ingester
	api     *server
	admin   *server                       // nil without AdminAddr
	doctor  atomic.Pointer[doctorElector] // nil without Config.Doctor
	// resolver is tr once it starts: peer addresses are resolved through
	// it (resolvePeer), by the cluster client as well.
	resolver atomic.Pointer[transport.GRPC]

	closeOnce sync.Once
	closeErr  error

	started  time.Time
	topology *topologyPipeline // topology.go
	auth     nodeAuth          // auth.go

	settings *settings.Live       // settings.go
	sampler  *telemetry.LiveRatio // the trace.sample-rate setting
	// indexLags are the global index lags of the base partitions this
	// node led at the index job's last cycle (node/index.go).
	indexLags  atomic.Pointer[map[uint64]time.Duration]
	ring       *telemetry.SpanRing // the console's traces (nil with a test's TracerProvider)
	history    *telemetry.History  // the console's metrics history
	consoleTr  *http.Transport     // the console's client of the other nodes
	dynamo     atomic.Pointer[dynamo.Server]
	fsyncFault atomic.Int64       // the fault.fsync-delay setting, nanoseconds
	logBounds  replica.LogBounds  // the raft.log-max-* settings' overrides
	changeLogs replica.ChangeLogs // the tables' change views, changelog.retention
	// changeLogMu orders the updates of changeLogs.
	changeLogMu sync.Mutex
	// changeLogRevs are the tables' change logs as installed, with the
	// revision of the record each came from (under changeLogMu).
	changeLogRevs map[uint64]replica.TableChangeLog
	// tableSeries are the metric vectors labelled by table
	// (table_series.go).
	tableSeries []*prometheus.MetricVec
	// replFlagNoted: the node said whether its --replication-factor is
	// the cluster's (replication.go).
	replFlagNoted atomic.Bool
}

// Start opens the node's storage and starts serving the DynamoDB API.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("node: data dir: %w", err)
	}
	n := &Node{cfg: cfg, log: slog.New(telemetry.NewLogHandler(cfg.Logger.Handler())), reg: prometheus.NewRegistry(), started: time.Now()}
	n.restoresFailed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "partita_restores_failed_total",
		Help: "Restores and imports that could not go on, by kind: backup and point_in_time (their table deleted), import (FAILED)."},
		[]string{"kind"})
	n.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), n.restoresFailed)
	n.cluster = newClusterIdentity(n.reg)
	if err := n.start(ctx); err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		return nil, errors.Join(err, n.stop(stopCtx))
	}
	return n, nil
}

// start brings the node's pieces up; on failure, stop takes down those
// that started.
func (n *Node) start(ctx context.Context) (err error) {
	if n.conns, err = newConnMetrics(n.reg); err != nil {
		return err
	}
	if n.tp, err = n.tracerProvider(ctx); err != nil {
		return err
	}
	if err := n.loadSecurity(); err != nil {
		return err
	}
	if err := n.startIngest(); err != nil {
		return err
	}
	if n.eng, err = engine.Open(engine.Options{Dir: n.cfg.DataDir, Logger: n.log, Registerer: n.reg,
		SyncDelay: n.syncDelay, MemTableBytes: uint64(n.cfg.startSetting("storage.memtable-size").Int())}); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) { // the directory's lock is held
			return fmt.Errorf("node: data directory %s is in use by another partita process: %w", n.cfg.DataDir, err)
		}
		return err
	}
	if n.cfg.PeerAddr != "" {
		if err := n.startClusterStore(ctx); err != nil {
			return err
		}
	} else if err := n.startStore(ctx); err != nil {
		return err
	}
	if err := n.startRouter(); err != nil {
		return err
	}
	if err := n.startJobs(ctx); err != nil {
		return err
	}
	if err := n.startDoctor(); err != nil {
		return err
	}
	if err := n.startAuth(ctx); err != nil {
		return err
	}
	return n.serve(ctx)
}

// nodeID is the id of a single node (the only voter of every group).
const nodeID = 1

func (n *Node) now() time.Time {
	if n.cfg.Clock != nil {
		return n.cfg.Clock()
	}
	return time.Now()
}

// tracer returns the tracer of one of the node's packages.
func (n *Node) tracer(pkg string) trace.Tracer {
	return n.tp.Tracer("github.com/partitadb/partita/" + pkg)
}

// tracerProvider returns the test's provider, an OTLP one, or a noop one.
func (n *Node) tracerProvider(ctx context.Context) (telemetry.TracerProvider, error) {
	if n.cfg.TracerProvider != nil {
		return telemetry.Borrow(n.cfg.TracerProvider), nil
	}
	n.sampler, _ = telemetry.NewLiveRatio(1)
	n.ring = telemetry.NewSpanRing(telemetry.DefaultSpanRingConfig())
	return telemetry.NewTracerProvider(ctx, telemetry.TracingConfig{
		Endpoint: n.cfg.OTLPEndpoint, Service: "partita", Instance: fmt.Sprint(nodeID), Sampler: n.sampler, Ring: n.ring,
	})
}

// startStore starts the raft store and makes sure the meta partition and
// every table partition the catalog lists have their replica here (a crash
// may fall between a table's creation and its partitions').
func (n *Node) startStore(ctx context.Context) error {
	scfg, err := n.storeConfig(nodeID)
	if err != nil {
		return err
	}
	s, err := store.NewStore(scfg)
	if err != nil {
		return err
	}
	s.Start(transport.NewInmem(0).Connect(nodeID, s))
	n.store, n.id, n.dir = s, nodeID, directory.NewCache()
	if err := n.startSender(); err != nil {
		return err
	}
	// The member keeps this node's record and the directory cache fresh,
	// so that `ctl` shows a single node as it shows a cluster.
	if err := n.startMember(); err != nil {
		return err
	}
	if err := n.startClient(); err != nil {
		return err
	}
	if err := n.ensureClusterKey(true); err != nil {
		return err
	}
	host := localHost{Store: s, nodeID: nodeID}
	if err := host.CreatePartition(ctx, &partitapb.Partition{Id: directory.MetaPartition}); err != nil {
		return err
	}
	tables, err := directory.ReadTables(n.eng.Reader())
	if err != nil {
		return err
	}
	for _, t := range tables {
		for _, p := range t.GetPartitions() {
			if err := host.CreatePartition(ctx, p); err != nil {
				return err
			}
		}
	}
	if err := n.registerSingle(ctx); err != nil {
		return err
	}
	return n.raiseSingleVersion(ctx)
}

// startSender builds the node's one route to every partition: its own
// store, and its peers through the cluster client when it has peers.
func (n *Node) startSender() error {
	cfg := route.DefaultConfig()
	cfg.Self, cfg.Local, cfg.Directory = n.id, route.LocalStore(n.store), n.dir
	if n.client != nil {
		cfg.Remote = n.client
	}
	var err error
	n.sender, err = route.New(cfg)
	return err
}

// registerSingle gives a single node its directory record (node 1) the
// first time it starts; heartbeats keep it fresh.
func (n *Node) registerSingle(ctx context.Context) error {
	rec, err := directory.ReadNode(n.eng.Reader(), nodeID)
	if err != nil || rec != nil {
		return err
	}
	if rec, err = n.peerJoinLocal(ctx, &partitapb.Node{Zone: n.cfg.Zone, Version: Version, WriteFormat: n.writeFormat()}); err != nil {
		return err
	}
	n.auth.bootstrap = true
	if rec.GetId() != nodeID {
		return fmt.Errorf("node: a single node registered as node %d, want %d", rec.GetId(), nodeID)
	}
	return nil
}

func (n *Node) startRouter() error {
	rcfg := router.DefaultConfig()
	rcfg.Sender, rcfg.Host, rcfg.Logger = n.sender, localHost{Store: n.store, nodeID: nodeID}, n.log
	if n.cfg.PeerAddr != "" {
		rcfg.Host, rcfg.Placement = n.member.Host(), n.placement
	}
	rcfg.Host = viewHost{Host: rcfg.Host, n: n}
	rcfg.PartitionsPerTable, rcfg.Tracer = n.cfg.PartitionsPerTable, n.tracer("router")
	rcfg.ItemCollectionLimit = n.cfg.ItemCollectionLimit
	rcfg.Timeout = n.requestTimeout
	rcfg.Now = n.now // commands' times (a table's creation, request tokens, at-most-once records): the node's clock too
	rt, err := router.New(rcfg)
	if err != nil {
		return err
	}
	n.router = rt
	n.followClusterVersion()
	return nil
}

func (n *Node) serve(ctx context.Context) error {
	dcfg := dynamo.DefaultConfig()
	dcfg.Backend, dcfg.Logger = n.router, n.log
	dcfg.Region, dcfg.AccountID = n.cfg.Region, n.cfg.AccountID
	dcfg.Registerer, dcfg.Tracer = n.reg, n.tracer("dynamo")
	if n.ring != nil {
		dcfg.Unsampled = n.ring.AddUnsampled // the slow and failed requests, traced or not
	}
	dcfg.MaxInflight, dcfg.Auth = n.cfg.MaxInflight, n.auth.verifier
	if n.auth.verifier != nil {
		dcfg.Authorizer = n
	}
	dcfg.ControlPlaneRate, dcfg.ControlPlaneBurst = n.cfg.Capacity.ControlPlaneRate, n.cfg.Capacity.ControlPlaneBurst
	n.configureStreams(&dcfg)
	if n.backups != nil {
		dcfg.Backups = n.backups
	}
	if n.exports != nil {
		dcfg.Exports = n.exports
	}
	dcfg.Now, dcfg.PITRSettle = n.now, n.cfg.PITRSettle
	api, err := dynamo.NewServer(dcfg)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	n.dynamo.Store(api)
	n.applyServerSettings()
	if n.api, err = listen(ctx, "api", n.cfg.APIAddr, api, orDefault(n.cfg.APILimits, DefaultAPILimits), n.log, n.conns, n.sec.api); err != nil {
		return err
	}
	if n.cfg.AdminAddr != "" {
		if err := n.serveAdmin(ctx); err != nil {
			return err
		}
	}
	rec := n.record()
	rec.ApiAddr = n.advertise(n.api.ln.Addr().String())
	if n.admin != nil {
		rec.AdminAddr = n.advertise(n.admin.ln.Addr().String())
	}
	n.member.SetRecord(rec)
	return nil
}

func (n *Node) serveAdmin(ctx context.Context) error {
	level := n.cfg.Level
	if level == nil {
		level = &slog.LevelVar{}
	}
	con, err := n.consoleHandler()
	if err != nil {
		return err
	}
	h, err := admin.NewHandler(admin.Config{
		Gatherer: n.reg, Ready: n.ready, Level: level, Pprof: n.cfg.Pprof, Jobs: n.jobs.AdminHandler(),
		Cluster: n.ctlHandler(), Doctor: admin.DoctorHandler(ctl{n: n}), Guard: n.sec.guard, Auth: admin.AuthHandler(ctl{n: n}),
		Settings: admin.ConfigHandler(ctl{n: n}), Upgrade: admin.UpgradeHandler(ctl{n: n}), Console: con,
	})
	if err != nil {
		return err
	}
	con.SetAdmin(h)
	n.admin, err = listen(ctx, "admin", n.cfg.AdminAddr, h, orDefault(n.cfg.AdminLimits, DefaultAdminLimits), n.log, n.conns, n.sec.admin)
	return err
}

// ready reports whether the node can serve: storage open and not draining.
func (n *Node) ready() error {
	if n.draining.Load() {
		return errors.New("draining")
	}
	return nil
}

// APIURL is the DynamoDB endpoint URL, e.g. "http://127.0.0.1:8000".
func (n *Node) APIURL() string { return n.api.url() }

// AdminURL is the admin endpoint URL, or "" without one.
func (n *Node) AdminURL() string {
	if n.admin == nil {
		return ""
	}
	return n.admin.url()
}

// Jobs is the node's background job manager.
func (n *Node) Jobs() *daemon.Manager { return n.jobs }

// Backend is the database below the node's DynamoDB endpoint (its
// router): a test builds its own dynamo.Server over it, with a clock, ids
// and a log of its own, to drive the wire layer against the real store.
func (n *Node) Backend() dynamo.Backend { return n.router }

// Close releases the Doctor lease if this node holds it, hands off the
// leadership of the partitions it leads (in a cluster), stops accepting
// requests, waits for in-flight ones (up to ShutdownTimeout, and at least
// drainGrace; then their connections are closed and their handlers given
// handlerGrace to return), stops the jobs, closes the storage (unless a
// handler or a job is still running) and flushes the traces. Every write
// acknowledged before Close is already durable.
// Closing again returns the first Close's outcome.
func (n *Node) Close() error {
	n.closeOnce.Do(func() { n.closeErr = n.close() })
	return n.closeErr
}

func (n *Node) close() error {
	n.draining.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.ShutdownTimeout)
	defer cancel()
	n.stopDoctor(ctx, true)
	if n.cfg.PeerAddr != "" {
		n.member.HandOff(ctx)
		n.member.MarkStopped(ctx)
	}
	return n.stop(ctx)
}

// stop takes down, in reverse order, every piece that started.
func (n *Node) stop(ctx context.Context) error {
	var err error
	// inUse: a request handler or a job outlived its grace and may still
	// read the engine, which must then stay open (Pebble panics on a
	// closed one); the process is ending anyway.
	inUse := false
	n.stopDoctor(ctx, false)
	n.stopAuth()
	for _, srv := range []*server{n.api, n.admin} {
		if srv == nil {
			continue
		}
		sctx, cancel := atLeast(ctx, drainGrace)
		serr := srv.shutdown(sctx)
		cancel()
		inUse = inUse || errors.Is(serr, errHandlersRunning)
		err = errors.Join(err, serr)
	}
	if n.admin != nil {
		n.stopConsole()
	}
	if n.jobs != nil {
		jctx, cancel := atLeast(ctx, jobStopGrace)
		jerr := n.jobs.Stop(jctx)
		cancel()
		var stuck *daemon.StopError
		inUse = inUse || errors.As(jerr, &stuck)
		err = errors.Join(err, jerr)
	}
	err = errors.Join(err, n.closeTopology(), n.closeBackups())
	if n.store != nil {
		n.store.Stop()
	}
	err = errors.Join(err, n.stopPeers())
	if n.eng != nil && inUse {
		n.log.Error("the storage engine is left open: request handlers or jobs that did not stop may still read it")
	} else if n.eng != nil {
		err = errors.Join(err, n.eng.Close())
	}
	if n.tp != nil {
		n.flushTraces(ctx)
	}
	return err
}

// drainGrace is the least time in-flight requests get to finish once the
// node stops accepting, however much of the shutdown's budget the Doctor's
// lease and the hand-off of leaderships took before.
const drainGrace = 2 * time.Second

// jobStopGrace is the least time the jobs get to stop once cancelled,
// however much of the shutdown's budget the hand-off of leaderships and
// the in-flight requests took before: cancelled cycles return at once,
// but not in no time, and a budget already spent would report every job
// as stuck.
const jobStopGrace = 2 * time.Second

// atLeast returns ctx if its deadline leaves at least d, else a context
// of its own that ends d from now.
func atLeast(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if deadline, ok := ctx.Deadline(); !ok || time.Until(deadline) >= d {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(context.WithoutCancel(ctx), d)
}

// traceFlushTimeout bounds the export of the last spans on Close.
const traceFlushTimeout = 2 * time.Second

// flushTraces exports the spans still buffered and stops the provider. An
// unreachable collector costs at most traceFlushTimeout and a log line:
// losing the last spans must not fail a clean shutdown.
func (n *Node) flushTraces(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, traceFlushTimeout)
	defer cancel()
	if err := n.tp.Shutdown(ctx); err != nil {
		n.log.Warn("flushing traces failed", "otlp_endpoint", n.cfg.OTLPEndpoint, "err", err)
	}
}

var _ dynamo.Backend = (*router.Router)(nil)
