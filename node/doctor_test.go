package node

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/partitapb"
)

// startDoctorNode starts a cluster node on loopback with the Doctor on or
// off and a Doctor lease of leaseLen.
func startDoctorNode(t *testing.T, doctor bool, leaseLen time.Duration, join ...string) *Node {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.AdminAddr = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Join, cfg.ReconcileInterval = join, 100*time.Millisecond
	cfg.Doctor, cfg.DoctorLease = doctor, leaseLen
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// startClosingDoctorNode starts a node running a Doctor with a 1.5 s
// lease, closed when the test ends.
func startClosingDoctorNode(t *testing.T, join ...string) *Node {
	t.Helper()
	n := startDoctorNode(t, true, 1500*time.Millisecond, join...)
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// waitFor polls cond with a generous deadline; no durations are asserted.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// activeOf returns the node of nodes whose Doctor is active (nil: none),
// failing if more than one is.
func activeOf(t *testing.T, nodes ...*Node) *Node {
	t.Helper()
	var active *Node
	for _, n := range nodes {
		if e := n.Doctor(); e != nil && e.IsActive() {
			if active != nil {
				t.Fatalf("nodes %d and %d are both active Doctors", active.ID(), n.ID())
			}
			active = n
		}
	}
	return active
}

func waitActive(t *testing.T, nodes ...*Node) *Node {
	t.Helper()
	var active *Node
	waitFor(t, "an active Doctor", func() bool { active = activeOf(t, nodes...); return active != nil })
	return active
}

// TestDoctorFailover: of three nodes, one with --doctor=false, exactly one
// Doctor is active; when its node dies (no release), the other Doctor
// takes over at a higher epoch, and the directory refuses the dead one's
// epoch.
func TestDoctorFailover(t *testing.T) {
	t.Parallel()
	const leaseLen = 1500 * time.Millisecond
	n1 := startDoctorNode(t, true, leaseLen)
	n2 := startDoctorNode(t, true, leaseLen, n1.PeerAddr())
	n3 := startDoctorNode(t, false, leaseLen, n1.PeerAddr())
	nodes := map[*Node]bool{n1: true, n2: true, n3: true}
	defer func() {
		for n := range nodes {
			n.Close()
		}
	}()
	waitFor(t, "meta on three voters", func() bool { return len(n1.MetaVoters()) == 3 })
	if n3.Doctor() != nil {
		t.Fatal("a node with --doctor=false runs an elector")
	}
	first := waitActive(t, n1, n2, n3)
	epoch := first.Doctor().Epoch()
	if c, ok := first.doctorCluster(); !ok || c.(ctl).epoch != epoch {
		t.Fatalf("the active Doctor's cluster: %v, %v", c, ok)
	}
	st := doctorStatus(t, n3)
	if st.Role != admin.DoctorDisabled || st.Holder != first.ID() || st.Epoch != epoch || st.Expires.IsZero() {
		t.Fatalf("status from the disabled node: %+v (active node %d, epoch %d)", st, first.ID(), epoch)
	}
	if st := doctorStatus(t, first); st.Role != admin.DoctorActive {
		t.Fatalf("status from the active node: %+v", st)
	}

	// The active Doctor's node dies: its elector stops without releasing.
	first.stopDoctor(context.Background(), false)
	first.Close()
	delete(nodes, first)
	second := n1
	if first == n1 {
		second = n2
	}
	waitFor(t, "the standby to take over", func() bool { return activeOf(t, n2, n1, n3) == second })
	if second.Doctor().Epoch() <= epoch {
		t.Fatalf("taken over at epoch %d, the dead Doctor held %d", second.Doctor().Epoch(), epoch)
	}
	if st := doctorStatus(t, second); st.Role != admin.DoctorActive || st.Holder != second.ID() {
		t.Fatalf("status after the takeover: %+v", st)
	}

	// A command of the dead Doctor's epoch, reaching the directory after
	// the takeover, is refused; the new epoch's passes the fence.
	ctx := context.Background()
	err := ctl{n: second, epoch: epoch}.RemoveNode(ctx, 999)
	var pe *partitapb.Error
	if !errors.As(err, &pe) || pe.GetCode() != partitapb.Error_STALE_EPOCH {
		t.Fatalf("RemoveNode at the old epoch: %v, want STALE_EPOCH", err)
	}
	c, _ := second.doctorCluster()
	if err := c.RemoveNode(ctx, 999); !errors.As(err, &pe) || pe.GetCode() != partitapb.Error_VALIDATION {
		t.Fatalf("RemoveNode at the current epoch: %v, want the node's VALIDATION error", err)
	}
	if err := (ctl{n: n3}).RemoveNode(ctx, 999); !errors.As(err, &pe) || pe.GetCode() != partitapb.Error_VALIDATION {
		t.Fatalf("an operator's RemoveNode: %v, want the node's VALIDATION error", err)
	}
	if n3.Doctor() != nil || doctorStatus(t, n3).Role != admin.DoctorDisabled {
		t.Fatal("the --doctor=false node took part")
	}
}

// TestDoctorCleanStopReleases: a Doctor stopped by Close releases its
// lease at once, although it would last ten minutes more: the next
// standby request takes it (TestReleaseHandsOver in doctor/lease).
func TestDoctorCleanStopReleases(t *testing.T) {
	t.Parallel()
	const leaseLen = 10 * time.Minute
	n1 := startDoctorNode(t, true, leaseLen)
	n2 := startDoctorNode(t, true, leaseLen, n1.PeerAddr())
	n3 := startDoctorNode(t, true, leaseLen, n1.PeerAddr())
	nodes := map[*Node]bool{n1: true, n2: true, n3: true}
	defer func() {
		for n := range nodes {
			n.Close()
		}
	}()
	waitFor(t, "meta on three voters", func() bool { return len(n1.MetaVoters()) == 3 })
	first := waitActive(t, n1, n2, n3)
	epoch := first.Doctor().Epoch()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	delete(nodes, first)
	for n := range nodes {
		waitFor(t, "the released lease", func() bool {
			st := doctorStatus(t, n)
			return st.Holder != first.ID() && st.Epoch >= epoch
		})
		if st := doctorStatus(t, n); st.Holder == 0 && (st.Epoch != epoch || !st.Expires.IsZero()) {
			t.Fatalf("the released lease: %+v, want epoch %d kept", st, epoch)
		}
	}
}

func doctorStatus(t *testing.T, n *Node) admin.DoctorStatus {
	t.Helper()
	resp, err := http.Get(n.AdminURL() + "/doctor/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st admin.DoctorStatus
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /doctor/status: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}
