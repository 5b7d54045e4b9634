package replica

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestLatchesServeInOrder: waiters get a held latch in the order they
// came, one per release; one whose context ends leaves the line.
func TestLatchesServeInOrder(t *testing.T) {
	l := newLatches()
	ctx := context.Background()
	if err := l.acquire(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := l.acquire(ctx, "other"); err != nil {
		t.Fatal(err) // another key is free
	}
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	gone, cancel := context.WithCancel(ctx)
	for i := range 4 {
		c := ctx
		if i == 2 {
			c = gone
		}
		wg.Go(func() {
			if err := l.acquire(c, "k"); err != nil {
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			l.release("k")
		})
		// Queue them one after the other.
		for deadline := time.Now().Add(5 * time.Second); ; {
			l.mu.Lock()
			n := len(l.held["k"].waiters)
			l.mu.Unlock()
			if n == i+1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("waiter %d never queued", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	cancel()
	for deadline := time.Now().Add(5 * time.Second); ; {
		l.mu.Lock()
		n := len(l.held["k"].waiters)
		l.mu.Unlock()
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cancelled waiter stayed in line")
		}
		time.Sleep(time.Millisecond)
	}
	l.release("k")
	wg.Wait()
	if len(order) != 3 || order[0] != 0 || order[1] != 1 || order[2] != 3 {
		t.Fatalf("latch served in order %v, want [0 1 3]", order)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, held := l.held["k"]; held {
		t.Fatal("the latch is still held after every waiter released it")
	}
}
