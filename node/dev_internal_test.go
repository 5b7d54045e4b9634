package node

import (
	"context"
	"testing"
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
