package topology

import (
	"context"
	"sync"
	"time"

	"github.com/partitadb/partita/directory"
)

// Gather asks every node of snap for its replicas with status (a node's
// ReplicaStatus, over RPC or local), concurrently, waiting at most
// timeout for each, and returns the answers for Partitions.
func Gather(ctx context.Context, snap *directory.Snapshot, timeout time.Duration,
	status func(ctx context.Context, node uint64) (LocalReplicas, error)) Answers {
	a := NewAnswers()
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, rec := range snap.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sctx, cancel := context.WithTimeout(ctx, timeout)
			lr, err := status(sctx, rec.GetId())
			cancel()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				a.Errs[rec.GetId()] = err
				return
			}
			a.Replicas[rec.GetId()] = lr
		}()
	}
	wg.Wait()
	return a
}
