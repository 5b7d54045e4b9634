package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/node"
)

// TestCtlDoctorStatus: `ctl doctor status` shows the lease holder and
// epoch from any node, and that node's role; the metrics show the role.
func TestCtlDoctorStatus(t *testing.T) {
	t.Parallel()
	withDoctor := func(c *node.Config) { c.Doctor = true }
	n1 := startCtlMemberWith(t, withDoctor)
	n2 := startCtlMemberWith(t, withDoctor, n1.PeerAddr())
	var st admin.DoctorStatus
	eventually(t, func() error {
		ctlJSON(t, n2, &st, "doctor", "status")
		if st.Holder == 0 || st.Epoch == 0 || st.Expires.IsZero() || st.Node != n2.ID() {
			return fmt.Errorf("status %+v", st)
		}
		return nil
	})
	holder, other := n1, n2
	if st.Holder == n2.ID() {
		holder, other = n2, n1
	}
	if !holder.Doctor().IsActive() || other.Doctor().IsActive() {
		t.Fatalf("the lease names node %d, which is not the only active Doctor", st.Holder)
	}
	text, err := ctl(t, holder, "doctor", "status")
	if err != nil || !strings.HasPrefix(text, "HOLDER  EPOCH  EXPIRES") || !endsRow(text, holder.ID(), admin.DoctorActive) {
		t.Fatalf("ctl doctor status on the holder: %v\n%s", err, text)
	}
	text, err = ctl(t, other, "doctor", "status")
	if err != nil || !endsRow(text, other.ID(), admin.DoctorStandby) {
		t.Fatalf("ctl doctor status on the standby: %v\n%s", err, text)
	}
	if m := metrics(t, holder); !strings.Contains(m, "\npartita_doctor_active 1\n") ||
		!strings.Contains(m, fmt.Sprintf("\npartita_doctor_epoch %d\n", st.Epoch)) {
		t.Fatalf("the holder's metrics lack its role:\n%s", grepLines(m, "partita_doctor_"))
	}
	if m := metrics(t, other); !strings.Contains(m, "\npartita_doctor_active 0\n") {
		t.Fatalf("the standby's metrics lack its role:\n%s", grepLines(m, "partita_doctor_"))
	}
}

// endsRow reports whether the one row of a status table (under its
// header, above the replication factor) ends with the node's id and role.
func endsRow(text string, node uint64, role string) bool {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) < 2 {
		return false
	}
	f := strings.Fields(lines[1])
	return (len(lines) == 2 || lines[2] == "") && len(f) >= 2 && f[len(f)-2] == fmt.Sprint(node) && f[len(f)-1] == role
}

func metrics(t *testing.T, via interface{ AdminURL() string }) string {
	t.Helper()
	resp, err := http.Get(via.AdminURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestCtlDoctorSteering: `ctl doctor gate set|get`, `pause`, `resume`,
// `plan` and `timeline` through the CLI, on a two-node cluster; bad
// gates are refused with a clear error.
func TestCtlDoctorSteering(t *testing.T) {
	t.Parallel()
	withDoctor := func(c *node.Config) { c.Doctor = true }
	n1 := startCtlMemberWith(t, withDoctor)
	n2 := startCtlMemberWith(t, withDoctor, n1.PeerAddr())
	if text, err := ctl(t, n2, "doctor", "gate", "set", "move-replica", "red", "--reason", "maintenance"); err != nil ||
		!strings.Contains(text, "gate move-replica: red") {
		t.Fatalf("gate set: %v\n%s", err, text)
	}
	text, err := ctl(t, n1, "doctor", "gate", "get")
	if err != nil || !hasRow(text, "move-replica", "red", "override") || !hasRow(text, "replace-replica", "green", "default") ||
		!hasRow(text, "remove-replica", "yellow", "default") {
		t.Fatalf("gate get: %v\n%s", err, text)
	}
	if _, err := ctl(t, n1, "doctor", "gate", "set", "move-replica", "default"); err != nil {
		t.Fatal(err)
	}
	if text, _ := ctl(t, n1, "doctor", "gate", "get"); !hasRow(text, "move-replica", "yellow", "default") {
		t.Fatalf("gate back to its default:\n%s", text)
	}
	if _, err := ctl(t, n1, "doctor", "gate", "set", "move-replica", "purple"); err == nil || !strings.Contains(err.Error(), "green, yellow, red or default") {
		t.Fatalf("a purple gate: %v", err)
	}
	if _, err := ctl(t, n1, "doctor", "gate", "set", "teleport", "red"); err == nil || !strings.Contains(err.Error(), "unknown operation kind") {
		t.Fatalf("an unknown kind: %v", err)
	}
	if _, err := ctl(t, n2, "doctor", "pause", "--reason", "upgrade"); err != nil {
		t.Fatal(err)
	}
	// Another node's directory shows the change once its meta replica
	// has applied it.
	var s admin.DoctorSettings
	eventually(t, func() error {
		ctlJSON(t, n1, &s, "doctor", "gate", "get")
		if !s.Paused || s.Reason != "upgrade" {
			return fmt.Errorf("paused settings: %+v", s)
		}
		return nil
	})
	if text, _ := ctl(t, n1, "doctor", "gate", "get"); !strings.Contains(text, "PAUSED") {
		t.Fatalf("gate get does not say paused:\n%s", text)
	}
	eventually(t, func() error {
		var p admin.DoctorPlan
		ctlJSON(t, n1, &p, "doctor", "plan")
		if !p.Plan.Active || !p.Plan.Paused {
			return fmt.Errorf("plan %+v", p.Plan)
		}
		return nil
	})
	if _, err := ctl(t, n1, "doctor", "resume"); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() error {
		ctlJSON(t, n2, &s, "doctor", "gate", "get")
		if s.Paused {
			return fmt.Errorf("still paused after resume: %+v", s)
		}
		return nil
	})
	var es []admin.TimelineEntry
	ctlJSON(t, n2, &es, "doctor", "timeline", "--since", "1h", "--state", "failed")
	if len(es) != 0 {
		t.Fatalf("failed operations on a healthy cluster: %+v", es)
	}
	if text, err := ctl(t, n2, "doctor", "timeline"); err != nil || !strings.HasPrefix(text, "ID  UPDATED") {
		t.Fatalf("timeline: %v\n%s", err, text)
	}
	if _, err := ctl(t, n2, "doctor", "approve", "999"); err == nil {
		t.Fatal("approved an operation that does not exist")
	}
}

// hasRow says a table has a row of exactly these fields.
func hasRow(text string, fields ...string) bool {
	for _, l := range strings.Split(text, "\n") {
		if slices.Equal(strings.Fields(l), fields) {
			return true
		}
	}
	return false
}

// TestCtlDoctorReplicationFactor: `ctl doctor replication-factor` shows
// the factor the first node recorded, sets another (with its reason,
// shown by every node and in `ctl doctor status`), and refuses, saying
// why, a factor out of bounds or one set below cluster version 20.
func TestCtlDoctorReplicationFactor(t *testing.T) {
	t.Parallel()
	withDoctor := func(c *node.Config) { c.Doctor = true }
	n1 := startCtlMemberWith(t, withDoctor)
	n2 := startCtlMemberWith(t, func(c *node.Config) { c.Doctor, c.ReplicationFactor = true, 1 }, n1.PeerAddr())
	text, err := ctl(t, n2, "doctor", "replication-factor")
	if err != nil || !strings.HasPrefix(text, "FACTOR  PREVIOUS  CHANGED") || !strings.Contains(text, "\n3 ") ||
		!strings.Contains(text, "bootstrap") || strings.Contains(text, "no record") {
		t.Fatalf("replication-factor on the node started with 1: %v\n%s", err, text)
	}
	if text, err := ctl(t, n2, "doctor", "replication-factor", "2", "--reason", "fewer copies"); err != nil ||
		text != "replication factor: 2 (was 3)\n" {
		t.Fatalf("replication-factor 2: %v\n%s", err, text)
	}
	var rep admin.Replication
	eventually(t, func() error {
		rep = admin.Replication{}
		ctlJSON(t, n1, &rep, "doctor", "replication-factor")
		if rep.Factor != 2 || rep.Recorded != 2 || rep.Previous != 3 || rep.Reason != "fewer copies" ||
			!strings.HasPrefix(rep.ChangedBy, "admin@") || rep.Fallback {
			return fmt.Errorf("replication factor %+v", rep)
		}
		return nil
	})
	if text, err := ctl(t, n1, "doctor", "status"); err != nil || !endsRow(text, n1.ID(), admin.DoctorActive) && !endsRow(text, n1.ID(), admin.DoctorStandby) ||
		!strings.Contains(text, "replication factor 2: the cluster's record") {
		t.Fatalf("doctor status: %v\n%s", err, text)
	}
	for arg, want := range map[string]string{"0": "it must be from 1 to 7", "8": "it must be from 1 to 7", "three": "not a number"} {
		if _, err := ctl(t, n1, "doctor", "replication-factor", arg); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("replication-factor %s: %v, want %q", arg, err, want)
		}
	}

	// A cluster begun by a binary of version 19 has no record: each node
	// says it uses its own flag, and a change is refused until the
	// version is 20.
	old := startCtlMemberWith(t, func(c *node.Config) {
		c.MaxClusterVersion, c.ReplicationFactor = uint32(clusterversion.ClusterReplication-1), 5
	})
	text, err = ctl(t, old, "doctor", "replication-factor")
	if err != nil || !strings.Contains(text, "\n5 ") || !strings.Contains(text, "no record: node 1's --replication-factor") ||
		!strings.Contains(text, "needs cluster version 20") {
		t.Fatalf("replication-factor at version 19: %v\n%s", err, text)
	}
	if _, err := ctl(t, old, "doctor", "replication-factor", "3"); err == nil || !strings.Contains(err.Error(), "needs cluster version 20") ||
		!strings.Contains(err.Error(), "runs at version 19") {
		t.Fatalf("replication-factor 3 at version 19: %v", err)
	}
}
