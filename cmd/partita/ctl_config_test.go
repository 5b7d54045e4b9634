package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/settings"
)

// TestCtlConfig drives `partita ctl config` against two in-process nodes
// in two zones: set, get, list, effective through the other node, a
// refusal, history, diff and rollback.
func TestCtlConfig(t *testing.T) {
	t.Parallel()
	n1 := startCtlMemberWith(t, func(c *node.Config) {
		c.Zone = "a"
		c.Settings = map[string]settings.Static{"doctor.dead-after": {Text: "45s", From: settings.FromFlag}}
	})
	n2 := startCtlMemberWith(t, func(c *node.Config) { c.Zone = "b" }, n1.PeerAddr())
	run := func(args ...string) string {
		t.Helper()
		out, err := ctl(t, n1, append([]string{"config"}, args...)...)
		if err != nil {
			t.Fatalf("ctl config %v: %v\n%s", args, err, out)
		}
		return out
	}
	if out := run("set", "raft.log-max-bytes", "32MiB", "--reason", "bigger logs"); !strings.Contains(out, "version 1 by") ||
		!strings.Contains(out, "set raft.log-max-bytes=32MiB at cluster") {
		t.Fatalf("set: %s", out)
	}
	if out := run("set", "doctor.dead-after", "1m", "--scope", "zone:b"); !strings.Contains(out, "version 2") {
		t.Fatalf("set: %s", out)
	}
	if out := run("get", "raft.log-max-bytes"); !strings.Contains(out, "replica (log trimming)") || !strings.Contains(out, "cluster=32MiB (v1)") {
		t.Fatalf("get: %s", out)
	}
	if out := run("list"); !strings.Contains(out, "version 2 of the overrides") || !strings.Contains(out, "raft.election-ticks") {
		t.Fatalf("list: %s", out)
	}
	out, err := ctl(t, n1, "config", "set", "raft.election-ticks", "20")
	if err == nil || !strings.Contains(err.Error(), "read at start only") {
		t.Fatalf("a setting read at start: %v\n%s", err, out)
	}
	// Each node's own view: n2 (zone b) takes the zone's override, n1
	// keeps its flag.
	id2 := fmt.Sprint(n2.ID())
	eventually(t, func() error {
		out, err := ctl(t, n1, "config", "effective", "--node", id2)
		if err != nil { // the directory may not list node 2's admin address yet
			return err
		}
		if !strings.Contains(out, "override v2 (zone:b)") || !strings.Contains(out, "override v1 (cluster)") {
			return fmt.Errorf("node 2: %s", out)
		}
		return nil
	})
	eventually(t, func() error {
		out := run("effective")
		if !strings.Contains(out, "overrides version 2") || settingLine(out, "doctor.dead-after") != "45s flag" {
			return fmt.Errorf("node 1: %s", out)
		}
		return nil
	})
	if out := run("history"); strings.Count(out, "\n") != 3 || !strings.Contains(out, "bigger logs") {
		t.Fatalf("history: %s", out)
	}
	if out := run("diff", "1", "2"); strings.TrimSpace(out) != "set doctor.dead-after=1m0s at zone:b" {
		t.Fatalf("diff: %q", out)
	}
	if out := run("rollback"); !strings.Contains(out, "version 3") || !strings.Contains(out, "unset doctor.dead-after at zone:b") {
		t.Fatalf("rollback: %s", out)
	}
	if out := run("unset", "raft.log-max-bytes"); !strings.Contains(out, "version 4") {
		t.Fatalf("unset: %s", out)
	}
	if out := run("diff", "4", "0"); strings.TrimSpace(out) != "" {
		t.Fatalf("diff of two empty states: %q", out)
	}
}

// settingLine is the value and source ctl config effective prints for
// name.
func settingLine(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == name {
			return strings.Join(f[1:], " ")
		}
	}
	return ""
}
