package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/partitadb/partita/admin"
)

// TestClosedClusterOfProcesses runs `partita start` processes with no
// security flag: a node without a join token is refused and stops at
// once; nodes with join tokens (from ctl, through the first node's admin
// token file) join; an unauthenticated decommission is refused (401) by
// every node; an admin token created through one node decommissions a
// node through another; revoked, it is refused by every node.
func TestClosedClusterOfProcesses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := buildBinary(t)
	noToken := t.TempDir() // a --data-dir without an admin token file
	args := func(name, admin string, more ...string) []string {
		return append([]string{"start", "--data-dir", filepath.Join(dir, name), "--api-addr", "127.0.0.1:0",
			"--peer-addr", "127.0.0.1:0", "--admin-addr", admin, "--log-level", "warn", "--replication-factor", "1"}, more...)
	}
	ctlCmd := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, append([]string{"ctl"}, args...)...).CombinedOutput()
		return string(out), err
	}
	d1 := filepath.Join(dir, "n1")
	admins := []string{freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)}
	p1 := startProc(t, bin, args("n1", admins[0])...)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	began := time.Now()
	out, err := exec.CommandContext(ctx, bin, args("stranger", "", "--join", p1.peer)...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "join token") || time.Since(began) > 30*time.Second {
		t.Fatalf("a node without a join token: %v after %v\n%s\nwant it refused at once, saying to give a join token", err, time.Since(began), out)
	}

	for i := 1; i < len(admins); i++ {
		out, err := ctlCmd("--addr", admins[0], "--data-dir", d1, "join-token", "create", "--ttl", "5m", "-o", "json")
		var jt admin.NewJoinToken
		if err != nil || json.Unmarshal([]byte(out), &jt) != nil || !strings.HasPrefix(jt.Token, "pjt_") {
			t.Fatalf("ctl join-token create: %v\n%s", err, out)
		}
		startProc(t, bin, args("n"+string(rune('1'+i)), admins[i], "--join", p1.peer, "--join-token", jt.Token)...)
	}

	for _, a := range admins {
		out, err := ctlCmd("--addr", a, "--data-dir", noToken, "node", "decommission", "3")
		if err == nil || !strings.Contains(out, "401") {
			t.Fatalf("an unauthenticated decommission through %s: %v\n%s\nwant 401", a, err, out)
		}
	}
	text, err := ctlCmd("--addr", admins[2], "--data-dir", d1, "admin-token", "create", "--name", "ops", "-o", "json")
	var ops admin.NewAdminToken
	if err != nil || json.Unmarshal([]byte(text), &ops) != nil || ops.Token == "" {
		t.Fatalf("ctl admin-token create: %v\n%s", err, text)
	}
	var res struct{ Done bool }
	eventually(t, func() error {
		out, err := ctlCmd("--addr", admins[1], "--admin-token", ops.Token, "node", "decommission", "3", "-o", "json")
		if err != nil {
			return err
		}
		return json.Unmarshal([]byte(out), &res)
	})
	if !res.Done {
		t.Fatal("the decommission with the admin token did not finish")
	}

	if out, err := ctlCmd("--addr", admins[3], "--data-dir", d1, "admin-token", "revoke", ops.ID); err != nil {
		t.Fatalf("ctl admin-token revoke: %v\n%s", err, out)
	}
	for _, a := range admins {
		deadline := time.Now().Add(10 * time.Second)
		for {
			out, err := ctlCmd("--addr", a, "--admin-token", ops.Token, "user", "list")
			if err != nil && strings.Contains(out, "401") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the revoked token on %s: %v\n%s\nwant 401", a, err, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if raw, err := os.ReadFile(filepath.Join(d1, "admin-token")); err != nil || !strings.HasPrefix(string(raw), "ptk_") {
		t.Fatalf("the first node's admin token file: %v, %q", err, raw)
	}
}
