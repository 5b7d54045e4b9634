package node

import (
	"context"
	"testing"
	"time"

	"github.com/partitadb/partita/daemon"
)

// startDev starts a single node as `partita dev` does, on a temporary
// data directory and loopback ports, configured further by tweak (nil:
// as is), and closes it when the test ends.
func startDev(t *testing.T, tweak func(*Config)) *Node {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.AdminAddr = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	if tweak != nil {
		tweak(&cfg)
	}
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// pauseJob pauses the job name of n and waits until no cycle of it is in
// flight.
func pauseJob(t *testing.T, n *Node, name string) {
	t.Helper()
	if err := n.jobs.Pause(name); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if info, err := n.jobs.Info(name); err == nil && info.State == daemon.StatePaused {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the %s job did not pause", name)
		}
	}
}
