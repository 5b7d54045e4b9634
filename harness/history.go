package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// History records the operations of concurrent clients, with the faults
// injected meanwhile, for a linearizability check. It is safe for
// concurrent use.
type History struct {
	mu      sync.Mutex
	start   time.Time
	ops     []porcupine.Operation
	notes   []porcupine.Annotation
	clients int
}

// NewHistory starts an empty history; its clock starts now.
func NewHistory() *History { return &History{start: time.Now()} }

// Now returns the history's clock, in nanoseconds since it started.
func (h *History) Now() int64 { return int64(time.Since(h.start)) }

// NewClient returns a fresh client id. A client whose operation ended
// unknown takes a new id, as a process that crashed would: its operation
// is still in flight.
func (h *History) NewClient() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.clients++
	return h.clients - 1
}

// Add records an operation called at call and answered at ret. An
// operation with an unknown outcome stays open until the end of the
// history (ret is ignored).
func (h *History) Add(client int, in KVInput, call int64, out KVOutput, ret int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if out.Unknown {
		ret = -1
	}
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
}

// Note records a fault, shown on the visualisation's "nemesis" line.
func (h *History) Note(desc string, start, end int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.notes = append(h.notes, porcupine.Annotation{
		Tag: "nemesis", Start: start, End: end, Description: desc, BackgroundColor: "#ffd7d7",
	})
}

// Operations returns the history; open operations return after every
// other event.
func (h *History) Operations() []porcupine.Operation {
	h.mu.Lock()
	defer h.mu.Unlock()
	end := h.Now()
	for _, op := range h.ops {
		end = max(end, op.Return, op.Call)
	}
	out := append([]porcupine.Operation(nil), h.ops...)
	for i := range out {
		if out[i].Return < 0 {
			out[i].Return = end + 1
		}
	}
	return out
}

// Stats counts the operations (all of them, and those left unknown) and
// the faults noted.
func (h *History) Stats() (ops, unknown, faults int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	faults = len(h.notes)
	for _, op := range h.ops {
		if op.Return < 0 {
			unknown++
		}
	}
	return len(h.ops), unknown, faults
}

// Check checks ops against model within timeout. When the history is not
// linearizable it writes porcupine's visualisation (with notes) into dir
// and returns its path.
func Check(model porcupine.Model, ops []porcupine.Operation, notes []porcupine.Annotation, timeout time.Duration, dir string) (porcupine.CheckResult, string, error) {
	res, info := porcupine.CheckOperationsVerbose(model, ops, timeout)
	if res != porcupine.Illegal {
		return res, "", nil
	}
	info.AddAnnotations(notes)
	path := filepath.Join(dir, "linearizability.html")
	if err := porcupine.VisualizePath(model, info, path); err != nil {
		return res, "", fmt.Errorf("harness: write visualisation: %w", err)
	}
	return res, path, nil
}

// RequireLinearizable fails t when h is not linearizable under KVModel,
// naming the visualisation file. The file goes to a fresh directory under
// os.TempDir() that outlives the test (t.TempDir() is removed when the
// test ends, taking the evidence with it). A check that times out is
// logged, not failed.
func (h *History) RequireLinearizable(t testing.TB, timeout time.Duration) {
	t.Helper()
	h.mu.Lock()
	notes := append([]porcupine.Annotation(nil), h.notes...)
	h.mu.Unlock()
	ops := h.Operations()
	dir, err := os.MkdirTemp("", "partita-linearizability-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(dir) // only succeeds when nothing was written
	res, path, err := Check(KVModel, ops, notes, timeout, dir)
	switch {
	case err != nil:
		t.Fatalf("history of %d operations is not linearizable (%v)", len(ops), err)
	case res == porcupine.Illegal:
		t.Fatalf("history of %d operations is not linearizable: see %s", len(ops), path)
	case res == porcupine.Unknown:
		t.Logf("linearizability check of %d operations timed out after %v", len(ops), timeout)
	}
}

// Faults returns the descriptions of the faults noted, in order.
func (h *History) Faults() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, len(h.notes))
	for i, n := range h.notes {
		out[i] = n.Description
	}
	return out
}

// Writes returns the values the history's puts and compare-and-sets
// wrote, each with its key (the workload makes every value unique):
// applied, those acknowledged (a put, a successful compare-and-set), and
// maybe, those whose outcome is unknown.
func (h *History) Writes() (applied, maybe map[string]string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	applied, maybe = map[string]string{}, map[string]string{}
	for _, op := range h.ops {
		in, out := op.Input.(KVInput), op.Output.(KVOutput)
		switch {
		case in.Kind == OpGet:
		case out.Unknown:
			maybe[in.Value] = in.Key
		case in.Kind == OpPut || in.Kind == OpSwap || out.OK:
			applied[in.Value] = in.Key
		}
	}
	return applied, maybe
}
