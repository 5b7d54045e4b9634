package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor"
	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/doctor/gate"
	"github.com/partitadb/partita/doctor/lease"
	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/topology/history"
	"github.com/partitadb/partita/topology/publish"
)

// The Doctor runs embedded in every node with Config.Doctor set; the
// nodes elect the active one through the Doctor lease in the directory
// (package doctor/lease). The node owns the elector's goroutine: it starts
// with the node and stops on Close, which releases the lease so that a
// standby takes over at once. Directory commands the active Doctor issues
// go through doctorCluster, which stamps them with its epoch: after a
// takeover the meta partition refuses them (fencing).

// doctorElector is the node's elector and Doctor, and their goroutines.
type doctorElector struct {
	e      *lease.Elector
	d      *doctor.Doctor
	cancel context.CancelFunc
	done   chan struct{} // both goroutines ended
}

// DoctorConfig tunes the Doctor of a node with Config.Doctor set (zero
// fields: doctor.DefaultConfig's).
type DoctorConfig struct {
	// Interval is the time between the Doctor's cycles.
	Interval time.Duration
	// DeadAfter is how long a node stays dead before its replicas are
	// replaced; ReplicaDownAfter the same for a replica down on a live
	// node.
	DeadAfter, ReplicaDownAfter time.Duration
	// ZoneDeadAfter is how long a whole zone stays down before the
	// replicas it held are replaced in other zones.
	ZoneDeadAfter time.Duration
	// RestartGrace is how long a node that stopped cleanly stays down
	// before its replicas are replaced (0: no grace).
	RestartGrace time.Duration
	// OpDeadline bounds one operation.
	OpDeadline time.Duration
	// AlertWebhook receives a JSON POST for every alert.
	AlertWebhook string
	// SlowLag is the lag (entries) at which a leader sees a follower as
	// slow, one of the two signals of a sick node (0: the checkers').
	SlowLag uint64
	// SplitWrites and SplitAfter: a partition whose writes stay above
	// SplitWrites a second for SplitAfter is split (0: the checkers').
	SplitWrites float64
	SplitAfter  time.Duration
	// MergeAfter and MergeCooldown: two small neighbours merge once cold
	// for MergeAfter, and not within MergeCooldown of a split or merge of
	// either (0: the checkers'). They merge under a quarter of
	// Config.PartitionMaxBytes together.
	MergeAfter, MergeCooldown time.Duration
	// Settle is how long a partition is left alone after an operation on
	// it ended (0: the Doctor's default); at least two topology
	// intervals and a cycle, so that the next plan sees the outcome.
	Settle time.Duration
}

// doctorReleaseTimeout bounds the release of the lease on Close.
const doctorReleaseTimeout = 2 * time.Second

// startDoctor starts this node's elector, if the node runs a Doctor.
func (n *Node) startDoctor() error {
	if !n.cfg.Doctor {
		return nil
	}
	cfg := lease.DefaultConfig(n.id)
	if d := n.cfg.DoctorLease; d > 0 {
		cfg.Duration, cfg.RenewInterval, cfg.RenewDeadline = d, d/3, d*2/3
	}
	cfg.Propose, cfg.Logger, cfg.Registerer = n.proposeMeta, n.log, n.reg
	cfg.Eligible = n.doctorEligible
	e, err := lease.New(cfg)
	if err != nil {
		return err
	}
	var tp *timelinePublisher
	if n.topology != nil && n.topology.writer != nil {
		tp = &timelinePublisher{q: make(chan doctor.Entry, timelineQueue), b: n.topology.writer, log: n.log}
	}
	doc, err := n.newDoctor(e, tp)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &doctorElector{e: e, d: doc, cancel: cancel, done: make(chan struct{})}
	var wg sync.WaitGroup
	if tp != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tp.run(ctx)
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		e.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		doc.Run(ctx)
	}()
	go func() {
		wg.Wait()
		close(d.done)
	}()
	n.doctor.Store(d)
	return nil
}

// doctorEligible says this node's Doctor may hold the lease: not while
// the node is decommissioning (the Doctor that removes its record must
// run elsewhere: the other nodes find the active Doctor's node through
// its record), nor while the directory does not list it (removed, or
// joining and not recorded yet: its first heartbeat records it). A node
// that has not read the directory yet may.
func (n *Node) doctorEligible() bool {
	snap := n.dir.Snapshot()
	rec := snap.Node(n.id)
	if rec == nil {
		return len(snap.Nodes) == 0
	}
	return !directory.Decommissioning(rec)
}

// newDoctor makes the node's Doctor: it acts while e holds the lease,
// through the node with e's epoch, on the view of the node's ingester.
func (n *Node) newDoctor(e *lease.Elector, tp *timelinePublisher) (*doctor.Doctor, error) {
	return doctor.New(n.doctorSetup(e, tp))
}

// doctorSetup is the configuration and dependencies of the node's Doctor.
func (n *Node) doctorSetup(e *lease.Elector, tp *timelinePublisher) (doctor.Config, doctor.Deps) {
	cfg := doctor.DefaultConfig()
	cfg.Logger, cfg.Registerer, cfg.Now = n.log, n.reg, n.now
	dc := n.cfg.DoctorOptions
	if dc.Interval > 0 {
		cfg.Interval = dc.Interval
	}
	if dc.DeadAfter > 0 {
		cfg.Checker.DeadAfter = dc.DeadAfter
	}
	if dc.ZoneDeadAfter > 0 {
		cfg.Checker.ZoneDeadAfter = dc.ZoneDeadAfter
	}
	cfg.Checker.RestartGrace = dc.RestartGrace
	if dc.ReplicaDownAfter > 0 {
		cfg.Checker.ReplicaDownAfter = dc.ReplicaDownAfter
		cfg.Checker.ContactTimeout = min(cfg.Checker.ContactTimeout, dc.ReplicaDownAfter)
	}
	if dc.SlowLag > 0 {
		cfg.Checker.SlowLag = dc.SlowLag
	}
	if dc.SplitWrites > 0 {
		cfg.Checker.SplitWrites = dc.SplitWrites
	}
	if dc.SplitAfter > 0 {
		cfg.Checker.SplitAfter = dc.SplitAfter
	}
	if dc.MergeAfter > 0 {
		cfg.Checker.MergeAfter = dc.MergeAfter
	}
	if dc.MergeCooldown > 0 {
		cfg.Checker.MergeCooldown = dc.MergeCooldown
	}
	if mb := n.cfg.PartitionMaxBytes; mb > 0 {
		cfg.Checker.MergeBytes = mb / 4 // far below the size that splits
	}
	if dc.OpDeadline > 0 {
		cfg.OpDeadline = dc.OpDeadline
	}
	cfg.AlertWebhook = dc.AlertWebhook
	cfg.Tune, cfg.Every = n.tuneDoctor, n.doctorEvery
	// The settings (doctorRecords.Settings) give the factor each cycle:
	// the cluster's record, or this one while it has none.
	cfg.Checker.ReplicationFactor = n.replicationOf(nil).Factor
	// The view must show an operation's outcome before its partition is
	// looked at again: two topology intervals.
	if dc.Settle > 0 {
		cfg.Settle = dc.Settle
	}
	cfg.Settle = max(cfg.Settle, 2*n.cfg.TopologyInterval+cfg.Interval)
	deps := doctor.Deps{
		Epoch:   e.Epoch,
		Cluster: func(epoch uint64) operator.Cluster { return ctl{n: n, epoch: epoch} },
		View:    n.ingest.View,
		Records: doctorRecordsOf(n, e),
	}
	if tp != nil {
		deps.Publish = tp.offer
	}
	return cfg, deps
}

// timelineQueue bounds the timeline entries waiting for the bucket.
const timelineQueue = 256

// timelinePublisher writes the Doctor's final timeline entries to the
// topology bucket, beside the snapshots (history.TimelineKey), so that a
// postmortem has them with the views they were decided on. The queue is
// bounded: an entry that does not fit is dropped (it stays in the
// directory's timeline) and logged.
type timelinePublisher struct {
	q   chan doctor.Entry
	b   publish.Bucket
	log *slog.Logger
}

// offer queues e without blocking.
func (t *timelinePublisher) offer(e doctor.Entry) {
	select {
	case t.q <- e:
	default:
		t.log.Warn("doctor: timeline publishing queue full; entry kept in the directory only", "id", e.ID)
	}
}

// run writes queued entries until ctx ends.
func (t *timelinePublisher) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-t.q:
			raw, err := proto.Marshal(entryProto(e))
			if err == nil {
				wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				err = t.b.WriteAll(wctx, history.TimelineKey(e.Updated, e.ID, string(e.State)), raw, nil)
				cancel()
			}
			if err != nil && ctx.Err() == nil {
				t.log.Warn("doctor: publishing a timeline entry to the bucket failed", "id", e.ID, "err", err)
			}
		}
	}
}

// doctorRecordsOf is the Doctor's records, written with the epoch e holds
// at the time of each write.
func doctorRecordsOf(n *Node, e *lease.Elector) doctor.Records {
	return epochRecords{n: n, e: e}
}

// epochRecords stamps each write with the epoch held at the time.
type epochRecords struct {
	n *Node
	e *lease.Elector
}

func (r epochRecords) now() doctorRecords { return doctorRecords{n: r.n, epoch: r.e.Epoch()} }

func (r epochRecords) Settings(ctx context.Context) (doctor.Settings, error) {
	return r.now().Settings(ctx)
}

// Put refuses to write without the lease: an epoch of 0 would not be
// fenced.
func (r epochRecords) Put(ctx context.Context, e *doctor.Entry) error {
	rec := r.now()
	if rec.epoch == 0 {
		return errors.New("node: the doctor lease is not held")
	}
	return rec.Put(ctx, e)
}

func (r epochRecords) Entries(ctx context.Context, from uint64, limit int) ([]doctor.Entry, error) {
	return r.now().Entries(ctx, from, limit)
}

// stopDoctor stops the elector, once, and with release frees the lease
// this node holds.
func (n *Node) stopDoctor(ctx context.Context, release bool) {
	d := n.doctor.Swap(nil)
	if d == nil {
		return
	}
	d.cancel()
	<-d.done
	if !release {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, doctorReleaseTimeout)
	defer cancel()
	if err := d.e.Release(ctx); err != nil && !errors.Is(err, lease.ErrNotHeld) {
		n.log.Warn("releasing the doctor lease failed; a standby takes over when it expires", "err", err)
	}
}

// Doctor returns the node's Doctor elector, or nil when the node runs no
// Doctor (or has stopped).
func (n *Node) Doctor() *lease.Elector {
	if d := n.doctor.Load(); d != nil {
		return d.e
	}
	return nil
}

// doctorCluster returns the Doctor's way to act on the cluster while this
// node's Doctor is active: its directory commands carry the epoch it holds
// now. ok is false while it is not active.
func (n *Node) doctorCluster() (c operator.Cluster, ok bool) {
	e := n.Doctor()
	if e == nil {
		return nil, false
	}
	epoch := e.Epoch()
	if epoch == 0 {
		return nil, false
	}
	return ctl{n: n, epoch: epoch}, true
}

// DoctorStatus is the Doctor lease from a fresh directory and this node's
// role in it.
func (c ctl) DoctorStatus(ctx context.Context) (admin.DoctorStatus, error) {
	st := admin.DoctorStatus{Node: c.n.id, Role: admin.DoctorDisabled}
	if e := c.n.Doctor(); e != nil {
		st.Role = admin.DoctorStandby
		if e.IsActive() {
			st.Role = admin.DoctorActive
		}
	}
	snap := c.Directory(ctx)
	l := snap.DoctorLease
	st.Holder, st.Epoch = l.GetHolder(), l.GetEpoch()
	st.Replication = c.n.replicationView(snap.DoctorSettings, snap.ActiveVersion())
	if l.GetHolder() != 0 {
		st.Expires, st.Acquired = time.Unix(0, l.GetExpiryUnixNanos()), time.Unix(0, l.GetAcquiredUnixNanos())
	}
	return st, nil
}

// activeDoctor returns this node's Doctor while it is the active one.
func (n *Node) activeDoctor() *doctor.Doctor {
	if d := n.doctor.Load(); d != nil && d.e.IsActive() {
		return d.d
	}
	return nil
}

// DoctorPlan is the active Doctor's last plan, when this node runs it;
// otherwise a *admin.DoctorElsewhereError names the node that does.
func (c ctl) DoctorPlan(ctx context.Context) (admin.DoctorPlan, error) {
	if d := c.n.activeDoctor(); d != nil {
		p := admin.DoctorPlan{Node: c.n.id, Plan: d.LastPlan(), Running: []admin.TimelineEntry{}}
		for _, e := range d.Running() {
			p.Running = append(p.Running, admin.Timeline(e))
		}
		return p, nil
	}
	snap := c.Directory(ctx)
	if l := snap.DoctorLease; directory.LeaseHeld(l, c.n.now()) && l.GetHolder() != c.n.id {
		if rec := snap.Node(l.GetHolder()); rec != nil && rec.GetAdminAddr() != "" {
			return admin.DoctorPlan{}, &admin.DoctorElsewhereError{Node: l.GetHolder(), AdminAddr: rec.GetAdminAddr()}
		}
	}
	return admin.DoctorPlan{Node: c.n.id, Plan: doctor.Plan{At: c.n.now(), Waiting: "no active Doctor"},
		Running: []admin.TimelineEntry{}}, nil
}

// DoctorTimeline reads the timeline from the directory, newest first.
func (c ctl) DoctorTimeline(ctx context.Context, q admin.TimelineQuery) ([]admin.TimelineEntry, error) {
	rec := doctorRecords{n: c.n}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	all := []admin.TimelineEntry{}
	err := doctor.EachEntry(ctx, rec, func(e doctor.Entry) {
		if q.Matches(e) {
			all = append(all, admin.Timeline(e))
		}
	})
	if err != nil {
		return nil, err
	}
	// The settings' changes (sets, rollbacks, rollout stages) are part
	// of the cluster's story: they sit in the timeline by time.
	if q.Partition == 0 && q.Node == 0 && (q.Kind == "" || q.Kind == admin.ConfigKind) {
		changes, err := c.ConfigHistory(ctx)
		if err != nil {
			return nil, err
		}
		for _, ch := range changes {
			if q.MatchesConfig(ch) {
				all = append(all, admin.ConfigTimeline(ch))
			}
		}
	}
	if e, ok := admin.VersionTimeline(c.n.dir.Snapshot().ClusterVersion); ok && q.MatchesKind(e) {
		all = append(all, e)
	}
	slices.SortStableFunc(all, func(a, b admin.TimelineEntry) int { return a.Created.Compare(b.Created) })
	slices.Reverse(all)
	if len(all) > limit {
		all = all[:limit]
	}
	return all, nil
}

// DoctorDecide approves or rejects an operation awaiting approval.
func (c ctl) DoctorDecide(ctx context.Context, id uint64, approve bool, by, reason string) error {
	return doctorRecords{n: c.n}.decide(ctx, id, approve, by, reason)
}

// DoctorSettings lists every kind's gate (default or set) and the pause
// switch.
func (c ctl) DoctorSettings(ctx context.Context) (admin.DoctorSettings, error) {
	snap := c.Directory(ctx)
	s := settingsOf(snap.DoctorSettings)
	out := admin.DoctorSettings{Gates: map[string]string{}, Overrides: map[string]string{}, Paused: s.Paused,
		ChangedBy: s.ChangedBy, Reason: s.Reason, Replication: c.n.replicationView(snap.DoctorSettings, snap.ActiveVersion())}
	for _, k := range doctorKinds {
		out.Gates[string(k)] = s.Color(k).String()
	}
	for k, col := range s.Gates {
		out.Gates[string(k)], out.Overrides[string(k)] = col.String(), col.String()
	}
	return out, nil
}

// doctorKinds are the operation kinds whose gates ctl lists.
var doctorKinds = []checker.Kind{checker.ReplaceReplica, checker.AddReplica, checker.RemoveReplica,
	checker.MoveReplica, checker.TransferLeader, checker.RollForwardLearner, checker.RollBackLearner,
	checker.LeaveJoint, checker.SetReplicas, checker.Decommission, checker.RemoveNode}

// errBadGate is an unknown kind or colour.
var errBadGate = fmt.Errorf("%w: gate", admin.ErrBadRequest)

// DoctorSetGate sets kind's colour ("default": its built-in one).
func (c ctl) DoctorSetGate(ctx context.Context, kind, color, by, reason string) error {
	if !slices.Contains(doctorKinds, checker.Kind(kind)) {
		return fmt.Errorf("%w: unknown operation kind %q (one of %s)", errBadGate, kind, kindList())
	}
	pc := partitapb.GateColor_GATE_UNSET
	if color != "default" {
		gc, err := gate.ParseColor(color)
		if err != nil {
			return fmt.Errorf("%w: colour %q: green, yellow, red or default", errBadGate, color)
		}
		pc = colorProto(gc)
	}
	return doctorRecords{n: c.n}.setGate(ctx, kind, pc, by, reason)
}

func kindList() string {
	var ks []string
	for _, k := range doctorKinds {
		ks = append(ks, string(k))
	}
	return strings.Join(ks, ", ")
}

// DoctorSetPaused pauses or resumes the Doctor.
func (c ctl) DoctorSetPaused(ctx context.Context, paused bool, by, reason string) error {
	return doctorRecords{n: c.n}.setPaused(ctx, paused, by, reason)
}
