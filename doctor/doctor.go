package doctor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/doctor/gate"
	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/topology"
	"github.com/partitadb/partita/topology/ingest"
)

// Config tunes the Doctor.
type Config struct {
	// Interval is the time between cycles.
	Interval time.Duration
	// Checker is what the checkers judge by; Now is set at every cycle.
	Checker checker.Config
	// Limits bound the operations in flight and their starts.
	Limits gate.Limits
	// OpDeadline bounds an operation from its start; StepAttempts and
	// StepBackoff bound the retries of one step.
	OpDeadline   time.Duration
	StepAttempts int
	StepBackoff  time.Duration
	// Settle is how long a partition is left alone after an operation on
	// it ended, so that the next plan sees its outcome (at least two
	// topology intervals).
	Settle time.Duration
	// AlertWebhook, if set, receives a JSON POST for every alert.
	AlertWebhook string
	// Every, if set, is the interval in force, read after every cycle
	// (0: Interval): the doctor.cycle setting.
	Every func() time.Duration
	// Tune, if set, adjusts the checkers' configuration at every cycle:
	// the run-time settings' overrides of the node.
	Tune       func(*checker.Config)
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// DefaultConfig returns the defaults: a cycle every 5 s, the checkers'
// and gates' defaults, 10 minutes per operation, 5 attempts per step.
func DefaultConfig() Config {
	return Config{
		Interval: 5 * time.Second, Checker: checker.DefaultConfig(time.Unix(0, 0)), Limits: gate.DefaultLimits(),
		OpDeadline: 10 * time.Minute, StepAttempts: 5, StepBackoff: time.Second, Settle: 12 * time.Second,
		Logger: slog.New(slog.DiscardHandler), Now: time.Now,
	}
}

// Validate rejects impossible settings.
func (c Config) Validate() error {
	switch {
	case c.Interval <= 0 || c.OpDeadline <= 0 || c.StepBackoff <= 0 || c.Settle < 0:
		return errors.New("doctor: interval, deadline and backoff must be positive")
	case c.StepAttempts < 1:
		return errors.New("doctor: a step needs at least one attempt")
	case c.Logger == nil || c.Now == nil:
		return errors.New("doctor: Logger and Now are required")
	}
	cfg := c.Checker
	cfg.Now = time.Unix(1, 0)
	return cfg.Validate()
}

// Deps are what the Doctor acts through; the node provides them.
type Deps struct {
	// Epoch is the Doctor lease epoch this node holds now (0: standby).
	Epoch func() uint64
	// Cluster acts on the cluster with the directory commands stamped
	// with epoch (fenced once another Doctor takes over).
	Cluster func(epoch uint64) operator.Cluster
	// View is the topology pipeline's latest cluster view (nil: none yet).
	View func() *ingest.ClusterView
	// Records keeps the settings and the timeline.
	Records Records
	// Publish, if set, receives every entry that reached a final state
	// (the node publishes it to the topology bucket). It must not block.
	Publish func(Entry)
}

// Doctor watches the cluster and repairs it, while its node holds the
// Doctor lease. Run drives it; Status and Plan may be called from any
// goroutine.
type Doctor struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
	m    *metrics

	mu        sync.Mutex
	epoch     uint64                      // the epoch acted on; 0 while standby
	runs      map[uint64]*run             // by partition
	starts    []time.Time                 // of operations, the last minute's
	settling  map[uint64]time.Time        // partition -> until
	noted     map[string]noteMark         // op key -> last held/refused reason recorded
	prev      *checker.View               // the plan view of the cycle before
	sickSince map[uint64]time.Time        // nodes sick in an unbroken run
	unwell    map[uint64]bool             // nodes sick, or slow with leaders moved off, in the last plan
	movedOff  map[uint64]bool             // slow nodes the sick-node checker moved a leader off, this slow spell
	healedAt  map[uint64]time.Time        // nodes that stopped being sick or slow, when
	balanced  map[uint64]checker.Balanced // partitions whose leader balance moved
	last      Plan                        // the last cycle's plan and verdicts
	rep       Replication                 // the replication factor last planned with, as logged
	wg        sync.WaitGroup              // running operations

	// Cycle's own, read and written by it alone: when to look next for
	// operations the timeline shows running that no run here carries
	// (adopt), from which entry on (every one before it was final at the
	// last look, and final entries change no more), and whether this
	// epoch's first look, which reads the whole timeline for what the
	// previous Doctors balanced too, is still to succeed.
	adoptAt   time.Time
	adoptFrom uint64
	tookOver  bool
}

// run is an operation in flight.
type run struct {
	entry   Entry
	started time.Time
	cancel  context.CancelFunc
	// epoch is the one the run acts with (its Cluster's): a resumed
	// entry's own is the previous Doctor's.
	epoch uint64
	// done is closed when the run's goroutine ends.
	done chan struct{}
	// overdue: resumed past its deadline, the operation is rolled back
	// rather than run on.
	overdue bool
}

// New returns a Doctor.
func New(cfg Config, deps Deps) (*Doctor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Epoch == nil || deps.Cluster == nil || deps.View == nil || deps.Records == nil {
		return nil, errors.New("doctor: every dependency is required")
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Doctor{cfg: cfg, deps: deps, log: cfg.Logger, m: m, runs: map[uint64]*run{},
		settling: map[uint64]time.Time{}, noted: map[string]noteMark{}, sickSince: map[uint64]time.Time{},
		unwell: map[uint64]bool{}, movedOff: map[uint64]bool{}, healedAt: map[uint64]time.Time{}, balanced: map[uint64]checker.Balanced{}}, nil
}

// Run cycles every Interval until ctx ends, then waits for the
// operations in flight to stop (they are cancelled with ctx).
func (d *Doctor) Run(ctx context.Context) {
	defer d.wg.Wait()
	every := d.cfg.Interval
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := d.Cycle(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("doctor cycle failed", "err", err)
		}
		if d.cfg.Every != nil {
			if e := d.cfg.Every(); e > 0 && e != every {
				every = e
				t.Reset(every)
			}
		}
		select {
		case <-ctx.Done():
			d.standby()
			return
		case <-t.C:
		}
	}
}

// Plan is the last cycle's plan with what became of each operation.
type Plan struct {
	At      time.Time        `json:"at"`
	Epoch   uint64           `json:"epoch"`
	Active  bool             `json:"active"`
	Paused  bool             `json:"paused"`
	Waiting string           `json:"waiting,omitempty"` // why no plan was made
	Ops     []PlannedOp      `json:"ops"`
	WhyNots []checker.WhyNot `json:"why_nots,omitempty"`
	Sick    []uint64         `json:"sick,omitempty"`
	// Zones is the health of the cluster's zones as the plan saw it.
	Zones []checker.ZoneHealth `json:"zones,omitempty"`
	// Replication is the replication factor the plan was made with
	// (zero while standby).
	Replication Replication `json:"replication,omitzero"`
}

// PlannedOp is an operation of a plan and the verdict on it.
type PlannedOp struct {
	Op       checker.Op `json:"op"`
	Gate     string     `json:"gate"`
	Decision string     `json:"decision"`
	Reasons  []string   `json:"reasons,omitempty"`
}

// LastPlan returns the last cycle's plan.
func (d *Doctor) LastPlan() Plan {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last
}

// Running returns the entries of the operations in flight, by partition.
func (d *Doctor) Running() []Entry {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Entry, 0, len(d.runs))
	for _, r := range d.runs {
		out = append(out, cloneEntry(r.entry))
	}
	slices.SortFunc(out, func(a, b Entry) int { return int(a.Op.Partition) - int(b.Op.Partition) })
	return out
}

// Cycle runs one round: on the active Doctor, take over what a previous
// one left in flight, plan from the pipeline's view, judge each proposed
// operation against a fresh view, and start those the gates let through.
func (d *Doctor) Cycle(ctx context.Context) error {
	epoch := d.deps.Epoch()
	if epoch == 0 {
		d.standby()
		d.setPlan(Plan{At: d.cfg.Now(), Waiting: "standby: another node's Doctor is active"})
		return nil
	}
	c := d.deps.Cluster(epoch)
	if stale, ok := d.takeOver(epoch); ok {
		// The runs of another epoch (this node's own, if its lease lapsed
		// and it took it again between two cycles) are refused by now:
		// they stop, and are resumed with this one.
		for _, done := range stale {
			select {
			case <-done:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		d.tookOver, d.adoptAt = true, time.Time{}
	}
	if now := d.cfg.Now(); !now.Before(d.adoptAt) {
		// A failed look is made again at the next cycle.
		if err := d.resume(ctx, c, epoch, d.tookOver); err != nil {
			d.log.Warn("doctor: resuming the operations left in flight failed", "err", err)
		} else {
			d.tookOver, d.adoptAt = false, now.Add(adoptEvery*d.cfg.Interval)
		}
	}
	d.m.cycles.Inc()
	now := d.cfg.Now()
	d.forget(now)
	settings, err := d.deps.Records.Settings(ctx)
	if err != nil {
		return fmt.Errorf("doctor: reading settings: %w", err)
	}
	cfg := d.cfg.Checker
	rep := d.replication(settings.Replication, cfg.ReplicationFactor)
	cfg.ReplicationFactor = rep.Factor
	plan := Plan{At: now, Epoch: epoch, Active: true, Paused: settings.Paused, Replication: rep}
	env := operator.NewEnv(c, d.log)
	snap, parts, _ := env.View(ctx)
	cv := d.deps.View()
	if why := incomplete(cv, snap, now); why != "" {
		plan.Waiting = why
		d.setPlan(plan)
		return nil
	}
	if d.cfg.Tune != nil {
		d.cfg.Tune(&cfg)
	}
	cfg.Now, cfg.DryRun = now, true
	v := ViewOf(cv, snap, d.prev, d.history(), cfg)
	p, err := checker.Compute(v, cfg)
	if err != nil {
		return fmt.Errorf("doctor: plan: %w", err)
	}
	d.prev = &v
	d.noteSick(p.Sick, p.Slow, movedOffSlow(p.Ops), now)
	plan.WhyNots, plan.Sick, plan.Zones = p.WhyNots, p.Sick, p.Zones
	d.m.setZones(p.Zones)
	cur := freshView(snap, parts, now, v)
	var approvals map[string]Entry
	if len(p.Ops) > 0 { // a quiet cluster's cycles read no timeline
		if approvals, err = d.approvals(ctx); err != nil {
			return err
		}
	}
	// The operator's choices first: an approved operation the plan no
	// longer proposes as it was may still be the one to run.
	for _, e := range strandedApprovals(p.Ops, approvals) {
		plan.Ops = append(plan.Ops, d.considerApproved(ctx, c, epoch, e, cur, cfg, settings, now))
	}
	for _, op := range p.Ops {
		plan.Ops = append(plan.Ops, d.consider(ctx, c, epoch, op, cur, cfg, settings, approvals, now))
	}
	d.m.planned.Set(float64(len(p.Ops)))
	d.setPlan(plan)
	d.checkOverdue(now)
	return nil
}

// replication is the replication factor to plan with: the settings'
// (the cluster's record) when they give one, else own (the Doctor's
// configuration). A change of the factor or of its source is logged, a
// fallback as a warning: in a cluster without a record, each node's
// Doctor plans with its own node's factor.
func (d *Doctor) replication(set Replication, own int) Replication {
	r := set
	if r.Factor <= 0 {
		r = Replication{Factor: own, Source: "the Doctor's configuration", Fallback: true}
	}
	d.mu.Lock()
	changed := r != d.rep
	d.rep = r
	d.mu.Unlock()
	switch {
	case !changed:
	case r.Fallback:
		d.log.Warn("doctor: the cluster records no replication factor; planning with this node's own", "factor", r.Factor, "source", r.Source)
	default:
		d.log.Info("doctor: planning with the cluster's replication factor", "factor", r.Factor, "source", r.Source)
	}
	return r
}

// consider judges one proposed operation and acts on the verdict.
func (d *Doctor) consider(ctx context.Context, c operator.Cluster, epoch uint64, op checker.Op, cur checker.View,
	cfg checker.Config, settings Settings, approvals map[string]Entry, now time.Time) PlannedOp {
	color := settings.Color(op.Kind)
	po := PlannedOp{Op: op, Gate: color.String()}
	key := opKey(op)
	if why, held := d.held(op, settings, now); held {
		po.Decision, po.Reasons = "hold", []string{why}
		return po
	}
	pending, hasPending := approvals[key]
	if hasPending && pending.State == Rejected {
		po.Decision, po.Reasons = "rejected", []string{"rejected by " + pending.DecidedBy + ": " + pending.Outcome}
		return po
	}
	approved := hasPending && pending.State == Approved
	vd := gate.Admit(op, cur, cfg, d.running(), d.recentStarts(now), color, approved, d.cfg.Limits, now)
	po.Reasons = vd.Reasons
	switch vd.Decision {
	case gate.Run:
		po.Decision = "run"
		e := Entry{Epoch: epoch, Op: op, Inputs: inputs(cur, op), Gate: color, State: Running,
			Deadline: now.Add(d.cfg.OpDeadline), Created: now, Updated: now}
		if approved {
			e.ID, e.Created, e.DecidedBy = pending.ID, pending.Created, pending.DecidedBy
		}
		d.start(ctx, c, e)
	case gate.AwaitApproval:
		po.Decision = "await-approval"
		if !hasPending {
			e := Entry{Epoch: epoch, Op: op, Inputs: inputs(cur, op), Gate: color, State: AwaitingApproval,
				Validation: strings.Join(vd.Reasons, "; "), Created: now, Updated: now}
			if err := d.deps.Records.Put(ctx, &e); err != nil {
				d.log.Warn("doctor: recording an operation awaiting approval failed", "op", op.String(), "err", err)
			} else {
				d.log.Info("doctor: operation awaits an operator's approval", "id", e.ID, "op", op.String())
			}
		}
		d.m.holds.WithLabelValues(string(op.Kind), "red-gate").Inc()
	default:
		po.Decision = decisionName(vd.Decision)
		d.note(ctx, epoch, key, op, cur, color, vd, now)
	}
	return po
}

// held says why op waits whatever the gates would say: an operation in
// flight on its partition (or just ended there), or the Doctor paused.
func (d *Doctor) held(op checker.Op, settings Settings, now time.Time) (string, bool) {
	if why, busy := d.busy(op.Partition, now); busy {
		return why, true
	}
	if settings.Paused {
		d.m.holds.WithLabelValues(string(op.Kind), "paused").Inc()
		return "the Doctor is paused: " + settings.Reason, true
	}
	return "", false
}

// strandedApprovals returns, oldest first, the approved entries whose
// operation the plan no longer proposes as it was, while it still
// proposes one of the same kind on the same partition at the same
// generation: the need stands, but the checker now picks another node
// (the nodes' replica counts moved, say). Run only when the plan
// proposes it again, such an approval would wait for ever.
func strandedApprovals(ops []checker.Op, approvals map[string]Entry) []Entry {
	var out []Entry
	for key, e := range approvals {
		if e.State != Approved {
			continue
		}
		same := func(op checker.Op) bool { return opKey(op) == key }
		need := func(op checker.Op) bool {
			return op.Kind == e.Op.Kind && op.Partition == e.Op.Partition && op.Generation == e.Op.Generation
		}
		if !slices.ContainsFunc(ops, same) && slices.ContainsFunc(ops, need) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// considerApproved judges an approved operation the plan no longer
// proposes as it was (strandedApprovals), as consider judges a planned
// one: it runs if the gates admit it now. One its partition moved past
// is closed as stale; otherwise it stays approved.
func (d *Doctor) considerApproved(ctx context.Context, c operator.Cluster, epoch uint64, e Entry, cur checker.View,
	cfg checker.Config, settings Settings, now time.Time) PlannedOp {
	color := settings.Color(e.Op.Kind)
	po := PlannedOp{Op: e.Op, Gate: color.String()}
	if why, held := d.held(e.Op, settings, now); held {
		po.Decision, po.Reasons = "hold", []string{why}
		return po
	}
	vd := gate.Admit(e.Op, cur, cfg, d.running(), d.recentStarts(now), color, true, d.cfg.Limits, now)
	po.Decision, po.Reasons = decisionName(vd.Decision), vd.Reasons
	switch vd.Decision {
	case gate.Run:
		run := Entry{ID: e.ID, Epoch: epoch, Op: e.Op, Inputs: inputs(cur, e.Op), Gate: color, State: Running,
			Deadline: now.Add(d.cfg.OpDeadline), Created: e.Created, Updated: now, DecidedBy: e.DecidedBy}
		d.start(ctx, c, run)
	case gate.Stale:
		e.State, e.Validation, e.Updated = Stale, strings.Join(vd.Reasons, "; "), now
		if err := d.deps.Records.Put(ctx, &e); err != nil {
			d.log.Warn("doctor: closing a stale approved operation failed", "id", e.ID, "op", e.Op.String(), "err", err)
			return po
		}
		d.log.Info("doctor: an approved operation is stale", "id", e.ID, "op", e.Op.String(), "why", e.Validation)
		d.publish(e)
	}
	return po
}

// note records a held, stale or refused operation in the timeline, once
// per operation and reason (the same plan comes back every cycle).
func (d *Doctor) note(ctx context.Context, epoch uint64, key string, op checker.Op, cur checker.View, color gate.Color, vd gate.Verdict, now time.Time) {
	why := strings.Join(vd.Reasons, "; ")
	d.m.holds.WithLabelValues(string(op.Kind), decisionName(vd.Decision)).Inc()
	d.mu.Lock()
	seen := d.noted[key].why == why
	d.noted[key] = noteMark{why: why, at: now}
	d.mu.Unlock()
	if seen {
		return
	}
	state := Held
	switch vd.Decision {
	case gate.Stale:
		state = Stale
	case gate.Refuse:
		state = Rejected
	}
	e := Entry{Epoch: epoch, Op: op, Inputs: inputs(cur, op), Gate: color, State: state, Validation: why,
		Created: now, Updated: now, DecidedBy: "validation"}
	if err := d.deps.Records.Put(ctx, &e); err != nil {
		d.log.Warn("doctor: recording a decision failed", "op", op.String(), "err", err)
		return
	}
	d.publish(e)
}

// publish hands a final entry to Deps.Publish.
func (d *Doctor) publish(e Entry) {
	if d.deps.Publish != nil {
		d.deps.Publish(cloneEntry(e))
	}
}

func decisionName(dc gate.Decision) string {
	switch dc {
	case gate.Run:
		return "run"
	case gate.Hold:
		return "hold"
	case gate.AwaitApproval:
		return "await-approval"
	case gate.Stale:
		return "stale"
	case gate.Refuse:
		return "refuse"
	}
	return fmt.Sprint(int(dc))
}

// opKey identifies a proposed operation across cycles: the same
// operation on the same partition state.
func opKey(op checker.Op) string {
	return fmt.Sprintf("%s/%d/%d/%d/%d", op.Kind, op.Partition, op.From, op.To, op.Generation)
}

// busy says partition has an operation in flight, or one that ended too
// recently for the view to show its outcome.
func (d *Doctor) busy(partition uint64, now time.Time) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.runs[partition]; ok && partition == 0 {
		return fmt.Sprintf("operation %d is in flight: one node's record is removed at a time", r.entry.ID), true
	} else if ok {
		return fmt.Sprintf("operation %d is in flight on the partition", r.entry.ID), true
	}
	if until, ok := d.settling[partition]; ok {
		if now.Before(until) {
			return "an operation ended on the partition at " + until.Add(-d.cfg.Settle).Format(time.RFC3339) +
				"; waiting for the view to show its outcome", true
		}
		delete(d.settling, partition)
	}
	return "", false
}

// approvals returns the entries awaiting or given an operator's decision,
// by operation key (the latest per key).
func (d *Doctor) approvals(ctx context.Context) (map[string]Entry, error) {
	out := map[string]Entry{}
	err := EachEntry(ctx, d.deps.Records, func(e Entry) {
		if e.State == AwaitingApproval || e.State == Approved || (e.State == Rejected && e.DecidedBy != "validation") {
			out[opKey(e.Op)] = e
		}
	})
	return out, err
}

// incomplete says why the view is not one to act on (empty: it is): none
// yet, or a node alive by its heartbeats that the pipeline has not heard
// from (a Doctor that just took over waits for every node's report).
func incomplete(cv *ingest.ClusterView, snap *directory.Snapshot, now time.Time) string {
	if cv == nil {
		return "no cluster view yet"
	}
	for _, rec := range snap.Nodes {
		if directory.NodeLiveness(rec, now) != directory.Alive {
			continue
		}
		if _, ok := cv.Node(rec.GetId()); !ok {
			return fmt.Sprintf("node %d is alive but has not reported its topology yet", rec.GetId())
		}
	}
	return ""
}

// freshView is the view operations are validated against: the directory
// and every node's answer, read just now, with the nodes' health from
// the plan's view.
func freshView(snap *directory.Snapshot, parts []topology.PartitionInfo, now time.Time, planned checker.View) checker.View {
	v := checker.FromTopology(topology.Nodes(snap, now), parts, now, nil)
	for i := range v.Nodes {
		if n, ok := planned.Node(v.Nodes[i].ID); ok {
			v.Nodes[i].Health = n.Health
		}
	}
	return v
}

// inputs describes the part of v op was decided on.
func inputs(v checker.View, op checker.Op) string {
	var b strings.Builder
	for _, p := range v.Partitions {
		if p.ID != op.Partition {
			continue
		}
		fmt.Fprintf(&b, "partition %d gen=%d voters=%v learners=%v leader=%d replicas=%v", p.ID, p.Generation,
			p.Voters, p.Learners, p.Leader, p.Replicas)
		for _, r := range p.Status {
			fmt.Fprintf(&b, "; n%d lag=%d", r.Node, r.Lag)
			if !r.DownSince.IsZero() {
				b.WriteString(" down")
			}
		}
	}
	for _, id := range []uint64{op.From, op.To} {
		if n, ok := v.Node(id); ok && id != 0 {
			fmt.Fprintf(&b, "; node %d %s zone=%q", id, n.Liveness, n.Zone)
		}
	}
	return b.String()
}

func (d *Doctor) setPlan(p Plan) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.last = p
}

// history is what the Doctor remembers of earlier cycles for the next
// view.
func (d *Doctor) history() History {
	d.mu.Lock()
	defer d.mu.Unlock()
	return History{SickSince: maps.Clone(d.sickSince), HealedAt: maps.Clone(d.healedAt),
		LeaderBalanced: maps.Clone(d.balanced)}
}

// noteBalanced remembers that e moved its partition's leader to balance
// leaders, when it ended: the balancer leaves that leader alone for its
// cooldown. Memories older than the cooldown are forgotten.
func (d *Doctor) noteBalanced(e Entry) {
	if e.Op.Checker != "balance-leaders" || e.State != Succeeded {
		return
	}
	horizon := d.cfg.Now().Add(-d.cfg.Checker.BalanceCooldown)
	d.mu.Lock()
	defer d.mu.Unlock()
	if e.Updated.After(horizon) && e.Updated.After(d.balanced[e.Op.Partition].At) {
		d.balanced[e.Op.Partition] = checker.Balanced{At: e.Updated, From: e.Op.From}
	}
	for p, b := range d.balanced {
		if !b.At.After(horizon) {
			delete(d.balanced, p)
		}
	}
}

// noteMark is the last reason an operation was recorded held or refused
// for, and when it was last noted so.
type noteMark struct {
	why string
	at  time.Time
}

// notedFor is how long an operation no longer noted held or refused is
// remembered: one that comes back later is recorded again.
const notedFor = time.Hour

// forget drops what the Doctor no longer needs to remember (each map
// would otherwise keep every partition and operation ever seen): the
// settle marks that passed, the held operations not noted for notedFor,
// and the recoveries well past their period.
func (d *Doctor) forget(now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	maps.DeleteFunc(d.settling, func(_ uint64, until time.Time) bool { return !now.Before(until) })
	maps.DeleteFunc(d.noted, func(_ string, m noteMark) bool { return now.Sub(m.at) > notedFor })
	maps.DeleteFunc(d.healedAt, func(_ uint64, at time.Time) bool { return now.Sub(at) > 2*d.cfg.Checker.RecoveryPeriod })
}

// noteSick keeps since when each node of sick has been sick, and when
// each node that was unwell stopped being so: from then on it is
// recovering, and takes no load back for the recovery period. Unwell
// are the sick nodes, and the slow ones (fsyncs slow, not confirmed
// sick) that the sick-node checker moved a leader off during their slow
// spell (moved: this plan's): that leadership must not flap back the
// moment the node looks well. A slow spell that moved nothing leaves no
// recovery behind.
func (d *Doctor) noteSick(sick, slow, moved []uint64, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id := range d.sickSince {
		if !slices.Contains(sick, id) {
			delete(d.sickSince, id)
		}
	}
	for _, id := range sick {
		if _, ok := d.sickSince[id]; !ok {
			d.sickSince[id] = now
		}
	}
	for _, id := range moved {
		d.movedOff[id] = true
	}
	for id := range d.movedOff {
		if !slices.Contains(slow, id) {
			delete(d.movedOff, id)
		}
	}
	unwell := map[uint64]bool{}
	for _, id := range sick {
		unwell[id] = true
	}
	for _, id := range slow {
		if d.movedOff[id] {
			unwell[id] = true
		}
	}
	for id := range d.unwell {
		if !unwell[id] {
			d.healedAt[id] = now
		}
	}
	d.unwell = unwell
}

// movedOffSlow lists the nodes the plan's sick-node checker moves a
// leader off.
func movedOffSlow(ops []checker.Op) []uint64 {
	var out []uint64
	for _, op := range ops {
		if op.Checker == "sick-node" && op.Kind == checker.TransferLeader {
			out = append(out, op.From)
		}
	}
	return out
}

// running lists the operations in flight for the gates.
func (d *Doctor) running() []gate.Running {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]gate.Running, 0, len(d.runs))
	for _, r := range d.runs {
		out = append(out, gate.Running{Op: r.entry.Op, Started: r.started})
	}
	return out
}

// recentStarts returns the starts of the last minute.
func (d *Doctor) recentStarts(now time.Time) []time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.starts = slices.DeleteFunc(d.starts, func(t time.Time) bool { return now.Sub(t) > time.Minute })
	return slices.Clone(d.starts)
}

// takeOver notes the epoch acted on, and says whether it is a new one
// (this node just became the active Doctor). The operations still
// running with another epoch are cancelled; it returns when each one's
// goroutine will have ended.
func (d *Doctor) takeOver(epoch uint64) (stale []<-chan struct{}, taken bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.epoch == epoch {
		return nil, false
	}
	d.epoch = epoch
	d.prev = nil
	clear(d.noted)
	for _, r := range d.runs {
		if r.epoch != epoch {
			r.cancel()
			stale = append(stale, r.done)
		}
	}
	return stale, true
}

// standby cancels the operations in flight: another Doctor took over (or
// the node stops), and the directory refuses this one's commands anyway.
func (d *Doctor) standby() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.epoch == 0 {
		return
	}
	d.epoch = 0
	for _, r := range d.runs {
		r.cancel()
	}
}
