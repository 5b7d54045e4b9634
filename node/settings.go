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
	"github.com/partitadb/partita/router"
	"github.com/partitadb/partita/settings"
)

// The node's run-time settings (package settings): its static values
// (Config.Settings, from flags, the environment and the file) under the
// overrides of the directory, which the settings job installs as they
// change; the readers below watch the settings they use.

// settingsCatalog is Partita's settings, checked once. It is immutable.
var settingsCatalog = settings.MustRegistry(settings.Catalog()...)

// SettingsJob is the name of the job that installs new overrides.
const SettingsJob = "settings"

// settingsInterval is how often the settings job looks for a new version
// of the overrides in the node's copy of the directory.
const settingsInterval = 200 * time.Millisecond

// startSettings resolves the node's settings, starts its readers and
// registers the job that keeps them current.
func (n *Node) startSettings(m *daemon.Manager) error {
	live, err := settings.NewLive(settingsCatalog, n.cfg.Settings,
		settings.Target{Node: strconv.FormatUint(n.id, 10), Zone: n.cfg.Zone}, n.log)
	if err != nil {
		return fmt.Errorf("node: settings: %w", err)
	}
	n.settings = live
	n.watchSettings()
	return m.Register(daemon.JobSpec{
		Name: SettingsJob, Kind: daemon.Periodic, Interval: settingsInterval, Timeout: time.Second, RunAtStart: true,
		Run: func(ctx context.Context, _ *daemon.Cycle) error { return n.installSettings(ctx) },
	})
}

// installSettings installs the overrides of the directory if they are
// newer than those in force: read from the local meta replica where the
// node has one, else from a meta replica (one small record, without a
// read barrier: a follower's copy is a fraction of a second old at most).
func (n *Node) installSettings(ctx context.Context) error {
	var raw []byte
	var err error
	if n.store.Replica(directory.MetaPartition) != nil {
		raw, err = engine.Get(n.eng.Reader(), directory.SettingsStateKey())
		if errors.Is(err, engine.ErrNotFound) {
			return nil
		}
	} else {
		raw, err = n.sender.Get(ctx, directory.MetaPartition, directory.SettingsStateKey(), false)
	}
	if err != nil || raw == nil {
		return err
	}
	st, err := directory.DecodeSettingsState(raw)
	if err != nil {
		return err
	}
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

// watchSettings subscribes the node's readers to their settings.
func (n *Node) watchSettings() {
	if lv := n.cfg.Level; lv != nil {
		n.settings.Watch("log.level", func(v settings.Value) {
			var l slog.Level
			if err := l.UnmarshalText([]byte(v.Str())); err == nil {
				lv.Set(l)
			}
		})
	}
	n.settings.Watch("fault.fsync-delay", func(v settings.Value) { n.fsyncFault.Store(int64(v.Duration())) })
	for _, name := range []string{"raft.log-max-bytes", "raft.log-max-entries"} {
		n.settings.Watch(name, func(settings.Value) { n.setLogBounds() })
	}
	n.setLogBounds()
	n.fsyncFault.Store(int64(n.settings.Get("fault.fsync-delay").Duration()))
}

// tuneDoctor applies to the Doctor's checkers the overrides of their
// settings in force on this node (its own configuration stands
// otherwise).
func (n *Node) tuneDoctor(c *checker.Config) {
	if n.settings == nil {
		return
	}
	override := func(name string) (settings.Value, bool) {
		e := n.settings.Lookup(name)
		return e.Value, e.Source.Kind == settings.FromOverride
	}
	if v, ok := override("doctor.dead-after"); ok {
		c.DeadAfter = v.Duration()
	}
	if v, ok := override("doctor.split-writes"); ok {
		c.SplitWrites = float64(v.Int())
	}
	if v, ok := override("doctor.split-after"); ok {
		c.SplitAfter = v.Duration()
	}
}

// setLogBounds gives the node's replicas the overrides of the log bounds
// in force (without one, each replica's configuration stands).
func (n *Node) setLogBounds() {
	bound := func(name string) uint64 {
		if e := n.settings.Lookup(name); e.Source.Kind == settings.FromOverride {
			return uint64(e.Value.Int())
		}
		return 0
	}
	n.logBounds.Set(bound("raft.log-max-bytes"), bound("raft.log-max-entries"))
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
	return res.GetSettingsChange(), nil
}
