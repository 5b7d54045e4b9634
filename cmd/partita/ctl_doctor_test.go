package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/node"
)

// TestCtlDoctorStatus: `ctl doctor status` shows the lease holder and
// epoch from any node, and that node's role; the metrics show the role.
func TestCtlDoctorStatus(t *testing.T) {
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

// endsRow reports whether the last row of a status table ends with the
// node's id and role.
func endsRow(text string, node uint64, role string) bool {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	f := strings.Fields(lines[len(lines)-1])
	return len(lines) == 2 && len(f) >= 2 && f[len(f)-2] == fmt.Sprint(node) && f[len(f)-1] == role
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
