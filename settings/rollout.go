package settings

import (
	"fmt"
	"math"
	"time"
)

// Health is what a rollout watches of a stage (a zone, a node) over a
// soak: its requests and their errors, its request p99, its raft
// elections, its apply lag and the Doctor's alerts on it.
type Health struct {
	Requests  float64       // requests served
	Errors    float64       // of which failed (server errors, timeouts)
	P99       time.Duration // request latency
	Elections float64       // raft elections started, per minute
	ApplyLag  float64       // entries committed but not applied, the worst replica
	Alerts    int           // Doctor alerts raised
	Silent    int           // nodes that sent no report while watched
	// Latency is the requests by latency bucket, when the nodes report
	// it: a p99 over the limit halts only if enough requests were slower
	// than the limit to tell harm from chance (SlowSignificant).
	Latency []LatencyBucket
}

// LatencyBucket counts the requests slower than GT and no slower than LE
// (0: no upper bound).
type LatencyBucket struct {
	GT, LE time.Duration
	Count  uint64
}

// slower counts the requests of h.Latency slower than limit among all it
// counts, as the p99 reads them: by their bucket's upper bound.
func (h Health) slower(limit time.Duration) (slow, all uint64) {
	for _, b := range h.Latency {
		all += b.Count
		if b.LE == 0 || b.LE > limit {
			slow += b.Count
		}
	}
	return slow, all
}

// SlowShare and SlowSignificance: a p99 is over a limit when more than
// 1% of the requests were slower; a p99 over a rollout's limit counts as
// a regression only when the requests slower than the limit are more
// than chance allows at that share: the chance of seeing at least as
// many among the requests served, were each slower with probability
// SlowShare, is below SlowSignificance. One slow request of nine (a
// stall of a loaded machine) is then noise (a 9% chance), seven of seven
// (a disk a hundred times slower) is not, and among a thousand requests
// twenty slow ones are (a 0.3% chance).
const (
	SlowShare        = 0.01
	SlowSignificance = 0.01
)

// SlowSignificant reports whether slow requests of all are more than
// chance allows if each were slower with probability SlowShare: the
// binomial tail P(X >= slow) below SlowSignificance.
func SlowSignificant(slow, all uint64) bool {
	return slow > 0 && binomialTail(slow, all, SlowShare) < SlowSignificance
}

// binomialTail is P(X >= k) for X ~ Binomial(n, p), 0 < p < 1.
func binomialTail(k, n uint64, p float64) float64 {
	if k == 0 {
		return 1
	}
	if k > n {
		return 0
	}
	if float64(k) <= float64(n)*p {
		return 1 // at or below the mean: never significant (a bound, not the value)
	}
	// The tail's first term in logs (it may underflow: then the tail is
	// negligible), then each next term from the one before, until they
	// no longer add.
	nf, kf := float64(n), float64(k)
	lg := func(x float64) float64 { v, _ := math.Lgamma(x); return v }
	term := math.Exp(lg(nf+1) - lg(kf+1) - lg(nf-kf+1) + kf*math.Log(p) + (nf-kf)*math.Log1p(-p))
	sum := term
	for i := kf; i < nf && term > sum*1e-12; i++ {
		term *= (nf - i) / (i + 1) * p / (1 - p)
		sum += term
	}
	return min(sum, 1)
}

// ErrorRate is Errors over Requests (0 without requests).
func (h Health) ErrorRate() float64 {
	if h.Requests == 0 {
		return 0
	}
	return h.Errors / h.Requests
}

// Margins are how much worse a changed stage may do than its baseline
// before a rollout halts.
type Margins struct {
	// ErrorRate is the most the error rate may rise, absolutely (0.01:
	// one point).
	ErrorRate float64
	// P99Factor and P99Floor: the p99 may grow by the factor, and by at
	// least the floor (so that a fast baseline's noise does not halt).
	P99Factor float64
	P99Floor  time.Duration
	// Elections is the most the elections a minute may rise.
	Elections float64
	// ApplyLag is the most the apply lag may rise, in entries.
	ApplyLag float64
	// Throughput is the least share of its baseline's requests a stage
	// must still serve, judged when the baseline served at least
	// StallBaseline requests. A stage that stops serving reports no p99
	// and no errors (its requests are still waiting), so without this a
	// change that stalls it would pass as healthy.
	Throughput    float64
	StallBaseline float64
	// MinRequests is the fewest requests a stage must serve in its soak
	// after the change to be judged healthy: a stage without traffic
	// shows neither the errors nor the latency a change may cause, so it
	// halts the rollout unjudged rather than pass on no evidence. 0 lets
	// an idle stage through on its other signals.
	MinRequests float64
}

// DefaultMargins halt a rollout on one point of errors, a p99 three
// times as slow (and 20 ms slower), two more elections a minute, 1,000
// entries of apply lag, requests down to a tenth of at least 100 (or to
// none from at least 5), or any new alert, and hold a stage that served
// no request unjudged. The p99
// nodes report is the
// upper bound of a histogram bucket, and the buckets are 2 to 2.5 times
// apart (1, 2.5, 5 per decade): a factor under 2.5 would halt on a p99
// that moved up one bucket, which busy stages do by chance; at 3 it must
// move two.
func DefaultMargins() Margins {
	return Margins{ErrorRate: 0.01, P99Factor: 3, P99Floor: 20 * time.Millisecond, Elections: 2, ApplyLag: 1000,
		Throughput: 0.1, StallBaseline: 100, MinRequests: 1}
}

// Regressions lists how changed does worse than baseline beyond m; none
// means the stage is healthy.
func Regressions(changed, baseline Health, m Margins) []string {
	var out []string
	for _, r := range regressions(changed, baseline, m) {
		out = append(out, r.text())
	}
	return out
}

// regression is one signal that did worse: what it is now (head), and
// the baseline with its margin (vs).
type regression struct {
	signal   string
	head, vs string
}

func (g regression) text() string { return g.head + " against " + g.vs }

func regressions(changed, baseline Health, m Margins) []regression {
	var out []regression
	if d := changed.ErrorRate() - baseline.ErrorRate(); d > m.ErrorRate {
		out = append(out, regression{"errors", fmt.Sprintf("error rate %.2f%%", 100*changed.ErrorRate()),
			fmt.Sprintf("%.2f%% (margin %.2f points)", 100*baseline.ErrorRate(), 100*m.ErrorRate)})
	}
	limit := max(time.Duration(float64(baseline.P99)*m.P99Factor), baseline.P99+m.P99Floor)
	if changed.Requests > 0 && changed.P99 > limit {
		if len(changed.Latency) == 0 {
			out = append(out, regression{"p99", fmt.Sprintf("p99 %v", changed.P99), fmt.Sprintf("%v (limit %v)", baseline.P99, limit)})
		} else if slow, all := changed.slower(limit); SlowSignificant(slow, all) {
			out = append(out, regression{"p99", fmt.Sprintf("p99 %v (%d of %d requests over the limit)", changed.P99, slow, all),
				fmt.Sprintf("%v (limit %v)", baseline.P99, limit)})
		}
	}
	if d := changed.Elections - baseline.Elections; d > m.Elections {
		out = append(out, regression{"elections", fmt.Sprintf("%.1f elections a minute", changed.Elections),
			fmt.Sprintf("%.1f (margin %.1f)", baseline.Elections, m.Elections)})
	}
	if d := changed.ApplyLag - baseline.ApplyLag; d > m.ApplyLag {
		out = append(out, regression{"lag", fmt.Sprintf("apply lag %.0f entries", changed.ApplyLag),
			fmt.Sprintf("%.0f (margin %.0f)", baseline.ApplyLag, m.ApplyLag)})
	}
	if baseline.Requests >= m.StallBaseline && m.StallBaseline > 0 && changed.Requests < m.Throughput*baseline.Requests {
		out = append(out, regression{"stall", fmt.Sprintf("%.0f requests served", changed.Requests),
			fmt.Sprintf("%.0f (at least %.0f%% of it)", baseline.Requests, 100*m.Throughput)})
	} else if chance := math.Exp(-baseline.Requests); math.Round(changed.Requests) == 0 && chance < SlowSignificance {
		// None at all where the stage served a few before: its requests
		// are waiting. At the rate before, a soak as long without one
		// has the Poisson chance e^-baseline: below SlowSignificance
		// (from 5 requests on) it is no chance but a stall, however
		// few requests the stage served (CI: a slowed disk's stage
		// served 0 after a busy machine's few dozen, and halted
		// unjudged, as idle, rather than for the harm).
		out = append(out, regression{"stall", "0 requests served",
			fmt.Sprintf("%.0f (none in as long is a %.1g chance at that rate)", baseline.Requests, chance)})
	} else if math.Round(changed.Requests) < m.MinRequests { // rates times intervals: not whole
		out = append(out, regression{"idle", fmt.Sprintf("%.0f requests served", changed.Requests),
			fmt.Sprintf("the %.0f needed to judge the change (an idle stage shows no harm; %.0f before the change)", m.MinRequests, baseline.Requests)})
	}
	if changed.Silent > baseline.Silent {
		out = append(out, regression{"silent", fmt.Sprintf("silent nodes: %d", changed.Silent), fmt.Sprint(baseline.Silent)})
	}
	if changed.Alerts > baseline.Alerts {
		out = append(out, regression{"alerts", fmt.Sprintf("%d Doctor alerts", changed.Alerts), fmt.Sprint(baseline.Alerts)})
	}
	return out
}

// Combine is the health of several stages together: sums, and the worst
// p99 and apply lag.
func Combine(hs ...Health) Health {
	var out Health
	for _, h := range hs {
		out.Requests += h.Requests
		out.Errors += h.Errors
		out.P99 = max(out.P99, h.P99)
		out.Elections = max(out.Elections, h.Elections)
		out.ApplyLag = max(out.ApplyLag, h.ApplyLag)
		out.Alerts += h.Alerts
		out.Silent += h.Silent
	}
	return out
}

// Rollout is a staged change of one setting: the value is set at each
// stage's scope in turn; after each soak the stage is judged against its
// own health before the change and against the stages not yet changed
// (a signal regresses only against both), and a regression halts the
// rollout, whose edits are then undone. The
// last stage is judged against its own health before the change alone.
// Completion replaces the stages' overrides by one at the cluster.
type Rollout struct {
	Key     string
	Value   string // canonical
	Stages  []Scope
	Margins Margins

	done   int      // stages changed and judged healthy
	halted []string // the regressions that halted it
}

// NewRollout checks the key, value and stages against reg.
func NewRollout(reg *Registry, key, value string, stages []Scope, m Margins) (*Rollout, error) {
	if len(stages) == 0 {
		return nil, fmt.Errorf("%w: a rollout needs at least one stage", ErrBadScope)
	}
	seen := map[Scope]bool{}
	var v Value
	for _, s := range stages {
		if s.Kind == ScopeCluster || seen[s] {
			return nil, fmt.Errorf("%w: the stages are distinct zones, nodes or tables, not %s", ErrBadScope, s)
		}
		seen[s] = true
		var err error
		if v, err = reg.Check(key, value, s); err != nil {
			return nil, err
		}
	}
	return &Rollout{Key: key, Value: v.String(), Stages: stages, Margins: m}, nil
}

// Next is the edits that change the next stage; false when the rollout
// is over (every stage done, or halted).
func (r *Rollout) Next() (Edit, bool) {
	if r.halted != nil || r.done == len(r.Stages) {
		return Edit{}, false
	}
	return Edit{Key: r.Key, Scope: r.Stages[r.done], Value: r.Value}, true
}

// Judge decides the stage last changed after its soak: before is its
// health over the soak before the change, after its health since, and
// others the health over the same time of the stages not yet changed.
// It returns the regressions found (none: the rollout goes on).
func (r *Rollout) Judge(before, after Health, others []Health) []string {
	var regs []string
	own := regressions(after, before, r.Margins)
	if len(others) == 0 {
		for _, g := range own {
			regs = append(regs, g.text())
		}
	} else {
		// A signal regresses when it did worse both than before the
		// change and than the stages not yet changed: a change that
		// harms shows against both, while the noise of a busy stage (a
		// p99 moving to the next histogram bucket, load moving between
		// zones) or a cluster-wide swing shows against one only.
		vs := map[string]string{}
		for _, g := range regressions(after, Combine(others...), r.Margins) {
			vs[g.signal] = g.vs
		}
		for _, g := range own {
			if g.signal == "stall" || g.signal == "idle" {
				// Requests are not comparable between stages (each has
				// its share of the load), and a stage that stalls its
				// clients starves the others of their requests too:
				// judged against its own baseline alone. Too few to
				// judge is absolute.
				regs = append(regs, g.text())
			} else if t, ok := vs[g.signal]; ok {
				regs = append(regs, fmt.Sprintf("%s against %s before the change and %s in the stages not yet changed", g.head, g.vs, t))
			}
		}
	}
	if len(regs) > 0 {
		r.halted = regs
		return regs
	}
	r.done++
	return nil
}

// Halted are the regressions that halted the rollout (nil: not halted).
func (r *Rollout) Halted() []string { return r.halted }

// Done reports whether every stage was changed and judged healthy.
func (r *Rollout) Done() bool { return r.halted == nil && r.done == len(r.Stages) }

// Finish is the edits that end the rollout, given base, the overrides in
// force before it began. Done: one override at the cluster, and the
// stages' removed (the cluster's now covers them). Halted: every stage
// changed so far (the one that regressed included) back to its override
// in base, or to none.
func (r *Rollout) Finish(base State) []Edit {
	if r.Done() {
		out := []Edit{{Key: r.Key, Scope: Cluster, Value: r.Value}}
		for _, s := range r.Stages {
			out = append(out, Edit{Key: r.Key, Scope: s, Unset: true})
		}
		return out
	}
	changed := r.done
	if r.halted != nil {
		changed++
	}
	var out []Edit
	for _, s := range r.Stages[:min(changed, len(r.Stages))] {
		if o, ok := base.set[slot{r.Key, s}]; ok {
			out = append(out, Edit{Key: r.Key, Scope: s, Value: o.Value})
		} else {
			out = append(out, Edit{Key: r.Key, Scope: s, Unset: true})
		}
	}
	return out
}
