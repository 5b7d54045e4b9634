package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/doctor/gate"
	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/topology"
)

// start records e as running, counts its start for the rate limits, and
// launches it.
func (d *Doctor) start(ctx context.Context, c operator.Cluster, e Entry) {
	if err := d.deps.Records.Put(ctx, &e); err != nil {
		d.log.Warn("doctor: recording an operation's start failed; not starting it", "op", e.Op.String(), "err", err)
		return
	}
	d.mu.Lock()
	d.starts = append(d.starts, d.cfg.Now())
	d.mu.Unlock()
	d.log.Info("doctor: operation started", "id", e.ID, "op", e.Op.String(), "reasons", strings.Join(e.Op.Reasons, "; "))
	d.launch(ctx, c, e.Epoch, e, false)
}

// launch runs e's operation in a goroutine the Doctor owns (Run waits
// for it; ctx's end, or e's deadline, cancels it), acting through c with
// epoch. An overdue one is rolled back instead.
func (d *Doctor) launch(ctx context.Context, c operator.Cluster, epoch uint64, e Entry, overdue bool) {
	rctx, cancel := context.WithDeadline(ctx, e.Deadline)
	r := &run{entry: e, started: d.cfg.Now(), cancel: cancel, epoch: epoch, done: make(chan struct{}), overdue: overdue}
	d.mu.Lock()
	d.runs[e.Op.Partition] = r
	d.mu.Unlock()
	d.m.running.Inc()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer close(r.done)
		defer cancel()
		d.execute(rctx, c, r)
	}()
}

// execute runs r's steps, each checked against a fresh view first,
// recording each in the timeline; a failure is alerted and rolled back.
func (d *Doctor) execute(ctx context.Context, c operator.Cluster, r *run) {
	env := operator.NewEnv(c, d.log)
	if r.overdue {
		d.fail(ctx, env, r, fmt.Errorf("%w: left in flight past its deadline by the Doctor of epoch %d",
			context.DeadlineExceeded, r.entry.Epoch))
		return
	}
	op := r.entry.Op
	o, err := Steps(op, op.From != 0 && op.Kind != checker.RemoveNode && reachable(ctx, env, op.From))
	if err != nil {
		d.finish(ctx, r, Rejected, err.Error())
		return
	}
	for _, s := range o.Steps {
		if done(r.entry.Steps, s.String()) {
			continue // resumed: done by the Doctor before this one
		}
		if err := d.recordedStep(ctx, env, r, s, ""); err != nil {
			d.fail(ctx, env, r, err)
			return
		}
	}
	d.finish(ctx, r, Succeeded, fmt.Sprintf("%d steps done", len(o.Steps)))
}

// recordedStep runs s of r's operation checked (runStep) and records it
// in r's timeline entry, its name after prefix.
func (d *Doctor) recordedStep(ctx context.Context, env *operator.Env, r *run, s operator.Step, prefix string) error {
	rec := StepRecord{Name: prefix + s.String(), Start: d.cfg.Now()}
	err := d.runStep(ctx, env, s, &rec)
	rec.End = d.cfg.Now()
	if err != nil {
		rec.Err = err.Error()
	}
	d.mu.Lock() // Running reads r.entry
	r.entry.Steps = append(r.entry.Steps, rec)
	d.mu.Unlock()
	d.persist(ctx, r)
	if err != nil {
		return fmt.Errorf("step %q: %w", s.String(), err)
	}
	return nil
}

// reachable says node answers now: only then is its old replica
// destroyed as the operation's last step (a dead node's stays until the
// node is wiped or comes back and is told).
func reachable(ctx context.Context, env *operator.Env, node uint64) bool {
	ctx, cancel := context.WithTimeout(ctx, operator.StatusTimeout)
	defer cancel()
	_, err := env.Status(ctx, node)
	return err == nil
}

// done says the timeline shows step name succeeded already.
func done(steps []StepRecord, name string) bool {
	return slices.ContainsFunc(steps, func(s StepRecord) bool { return s.Name == name && s.Err == "" && !s.End.IsZero() })
}

// runStep checks s against a fresh view and runs it, retrying with
// backoff up to StepAttempts times; a step the check refuses is not
// retried, nor one refused for the Doctor's epoch (a stale epoch never
// becomes current again).
func (d *Doctor) runStep(ctx context.Context, env *operator.Env, s operator.Step, rec *StepRecord) error {
	var err error
	backoff := d.cfg.StepBackoff
	for rec.Attempts = 1; ; rec.Attempts++ {
		err = d.checkStep(ctx, env, s)
		var refused *refusedError
		if err == nil {
			err = operator.Run(ctx, env, &operator.Operator{Name: s.String(), Steps: []operator.Step{s}})
		} else if errors.As(err, &refused) {
			return err
		}
		if err == nil || rec.Attempts >= d.cfg.StepAttempts || ctx.Err() != nil || staleEpoch(err) {
			return errors.Join(err, ctx.Err())
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// refusedError is a step the gate refused on the current view.
type refusedError struct{ reasons []string }

func (e *refusedError) Error() string { return "refused: " + strings.Join(e.reasons, "; ") }

// checkStep asks the gate whether s may run on the cluster as it is now.
func (d *Doctor) checkStep(ctx context.Context, env *operator.Env, s operator.Step) error {
	kind, partition, node := stepKind(s)
	if kind == "" {
		return nil
	}
	snap, parts, _ := env.View(ctx)
	now := d.cfg.Now()
	cur := checker.FromTopology(topology.Nodes(snap, now), parts, now, nil)
	cfg := d.cfg.Checker
	cfg.Now = now
	vd := gate.CheckStep(kind, partition, node, cur, cfg)
	switch vd.Decision {
	case gate.Run:
		return nil
	case gate.Refuse, gate.Stale:
		return &refusedError{vd.Reasons}
	}
	return fmt.Errorf("step held: %s", strings.Join(vd.Reasons, "; "))
}

// staleEpoch says err is a refusal of the Doctor's epoch: another
// Doctor's lease (or this node's own, taken again) superseded it.
func staleEpoch(err error) bool {
	return partitapb.IsCode(err, partitapb.Error_STALE_EPOCH)
}

// fail records r failed, alerts, and undoes what it left half done;
// unless the Doctor stopped or its epoch was superseded, which is no
// failure of the operation: it is left running for the Doctor that
// holds the lease to resume (see abandon).
func (d *Doctor) fail(ctx context.Context, env *operator.Env, r *run, err error) {
	if staleEpoch(err) || ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		d.abandon(r, err)
		return
	}
	reason := "failed"
	if errors.Is(err, context.DeadlineExceeded) {
		reason = "deadline"
	}
	d.alert(r.entry, reason, err)
	// The rollback runs even after the deadline, on its own short one.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), operator.StepTimeout)
	defer cancel()
	p := d.leaderView(rctx, env, r.entry.Op.Partition)
	undo := Rollback(r.entry.Op, p)
	if len(undo) == 0 && learnerUndone(r.entry, p) {
		d.finish(rctx, r, RolledBack, fmt.Sprintf("%v; rolled back already: n%d is no longer in p%d", err, r.entry.Op.To, p.ID))
		return
	}
	if len(undo) == 0 {
		d.finish(rctx, r, Failed, err.Error())
		return
	}
	// The undo steps are checked against a fresh view as the operation's
	// own steps are: the view undo was planned from may be outdated (a
	// learner promoted since, by a Doctor that resumed the operation, is
	// left in place; a replica back in the partition is not destroyed).
	for _, s := range undo {
		if rerr := d.recordedStep(rctx, env, r, s, "rollback: "); rerr != nil {
			d.finish(rctx, r, Failed, fmt.Sprintf("%v; rollback failed: %v", err, rerr))
			return
		}
	}
	d.finish(rctx, r, RolledBack, fmt.Sprintf("%v; rolled back", err))
}

// learnerUndone says e's operation added a learner (its timeline shows
// the step done) that p, as its leader shows it, no longer has as learner
// or voter: a Doctor before this one rolled it back, its lease lost before
// it could record the end.
func learnerUndone(e Entry, p checker.Partition) bool {
	added := done(e.Steps, operator.AddLearner{Partition: e.Op.Partition, Node: e.Op.To}.String())
	to := e.Op.To
	return added && p.Leader != 0 && !slices.Contains(p.Voters, to) && !slices.Contains(p.Learners, to) && !slices.Contains(p.Outgoing, to)
}

// rollbackViewWait is the pause before asking again for a view that
// shows a partition's leader.
const rollbackViewWait = 500 * time.Millisecond

// leaderView returns partition as its leader shows it now. A view
// without the leader (its node slow to answer, an election) cannot say
// what a rollback must undo, so it is asked again until ctx ends; then
// the last view is returned, leaderless or empty.
func (d *Doctor) leaderView(ctx context.Context, env *operator.Env, partition uint64) checker.Partition {
	for {
		snap, parts, _ := env.View(ctx)
		now := d.cfg.Now()
		cur := checker.FromTopology(topology.Nodes(snap, now), parts, now, nil)
		var p checker.Partition
		for _, cp := range cur.Partitions {
			if cp.ID == partition {
				p = cp
			}
		}
		if p.Leader != 0 {
			return p
		}
		t := time.NewTimer(rollbackViewWait)
		select {
		case <-ctx.Done():
			t.Stop()
			return p
		case <-t.C:
		}
	}
}

// finish records r's end and lets its partition settle.
func (d *Doctor) finish(ctx context.Context, r *run, state State, outcome string) {
	now := d.cfg.Now()
	d.mu.Lock()
	r.entry.State, r.entry.Outcome = state, outcome
	d.mu.Unlock()
	d.persist(ctx, r)
	d.publish(r.entry)
	d.noteBalanced(r.entry)
	d.mu.Lock()
	if d.runs[r.entry.Op.Partition] == r {
		delete(d.runs, r.entry.Op.Partition)
	}
	d.settling[r.entry.Op.Partition] = now.Add(d.cfg.Settle)
	d.mu.Unlock()
	d.m.running.Dec()
	d.m.ops.WithLabelValues(string(r.entry.Op.Kind), string(state)).Inc()
	d.m.duration.WithLabelValues(string(r.entry.Op.Kind)).Observe(now.Sub(r.started).Seconds())
	d.log.Info("doctor: operation ended", "id", r.entry.ID, "op", r.entry.Op.String(), "state", state,
		"outcome", outcome, "duration", now.Sub(r.started))
}

// abandon ends r without an outcome: its entry stays running, for the
// Doctor holding the lease to resume from its first step not done (this
// node's, at a new epoch, or another's). Nothing is persisted: the
// directory refuses a superseded epoch's writes anyway, and a Doctor
// that stops must not record as failed what its successor will finish.
func (d *Doctor) abandon(r *run, err error) {
	d.mu.Lock()
	if d.runs[r.entry.Op.Partition] == r {
		delete(d.runs, r.entry.Op.Partition)
	}
	d.mu.Unlock()
	d.m.running.Dec()
	d.log.Info("doctor: operation left to the Doctor holding the lease", "id", r.entry.ID, "op", r.entry.Op.String(),
		"epoch", r.epoch, "err", err)
}

// persist writes r's entry; a Doctor that lost its lease cannot, and its
// operation is cancelled by standby at the next cycle.
// Its goroutine alone writes r.entry, under d.mu, which Running holds to
// read it.
func (d *Doctor) persist(ctx context.Context, r *run) {
	d.mu.Lock()
	r.entry.Updated = d.cfg.Now()
	e := cloneEntry(r.entry)
	d.mu.Unlock()
	if err := d.deps.Records.Put(context.WithoutCancel(ctx), &e); err != nil {
		d.log.Warn("doctor: recording an operation failed", "id", e.ID, "err", err)
	}
}

// checkOverdue counts the operations in flight past their deadline.
func (d *Doctor) checkOverdue(now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, r := range d.runs {
		if now.After(r.entry.Deadline) {
			n++
		}
	}
	d.m.stuck.Set(float64(n))
}

// adoptEvery is, in cycles, how often the active Doctor looks for
// operations left running (resume) besides its first cycle of an epoch.
const adoptEvery = 6

// resume takes over the operations the timeline shows running that no
// run of this Doctor carries: those a previous Doctor left in flight, at
// a takeover (which also reads the memory of the leaders it balanced),
// and, at every later look, those whose end was never recorded (a run
// whose last write to the timeline failed, or that was abandoned while
// this Doctor kept its lease). Each is run again from its first step not
// done (steps are idempotent and checked against a fresh view), or, past
// its deadline, rolled back: a learner it added and never promoted is
// removed, and what is left half done (a voter too many) is the
// checkers' to judge afresh, like any other state of the cluster.
//
// A look after the first reads the timeline from its oldest entry not
// final at the look before (d.adoptFrom): ids only grow, and a final
// entry changes no more.
func (d *Doctor) resume(ctx context.Context, c operator.Cluster, epoch uint64, takeover bool) error {
	var left []Entry
	from, next, open := d.adoptFrom, uint64(0), uint64(0)
	if takeover {
		from = 0
	}
	err := eachEntryFrom(ctx, d.deps.Records, from, func(e Entry) {
		if takeover {
			d.noteBalanced(e) // what the previous Doctors balanced
		}
		if e.State == Running {
			left = append(left, e)
		}
		if !e.State.Terminal() && open == 0 {
			open = e.ID
		}
		next = e.ID + 1
	})
	if err != nil {
		return err
	}
	switch {
	case open != 0:
		d.adoptFrom = open
	case next != 0:
		d.adoptFrom = next
	default:
		d.adoptFrom = from
	}
	for _, e := range left {
		if d.carries(e) {
			continue
		}
		if !takeover {
			// Read it again: a run of this Doctor may have ended it, and
			// left, since the scan read it.
			es, err := d.deps.Records.Entries(ctx, e.ID, 1)
			if err != nil {
				return err
			}
			if len(es) != 1 || es[0].ID != e.ID || es[0].State != Running || d.carries(es[0]) {
				continue
			}
			e = es[0]
		}
		overdue := !d.cfg.Now().Before(e.Deadline)
		d.log.Info("doctor: resuming an operation left in flight", "id", e.ID, "op", e.Op.String(),
			"by_epoch", e.Epoch, "overdue", overdue, "takeover", takeover)
		if overdue {
			e.Deadline = d.cfg.Now().Add(operator.StepTimeout) // time to roll it back
		}
		d.launch(ctx, c, epoch, e, overdue)
	}
	return nil
}

// carries says a run of this Doctor is in flight on e's partition (e's
// own, or another that e must not race).
func (d *Doctor) carries(e Entry) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, busy := d.runs[e.Op.Partition]
	return busy
}

// Alert is what the alert webhook receives.
type Alert struct {
	Reason    string     `json:"reason"` // failed, deadline
	Entry     uint64     `json:"entry"`
	Op        checker.Op `json:"op"`
	Error     string     `json:"error"`
	Started   time.Time  `json:"started"`
	Deadline  time.Time  `json:"deadline"`
	Node      string     `json:"doctor,omitempty"`
	AlertedAt time.Time  `json:"alerted_at"`
}

// alert raises an alert for entry: an error log naming the operation, a
// metric, and a POST to the webhook if one is set.
func (d *Doctor) alert(e Entry, reason string, err error) {
	d.m.alerts.WithLabelValues(reason).Inc()
	d.log.Error("doctor: operation failed", "id", e.ID, "op", e.Op.String(), "reason", reason, "err", err)
	if d.cfg.AlertWebhook == "" {
		return
	}
	body, _ := json.Marshal(Alert{Reason: reason, Entry: e.ID, Op: e.Op, Error: err.Error(), Started: e.Created,
		Deadline: e.Deadline, AlertedAt: d.cfg.Now()})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, rerr := http.NewRequestWithContext(ctx, http.MethodPost, d.cfg.AlertWebhook, bytes.NewReader(body))
	if rerr != nil {
		d.log.Warn("doctor: alert webhook", "err", rerr)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, rerr := http.DefaultClient.Do(req)
	if rerr != nil {
		d.log.Warn("doctor: alert webhook unreachable", "url", d.cfg.AlertWebhook, "err", rerr)
		return
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		d.log.Warn("doctor: alert webhook refused the alert", "url", d.cfg.AlertWebhook, "status", resp.StatusCode)
	}
}
