package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/router"
	"github.com/partitadb/partita/settings"
	"github.com/partitadb/partita/store"
)

// The node's run-time settings (package settings): its static values
// (Config.Settings, from flags, the environment and the file) under the
// overrides of the directory, which the settings job installs as they
// change; the readers below watch the settings they use.

// settingsCatalog is Partita's settings, checked once. It is immutable.
var settingsCatalog = settings.MustRegistry(settings.Catalog()...)

// SettingsJob is the name of the job that follows the directory's
// overrides as they change: it watches them over the cluster service (or
// on the node's own meta replica) and installs each new version.
const SettingsJob = "settings"

// SettingsCatchUpJob is the name of the job that reads the overrides in
// force every settingsCatchUp, whatever the watch does: a watch stuck on
// an unreachable node misses no version for longer than that.
const SettingsCatchUpJob = "settings-catch-up"

// settingsCatchUp is the catch-up job's period.
const settingsCatchUp = 5 * time.Second

// settingsRetry is the pause before a broken watch is opened again.
const settingsRetry = 200 * time.Millisecond

// startSettings resolves the node's settings, starts its readers and
// registers the jobs that keep them current.
func (n *Node) startSettings(m *daemon.Manager) error {
	live, err := settings.NewLive(settingsCatalog, n.cfg.Settings,
		settings.Target{Node: strconv.FormatUint(n.id, 10), Zone: n.cfg.Zone}, n.log)
	if err != nil {
		return fmt.Errorf("node: settings: %w", err)
	}
	n.settings = live
	n.watchSettings(m)
	if err := m.Register(daemon.JobSpec{
		Name: SettingsCatchUpJob, Kind: daemon.Periodic, Interval: settingsCatchUp, Timeout: 2 * time.Second, RunAtStart: true,
		Run: func(ctx context.Context, _ *daemon.Cycle) error {
			n.setLogBounds() // tables created since the last change
			n.setChangeLogs()
			return n.installSettings(ctx)
		},
	}); err != nil {
		return err
	}
	return m.Register(daemon.JobSpec{
		Name: SettingsJob, Kind: daemon.Continuous,
		Run: func(ctx context.Context, _ *daemon.Cycle) error { return n.followSettings(ctx) },
	})
}

// followSettings installs each new version of the overrides as a meta
// replica applies it: the local one's where the node has one, else a
// stream from a node that has one, trying the next when a stream breaks.
// It returns when ctx ends.
func (n *Node) followSettings(ctx context.Context) error {
	next := 0
	for ctx.Err() == nil {
		var err error
		if n.store.Replica(directory.MetaPartition) != nil {
			err = n.WatchSettings(ctx, n.settings.Version(), n.installState)
		} else if metas := n.dir.MetaReplicas(); len(metas) > 0 {
			peer := metas[next%len(metas)]
			next++
			err = n.client.WatchSettings(ctx, peer, n.settings.Version(), n.installState)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			n.log.Debug("settings watch broken", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(settingsRetry):
		}
	}
	return nil
}

// WatchSettings serves the overrides as the node's meta replica applies
// them (cluster.SettingsWatcher): the state in force if newer than known,
// then each newer one. It fails with store.ErrNoReplica when the node
// has no meta replica, or no longer has one.
func (n *Node) WatchSettings(ctx context.Context, known uint64, send func(*partitapb.SettingsState) error) error {
	for {
		applied := n.store.AppliedSignal(directory.MetaPartition)
		if n.store.Replica(directory.MetaPartition) == nil {
			return store.ErrNoReplica
		}
		st, err := n.localSettings()
		if err != nil {
			return err
		}
		if st.GetVersion() > known {
			if err := send(st); err != nil {
				return err
			}
			known = st.GetVersion()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-applied:
		}
	}
}

// localSettings reads the overrides in force from the node's meta
// replica (nil when none was ever set).
func (n *Node) localSettings() (*partitapb.SettingsState, error) {
	raw, err := engine.Get(n.eng.Reader(), directory.SettingsStateKey())
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return directory.DecodeSettingsState(raw)
}

// installSettings installs the overrides of the directory if they are
// newer than those in force: read from the local meta replica where the
// node has one, else from a meta replica (one small record, without a
// read barrier: a follower's copy is a fraction of a second old at most).
func (n *Node) installSettings(ctx context.Context) error {
	if n.store.Replica(directory.MetaPartition) != nil {
		st, err := n.localSettings()
		if err != nil || st == nil {
			return err
		}
		return n.installState(st)
	}
	raw, err := n.sender.Get(ctx, directory.MetaPartition, directory.SettingsStateKey(), false)
	if err != nil || raw == nil {
		return err
	}
	st, err := directory.DecodeSettingsState(raw)
	if err != nil {
		return err
	}
	return n.installState(st)
}

// installState installs st if it is newer than the overrides in force.
func (n *Node) installState(st *partitapb.SettingsState) error {
	if st.GetVersion() <= n.settings.Version() {
		return nil
	}
	state, err := directory.SettingsStateOf(st)
	if err != nil {
		return err
	}
	n.settings.Update(state)
	return nil
}

// watchSettings subscribes the node's readers to their settings. A
// setting whose value is its catalogue default leaves the node's own
// configuration (its Config, as tests and flags set it) in force; a
// value from the file, the environment, a flag or an override replaces
// it.
func (n *Node) watchSettings(m *daemon.Manager) {
	if lv := n.cfg.Level; lv != nil {
		n.settings.Watch("log.level", func(v settings.Value) {
			var l slog.Level
			if err := l.UnmarshalText([]byte(v.Str())); err == nil {
				lv.Set(l)
			}
		})
	}
	watch := func(apply func(), names ...string) {
		for _, name := range names {
			n.settings.Watch(name, func(settings.Value) { apply() })
		}
		apply()
	}
	watch(func() { n.fsyncFault.Store(int64(n.settings.Get("fault.fsync-delay").Duration())) }, "fault.fsync-delay")
	watch(n.setLogBounds, "raft.log-max-bytes", "raft.log-max-entries")
	watch(n.setChangeLogs, "changelog.retention")
	watch(func() {
		d, _ := n.setting("raft.tick-interval")
		n.store.SetTickInterval(d.Duration()) // 0: the store's configured tick
	}, "raft.tick-interval")
	watch(func() {
		v, ok := n.setting("raft.lease-reads")
		n.store.SetLeaseReads(!ok || v.Bool()) // the default: on
	}, "raft.lease-reads")
	watch(func() {
		v, ok := n.setting("raft.lazy-commit")
		n.store.SetLazyCommit(!ok || v.Bool()) // the default: on
	}, "raft.lazy-commit")
	watch(func() {
		d, _ := n.setting("topology.interval")
		if err := m.SetInterval(TopologyJob, d.Duration()); err != nil {
			n.log.Warn("topology.interval not applied", "err", err)
		}
	}, "topology.interval")
	watch(n.applyServerSettings, "request.max-inflight", "request.control-plane-rate")
	watch(func() {
		if n.tr == nil {
			return
		}
		switch v, ok := n.setting("raft.snapshot-rate"); {
		case !ok:
			n.tr.SetSnapshotRate(0) // the transport's configuration
		case v.Int() == 0:
			n.tr.SetSnapshotRate(-1) // unlimited
		default:
			n.tr.SetSnapshotRate(v.Int())
		}
	}, "raft.snapshot-rate")
	watch(func() {
		if n.exports != nil {
			n.exports.readRate.Store(n.settings.Get("export.max-read-bytes-per-sec").Int())
		}
	}, "export.max-read-bytes-per-sec")
	watch(func() { n.eng.SetCompactionConcurrency(int(n.settings.Get("storage.compaction-concurrency").Int())) },
		"storage.compaction-concurrency")
	watch(func() {
		if n.sampler != nil {
			_ = n.sampler.Set(n.settings.Get("trace.sample-rate").Float()) // the catalogue bounds it to [0, 1]
		}
	}, "trace.sample-rate")
}

// setting is name's value for the node and whether it replaces the
// node's configuration: false (and the zero Value) when it is the
// catalogue's default.
func (n *Node) setting(name string) (settings.Value, bool) {
	if n.settings == nil {
		return settings.Value{}, false
	}
	e := n.settings.Lookup(name)
	if e.Source.Kind == settings.FromDefault {
		return settings.Value{}, false
	}
	return e.Value, true
}

// requestTimeout bounds a DynamoDB request on table (router.Config's
// Timeout): the request.timeout setting for the table, 0 for the node's
// configured timeout.
func (n *Node) requestTimeout(table string) time.Duration {
	if n.settings == nil {
		return 0
	}
	if e := n.settings.LookupTable("request.timeout", table); e.Source.Kind != settings.FromDefault {
		return e.Value.Duration()
	}
	return 0
}

// doctorEvery is the Doctor's cycle (doctor.Config's Every): the
// doctor.cycle setting, 0 for the node's configured interval.
func (n *Node) doctorEvery() time.Duration {
	d, _ := n.setting("doctor.cycle")
	return d.Duration()
}

// applyServerSettings gives the DynamoDB server the request.max-inflight
// and request.control-plane-rate settings (0: the node's Config).
func (n *Node) applyServerSettings() {
	if s := n.dynamo.Load(); s != nil && n.settings != nil {
		s.SetMaxInflight(int(n.settings.Get("request.max-inflight").Int()))
		rate := n.settings.Get("request.control-plane-rate").Int()
		s.SetControlPlaneRate(float64(rate), int(2*rate))
	}
}

// tuneDoctor applies to the Doctor's checkers the settings in force on
// this node that replace its configuration, table-scoped split
// thresholds included.
func (n *Node) tuneDoctor(c *checker.Config) {
	if n.settings == nil {
		return
	}
	if v, ok := n.setting("doctor.dead-after"); ok {
		c.DeadAfter = v.Duration()
	}
	if v, ok := n.setting("doctor.split-writes"); ok {
		c.SplitWrites = float64(v.Int())
	}
	if v, ok := n.setting("doctor.split-after"); ok {
		c.SplitAfter = v.Duration()
	}
	if tables := n.settings.TableOverrides("doctor.split-writes"); len(tables) > 0 {
		c.TableSplitWrites = make(map[string]float64, len(tables))
		for t, v := range tables {
			c.TableSplitWrites[t] = float64(v.Int())
		}
	}
}

// setLogBounds gives the node's replicas the log bounds in force (the
// catalogue's defaults leave each replica's configuration standing), and
// the bounds of the tables with an override of their own. Tables are
// named in overrides and known to replicas by id: the settings catch-up
// job calls it again, so that a table created after its override gets
// its bounds within settingsCatchUp.
func (n *Node) setLogBounds() {
	bound := func(name string) uint64 {
		v, ok := n.setting(name)
		if !ok {
			return 0
		}
		return uint64(v.Int())
	}
	n.logBounds.Set(bound("raft.log-max-bytes"), bound("raft.log-max-entries"))
	snap := n.dir.Snapshot()
	tables := map[uint64]replica.TableLogBounds{}
	for name, set := range map[string]func(*replica.TableLogBounds, uint64){
		"raft.log-max-bytes":   func(b *replica.TableLogBounds, v uint64) { b.Bytes = v },
		"raft.log-max-entries": func(b *replica.TableLogBounds, v uint64) { b.Entries = v },
	} {
		for table, v := range n.settings.TableOverrides(name) {
			if t := snap.Table(table); t != nil {
				b := tables[t.GetId()]
				set(&b, uint64(v.Int()))
				tables[t.GetId()] = b
			}
		}
	}
	n.logBounds.SetTables(tables)
}

// syncDelay is the engine's fault injection: the fault.fsync-delay
// setting, plus Config.FsyncDelay's.
func (n *Node) syncDelay() time.Duration {
	d := time.Duration(n.fsyncFault.Load())
	if n.cfg.FsyncDelay != nil {
		d += n.cfg.FsyncDelay()
	}
	return d
}

// Settings is the node's effective settings, each with its source, and
// the version of the overrides in force.
func (n *Node) Settings() ([]settings.Effective, uint64) {
	return n.settings.Effective(), n.settings.Version()
}

// changeSettings checks edits against the catalogue and proposes them as
// the next version of the overrides (expected: the version that must be
// in force, 0 for any).
func (n *Node) changeSettings(ctx context.Context, edits []settings.Edit, expected uint64, author, reason string) (*partitapb.SettingsChange, error) {
	cmd := &partitapb.Command{Id: router.RandomID(), UnixNanos: n.now().UnixNano(), Op: &partitapb.Command_ChangeSettings{
		ChangeSettings: &partitapb.ChangeSettings{Edits: directory.SettingsEdits(edits), Author: author, Reason: reason, ExpectedVersion: expected}}}
	res, err := n.proposeMeta(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if e := res.GetError(); e != nil {
		return nil, e
	}
	if res.GetSettingsChange() == nil {
		// A retry answered by its at-most-once record, which keeps no
		// change: it applied, at a version unknown here.
		return nil, errors.New("node: settings change: it applied, but its answer was lost; see the history for its version")
	}
	return res.GetSettingsChange(), nil
}

// LazyCommit says whether the node's leaders let followers learn that
// item writes committed from the next append or heartbeat (the
// raft.lazy-commit setting).
func (n *Node) LazyCommit() bool { return n.store.LazyCommit() }

// LeaseReads says whether the node's leaders serve consistent reads from
// leader leases (the raft.lease-reads setting).
func (n *Node) LeaseReads() bool { return n.store.LeaseReads() }

// TickInterval is the period of the node's raft clock in force (the
// raft.tick-interval setting, or its configuration's).
func (n *Node) TickInterval() time.Duration { return n.store.TickInterval() }

// StartSettings are what the node's engine and store run with, as the
// settings read at start (storage.memtable-size, store.workers,
// raft.election-ticks and raft.heartbeat-ticks) or their defaults set
// them.
func (n *Node) StartSettings() (memTable uint64, workers, electionTicks, heartbeatTicks int) {
	e, h := n.store.RaftTicks()
	return n.eng.MemTableSize(), n.store.Workers(), e, h
}

// startSetting is name's value from the node's file, environment or flags
// (Config.Settings), for the settings read only when the engine, the
// store or a replica starts (not live: refused as overrides), or the zero
// Value when none gives it: the component's own default then applies.
// Config.Validate has checked the value.
func (c Config) startSetting(name string) settings.Value {
	e, err := settingsCatalog.Resolve(name, c.Settings, settings.State{}, settings.Target{})
	if err != nil || e.Source.Kind == settings.FromDefault {
		return settings.Value{}
	}
	return e.Value
}

// validateSettings checks the node's static settings against the
// catalogue (known, of their kind, within bounds), and the raft timeouts
// against each other, before anything starts.
func (c Config) validateSettings() error {
	if err := settingsCatalog.CheckStatic(c.Settings); err != nil {
		return fmt.Errorf("node: settings: %w", err)
	}
	d := replica.DefaultConfig()
	election, heartbeat := int64(d.ElectionTicks), int64(d.HeartbeatTicks)
	if v := c.startSetting("raft.election-ticks"); v.Int() > 0 {
		election = v.Int()
	}
	if v := c.startSetting("raft.heartbeat-ticks"); v.Int() > 0 {
		heartbeat = v.Int()
	}
	if election <= heartbeat {
		return fmt.Errorf("node: settings: raft.election-ticks (%d) must be greater than raft.heartbeat-ticks (%d)", election, heartbeat)
	}
	return nil
}
