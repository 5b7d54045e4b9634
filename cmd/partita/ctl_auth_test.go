package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/node"
)

// TestCtlUsersAndKeys drives `ctl user`, `ctl key` and `ctl policy`
// against a node with authentication on: the tables and JSON they print,
// the refusals they relay, and what simulate decides.
func TestCtlUsersAndKeys(t *testing.T) {
	t.Parallel()
	n := startCtlMemberWith(t, func(c *node.Config) { c.Auth.Enabled = true })
	if out, err := ctl(t, n, "user", "create", "dora"); err != nil || !strings.Contains(out, "created user dora") {
		t.Fatalf("user create: %v\n%s", err, out)
	}
	if out, err := ctl(t, n, "user", "create", "dora"); err == nil || !strings.Contains(err.Error(), "409") {
		t.Fatalf("user create twice: %v\n%s", err, out)
	}
	if out, err := ctl(t, n, "user", "create", "no/slash"); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("user create with a bad name: %v\n%s", err, out)
	}
	var k admin.NewAccessKey
	ctlJSON(t, n, &k, "key", "create", "dora")
	if k.User != "dora" || k.Status != admin.KeyActive || len(k.Secret) != 40 {
		t.Fatalf("key create: %+v", k)
	}
	out, err := ctl(t, n, "key", "create", "dora")
	if err != nil || !strings.Contains(out, "AWS_SECRET_ACCESS_KEY=") {
		t.Fatalf("key create (table): %v\n%s", err, out)
	}
	if out, err := ctl(t, n, "key", "create", "dora"); err == nil || !strings.Contains(err.Error(), "AccessKeysPerUser: 2") {
		t.Fatalf("a third key: %v\n%s", err, out)
	}
	var users []admin.User
	ctlJSON(t, n, &users, "user", "list")
	if len(users) != 2 || users[0].Name != node.BootstrapUser || users[1].Name != "dora" || len(users[1].Keys) != 2 {
		t.Fatalf("user list: %+v", users)
	}
	out, err = ctl(t, n, "key", "disable", k.ID)
	if err != nil || !strings.Contains(out, "Inactive") || !strings.Contains(out, "disabled access key "+k.ID) {
		t.Fatalf("key disable: %v\n%s", err, out)
	}
	out, err = ctl(t, n, "key", "list", "dora")
	if err != nil || strings.Count(out, "Active") != 1 || strings.Count(out, "Inactive") != 1 {
		t.Fatalf("key list: %v\n%s", err, out)
	}
	policy := filepath.Join(t.TempDir(), "p.json")
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"ReadOwn","Effect":"Allow","Action":"dynamodb:GetItem",
		"Resource":"arn:aws:dynamodb:*:*:table/T","Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":"${aws:username}"}}}]}`
	if err := os.WriteFile(policy, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := ctl(t, n, "policy", "put", "read-own", policy); err != nil || !strings.Contains(out, "put policy read-own") {
		t.Fatalf("policy put: %v\n%s", err, out)
	}
	if err := os.WriteFile(policy, []byte(`{"Statement":"no"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := ctl(t, n, "policy", "put", "bad", policy); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("policy put of a bad document: %v\n%s", err, out)
	}
	if out, err := ctl(t, n, "policy", "attach", "dora", "read-own"); err != nil || !strings.Contains(out, "has policies read-own") {
		t.Fatalf("policy attach: %v\n%s", err, out)
	}
	out, err = ctl(t, n, "policy", "simulate", "dora", "GetItem", "T", "--key", "dora")
	if err != nil || !strings.HasPrefix(out, "ALLOWED") || !strings.Contains(out, "statement ReadOwn of policy read-own") {
		t.Fatalf("simulate an allowed read: %v\n%s", err, out)
	}
	out, err = ctl(t, n, "policy", "simulate", "dora", "GetItem", "T", "--key", "eve")
	if err != nil || !strings.HasPrefix(out, "DENIED") || !strings.Contains(out, "is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/T") {
		t.Fatalf("simulate another's read: %v\n%s", err, out)
	}
	var policies []admin.Policy
	ctlJSON(t, n, &policies, "policy", "list")
	if len(policies) != 2 || policies[0].Name != node.AllowAllPolicy || policies[1].Name != "read-own" {
		t.Fatalf("policy list: %+v", policies)
	}
	if out, err := ctl(t, n, "policy", "delete", "read-own"); err == nil || !strings.Contains(err.Error(), "409") {
		t.Fatalf("delete an attached policy: %v\n%s", err, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"group", "create", "readers"}, "created group readers; members -, policies -"},
		{[]string{"group", "add-user", "readers", "dora"}, "updated group readers; members dora, policies -"},
		{[]string{"policy", "attach-group", "readers", "read-own"}, "attached policy read-own; group readers has policies read-own"},
		{[]string{"group", "list"}, "readers  dora   read-own"},
	} {
		if out, err := ctl(t, n, c.args...); err != nil || !strings.Contains(out, c.want) {
			t.Fatalf("ctl %v: %v\n%s\nwant %q", c.args, err, out, c.want)
		}
	}
	if out, err := ctl(t, n, "group", "add-user", "readers", "nobody"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("add a user that does not exist: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"policy", "detach-group", "readers", "read-own"}, {"group", "remove-user", "readers", "dora"},
		{"group", "delete", "readers"}} {
		if out, err := ctl(t, n, args...); err != nil {
			t.Fatalf("ctl %v: %v\n%s", args, err, out)
		}
	}
	if _, err := ctl(t, n, "policy", "detach", "dora", "read-own"); err != nil {
		t.Fatalf("policy detach: %v", err)
	}
	if _, err := ctl(t, n, "policy", "delete", "read-own"); err != nil {
		t.Fatalf("policy delete: %v", err)
	}
	if _, err := ctl(t, n, "key", "delete", k.ID); err != nil {
		t.Fatalf("key delete: %v", err)
	}
	if out, err := ctl(t, n, "key", "delete", k.ID); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("key delete twice: %v\n%s", err, out)
	}
	if out, err := ctl(t, n, "user", "delete", "dora"); err != nil || !strings.Contains(out, "deleted user dora") {
		t.Fatalf("user delete: %v\n%s", err, out)
	}
	ctlJSON(t, n, &users, "user", "list")
	if len(users) != 1 {
		t.Fatalf("user list after the delete: %+v", users)
	}
}

// TestCtlAdminTokenScopeAndExpiry drives `ctl admin-token create --scope
// read --ttl`: the read-only token lists users and is refused a change
// with a message saying why; a token past its ttl is refused and listed
// as expired.
func TestCtlAdminTokenScopeAndExpiry(t *testing.T) {
	t.Parallel()
	n := startCtlMemberWith(t, func(c *node.Config) { c.Auth.Enabled = true })
	var ro, short admin.NewAdminToken
	ctlJSON(t, n, &ro, "admin-token", "create", "--name", "auditor", "--scope", "read", "--ttl", "24h")
	if ro.Scope != admin.ScopeRead || time.Until(ro.Expires) < 23*time.Hour {
		t.Fatalf("admin-token create --scope read --ttl 24h: %+v", ro.AdminToken)
	}
	ctlJSON(t, n, &short, "admin-token", "create", "--ttl", "2s")
	eventually(t, func() error {
		_, err := ctl(t, n, "--admin-token", ro.Token, "user", "list")
		return err
	})
	out, err := ctl(t, n, "--admin-token", ro.Token, "user", "create", "mallory")
	if err == nil || !strings.Contains(err.Error(), "403 Forbidden") || !strings.Contains(err.Error(), "may only read (its token's scope is read)") {
		t.Fatalf("user create with a read-only token: %v\n%s", err, out)
	}
	time.Sleep(time.Until(short.Expires))
	if out, err := ctl(t, n, "--admin-token", short.Token, "user", "list"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("user list with an expired token: %v\n%s", err, out)
	}
	out, err = ctl(t, n, "admin-token", "list")
	if err != nil {
		t.Fatalf("admin-token list: %v\n%s", err, out)
	}
	for _, want := range []string{"SCOPE", ro.ID + "  auditor    read", "EXPIRED at"} {
		if !strings.Contains(out, want) {
			t.Fatalf("admin-token list does not show %q:\n%s", want, out)
		}
	}
	if out, err := ctl(t, n, "admin-token", "create", "--scope", "write"); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("admin-token create --scope write: %v\n%s", err, out)
	}
}
