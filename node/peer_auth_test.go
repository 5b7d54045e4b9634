package node_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/transport"
)

// startPeerAuthMember is startAuthMember with configure applied to the
// node's configuration.
func startPeerAuthMember(t *testing.T, configure func(*node.Config), via ...*node.Node) *node.Node {
	t.Helper()
	dir := t.TempDir()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.AdminAddr = dir, "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.ReconcileInterval = 100 * time.Millisecond
	cfg.Auth = node.AuthConfig{Enabled: true}
	cfg.TLS.AdminTokenFile = filepath.Join(dir, "test-admin-tokens")
	if err := os.WriteFile(cfg.TLS.AdminTokenFile, []byte(testAdminToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, v := range via {
		tok, err := v.CreateJoinToken(context.Background(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Join, cfg.JoinToken = append(cfg.Join, v.PeerAddr()), tok
	}
	configure(&cfg)
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// TestPeerAuthAcceptDuringUpgrade runs the middle of a rolling upgrade of
// a closed cluster without certificates: node 1 runs with
// --peer-auth=accept; node 2 sends no credential, as a binary from before
// it (and, unlike one, checks the credential: so node 1 is seen to send
// its own). The two replicate the directory both ways; node 1 counts the
// calls it took without a credential; a caller without the credential is
// served by node 1 and refused by node 2 (require, the default).
func TestPeerAuthAcceptDuringUpgrade(t *testing.T) {
	t.Parallel()
	n1 := startPeerAuthMember(t, func(c *node.Config) { c.Auth.PeerAuth = node.PeerAuthAccept })
	n2 := startPeerAuthMember(t, node.SendNoPeerCredential, n1)

	k := createKey(t, n2, "admin")
	waitUntil(t, "a key made through node 2 works on node 1", func() bool { return listTables(keyClient(n1, k)) == nil })
	if st := adminCall(t, n1, http.MethodDelete, "/auth/keys/"+k.AccessKeyID, nil); st != http.StatusOK {
		t.Fatalf("delete the key through node 1: status %d", st)
	}
	waitUntil(t, "a key deleted through node 1 is refused on node 2", func() bool { return listTables(keyClient(n2, k)) != nil })
	const calls = "partita_node_peer_calls_without_credential_total"
	if got := metric(t, n1, calls); got < 1 {
		t.Fatalf("node 1 counted %v peer calls without a credential, want some", got)
	}
	if strings.Contains(scrape(t, n2), calls) {
		t.Fatalf("node 2 (require) has the metric of --peer-auth=accept")
	}

	cfg := cluster.DefaultConfig()
	cfg.Resolve = func(id uint64) (string, error) {
		if id == 2 {
			return n2.PeerAddr(), nil
		}
		return n1.PeerAddr(), nil
	}
	old, err := cluster.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	lo, hi := directory.AdminTokensSpan()
	walk := cluster.WalkRequest{Partition: directory.MetaPartition, Lo: lo, Hi: hi}
	before := metric(t, n1, calls)
	if _, err := old.Walk(context.Background(), 1, walk); err != nil {
		t.Fatalf("node 1 (accept) refused a call without the credential: %v", err)
	}
	if got := metric(t, n1, calls); got <= before {
		t.Fatalf("node 1 counted %v calls without a credential after one more, had %v", got, before)
	}
	if _, err := old.Walk(context.Background(), 2, walk); err == nil || !strings.Contains(err.Error(), "credential") {
		t.Fatalf("node 2 (require) took a call without the credential: %v", err)
	}

	// Nor does node 2 take an introduction without it: an outsider
	// claiming to be node 1 somewhere else would draw its raft traffic.
	tcfg := transport.DefaultConfig()
	tcfg.NodeID, tcfg.Advertise = 1, "127.0.0.1:1"
	tcfg.Resolve = func(uint64) (string, error) { return "", errors.New("no directory") }
	outsider, err := transport.NewGRPC(tcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer outsider.Close()
	if _, err := outsider.Introduce(context.Background(), n2.PeerAddr(), nil); err == nil || !strings.Contains(err.Error(), "credential") {
		t.Fatalf("node 2 (require) took an introduction without the credential: %v", err)
	}
}

// TestPeerAuthModeValidated refuses a --peer-auth of another value.
func TestPeerAuthModeValidated(t *testing.T) {
	t.Parallel()
	cfg := node.DefaultConfig()
	cfg.Auth.PeerAuth = "sometimes"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "PeerAuth") {
		t.Fatalf("Validate with PeerAuth %q: %v", cfg.Auth.PeerAuth, err)
	}
}
