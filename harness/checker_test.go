package harness_test

import (
	"os"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/partitadb/partita/harness"
)

func op(client int, in harness.KVInput, call int64, out harness.KVOutput, ret int64) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret}
}

func put(k, v string) harness.KVInput { return harness.KVInput{Kind: harness.OpPut, Key: k, Value: v} }
func get(k string) harness.KVInput    { return harness.KVInput{Kind: harness.OpGet, Key: k} }
func cas(k, e, v string) harness.KVInput {
	return harness.KVInput{Kind: harness.OpCAS, Key: k, Expect: e, Value: v}
}

var (
	ok      = harness.KVOutput{}
	unknown = harness.KVOutput{Unknown: true}
)

func read(v string) harness.KVOutput { return harness.KVOutput{Value: v} }
func casOK(b bool) harness.KVOutput  { return harness.KVOutput{OK: b} }
func swap(k, v string) harness.KVInput {
	return harness.KVInput{Kind: harness.OpSwap, Key: k, Value: v}
}

// casFound is a refused compare-and-set that found v.
func casFound(v string) harness.KVOutput { return harness.KVOutput{Value: v, Found: true} }

// TestCheckerVerdicts shows the checker wiring can fail: each history is
// judged as the model says, and an illegal one yields a visualisation.
func TestCheckerVerdicts(t *testing.T) {
	cases := []struct {
		name string
		ops  []porcupine.Operation
		want porcupine.CheckResult
	}{
		{"sequential", []porcupine.Operation{
			op(0, put("a", "1"), 0, ok, 10), op(1, get("a"), 20, read("1"), 30),
		}, porcupine.Ok},
		{"stale read after an acknowledged put", []porcupine.Operation{
			op(0, put("a", "1"), 0, ok, 10), op(1, get("a"), 20, read(""), 30),
		}, porcupine.Illegal},
		{"concurrent read may see either", []porcupine.Operation{
			op(0, put("a", "1"), 0, ok, 30), op(1, get("a"), 10, read(""), 20), op(2, get("a"), 15, read("1"), 25),
		}, porcupine.Ok},
		{"read going back in time", []porcupine.Operation{
			op(0, put("a", "1"), 0, ok, 50), op(1, get("a"), 10, read("1"), 20), op(2, get("a"), 30, read(""), 40),
		}, porcupine.Illegal},
		{"two compare-and-sets from the same value both succeed", []porcupine.Operation{
			op(0, put("a", "1"), 0, ok, 5),
			op(1, cas("a", "1", "2"), 10, casOK(true), 20), op(2, cas("a", "1", "3"), 10, casOK(true), 20),
		}, porcupine.Illegal},
		{"failed compare-and-set although the value matched", []porcupine.Operation{
			op(0, put("a", "1"), 0, ok, 5), op(1, cas("a", "1", "2"), 10, casOK(false), 20),
		}, porcupine.Illegal},
		{"unknown put seen later", []porcupine.Operation{
			op(0, put("a", "1"), 0, unknown, 100), op(1, get("a"), 20, read("1"), 30),
		}, porcupine.Ok},
		{"unknown put never seen", []porcupine.Operation{
			op(0, put("a", "1"), 0, unknown, 100), op(1, get("a"), 20, read(""), 30),
		}, porcupine.Ok},
		{"unknown put cannot take effect before its call", []porcupine.Operation{
			op(1, get("a"), 0, read("1"), 10), op(0, put("a", "1"), 20, unknown, 100),
		}, porcupine.Illegal},
		{"unknown compare-and-set follows the state", []porcupine.Operation{
			op(0, put("a", "1"), 0, ok, 5), op(1, cas("a", "1", "2"), 10, unknown, 100),
			op(2, get("a"), 20, read("2"), 30), op(3, get("a"), 40, read("2"), 50),
		}, porcupine.Ok},
		{"a swap returns the value it replaced", []porcupine.Operation{
			op(0, put("a", "1"), 0, ok, 5), op(1, swap("a", "2"), 10, read("1"), 20),
			op(2, get("a"), 30, read("2"), 40),
		}, porcupine.Ok},
		{"a swap that returns no value although one was there", []porcupine.Operation{
			op(0, put("a", "1"), 0, ok, 5), op(1, swap("a", "2"), 10, read(""), 20),
		}, porcupine.Illegal},
		{"two swaps cannot both replace the same value", []porcupine.Operation{
			op(0, put("a", "1"), 0, ok, 5),
			op(1, swap("a", "2"), 10, read("1"), 20), op(2, swap("a", "3"), 10, read("1"), 20),
		}, porcupine.Illegal},
		{"a refused compare-and-set returns the value it found", []porcupine.Operation{
			op(0, put("a", "1"), 0, ok, 5), op(1, cas("a", "0", "2"), 10, casFound("1"), 20),
		}, porcupine.Ok},
		{"a refused compare-and-set that found another value", []porcupine.Operation{
			op(0, put("a", "1"), 0, ok, 5), op(1, cas("a", "0", "2"), 10, casFound(""), 20),
		}, porcupine.Illegal},
		{"keys are independent registers", []porcupine.Operation{
			op(0, put("a", "1"), 0, ok, 10), op(1, get("b"), 20, read("1"), 30),
		}, porcupine.Illegal},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			res, path, err := harness.Check(harness.KVModel, tc.ops, nil, 5*time.Second, dir)
			if err != nil {
				t.Fatal(err)
			}
			if res != tc.want {
				t.Fatalf("got %s, want %s", res, tc.want)
			}
			if res == porcupine.Illegal {
				if _, err := os.Stat(path); err != nil {
					t.Fatalf("no visualisation: %v", err)
				}
			}
		})
	}
}

// TestBrokenModelFails checks that the harness's verdict depends on the
// model: a model that forgets writes rejects a correct history.
func TestBrokenModelFails(t *testing.T) {
	broken := harness.KVModel
	broken.Step = func(state, in, out any) (bool, any) {
		if in.(harness.KVInput).Kind == harness.OpGet {
			return out.(harness.KVOutput).Value == state.(string), state
		}
		return true, state // writes are lost
	}
	ops := []porcupine.Operation{op(0, put("a", "1"), 0, ok, 10), op(1, get("a"), 20, read("1"), 30)}
	res, path, err := harness.Check(broken, ops, nil, 5*time.Second, t.TempDir())
	if err != nil || res != porcupine.Illegal || path == "" {
		t.Fatalf("broken model: got %s, %q, %v; want Illegal with a visualisation", res, path, err)
	}
	if res, _, _ := harness.Check(harness.KVModel, ops, nil, 5*time.Second, t.TempDir()); res != porcupine.Ok {
		t.Fatalf("correct model: got %s", res)
	}
}

// TestHistoryRecordsUnknownAsOpen checks that an unknown operation is
// stretched to the end of the history.
func TestHistoryRecordsUnknownAsOpen(t *testing.T) {
	h := harness.NewHistory()
	h.Add(0, put("a", "1"), 1, unknown, 2)
	h.Add(1, get("a"), 3, read("1"), 4)
	h.Add(2, get("a"), 5, read(""), 6) // the put took effect: a later read cannot miss it
	ops := h.Operations()
	if ops[0].Return <= 6 {
		t.Fatalf("unknown put returns at %d, want after every other event", ops[0].Return)
	}
	if res, _, _ := harness.Check(harness.KVModel, ops, nil, 5*time.Second, t.TempDir()); res != porcupine.Illegal {
		t.Fatalf("got %s, want Illegal", res)
	}
}
