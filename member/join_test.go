package member_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/route"
)

// loseJoinAnswer is a Local whose first answer to a join (a PutNode) is
// lost after the join applied, as when the meta leader dies before
// answering: the Sender then retries the same command, which its
// at-most-once record answers, without the node's record.
type loseJoinAnswer struct {
	route.Local
	armed   atomic.Bool // the next join's answer is lost
	lost    atomic.Bool
	retried atomic.Pointer[partitapb.Result] // the retry's answer
}

func (l *loseJoinAnswer) Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	join := cmd.GetPutNode() != nil
	res, err := l.Local.Propose(ctx, partition, cmd)
	switch {
	case join && err == nil && l.armed.CompareAndSwap(true, false):
		l.lost.Store(true)
		return nil, replica.ErrAmbiguous
	case join && err == nil && l.lost.Load():
		l.retried.CompareAndSwap(nil, res)
	}
	return res, err
}

// A join whose answer was lost after it applied returns the record it
// wrote, with the id it was given; the cluster holds that one record
// beside the older member's.
// (Asked again, the node would get a second id and leave the first as a
// member that never runs; answered with an error, it would join again.)
func TestJoinWithALostAnswerReadsItsRecord(t *testing.T) {
	lose := &loseJoinAnswer{}
	h := newHarnessWith(t, func(l route.Local) route.Local { lose.Local = l; return lose })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The first member ran at the address the new node takes (a data
	// directory wiped, a machine reused): only the join time tells the
	// new record from its.
	first, err := h.m.Join(ctx, &partitapb.Node{PeerAddr: "peer:2", ApiAddr: "api:old", Version: "test"})
	if err != nil {
		t.Fatalf("the first join: %v", err)
	}
	lose.armed.Store(true)
	rec, err := h.m.Join(ctx, &partitapb.Node{PeerAddr: "peer:2", ApiAddr: "api:2", Version: "test"})
	if err != nil {
		t.Fatalf("the join whose answer was lost: %v", err)
	}
	if !lose.lost.Load() {
		t.Fatal("no join's answer was lost: the test did not test")
	}
	if res := lose.retried.Load(); res == nil || res.GetNode() != nil {
		t.Fatalf("the retried join answered %v: want an answer without the node, from the at-most-once record", res)
	}
	if rec.GetId() == 0 || rec.GetId() == first.GetId() || rec.GetPeerAddr() != "peer:2" || rec.GetApiAddr() != "api:2" {
		t.Fatalf("the join answered %v; want peer:2's new record", rec)
	}
	snap, err := h.m.LocalDirectory(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Nodes) != 2 {
		t.Fatalf("the directory holds %d nodes, want 2: %v", len(snap.Nodes), snap.Nodes)
	}
	// A known node's update whose answer is lost reads its record by id.
	lose.lost.Store(false)
	lose.retried.Store(nil)
	lose.armed.Store(true)
	again, err := h.m.Join(ctx, &partitapb.Node{Id: rec.GetId(), PeerAddr: "peer:2", ApiAddr: "api:2b", Version: "test"})
	if err != nil || again.GetId() != rec.GetId() || again.GetApiAddr() != "api:2b" {
		t.Fatalf("the update whose answer was lost: %v %v", again, err)
	}
	if res := lose.retried.Load(); res == nil || res.GetNode() != nil {
		t.Fatalf("the retried update answered %v: want an answer without the node", res)
	}
}

// A node's join attempts share its join id: an attempt made again after
// the first registered the node (its answer lost on the way to the
// node, or its member gone) is answered with the first attempt's record,
// and the node keeps one id.
func TestJoinAttemptsShareTheirJoinID(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rec := &partitapb.Node{PeerAddr: "peer:1", Version: "test", JoinId: []byte("join-1")}
	first, err := h.m.Join(ctx, proto.Clone(rec).(*partitapb.Node))
	if err != nil {
		t.Fatalf("the first attempt: %v", err)
	}
	again, err := h.m.Join(ctx, proto.Clone(rec).(*partitapb.Node))
	if err != nil {
		t.Fatalf("the second attempt: %v", err)
	}
	if again.GetId() != first.GetId() || again.GetJoinedUnixNanos() != first.GetJoinedUnixNanos() {
		t.Fatalf("the second attempt answered %v, want the first's record %v", again, first)
	}
	other, err := h.m.Join(ctx, &partitapb.Node{PeerAddr: "peer:1", Version: "test", JoinId: []byte("join-2")})
	if err != nil || other.GetId() == first.GetId() {
		t.Fatalf("another join at the same address: %v %v, want a new id", other, err)
	}
	snap, err := h.m.LocalDirectory(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Nodes) != 2 {
		t.Fatalf("the directory holds %d nodes, want 2: %v", len(snap.Nodes), snap.Nodes)
	}
}
