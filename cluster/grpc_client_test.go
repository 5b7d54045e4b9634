package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/store"
)

func put(key, item string) *partitapb.Command {
	return &partitapb.Command{Id: []byte("id-" + key), Op: &partitapb.Command_PutItem{
		PutItem: &partitapb.PutItem{Key: []byte(key), Item: []byte(item)},
	}}
}

func TestRoundTrip(t *testing.T) {
	l := newMemLocal(7)
	l.dir = directory.Snapshot{
		Tables:       []*partitapb.Table{{Id: 1, Name: "t", Partitions: []*partitapb.Partition{{Id: 7, Replicas: []uint64{1, 2}}}}},
		MetaReplicas: []uint64{1, 2, 3},
		DoctorLease:  &partitapb.DoctorLease{Holder: 2, Epoch: 4, ExpiryUnixNanos: 99},
		DoctorSettings: &partitapb.DoctorSettings{Paused: true,
			Gates: map[string]partitapb.GateColor{"replace-replica": partitapb.GateColor_RED}},
		Settings: &partitapb.SettingsState{Version: 3, Overrides: []*partitapb.SettingsOverride{{Key: "log.level", Scope: "zone:a", Value: "debug", Version: 2}}},
	}
	_, _, c := serveAsNode1(t, l)
	cmd := put("a", "A1")
	cmd.FirstAttempt = true
	res, err := c.Propose(context.Background(), 1, 7, cmd)
	if err != nil || !res.HasNew || string(res.NewItem) != "A1" {
		t.Fatalf("Propose: %v, %v", res, err)
	}
	l.mu.Lock()
	firsts := l.firsts
	l.mu.Unlock()
	if firsts != 0 {
		t.Fatal("a command proposed over the network arrived as a first attempt")
	}
	testRoundTripLocal(t, c.Local(1))
}

// testRoundTripLocal runs every method of a remote Local whose partition
// 7 holds a = A1.
func testRoundTripLocal(t *testing.T, l cluster.Local) {
	ctx := context.Background()
	res, err := l.Propose(ctx, 7, put("b", ""))
	if err != nil || !res.HasNew || res.HasOld {
		t.Fatalf("Propose: %v, %v", res, err)
	}
	if v, err := l.Get(ctx, 7, []byte("a"), true); err != nil || string(v) != "A1" {
		t.Fatalf("Get a = %q, %v", v, err)
	}
	if v, err := l.Get(ctx, 7, []byte("b"), false); err != nil || v == nil || len(v) != 0 {
		t.Fatalf("Get of an empty value = %#v, %v; want empty, non-nil", v, err)
	}
	if v, err := l.Get(ctx, 7, []byte("zz"), false); err != nil || v != nil {
		t.Fatalf("Get of an absent key = %#v, %v; want nil, nil", v, err)
	}
	w, err := l.Walk(ctx, cluster.WalkRequest{Partition: 7})
	if err != nil || !slices.Equal(keysOf(w.Keys), []string{"a", "b"}) || string(w.Values[0]) != "A1" || w.More {
		t.Fatalf("Walk = %+v, %v", w, err)
	}
	n, err := l.Join(ctx, &partitapb.Node{PeerAddr: "10.0.0.9:7000", Zone: "b"})
	if err != nil || n.Id == 0 || n.Zone != "b" {
		t.Fatalf("Join = %v, %v", n, err)
	}
	d, err := l.Directory(ctx)
	if err != nil || len(d.Tables) != 1 || d.Tables[0].Partitions[0].Replicas[1] != 2 ||
		!slices.Equal(d.MetaReplicas, []uint64{1, 2, 3}) || !proto.Equal(d.Nodes[0], n) ||
		d.DoctorLease.GetEpoch() != 4 || d.DoctorLease.GetHolder() != 2 || !d.DoctorSettings.GetPaused() ||
		d.DoctorSettings.GetGates()["replace-replica"] != partitapb.GateColor_RED ||
		d.Settings.GetVersion() != 3 || d.Settings.GetOverrides()[0].GetValue() != "debug" {
		t.Fatalf("Directory = %+v, %v", d, err)
	}
	if err := l.CreateReplica(ctx, 8); err != nil {
		t.Fatalf("CreateReplica: %v", err)
	}
	if _, err := l.Propose(ctx, 8, put("c", "C")); err != nil {
		t.Fatalf("Propose to the new replica: %v", err)
	}
	var pe *partitapb.Error
	if err := l.CreateReplica(ctx, 8); !errors.As(err, &pe) || pe.Code != partitapb.Error_VALIDATION {
		t.Fatalf("second CreateReplica: %v", err)
	}
}

func TestWalkLimits(t *testing.T) {
	l := newMemLocal(1)
	for i := range 10 {
		l.data[1][fmt.Sprintf("k%d", i)] = []byte("vvvvv") // 7 bytes a pair
	}
	_, _, c := serveAsNode1(t, l)
	ctx := context.Background()
	walk := func(req cluster.WalkRequest) cluster.WalkResult {
		t.Helper()
		req.Partition = 1
		w, err := c.Walk(ctx, 1, req)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	if w := walk(cluster.WalkRequest{MaxItems: 3}); !slices.Equal(keysOf(w.Keys), []string{"k0", "k1", "k2"}) || !w.More {
		t.Fatalf("MaxItems 3: %+v", w)
	}
	if w := walk(cluster.WalkRequest{MaxBytes: 20}); len(w.Keys) != 3 || !w.More {
		t.Fatalf("MaxBytes 20: %+v", w)
	}
	if got := l.walked(); got.MaxBytes != 20 || got.MaxItems != 0 {
		t.Fatalf("the server passed %+v", got)
	}
	if w := walk(cluster.WalkRequest{MaxBytes: 1}); len(w.Keys) != 1 || !w.More {
		t.Fatalf("MaxBytes 1 must still return one item: %+v", w)
	}
	w := walk(cluster.WalkRequest{Lo: []byte("k3"), Hi: []byte("k6"), Reverse: true})
	if !slices.Equal(keysOf(w.Keys), []string{"k5", "k4", "k3"}) || w.More {
		t.Fatalf("reverse [k3, k6): %+v", w)
	}
	// Unbounded or oversized byte limits are capped so a page fits in a
	// message.
	for _, maxBytes := range []int{0, -1, 1 << 30} {
		walk(cluster.WalkRequest{MaxBytes: maxBytes})
		if got := l.walked().MaxBytes; got != cluster.MaxWalkBytes {
			t.Fatalf("MaxBytes %d reached the node as %d", maxBytes, got)
		}
	}
	// Paging with MaxItems visits every key once.
	var all []string
	lo := []byte(nil)
	for range 10 {
		w := walk(cluster.WalkRequest{Lo: lo, MaxItems: 3})
		all = append(all, keysOf(w.Keys)...)
		if !w.More {
			break
		}
		lo = append(slices.Clone(w.Keys[len(w.Keys)-1]), 0)
	}
	if len(all) != 10 || !slices.IsSorted(all) {
		t.Fatalf("pages = %v", all)
	}
}

func TestErrorsRoundTrip(t *testing.T) {
	l := newMemLocal(1)
	_, _, c := serveAsNode1(t, l)
	notLeader := &replica.NotLeaderError{Partition: 7, Leader: 3}
	domain := partitapb.Errorf(partitapb.Error_CONDITION_FAILED, "The conditional request failed")
	other := errors.New("engine: disk on fire")
	for _, tc := range []struct {
		err   error
		check func(error) bool
	}{
		{notLeader, isNotLeader(7, 3)},
		{fmt.Errorf("store: %w", notLeader), isNotLeader(7, 3)},
		{&replica.NotLeaderError{Partition: 9}, isNotLeader(9, 0)},
		{replica.ErrAmbiguous, is(replica.ErrAmbiguous)},
		{fmt.Errorf("store: partition 1: %w", replica.ErrAmbiguous), is(replica.ErrAmbiguous)},
		{replica.ErrRemoved, is(replica.ErrRemoved)},
		{fmt.Errorf("store: partition 4: %w", store.ErrNoReplica), is(store.ErrNoReplica)},
		{domain, isDomain(partitapb.Error_CONDITION_FAILED, "The conditional request failed")},
		{fmt.Errorf("router: %w", partitapb.Errorf(partitapb.Error_TABLE_NOT_FOUND, "no table")), isDomain(partitapb.Error_TABLE_NOT_FOUND, "no table")},
		{context.DeadlineExceeded, is(context.DeadlineExceeded)},
		{fmt.Errorf("replica: read barrier: %w", context.Canceled), is(context.Canceled)},
		{fmt.Errorf("store: partition 3: %w", store.ErrLeadershipMoved), is(cluster.ErrLeadershipMoved)},
		{fmt.Errorf("node: partition 3: %w", cluster.ErrStillListed), is(cluster.ErrStillListed)},
		{other, is(cluster.ErrInternal)},
	} {
		l.setErr(tc.err)
		for _, call := range calls(c.Local(1)) {
			err := call.do()
			if err == nil || !tc.check(err) || err.Error() != tc.err.Error() {
				t.Errorf("%s with %q: got %v (%T)", call.name, tc.err, err, err)
			}
		}
	}
	l.setErr(nil)
	if _, err := c.Propose(context.Background(), 1, 1, nil); !errors.Is(err, cluster.ErrInternal) {
		t.Fatalf("Propose without a command: %v", err)
	}
	// A partition the node does not host: the memLocal's own wrapped
	// ErrNoReplica.
	if _, err := c.Get(context.Background(), 1, 5, []byte("k"), false); !errors.Is(err, store.ErrNoReplica) ||
		err.Error() != "store: partition 5: "+store.ErrNoReplica.Error() {
		t.Fatalf("Get on a partition not hosted: %v", err)
	}
}

type namedCall struct {
	name string
	do   func() error
}

// calls are one call of every method of l.
func calls(l cluster.Local) []namedCall {
	ctx := context.Background()
	return []namedCall{
		{"Propose", func() error { _, err := l.Propose(ctx, 1, put("k", "v")); return err }},
		{"Get", func() error { _, err := l.Get(ctx, 1, []byte("k"), true); return err }},
		{"Walk", func() error { _, err := l.Walk(ctx, cluster.WalkRequest{Partition: 1}); return err }},
		{"Join", func() error { _, err := l.Join(ctx, &partitapb.Node{PeerAddr: "x:1"}); return err }},
		{"Directory", func() error { _, err := l.Directory(ctx); return err }},
		{"CreateReplica", func() error { return l.CreateReplica(ctx, 2) }},
		{"ReplicaStatus", func() error { _, err := l.ReplicaStatus(ctx); return err }},
		{"AddLearner", func() error { _, err := l.AddLearner(ctx, 1, 2); return err }},
		{"PromoteLearner", func() error { _, err := l.PromoteLearner(ctx, 1, 2); return err }},
		{"RemoveVoter", func() error { _, err := l.RemoveVoter(ctx, 1, 2); return err }},
		{"TransferLeadership", func() error { _, err := l.TransferLeadership(ctx, 1, 0); return err }},
		{"DestroyReplica", func() error { return l.DestroyReplica(ctx, 1) }},
	}
}

func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

func isNotLeader(partition, leader uint64) func(error) bool {
	return func(err error) bool {
		var nl *replica.NotLeaderError
		return errors.As(err, &nl) && nl.Partition == partition && nl.Leader == leader
	}
}

func isDomain(code partitapb.Error_Code, msg string) func(error) bool {
	return func(err error) bool {
		var pe *partitapb.Error
		return errors.As(err, &pe) && pe.Code == code && pe.Message == msg
	}
}

func TestCallerDeadlines(t *testing.T) {
	l := newMemLocal(1)
	l.block = true
	_, b, c := serveAsNode1(t, l)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.Get(ctx, 1, 1, []byte("k"), false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get past the caller's deadline: %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := c.Propose(ctx, 1, 1, put("k", "v")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Propose cancelled by the caller: %v", err)
	}
	// No deadline: CallTimeout bounds the call.
	short, err := cluster.NewClient(cluster.Config{Resolve: b.resolve, CallTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer short.Close()
	start := time.Now()
	if _, err := short.Directory(context.Background(), 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Directory without a deadline: %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("CallTimeout not applied: the call took %v", d)
	}
}

func TestJoinFollowsLeaderHint(t *testing.T) {
	follower, leader := newMemLocal(), newMemLocal()
	follower.joinErr = &replica.NotLeaderError{Partition: 1, Leader: 2}
	leader.nextNode = 4
	fs, ls := serve(t, "127.0.0.1:0", follower), serve(t, "127.0.0.1:0", leader)
	ctx := context.Background()

	// Resolve knows the hinted leader.
	var b book
	b.set(2, ls.addr)
	n, err := newClient(t, &b).Join(ctx, fs.addr, &partitapb.Node{PeerAddr: "10.0.0.4:7000"})
	if err != nil || n.Id != 4 {
		t.Fatalf("Join through a follower = %v, %v", n, err)
	}

	// Resolve does not: the follower's directory does.
	follower.setNodes(&partitapb.Node{Id: 2, PeerAddr: ls.addr})
	n, err = newClient(t, &book{}).Join(ctx, fs.addr, &partitapb.Node{PeerAddr: "10.0.0.5:7000"})
	if err != nil || n.Id != 5 {
		t.Fatalf("Join resolving the hint in the directory = %v, %v", n, err)
	}

	// No leader known: the NotLeaderError comes back for the caller to
	// retry later.
	follower.setJoinErr(&replica.NotLeaderError{Partition: 1})
	if _, err := newClient(t, &b).Join(ctx, fs.addr, &partitapb.Node{}); !isNotLeader(1, 0)(err) {
		t.Fatalf("Join without a leader: %v", err)
	}

	// Hints that go round in circles end after JoinHops.
	follower.setJoinErr(&replica.NotLeaderError{Partition: 1, Leader: 2})
	leader.setJoinErr(&replica.NotLeaderError{Partition: 1, Leader: 1})
	b.set(1, fs.addr)
	if _, err := newClient(t, &b).Join(ctx, fs.addr, &partitapb.Node{}); !isNotLeader(1, 1)(err) && !isNotLeader(1, 2)(err) {
		t.Fatalf("Join with circular hints: %v", err)
	}
}

func TestRedialAfterRestart(t *testing.T) {
	l := newMemLocal(1)
	srv, _, c := serveAsNode1(t, l)
	ctx := context.Background()
	if _, err := c.Propose(ctx, 1, 1, put("k", "v")); err != nil {
		t.Fatal(err)
	}
	srv.stop()
	if _, err := c.Get(ctx, 1, 1, []byte("k"), false); !errors.Is(err, cluster.ErrUnreachable) {
		t.Fatalf("Get while the node is down: %v", err)
	}
	serve(t, srv.addr, l)
	var err error
	for range 100 {
		var v []byte
		if v, err = c.Get(ctx, 1, 1, []byte("k"), false); err == nil {
			if string(v) != "v" {
				t.Fatalf("Get after restart = %q", v)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no call succeeded after the restart: %v", err)
}

func TestNodeMoved(t *testing.T) {
	l1, l2 := newMemLocal(1), newMemLocal(1)
	l2.data[1]["k"] = []byte("on the new address")
	s1, s2 := serve(t, "127.0.0.1:0", l1), serve(t, "127.0.0.1:0", l2)
	var b book
	b.set(1, s1.addr)
	c := newClient(t, &b)
	ctx := context.Background()
	if v, err := c.Get(ctx, 1, 1, []byte("k"), false); err != nil || v != nil {
		t.Fatalf("Get at the old address = %q, %v", v, err)
	}
	b.set(1, s2.addr)
	if v, err := c.Get(ctx, 1, 1, []byte("k"), false); err != nil || string(v) != "on the new address" {
		t.Fatalf("Get at the new address = %q, %v", v, err)
	}
}

func TestUnreachableAndUnresolved(t *testing.T) {
	var b book
	b.set(1, "127.0.0.1:1") // nothing listens there
	c := newClient(t, &b)
	ctx := context.Background()
	if _, err := c.Get(ctx, 1, 1, []byte("k"), false); !errors.Is(err, cluster.ErrUnreachable) {
		t.Fatalf("Get to a dead address: %v", err)
	}
	if _, err := c.Get(ctx, 2, 1, []byte("k"), false); !errors.Is(err, errUnknownNode) {
		t.Fatalf("Get to an unknown node: %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	if _, err := cluster.NewClient(cluster.Config{}); err == nil {
		t.Fatal("NewClient without Resolve succeeded")
	}
	cfg := cluster.DefaultConfig()
	cfg.Resolve = (&book{}).resolve
	cfg.CallTimeout = -time.Second
	if err := cfg.Validate(); err == nil {
		t.Fatal("a negative CallTimeout passed Validate")
	}
}

func TestCloseLeaksNothing(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	l := newMemLocal(1)
	s1, s2 := serve(t, "127.0.0.1:0", l), serve(t, "127.0.0.1:0", l)
	var b book
	b.set(1, s1.addr)
	b.set(2, s2.addr)
	c, err := cluster.NewClient(cluster.Config{Resolve: b.resolve})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, node := range []uint64{1, 2} {
		if _, err := c.Propose(ctx, node, 1, put("k", "v")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DirectoryAt(ctx, s1.addr); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, 1, 1, []byte("k"), false); !errors.Is(err, cluster.ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	s1.stop()
	s2.stop()
}

// Retain closes the connections of the nodes it is not given (a node
// removed from the directory) and keeps the others'; a node forgotten is
// dialled again at its next call.
func TestRetainForgetsRemovedNodes(t *testing.T) {
	l := newMemLocal(1)
	s1, s2 := serve(t, "127.0.0.1:0", l), serve(t, "127.0.0.1:0", l)
	var b book
	b.set(1, s1.addr)
	b.set(2, s2.addr)
	c := newClient(t, &b)
	ctx := context.Background()
	for _, node := range []uint64{1, 2} {
		if _, err := c.Propose(ctx, node, 1, put("k", "v")); err != nil {
			t.Fatal(err)
		}
	}
	both := []string{s1.addr, s2.addr}
	slices.Sort(both)
	if got := c.Addresses(); !slices.Equal(got, both) {
		t.Fatalf("connections to %v, want %v", got, both)
	}
	c.Retain([]uint64{1})
	if got := c.Addresses(); !slices.Equal(got, []string{s1.addr}) {
		t.Fatalf("after Retain(1): connections to %v, want only node 1's %s", got, s1.addr)
	}
	if _, err := c.Get(ctx, 1, 1, []byte("k"), false); err != nil {
		t.Fatalf("Get through the node kept: %v", err)
	}
	if _, err := c.Get(ctx, 2, 1, []byte("k"), false); err != nil {
		t.Fatalf("Get through the node forgotten, dialled again: %v", err)
	}
}
