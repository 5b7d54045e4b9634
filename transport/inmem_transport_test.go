package transport_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partitadb/partita/transport"
)

// blockingNode holds every delivery until release is closed.
type blockingNode struct {
	entered chan struct{}
	release chan struct{}
	done    atomic.Int32
}

func (b *blockingNode) HandleRaft([]transport.Message) {
	b.entered <- struct{}{}
	<-b.release
	b.done.Add(1)
}

func (b *blockingNode) HandleSnapshot(transport.Snapshot) error {
	b.HandleRaft(nil)
	return nil
}

// TestInmemDisconnectWaitsForDeliveries: once Disconnect returns, no
// delivery to the node is in progress or starts, so that its store may be
// stopped and its engine closed (a snapshot streamed into a closed engine
// panicked in a test's teardown).
func TestInmemDisconnectWaitsForDeliveries(t *testing.T) {
	for _, kind := range []string{"raft", "snapshot"} {
		t.Run(kind, func(t *testing.T) {
			net := transport.NewInmem(1)
			b := &blockingNode{entered: make(chan struct{}, 2), release: make(chan struct{})}
			net.Connect(2, b)
			from := net.Connect(1, &blockingNode{entered: make(chan struct{}, 1), release: make(chan struct{})})
			sent := make(chan error, 1)
			go func() {
				if kind == "raft" {
					from.Send(2, []transport.Message{{Partition: 1}})
					sent <- nil
					return
				}
				sent <- from.(transport.SnapshotSender).SendSnapshot(context.Background(), 2, transport.Snapshot{Partition: 1})
			}()
			<-b.entered
			disconnected := make(chan struct{})
			go func() {
				net.Disconnect(2)
				close(disconnected)
			}()
			select {
			case <-disconnected:
				t.Fatal("Disconnect returned while a delivery to the node was in progress")
			case <-time.After(50 * time.Millisecond):
			}
			close(b.release)
			<-disconnected
			if b.done.Load() != 1 {
				t.Fatalf("%d deliveries finished, want 1", b.done.Load())
			}
			if err := <-sent; err != nil {
				t.Fatalf("the delivery in progress failed: %v", err)
			}
			// Disconnected: nothing more reaches it.
			from.Send(2, []transport.Message{{Partition: 1}})
			if err := from.(transport.SnapshotSender).SendSnapshot(context.Background(), 2, transport.Snapshot{Partition: 1}); err == nil {
				t.Fatal("a snapshot reached a disconnected node")
			}
			if b.done.Load() != 1 {
				t.Fatalf("%d deliveries after Disconnect, want none", b.done.Load()-1)
			}
		})
	}
}

// TestInmemDelayedMessageReachesTheNodeConnectedThen: a message delayed in
// the network reaches the node connected when the delay ends, and none
// once it is disconnected.
func TestInmemDelayedMessageReachesTheNodeConnectedThen(t *testing.T) {
	net := transport.NewInmem(1)
	net.SetFaults(transport.Faults{MaxDelay: 200 * time.Millisecond})
	old := &blockingNode{entered: make(chan struct{}, 64), release: make(chan struct{})}
	close(old.release)
	net.Connect(2, old)
	from := net.Connect(1, old)
	for range 32 {
		from.Send(2, []transport.Message{{Partition: 1}})
	}
	net.Disconnect(2)
	net.Wait()
	if n := old.done.Load(); n != 0 {
		t.Fatalf("%d delayed messages reached a node disconnected before their delays ended", n)
	}
}
