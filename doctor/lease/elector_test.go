package lease_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/lease"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
)

// meta is a meta partition of one replica: the real state machine over an
// in-memory engine, applying one command at a time.
type meta struct {
	mu  sync.Mutex
	eng *engine.Engine
}

func newMeta(t *testing.T) *meta {
	eng, err := engine.Open(engine.Options{Dir: "db", FS: engine.NewMemFS()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return &meta{eng: eng}
}

func (m *meta) propose(_ context.Context, cmd *partitapb.Command) (*partitapb.Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.eng.NewIndexedBatch()
	d := &partitapb.Descriptor{Partition: directory.MetaPartition, Spans: directory.MetaSpans(), Generation: 1}
	res, err := fsm.Apply(b, d, cmd)
	if err != nil {
		b.Close()
		return nil, err
	}
	return res, m.eng.Commit(b)
}

func (m *meta) lease(t *testing.T) *partitapb.DoctorLease {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	l, err := directory.ReadDoctorLease(m.eng.Reader())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

var errCut = errors.New("test: cut off from the meta partition")

// candidate is one node's Elector, whose requests can be cut off.
type candidate struct {
	e   *lease.Elector
	reg *prometheus.Registry
	cut atomic.Bool
	// lose makes the next request apply but answer as a retry whose first
	// attempt applied: from its at-most-once record, without the lease.
	lose   atomic.Bool
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	events []bool
	epochs []uint64 // of the events
}

// Short timings keep the tests quick; the tests poll with generous
// deadlines and assert no durations.
func testConfig(node uint64) lease.Config {
	cfg := lease.DefaultConfig(node)
	cfg.Duration, cfg.RenewInterval, cfg.RenewDeadline = 600*time.Millisecond, 100*time.Millisecond, 300*time.Millisecond
	return cfg
}

func start(t *testing.T, m *meta, node uint64) *candidate {
	t.Helper()
	return startWith(t, m, node, nil)
}

// startWith is start with edit applied to the config.
func startWith(t *testing.T, m *meta, node uint64, edit func(*lease.Config)) *candidate {
	t.Helper()
	c := &candidate{reg: prometheus.NewRegistry(), done: make(chan struct{})}
	cfg := testConfig(node)
	if edit != nil {
		edit(&cfg)
	}
	cfg.Registerer = c.reg
	cfg.Propose = func(ctx context.Context, cmd *partitapb.Command) (*partitapb.Result, error) {
		if c.cut.Load() {
			return nil, errCut
		}
		res, err := m.propose(ctx, cmd)
		if err == nil && c.lose.CompareAndSwap(true, false) {
			return &partitapb.Result{}, nil
		}
		return res, err
	}
	cfg.OnChange = func(active bool, epoch uint64) {
		c.mu.Lock()
		c.events, c.epochs = append(c.events, active), append(c.epochs, epoch)
		c.mu.Unlock()
	}
	e, err := lease.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.e = e
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() { defer close(c.done); e.Run(ctx) }()
	t.Cleanup(c.stop)
	return c
}

// stop ends the candidate's loop without releasing: as if it died.
func (c *candidate) stop() { c.cancel(); <-c.done }

// waitActive polls until exactly one of cs is active and returns it.
func waitActive(t *testing.T, cs ...*candidate) *candidate {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var active []*candidate
		for _, c := range cs {
			if c.e.IsActive() {
				active = append(active, c)
			}
		}
		if len(active) > 1 {
			t.Fatalf("%d candidates active at once", len(active))
		}
		if len(active) == 1 {
			return active[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no candidate became active")
	return nil
}

func TestOneActiveAndTakeoverAfterDeath(t *testing.T) {
	m := newMeta(t)
	cs := []*candidate{start(t, m, 1), start(t, m, 2), start(t, m, 3)}
	first := waitActive(t, cs...)
	epoch := first.e.Epoch()
	if l := m.lease(t); l.GetEpoch() != epoch || epoch == 0 {
		t.Fatalf("active at epoch %d, the record says %v", epoch, l)
	}
	if v := gauge(t, first.reg, "partita_doctor_active"); v != 1 {
		t.Fatalf("partita_doctor_active = %v on the active node", v)
	}
	if v := gauge(t, first.reg, "partita_doctor_epoch"); v != float64(epoch) {
		t.Fatalf("partita_doctor_epoch = %v, want %d", v, epoch)
	}
	// Several renewals later the same node is still the only active one.
	waitRenewals(t, m, 3)
	if again := waitActive(t, cs...); again != first || again.e.Epoch() != epoch {
		t.Fatalf("the lease moved without a failure: epoch %d -> %d", epoch, again.e.Epoch())
	}
	first.stop()
	var rest []*candidate
	for _, c := range cs {
		if c != first {
			rest = append(rest, c)
		}
	}
	next := waitActive(t, rest...)
	if next.e.Epoch() <= epoch {
		t.Fatalf("the standby took over at epoch %d, the dead holder had %d", next.e.Epoch(), epoch)
	}
	for _, c := range rest {
		want := 0.0
		if c == next {
			want = 1
		}
		if v := gauge(t, c.reg, "partita_doctor_active"); v != want {
			t.Fatalf("partita_doctor_active = %v, want %v", v, want)
		}
	}
}

// gauge returns the value of the gauge name in reg.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// waitRenewals waits until the lease's expiry moved n times.
func waitRenewals(t *testing.T, m *meta, n int) {
	t.Helper()
	last := m.lease(t).GetExpiryUnixNanos()
	deadline := time.Now().Add(20 * time.Second)
	for n > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		if e := m.lease(t).GetExpiryUnixNanos(); e != last {
			last, n = e, n-1
		}
	}
	if n > 0 {
		t.Fatal("the lease was not renewed")
	}
}

func TestReleaseHandsOver(t *testing.T) {
	m := newMeta(t)
	a := start(t, m, 1)
	first := waitActive(t, a)
	b := start(t, m, 2)
	// The standby is cut off until the released lease has been read: it
	// would otherwise take the lease over in between (or, on a slow
	// machine, after a's lease expired before the release).
	b.cut.Store(true)
	a.stop()
	if err := first.e.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a.e.IsActive() {
		t.Fatal("active after Release")
	}
	if l := m.lease(t); l.GetHolder() != 0 || l.GetEpoch() != 1 {
		t.Fatalf("lease after release: %v", l)
	}
	b.cut.Store(false)
	if next := waitActive(t, b); next.e.Epoch() != 2 {
		t.Fatalf("the standby took over at epoch %d, want 2", next.e.Epoch())
	}
	if err := a.e.Release(context.Background()); !errors.Is(err, lease.ErrNotHeld) {
		t.Fatalf("a second Release = %v, want ErrNotHeld", err)
	}
}

// TestCutOffHolderStepsDownFirst checks that a holder that cannot renew
// counts itself active only until a moment that precedes the lease's
// expiry, so that no other node can hold the lease meanwhile.
func TestCutOffHolderStepsDownFirst(t *testing.T) {
	m := newMeta(t)
	a := start(t, m, 1)
	waitActive(t, a)
	st := a.e.Status()
	cfg := testConfig(1)
	l := m.lease(t)
	if margin := l.GetExpiryUnixNanos() - st.ActiveUntil.UnixNano(); margin < int64(cfg.Duration-cfg.RenewDeadline) {
		t.Fatalf("active until %v, the lease expires %v later only", st.ActiveUntil, time.Duration(margin))
	}
	a.cut.Store(true)
	deadline := time.Now().Add(20 * time.Second)
	for a.e.IsActive() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if a.e.IsActive() {
		t.Fatal("a holder cut off from the directory stayed active")
	}
	waitEvents(t, a, []bool{true, false})
	b := start(t, m, 2)
	if next := waitActive(t, a, b); next != b || b.e.Epoch() != 2 {
		t.Fatalf("after the cut, node %v active at epoch %d", next == a, next.e.Epoch())
	}
	// Back in touch, the old holder stays standby and its epoch is fenced.
	a.cut.Store(false)
	cmd := &partitapb.Command{Id: []byte("x"), DoctorEpoch: 1,
		Op: &partitapb.Command_RemoveNode{RemoveNode: &partitapb.RemoveNode{Id: 9}}}
	res, err := m.propose(context.Background(), cmd)
	if err != nil || res.GetError().GetCode() != partitapb.Error_STALE_EPOCH {
		t.Fatalf("a command of the lost epoch: %v, %v", res, err)
	}
	waitRenewals(t, m, 2)
	if a.e.IsActive() || !b.e.IsActive() {
		t.Fatal("the old holder took the lease back from a live one")
	}
}

// TestRenewalAnsweredWithoutTheLease: a renewal answered without the lease
// (a retry that its at-most-once record answered: the first attempt
// applied, its answer was lost) tells the holder nothing. Before, the
// holder took the missing lease for one of epoch 0 and went active at
// epoch 0, whose commands no node fences.
func TestRenewalAnsweredWithoutTheLease(t *testing.T) {
	m := newMeta(t)
	a := start(t, m, 1)
	waitActive(t, a)
	epoch := a.e.Epoch()
	a.lose.Store(true)
	for deadline := time.Now().Add(10 * time.Second); a.lose.Load(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no renewal was made")
		}
	}
	waitRenewals(t, m, 2)
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, active := range a.events {
		if active && a.epochs[i] != epoch {
			t.Fatalf("went active at epoch %d (the lease's is %d): events %v, epochs %v", a.epochs[i], epoch, a.events, a.epochs)
		}
	}
	if got := a.e.Epoch(); got != epoch && got != 0 {
		t.Fatalf("epoch %d, want %d (or standby)", got, epoch)
	}
}

func waitEvents(t *testing.T, c *candidate, want []bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		got := append([]bool(nil), c.events...)
		c.mu.Unlock()
		if len(got) >= len(want) {
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("OnChange calls %v, want %v first", got, want)
				}
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("OnChange calls never reached %v", want)
}

func TestValidate(t *testing.T) {
	ok := testConfig(1)
	ok.Propose = func(context.Context, *partitapb.Command) (*partitapb.Result, error) { return nil, errCut }
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]func(*lease.Config){
		"no node":                      func(c *lease.Config) { c.Node = 0 },
		"deadline as long as lease":    func(c *lease.Config) { c.RenewDeadline = c.Duration },
		"interval as long as deadline": func(c *lease.Config) { c.RenewInterval = c.RenewDeadline },
		"no propose":                   func(c *lease.Config) { c.Propose = nil },
	} {
		c := ok
		bad(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate passed", name)
		}
	}
}

// TestIneligibleYields: a holder that stops being eligible (its node
// marked for decommissioning) releases the lease, a standby takes it at
// once, and the ineligible node asks for it no more.
func TestIneligibleYields(t *testing.T) {
	m := newMeta(t)
	var eligible atomic.Bool
	eligible.Store(true)
	a := startWith(t, m, 1, func(cfg *lease.Config) { cfg.Eligible = eligible.Load })
	waitActive(t, a)
	b := start(t, m, 2)
	eligible.Store(false)
	for deadline := time.Now().Add(20 * time.Second); !b.e.IsActive(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the standby did not take over: lease %v", m.lease(t))
		}
	}
	if a.e.IsActive() {
		t.Fatal("the ineligible node is still active")
	}
	if l := m.lease(t); l.GetHolder() != 2 || l.GetEpoch() != 2 {
		t.Fatalf("lease after the yield: %v", l)
	}
	b.stop()
	if err := b.e.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * testConfig(1).RenewInterval)
	if a.e.IsActive() || m.lease(t).GetHolder() != 0 {
		t.Fatalf("the ineligible node took the free lease: %v", m.lease(t))
	}
}
