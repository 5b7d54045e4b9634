package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/partitapb"
)

// adminWith sends method path to n's admin endpoint with the bearer token
// tok ("": none), decodes a 200's JSON into out, and returns the status.
func adminWith(t *testing.T, n *node.Node, tok, method, path string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, n.AdminURL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, body)
		}
	}
	return resp.StatusCode
}

// TestAdminTokensInTheDirectory: the node that creates a closed cluster
// makes its first admin token, written 0600 to its data directory; the
// admin endpoint refuses changes and /auth reads without a token, on
// loopback too; a token created through one node works on every node,
// and once revoked through another, stops working on every node without
// a restart; no token lies in plain text in any node's storage.
func TestAdminTokensInTheDirectory(t *testing.T) {
	t.Parallel()
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	n1 := startClosedMember(t, dirs[0], false)
	n2 := startClosedMember(t, dirs[1], false, n1)
	n3 := startClosedMember(t, dirs[2], false, n1)
	nodes := []*node.Node{n1, n2, n3}
	boot := n1.BootstrapAdminToken()
	if boot == "" || n2.BootstrapAdminToken() != "" {
		t.Fatalf("bootstrap admin tokens: node 1 %q, node 2 %q; want one of node 1 alone", boot, n2.BootstrapAdminToken())
	}
	path := filepath.Join(dirs[0], node.AdminTokenFile)
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, %v; want mode 0600", path, st, err)
	}
	if raw, _ := os.ReadFile(path); strings.TrimSpace(string(raw)) != boot {
		t.Fatalf("%s holds %q, want the printed token", path, raw)
	}
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/auth/users"}, {http.MethodGet, "/auth/admin-tokens"},
		{http.MethodPost, "/auth/users/mallory"}, {http.MethodPost, "/cluster/nodes/3/drain"},
	} {
		if st := adminWith(t, n3, "", c.method, c.path, nil); st != http.StatusUnauthorized {
			t.Fatalf("%s %s without a token: %d, want 401", c.method, c.path, st)
		}
	}
	waitAll(t, "the bootstrap token admitted", nodes, func(n *node.Node) bool {
		return adminWith(t, n, boot, http.MethodGet, "/auth/users", nil) == http.StatusOK
	})

	var created admin.NewAdminToken
	if st := adminWith(t, n2, boot, http.MethodPost, "/auth/admin-tokens?name=ops", &created); st != http.StatusOK ||
		!strings.HasPrefix(created.Token, "ptk_") || created.Name != "ops" {
		t.Fatalf("create an admin token: %d, %+v", st, created)
	}
	took := waitAll(t, "the new token admitted", nodes, func(n *node.Node) bool {
		return adminWith(t, n, created.Token, http.MethodGet, "/auth/users", nil) == http.StatusOK
	})
	t.Logf("a new admin token worked on every node after %v", took)
	var listed []admin.AdminToken
	if adminWith(t, n3, created.Token, http.MethodGet, "/auth/admin-tokens", &listed); len(listed) != 2 {
		t.Fatalf("admin tokens: %+v, want the bootstrap one and ops", listed)
	}
	if st := adminWith(t, n1, boot, http.MethodDelete, "/auth/admin-tokens/"+created.ID, nil); st != http.StatusOK {
		t.Fatalf("revoke: %d", st)
	}
	took = waitAll(t, "the revoked token refused", nodes, func(n *node.Node) bool {
		return adminWith(t, n, created.Token, http.MethodPost, "/cluster/nodes/3/drain", nil) == http.StatusUnauthorized
	})
	t.Logf("a revoked admin token was refused by every node after %v", took)
	for _, d := range dirs {
		assertNoToken(t, d, boot, created.Token)
	}
}

// assertNoToken fails if a file of dir, other than the admin token file,
// holds one of tokens.
func assertNoToken(t *testing.T, dir string, tokens ...string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == node.AdminTokenFile {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, tok := range tokens {
			if bytes.Contains(raw, []byte(tok)) {
				t.Errorf("%s holds an admin token in plain text", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestJoinAClosedCluster: a node without a join token, or with one that
// is unknown or already spent by another node, is refused at once (no
// minute of retries) with a reason that says what to give; with a valid
// token it joins and receives the cluster key.
func TestJoinAClosedCluster(t *testing.T) {
	t.Parallel()
	n1 := startAuthMember(t, t.TempDir())
	tok, err := n1.CreateJoinToken(context.Background(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	start := func(dir, token string) (*node.Node, error) {
		cfg := node.DefaultConfig()
		cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.Join, cfg.JoinToken = dir, "127.0.0.1:0", "127.0.0.1:0", []string{n1.PeerAddr()}, token
		cfg.Auth = node.AuthConfig{Enabled: true}
		return node.Start(context.Background(), cfg)
	}
	for _, c := range []struct{ token, want string }{
		{"", "join-token create"},
		{"pjt_made_up", "not one of this cluster's"},
	} {
		began := time.Now()
		n, err := start(t.TempDir(), c.token)
		if err == nil {
			n.Close()
			t.Fatalf("a node with join token %q joined a closed cluster", c.token)
		}
		if !errors.Is(err, cluster.ErrJoinRefused) || !strings.Contains(err.Error(), c.want) || time.Since(began) > 20*time.Second {
			t.Fatalf("join with token %q: %v after %v; want ErrJoinRefused saying %q, at once", c.token, err, time.Since(began), c.want)
		}
	}
	dir := t.TempDir()
	n2, err := start(dir, tok)
	if err != nil {
		t.Fatalf("join with a valid token: %v", err)
	}
	defer n2.Close()
	if _, err := os.Stat(filepath.Join(dir, "cluster-key")); err != nil {
		t.Fatalf("the node that joined has no cluster key: %v", err)
	}
	if _, err := start(t.TempDir(), tok); !errors.Is(err, cluster.ErrJoinRefused) || !strings.Contains(err.Error(), "admits one node") {
		t.Fatalf("a second node with a spent token: %v", err)
	}
}

// TestPeerCallsOfAClosedCluster: without certificates, a closed
// cluster's peer port answers only its members: a stranger's node-to-node
// calls (reading the directory, proposing an admin token of its own) are
// refused, while the members replicate and serve as before.
func TestPeerCallsOfAClosedCluster(t *testing.T) {
	t.Parallel()
	n1 := startAuthMember(t, t.TempDir())
	n2 := startAuthMember(t, t.TempDir(), n1)
	cfg := cluster.DefaultConfig()
	cfg.Resolve = func(id uint64) (string, error) {
		if id == 2 {
			return n2.PeerAddr(), nil
		}
		return n1.PeerAddr(), nil
	}
	stranger, err := cluster.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	ctx := context.Background()
	lo, hi := directory.AdminTokensSpan()
	for _, id := range []uint64{1, 2} {
		if _, err := stranger.Walk(ctx, id, cluster.WalkRequest{Partition: directory.MetaPartition, Lo: lo, Hi: hi}); err == nil ||
			!strings.Contains(err.Error(), "credential") {
			t.Fatalf("a stranger walks the directory on node %d: %v, want a refusal", id, err)
		}
	}
	d := directory.TokenDigest("ptk_stranger")
	_, err = stranger.Propose(ctx, 1, directory.MetaPartition, &partitapb.Command{Id: []byte("stranger-1"),
		Op: &partitapb.Command_CreateAdminToken{CreateAdminToken: &partitapb.CreateAdminToken{
			Token: &partitapb.AdminToken{Id: directory.TokenID(d), Digest: d}}}})
	if err == nil || !strings.Contains(err.Error(), "credential") {
		t.Fatalf("a stranger proposes an admin token: %v, want a refusal", err)
	}
	if st := adminWith(t, n2, "ptk_stranger", http.MethodGet, "/auth/users", nil); st != http.StatusUnauthorized {
		t.Fatalf("the stranger's token: %d, want 401", st)
	}
	// The members still talk: a key made through node 2 works on node 1.
	k := createKey(t, n2, "admin")
	waitUntil(t, "a key made through node 2 works on node 1", func() bool { return listTables(keyClient(n1, k)) == nil })
}
