package route_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/route"
	"github.com/partitadb/partita/store"
)

// dirSource answers directory reads as the cluster's nodes would: each
// node its snapshot, its not-leader error, or unreachable.
type dirSource struct {
	nodes map[uint64]*directory.Snapshot // answering nodes
	hints map[uint64]uint64              // nodes without a meta replica: the leader they name
	asked []uint64
}

var errUnreachable = errors.New("unreachable")

func (s *dirSource) Local(context.Context) (*directory.Snapshot, error) {
	return nil, errors.New("no local meta replica")
}

func (s *dirSource) Node(_ context.Context, node uint64) (*directory.Snapshot, error) {
	s.asked = append(s.asked, node)
	if snap, ok := s.nodes[node]; ok {
		return snap, nil
	}
	if l, ok := s.hints[node]; ok {
		return nil, &replica.NotLeaderError{Partition: directory.MetaPartition, Leader: l}
	}
	return nil, fmt.Errorf("node %d: %w", node, errUnreachable)
}

func (s *dirSource) At(_ context.Context, addr string) (*directory.Snapshot, error) {
	return nil, fmt.Errorf("%s: %w", addr, errUnreachable)
}

// A node outside the meta group refreshes its directory through the
// other nodes it knows when the meta voter it cached is unreachable: a
// meta voter restarted at a new address answers nowhere this node looks
// (its cached address, the join seed), while another node, a meta
// learner, answers with the new address (CI: node 3 asked node 1 at its
// old address for a minute, its heartbeats failing, while node 2 knew
// the new one).
func TestRefreshAsksTheOtherNodes(t *testing.T) {
	node := func(id uint64, addr string) *partitapb.Node { return &partitapb.Node{Id: id, PeerAddr: addr} }
	cache := directory.NewCache()
	cache.Update(&directory.Snapshot{Nodes: []*partitapb.Node{node(1, "old:1"), node(2, "n2"), node(3, "n3")}, MetaReplicas: []uint64{1}})
	cfg := route.DefaultConfig()
	cfg.Directory, cfg.Self = cache, 3
	cfg.Remote = refusingRemote{}
	s, err := route.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	moved := &directory.Snapshot{Nodes: []*partitapb.Node{node(1, "new:1"), node(2, "n2"), node(3, "n3")}, MetaReplicas: []uint64{1}}
	src := &dirSource{nodes: map[uint64]*directory.Snapshot{2: moved}}
	if err := s.Refresh(context.Background(), src, false, []string{"old:1"}); err != nil {
		t.Fatalf("refresh: %v (asked %v)", err, src.asked)
	}
	if addr, _ := cache.PeerAddr(1); addr != "new:1" {
		t.Fatalf("node 1 at %q after the refresh, want its new address", addr)
	}

	// A not-leader hint is followed next, before the other nodes.
	cache.Update(&directory.Snapshot{Nodes: []*partitapb.Node{node(1, "old:1"), node(2, "n2"), node(3, "n3"), node(4, "n4")}, MetaReplicas: []uint64{2}})
	src = &dirSource{nodes: map[uint64]*directory.Snapshot{4: moved}, hints: map[uint64]uint64{2: 4}}
	if err := s.Refresh(context.Background(), src, false, nil); err != nil || len(src.asked) != 2 || src.asked[1] != 4 {
		t.Fatalf("refresh: %v, asked %v: want node 2, then node 4 it named", err, src.asked)
	}

	// No node answers: the errors of every one asked, each once.
	src = &dirSource{}
	err = s.Refresh(context.Background(), src, false, []string{"old:1"})
	if !errors.Is(err, errUnreachable) || !slices.Equal(src.asked, []uint64{1, 2}) {
		t.Fatalf("refresh with nobody answering: %v, asked %v: want nodes 1 and 2 (the cache as the last refresh left it) once each", err, src.asked)
	}
}

// refusingRemote is a Remote that Refresh never calls.
type refusingRemote struct{}

func (refusingRemote) Propose(context.Context, uint64, uint64, *partitapb.Command) (*partitapb.Result, error) {
	return nil, errUnreachable
}
func (refusingRemote) Get(context.Context, uint64, uint64, []byte, bool) ([]byte, error) {
	return nil, errUnreachable
}
func (refusingRemote) Walk(context.Context, uint64, store.WalkRequest) (store.WalkResult, error) {
	return store.WalkResult{}, errUnreachable
}
