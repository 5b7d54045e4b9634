package main

import (
	"strings"
	"testing"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/node"
)

// TestCtlUsersAndKeys drives `ctl user` and `ctl key` against a node with
// authentication on: the tables and JSON they print, the refusals they
// relay, and a key that works until disabled.
func TestCtlUsersAndKeys(t *testing.T) {
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
