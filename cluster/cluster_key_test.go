package cluster_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
)

// TestJoinHandsOverTheClusterKey: the member that adds a node answers
// with its cluster key, after leader hints too; a member that holds none
// answers without one.
func TestJoinHandsOverTheClusterKey(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	follower, leader := newMemLocal(), newMemLocal()
	follower.joinErr = &replica.NotLeaderError{Partition: 1, Leader: 2}
	leader.nextNode = 4
	withKey := func() []byte { return key }
	fs := serve(t, "127.0.0.1:0", cluster.WithClusterKey(follower, func() []byte { return []byte("not this one") }))
	ls := serve(t, "127.0.0.1:0", cluster.WithClusterKey(leader, withKey))
	var b book
	b.set(2, ls.addr)
	ctx := context.Background()
	n, got, err := newClient(t, &b).JoinWithKey(ctx, fs.addr, &partitapb.Node{PeerAddr: "10.0.0.4:7000"})
	if err != nil || n.Id != 4 || !bytes.Equal(got, key) {
		t.Fatalf("JoinWithKey through a follower = %v, %x, %v; want node 4 and the leader's key", n, got, err)
	}
	plain := serve(t, "127.0.0.1:0", newMemLocal())
	n, got, err = newClient(t, &book{}).JoinWithKey(ctx, plain.addr, &partitapb.Node{PeerAddr: "10.0.0.5:7000"})
	if err != nil || n == nil || got != nil {
		t.Fatalf("JoinWithKey on a member without a key = %v, %x, %v; want no key", n, got, err)
	}
}

// TestJoinAdmission: a member with a join policy asks it before adding a
// node; its refusal reaches the joining node as ErrJoinRefused, with its
// reason, and nothing is added.
func TestJoinAdmission(t *testing.T) {
	l := newMemLocal()
	l.nextNode = 2
	admit := func(_ context.Context, n *partitapb.Node, token string) error {
		if token != "pjt_good" {
			return fmt.Errorf("%w: no valid join token for %s", cluster.ErrJoinRefused, n.GetPeerAddr())
		}
		return nil
	}
	s := serve(t, "127.0.0.1:0", cluster.WithJoinPolicy(l, func() []byte { return []byte("key") }, admit))
	c := newClient(t, &book{})
	ctx := context.Background()
	for _, tok := range []string{"", "pjt_bad"} {
		n, key, err := c.JoinWithToken(ctx, s.addr, &partitapb.Node{PeerAddr: "10.0.0.6:7000"}, tok)
		if !errors.Is(err, cluster.ErrJoinRefused) || !strings.Contains(err.Error(), "10.0.0.6:7000") || n != nil || key != nil {
			t.Fatalf("join with token %q = %v, %q, %v; want ErrJoinRefused with its reason", tok, n, key, err)
		}
	}
	n, key, err := c.JoinWithToken(ctx, s.addr, &partitapb.Node{PeerAddr: "10.0.0.6:7000"}, "pjt_good")
	if err != nil || n.GetId() != 2 || string(key) != "key" {
		t.Fatalf("join with a valid token = %v, %q, %v", n, key, err)
	}
}
