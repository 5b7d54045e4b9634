package harness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Workload is a randomized key/value workload: concurrent clients doing
// gets, puts, swaps and compare-and-sets on a few keys of one partition.
type Workload struct {
	// Partition is the table (Bootstrap's, of the same id) every operation
	// addresses; each goes to the partition owning its key, which splits
	// change.
	Partition uint64
	// Keys is the number of keys ("k0", "k1", ...). Default 3.
	Keys int
	// Clients is the number of concurrent clients. Default 4.
	Clients int
	// OpTimeout bounds each operation, retries included; an operation
	// still unanswered then is recorded as unknown. Default 150 ticks.
	OpTimeout time.Duration
	// Gets and CASes are the fractions of reads and conditional writes;
	// the rest are blind puts. Defaults 0.4 and 0.3.
	Gets, CASes float64
	// NoSwaps makes every blind put return nothing. Otherwise half of
	// them are swaps, which return the value they replaced.
	NoSwaps bool
	// Seed drives the clients' choices.
	Seed uint64
}

func (w *Workload) fill(tick time.Duration) {
	if w.Keys == 0 {
		w.Keys = 3
	}
	if w.Clients == 0 {
		w.Clients = 4
	}
	if w.OpTimeout == 0 {
		w.OpTimeout = 150 * tick
	}
	if w.Gets == 0 && w.CASes == 0 {
		w.Gets, w.CASes = 0.4, 0.3
	}
}

// RunKV runs w until ctx ends (operations in flight then finish, bounded
// by OpTimeout) and records it in h. It returns the first unexpected
// error of a client; ErrUnknown and ErrNotApplied are expected.
func (c *Cluster) RunKV(ctx context.Context, w Workload, h *History) error {
	w.fill(c.cfg.TickInterval)
	var wg sync.WaitGroup
	errs := make([]error, w.Clients)
	for i := range w.Clients {
		wg.Go(func() {
			kc := &kvClient{c: c.NewClient(), w: w, h: h, id: h.NewClient(),
				rng: rand.New(rand.NewPCG(w.Seed, uint64(i))), name: fmt.Sprint("c", i), seen: map[string]string{}}
			errs[i] = kc.run(ctx)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// kvClient is one client of a workload.
type kvClient struct {
	c    *Client
	w    Workload
	h    *History
	id   int
	rng  *rand.Rand
	name string
	seq  int
	seen map[string]string // last value this client read or wrote, per key
}

func (k *kvClient) run(ctx context.Context) error {
	for ctx.Err() == nil {
		if err := k.step(); err != nil {
			return err
		}
	}
	return nil
}

// step performs and records one random operation.
func (k *kvClient) step() error {
	in := KVInput{Key: fmt.Sprint("k", k.rng.IntN(k.w.Keys))}
	switch p := k.rng.Float64(); {
	case p < k.w.Gets:
		in.Kind = OpGet
	case p < k.w.Gets+k.w.CASes:
		in.Kind, in.Expect = OpCAS, k.seen[in.Key]
	case !k.w.NoSwaps && k.rng.IntN(2) == 0:
		in.Kind = OpSwap
	default:
		in.Kind = OpPut
	}
	if in.Kind != OpGet {
		k.seq++
		in.Value = fmt.Sprintf("%s.%d", k.name, k.seq)
	}
	ctx, cancel := context.WithTimeout(context.Background(), k.w.OpTimeout)
	defer cancel()
	call := k.h.Now()
	out, err := k.do(ctx, in)
	ret := k.h.Now()
	switch {
	case errors.Is(err, ErrNotApplied):
		return nil // no effect: not part of the history
	case errors.Is(err, ErrUnknown):
		k.h.Add(k.id, in, call, KVOutput{Unknown: true}, ret)
		k.id = k.h.NewClient()
		delete(k.seen, in.Key)
		return nil
	case err != nil:
		return fmt.Errorf("%s: %s: %w", k.name, describeKV(in, KVOutput{Unknown: true}), err)
	}
	k.h.Add(k.id, in, call, out, ret)
	return nil
}

func (k *kvClient) do(ctx context.Context, in KVInput) (KVOutput, error) {
	p := k.w.Partition
	switch in.Kind {
	case OpGet:
		v, err := k.c.GetKey(ctx, p, in.Key)
		if err == nil {
			k.seen[in.Key] = v
		}
		return KVOutput{Value: v}, err
	case OpPut:
		err := k.c.PutKey(ctx, p, in.Key, in.Value)
		if err == nil {
			k.seen[in.Key] = in.Value
		}
		return KVOutput{}, err
	case OpSwap:
		old, err := k.c.SwapKey(ctx, p, in.Key, in.Value)
		if err == nil {
			k.seen[in.Key] = in.Value
		}
		return KVOutput{Value: old}, err
	default:
		ok, found, err := k.c.CompareAndSetKey(ctx, p, in.Key, in.Expect, in.Value)
		switch {
		case err != nil:
		case ok:
			k.seen[in.Key] = in.Value
		default:
			k.seen[in.Key] = found
		}
		return KVOutput{OK: ok, Value: found, Found: !ok}, err
	}
}
