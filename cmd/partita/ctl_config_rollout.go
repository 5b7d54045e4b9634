package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/settings"
	"github.com/partitadb/partita/topology/ingest"
)

// `partita ctl config rollout` drives a staged rollout (settings.Rollout)
// from the terminal: it watches the stages' health in the cluster view
// (GET /cluster/topology), changes one stage at a time through the
// /config/ routes (each a compare-and-set on the version it saw), and
// halts and undoes the rollout when a stage regresses.

func newCtlConfigRolloutCmd(f *ctlFlags) *cobra.Command {
	var stages, reason string
	var soak, sample time.Duration
	m := settings.DefaultMargins()
	cmd := &cobra.Command{
		Use:   "rollout KEY VALUE --stages zone:a,zone:b,... [--soak 60s]",
		Short: "Override a setting one stage at a time, halting and undoing it if a stage's health regresses",
		Long: `Sets KEY to VALUE at each stage in turn (zones, nodes or tables). Before the
first stage it watches the cluster for one soak; after each stage it watches
one soak more and judges the stage just changed against its own health before
the change and against the stages not yet changed: error rate, request p99,
raft elections, apply lag. A regression beyond the margins halts the rollout
and restores every stage it changed; a healthy rollout ends as one override
for the whole cluster. Each step is a version of the overrides (ctl config
history). Interrupted, it leaves the stages changed so far: ctl config
rollback to the version it started from undoes them.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var scopes []settings.Scope
			for _, s := range strings.Split(stages, ",") {
				sc, err := settings.ParseScope(strings.TrimSpace(s))
				if err != nil {
					return err
				}
				scopes = append(scopes, sc)
			}
			ro, err := settings.NewRollout(settings.MustRegistry(settings.Catalog()...), args[0], args[1], scopes, m)
			if err != nil {
				return err
			}
			r := &rolloutRun{f: f, ro: ro, soak: soak, sample: sample, reason: reason, out: cmd.OutOrStdout()}
			return r.run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&stages, "stages", "", "the stages, in order: zone:Z, node:N or table:T, comma-separated")
	cmd.Flags().DurationVar(&soak, "soak", time.Minute, "how long each stage is watched after its change")
	cmd.Flags().DurationVar(&sample, "sample", 2*time.Second, "how often the cluster view is read during a soak")
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the history")
	cmd.Flags().Float64Var(&m.ErrorRate, "max-error-rate-rise", m.ErrorRate, "halt when a stage's error rate rises by more than this (0.01: one point)")
	cmd.Flags().Float64Var(&m.P99Factor, "max-p99-factor", m.P99Factor, "halt when a stage's p99 grows by more than this factor ...")
	cmd.Flags().DurationVar(&m.P99Floor, "min-p99-rise", m.P99Floor, "... and by more than this")
	cmd.Flags().Float64Var(&m.Elections, "max-elections-rise", m.Elections, "halt when a stage's raft elections a minute rise by more than this")
	cmd.Flags().Float64Var(&m.ApplyLag, "max-apply-lag-rise", m.ApplyLag, "halt when a stage's apply lag rises by more than this many entries")
	cmd.Flags().Float64Var(&m.Throughput, "min-request-share", m.Throughput, "halt when a stage serves less than this share of its requests before the change ...")
	cmd.Flags().Float64Var(&m.StallBaseline, "min-stall-baseline", m.StallBaseline, "... if it served at least this many before (0: never judged)")
	cmd.Flags().Float64Var(&m.MinRequests, "min-requests", m.MinRequests, "halt, unjudged, when a stage serves fewer requests than this in its soak (0: judge an idle stage on its other signals)")
	_ = cmd.MarkFlagRequired("stages")
	return cmd
}

type rolloutRun struct {
	f            *ctlFlags
	ro           *settings.Rollout
	soak, sample time.Duration
	reason       string
	out          io.Writer
}

func (r *rolloutRun) say(format string, args ...any) {
	fmt.Fprintf(r.out, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func (r *rolloutRun) run(ctx context.Context) error {
	var st admin.ConfigState
	if err := r.f.get(ctx, "/config", &st); err != nil {
		return err
	}
	base, err := stateOf(admin.ConfigChange{Version: st.Version, Overrides: st.Overrides})
	if err != nil {
		return err
	}
	version := st.Version
	r.say("rollout of %s=%s over %d stages from version %d: watching the cluster for %v", r.ro.Key, r.ro.Value, len(r.ro.Stages), version, r.soak)
	before, err := r.watch(ctx)
	if err != nil {
		return err
	}
	for i := 0; ; i++ {
		e, ok := r.ro.Next()
		if !ok {
			break
		}
		ch, err := r.change(ctx, []settings.Edit{e}, version, fmt.Sprintf("stage %d of %d", i+1, len(r.ro.Stages)))
		if err != nil {
			return err
		}
		version = ch.Version
		r.say("stage %d of %d: %s (version %d); watching for %v", i+1, len(r.ro.Stages), e, version, r.soak)
		after, err := r.watch(ctx)
		if err != nil {
			return err
		}
		var others []settings.Health
		for _, s := range r.ro.Stages[i+1:] {
			others = append(others, after[s])
		}
		s := r.ro.Stages[i]
		if regs := r.ro.Judge(before[s], after[s], others); len(regs) > 0 {
			r.say("stage %s regressed: %s", s, strings.Join(regs, "; "))
			break
		}
		r.say("stage %s healthy: %s", s, healthString(after[s]))
		before = after
	}
	end := "end: done for the whole cluster"
	if halted := r.ro.Halted(); len(halted) > 0 {
		end = "end: halted and undone: " + strings.Join(halted, "; ")
	}
	ch, err := r.change(ctx, r.ro.Finish(base), version, end)
	if err != nil {
		return err
	}
	if r.ro.Done() {
		r.say("done: %s=%s for the whole cluster (version %d)", r.ro.Key, r.ro.Value, ch.Version)
		return nil
	}
	r.say("halted and undone: every stage changed is back to its value before the rollout (version %d)", ch.Version)
	return fmt.Errorf("rollout of %s=%s halted: %s", r.ro.Key, r.ro.Value, strings.Join(r.ro.Halted(), "; "))
}

// change makes edits one version, a compare-and-set on version.
func (r *rolloutRun) change(ctx context.Context, edits []settings.Edit, version uint64, step string) (admin.ConfigChange, error) {
	body := make([]admin.ConfigEdit, 0, len(edits))
	for _, e := range edits {
		body = append(body, admin.ConfigEdit{Key: e.Key, Scope: e.Scope.String(), Value: e.Value, Unset: e.Unset})
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return admin.ConfigChange{}, err
	}
	reason := fmt.Sprintf("rollout of %s=%s, %s", r.ro.Key, r.ro.Value, step)
	if r.reason != "" {
		reason += ": " + r.reason
	}
	q := url.Values{"reason": {reason}, "version": {strconv.FormatUint(version, 10)}}
	out, err := r.f.call(ctx, http.MethodPost, "/config/edits?"+q.Encode(), raw)
	if err != nil {
		return admin.ConfigChange{}, fmt.Errorf("rollout %s: %w", step, err)
	}
	var ch admin.ConfigChange
	if err := json.Unmarshal(out, &ch); err != nil {
		return admin.ConfigChange{}, err
	}
	return ch, nil
}

// watch reads the cluster view every sample for one soak and returns each
// stage's health over it. Only the nodes' snapshots whose interval began
// after the soak did count (a snapshot covers the interval before it was
// taken), each once; the soak goes on past its length, by up to three
// topology intervals, until every node of the stages has sent one.
func (r *rolloutRun) watch(ctx context.Context) (map[settings.Scope]settings.Health, error) {
	start := time.Now()
	acc := newHealthAccum(r.ro.Stages, start)
	end, grace := start.Add(r.soak), time.Duration(0)
	var last *ingest.ClusterView
	for {
		var info admin.TopologyInfo
		if err := r.f.get(ctx, "/cluster/topology", &info); err != nil {
			return nil, err
		}
		if info.View != nil {
			last = info.View
			acc.add(info.View)
			// The Doctor's alerts: the nodes it judges sick. Without an
			// active Doctor there are none to count.
			var plan admin.DoctorPlan
			if err := r.f.get(ctx, "/doctor/plan", &plan); err == nil {
				acc.addSick(info.View, plan.Plan.Sick)
			}
			for _, n := range info.View.Nodes {
				grace = max(grace, 3*n.Interval, 3*time.Second)
			}
		}
		now := time.Now()
		if now.After(end) && (acc.covered() || now.After(end.Add(grace))) {
			// The Doctor acts on a sick node within a cycle or two (its
			// leaders leave), after which the plan may no longer call it
			// sick: its sick-node decisions of the soak count too.
			var es []admin.TimelineEntry
			q := url.Values{"since": {start.UTC().Format(time.RFC3339)}, "limit": {"1000"}}
			if err := r.f.get(ctx, "/doctor/timeline?"+q.Encode(), &es); err == nil && last != nil {
				acc.addDecisions(last, es)
			}
			return acc.health(now.Sub(start)), nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(r.sample):
		}
	}
}

// serverErrors are the kinds of failed requests a rollout counts: the
// server's failures, not the clients' (rejected: a condition or
// validation), routing (not_leader) or admission (throttled).
var serverErrors = []string{"ambiguous", "timeout", "internal"}

// healthAccum sums the stages' health over the samples of a soak.
type healthAccum struct {
	stages []settings.Scope
	since  time.Time // the soak's start: older snapshots do not count
	h      map[settings.Scope]*settings.Health
	p99s   map[settings.Scope][]time.Duration             // each fresh snapshot's worst replica p99, by stage
	terms  map[[2]uint64]uint64                           // (partition, node) -> term last seen
	sick   map[settings.Scope]map[uint64]bool             // nodes the Doctor judged sick during the soak
	seen   map[[2]uint64]bool                             // (node, snapshot seq) counted
	lat    map[settings.Scope]map[[2]time.Duration]uint64 // requests by latency bucket (its bounds)
	nodes  map[uint64]string                              // nodes of the stages (zone and node stages), with their zone
	fresh  map[uint64]bool                                // nodes that sent a snapshot of the soak
}

func newHealthAccum(stages []settings.Scope, since time.Time) *healthAccum {
	a := &healthAccum{stages: stages, since: since, h: map[settings.Scope]*settings.Health{}, p99s: map[settings.Scope][]time.Duration{},
		terms: map[[2]uint64]uint64{}, sick: map[settings.Scope]map[uint64]bool{}, seen: map[[2]uint64]bool{},
		lat:   map[settings.Scope]map[[2]time.Duration]uint64{},
		nodes: map[uint64]string{}, fresh: map[uint64]bool{}}
	for _, s := range stages {
		a.h[s] = &settings.Health{}
	}
	return a
}

// stageOf is the stage holding a replica of a table on node n (false:
// none).
func (a *healthAccum) stageOf(n ingest.NodeView, table string) (settings.Scope, bool) {
	for _, s := range a.stages {
		if (s.Kind == settings.ScopeZone && s.Name == n.Zone) || (s.Kind == settings.ScopeNode && s.Name == strconv.FormatUint(n.ID, 10)) ||
			(s.Kind == settings.ScopeTable && s.Name == table) {
			return s, true
		}
	}
	return settings.Scope{}, false
}

// add counts the snapshots of v not counted yet whose interval began
// after the soak's start.
func (a *healthAccum) add(v *ingest.ClusterView) {
	fresh := map[uint64]bool{}
	for _, n := range v.Nodes {
		if _, ok := a.stageOf(n, ""); ok {
			a.nodes[n.ID] = n.Zone
		}
		k := [2]uint64{n.ID, n.Seq}
		if a.seen[k] || n.Taken.Add(-n.Interval).Before(a.since) {
			continue
		}
		a.seen[k], fresh[n.ID], a.fresh[n.ID] = true, true, true
	}
	worst := map[settings.Scope]time.Duration{}
	defer func() {
		for s, d := range worst {
			if d > 0 { // a snapshot without a request served has no p99
				a.p99s[s] = append(a.p99s[s], d)
			}
		}
	}()
	for _, p := range v.Partitions {
		for _, r := range p.Replicas {
			n, ok := v.Node(r.Node)
			if !ok || !fresh[r.Node] {
				continue
			}
			s, ok := a.stageOf(n, p.Table)
			if !ok {
				continue
			}
			h := a.h[s]
			secs := n.Interval.Seconds()
			h.Requests += (r.Load.ReadsPerSec + r.Load.WritesPerSec) * secs
			for _, kind := range serverErrors {
				h.Errors += float64(r.Load.Errors[kind])
			}
			worst[s] = max(worst[s], r.Load.LatencyP99)
			for _, b := range r.Load.Latency {
				if a.lat[s] == nil {
					a.lat[s] = map[[2]time.Duration]uint64{}
				}
				a.lat[s][[2]time.Duration{b.GT, b.LE}] += b.Count
			}
			h.ApplyLag = max(h.ApplyLag, float64(r.Lag))
			k := [2]uint64{p.ID, r.Node}
			if last, seen := a.terms[k]; seen && r.Term > last {
				h.Elections += float64(r.Term - last)
			}
			a.terms[k] = r.Term
		}
	}
}

// silent counts the nodes of stage s that sent no snapshot of the soak.
func (a *healthAccum) silent(s settings.Scope) int {
	n := 0
	for id, zone := range a.nodes {
		if st, _ := a.stageOf(ingest.NodeView{ID: id, Zone: zone}, ""); st == s && !a.fresh[id] {
			n++
		}
	}
	return n
}

// covered says every node of the zone and node stages has sent a
// snapshot of the soak.
func (a *healthAccum) covered() bool {
	for id := range a.nodes {
		if !a.fresh[id] {
			return false
		}
	}
	return true
}

// addSick counts the Doctor's alerts of a sample: each node of a stage
// it judged sick, once per soak.
func (a *healthAccum) addSick(v *ingest.ClusterView, sick []uint64) {
	for _, id := range sick {
		n, ok := v.Node(id)
		if !ok {
			continue
		}
		if s, ok := a.stageOf(n, ""); ok {
			if a.sick[s] == nil {
				a.sick[s] = map[uint64]bool{}
			}
			a.sick[s][id] = true
		}
	}
}

// addDecisions counts as alerts the nodes of the stages the Doctor's
// sick-node checker acted on (moved leaders or replicas off).
func (a *healthAccum) addDecisions(v *ingest.ClusterView, es []admin.TimelineEntry) {
	var sick []uint64
	for _, e := range es {
		if e.Checker == "sick-node" && e.From != 0 && !e.Created.Before(a.since) {
			sick = append(sick, e.From)
		}
	}
	a.addSick(v, sick)
}

// health is each stage's health over a soak of d: its p99 the median of
// the samples' (robust to one slow sample), elections a minute.
func (a *healthAccum) health(d time.Duration) map[settings.Scope]settings.Health {
	out := make(map[settings.Scope]settings.Health, len(a.h))
	for s, h := range a.h {
		hh := *h
		hh.Alerts = len(a.sick[s])
		hh.Silent = a.silent(s)
		if m := d.Minutes(); m > 0 {
			hh.Elections /= m
		}
		if ps := a.p99s[s]; len(ps) > 0 {
			slices.Sort(ps)
			hh.P99 = ps[len(ps)/2]
		}
		for b, n := range a.lat[s] {
			hh.Latency = append(hh.Latency, settings.LatencyBucket{GT: b[0], LE: b[1], Count: n})
		}
		slices.SortFunc(hh.Latency, func(x, y settings.LatencyBucket) int { return cmp.Compare(x.GT, y.GT) })
		out[s] = hh
	}
	return out
}

func healthString(h settings.Health) string {
	return fmt.Sprintf("%.0f requests, error rate %.2f%%, p99 %v, %.1f elections a minute, apply lag %.0f, %d Doctor alerts, %d silent nodes",
		h.Requests, 100*h.ErrorRate(), h.P99, h.Elections, h.ApplyLag, h.Alerts, h.Silent)
}
