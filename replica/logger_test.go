package replica

import (
	"log/slog"
	"strings"
	"testing"
)

// A raft panic names the partition and the node, which a test's nodes,
// logging nowhere, would otherwise lose.
func TestRaftPanicNamesThePartition(t *testing.T) {
	l := raftLogger{log: slog.New(slog.DiscardHandler), partition: 7, node: 2}
	defer func() {
		msg, _ := recover().(string)
		if !strings.HasPrefix(msg, "raft: partition 7 on node 2: tocommit(50) is out of range") {
			t.Fatalf("panic %q", msg)
		}
	}()
	l.Panicf("tocommit(%d) is out of range [lastIndex(%d)]", 50, 22)
}
