package harness

import (
	"fmt"
	"sort"

	"github.com/anishathalye/porcupine"
)

// OpKind is a key/value operation of a history.
type OpKind uint8

// The operations of KVModel.
const (
	OpGet OpKind = iota
	OpPut
	OpCAS
	OpSwap
)

// KVInput is an operation's call: Get(Key), Put(Key, Value),
// CAS(Key, Expect, Value) with Expect "" meaning absent, or
// Swap(Key, Value), a put that returns the value it replaced.
type KVInput struct {
	Kind          OpKind
	Key           string
	Value, Expect string
}

// KVOutput is an operation's response. Unknown marks an operation whose
// outcome the client never learned: it may have taken effect at any time
// after its call, or never.
type KVOutput struct {
	Value   string // Get; Swap: the value replaced; CAS with Found
	OK      bool   // CAS
	Found   bool   // CAS refused, Value the value it found
	Unknown bool
}

// KVModel is the sequential specification of a register per key; the
// state of one key is its value ("" when absent). Histories are
// partitioned by key.
var KVModel = porcupine.Model{
	Partition: partitionByKey,
	Init:      func() any { return "" },
	Step: func(state, in, out any) (bool, any) {
		return stepKV(state.(string), in.(KVInput), out.(KVOutput))
	},
	Equal:             func(a, b any) bool { return a.(string) == b.(string) },
	DescribeOperation: func(in, out any) string { return describeKV(in.(KVInput), out.(KVOutput)) },
	DescribeState: func(state any) string {
		if state.(string) == "" {
			return "(absent)"
		}
		return state.(string)
	},
}

func stepKV(state string, in KVInput, out KVOutput) (bool, string) {
	switch in.Kind {
	case OpGet:
		return out.Unknown || out.Value == state, state
	case OpPut:
		return true, in.Value
	case OpSwap:
		return out.Unknown || out.Value == state, in.Value
	case OpCAS:
		applies := state == in.Expect
		if !out.Unknown && out.OK != applies {
			return false, state
		}
		if !out.Unknown && out.Found && out.Value != state {
			return false, state
		}
		if applies {
			return true, in.Value
		}
		return true, state
	}
	return false, state
}

func describeKV(in KVInput, out KVOutput) string {
	res := "?"
	switch in.Kind {
	case OpGet:
		if !out.Unknown {
			res = fmt.Sprintf("%q", out.Value)
		}
		return fmt.Sprintf("get(%s) -> %s", in.Key, res)
	case OpPut:
		if !out.Unknown {
			res = "ok"
		}
		return fmt.Sprintf("put(%s, %s) -> %s", in.Key, in.Value, res)
	case OpSwap:
		if !out.Unknown {
			res = fmt.Sprintf("%q", out.Value)
		}
		return fmt.Sprintf("swap(%s, %s) -> %s", in.Key, in.Value, res)
	default:
		if !out.Unknown {
			res = fmt.Sprint(out.OK)
			if out.Found {
				res += fmt.Sprintf(", found %q", out.Value)
			}
		}
		return fmt.Sprintf("cas(%s, %q, %s) -> %s", in.Key, in.Expect, in.Value, res)
	}
}

func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	byKey := make(map[string][]porcupine.Operation)
	for _, op := range history {
		k := op.Input.(KVInput).Key
		byKey[k] = append(byKey[k], op)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][]porcupine.Operation, 0, len(keys))
	for _, k := range keys {
		out = append(out, byKey[k])
	}
	return out
}
