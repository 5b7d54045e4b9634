package bench

import (
	"math/rand/v2"
	"sort"
)

// Op is one kind of operation a workload issues.
type Op int

// The operation kinds, in report order.
const (
	OpRead   Op = iota // GetItem of an existing key
	OpUpdate           // UpdateItem of an existing key's payload
	OpInsert           // PutItem of a new key
	OpScan             // Query of 1..MaxScanLength items from an existing key on
	OpRMW              // read-modify-write: GetItem then UpdateItem of one key
	OpAdd              // UpdateItem ADD 1 to an existing key's counter
	OpCond             // UpdateItem of an existing key's payload, conditional on it existing
	OpTxn              // TransactWriteItems updating the payloads of Config.TxnItems existing keys
	numOps
)

var opNames = [numOps]string{"read", "update", "insert", "scan", "rmw", "add", "cond", "txn"}

// String is the operation's name in reports.
func (o Op) String() string { return opNames[o] }

// Workload is an operation mix: the proportions of each operation kind
// (summing to 1) and the default key distribution.
type Workload struct {
	Read, Update, Insert, Scan, RMW, Add, Cond, Txn float64
	// Distribution is the default key distribution.
	Distribution string
	// Description says what the mix models.
	Description string
}

// Workloads are the available mixes: YCSB's core workloads a-f, with their
// proportions and distributions, and the two pure ones.
var Workloads = map[string]Workload{
	"a":   {Read: 0.5, Update: 0.5, Distribution: Zipfian, Description: "update heavy: 50% reads, 50% updates"},
	"b":   {Read: 0.95, Update: 0.05, Distribution: Zipfian, Description: "read mostly: 95% reads, 5% updates"},
	"c":   {Read: 1, Distribution: Zipfian, Description: "read only"},
	"d":   {Read: 0.95, Insert: 0.05, Distribution: Latest, Description: "read latest: 95% reads of recent items, 5% inserts"},
	"e":   {Scan: 0.95, Insert: 0.05, Distribution: Zipfian, Description: "short ranges: 95% Query of 1..max-scan-length items, 5% inserts"},
	"f":   {Read: 0.5, RMW: 0.5, Distribution: Zipfian, Description: "read-modify-write: 50% reads, 50% GetItem+UpdateItem"},
	"put": {Insert: 1, Distribution: Uniform, Description: "PutItem of new keys"},
	"add": {Add: 1, Distribution: Uniform, Description: "UpdateItem ADD 1 to a counter of loaded keys (-records 1: every client on one key)"},
	"cond": {Cond: 1, Distribution: Uniform,
		Description: "UpdateItem SET of loaded keys with a ConditionExpression on an existing attribute (-records 1: every client on one key)"},
	"get": {Read: 1, Distribution: Uniform, Description: "GetItem of loaded keys"},
	"txn": {Txn: 1, Distribution: Uniform,
		Description: "TransactWriteItems updating --txn-items loaded keys (spread over the table's partitions) at once"},
}

// WorkloadNames returns the workload names, sorted.
func WorkloadNames() []string {
	names := make([]string, 0, len(Workloads))
	for n := range Workloads {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// weights returns the proportions indexed by Op.
func (w Workload) weights() [numOps]float64 {
	return [numOps]float64{w.Read, w.Update, w.Insert, w.Scan, w.RMW, w.Add, w.Cond, w.Txn}
}

// reads reports whether the mix touches existing items.
func (w Workload) reads() bool { return w.Read+w.Update+w.Scan+w.RMW+w.Add+w.Cond+w.Txn > 0 }

// mix picks operations in a workload's proportions.
type mix struct {
	cumulative [numOps]float64
	last       Op // the last operation with a share
}

func newMix(w Workload) mix {
	var m mix
	sum := 0.0
	for i, p := range w.weights() {
		sum += p
		m.cumulative[i] = sum
		if p > 0 {
			m.last = Op(i)
		}
	}
	for i := range m.cumulative {
		m.cumulative[i] /= sum
	}
	return m
}

// next draws one operation.
func (m mix) next(rng *rand.Rand) Op {
	u := rng.Float64()
	for i, c := range m.cumulative {
		if u < c {
			return Op(i)
		}
	}
	return m.last // rounding left u above the top bucket
}
