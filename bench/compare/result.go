package main

import "time"

// result is one measured run: a system under one workload.
type result struct {
	System    string
	Workload  string // "put" or "get"
	Clients   int
	ValueSize int // bytes of each item's payload (etcd: of each value)
	OpsPerSec float64
	P50, P99  time.Duration
	Ops       int64
	Errors    int64
	Elapsed   time.Duration
	ClientCPU time.Duration
	ServerCPU time.Duration
	// Missing, if set, says why the system could not be measured.
	Missing string
}

// cores is CPU time over the run's wall time: 1.0 is one core busy.
func cores(cpu, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return cpu.Seconds() / elapsed.Seconds()
}

// perThousand is CPU milliseconds per 1,000 operations.
func perThousand(cpu time.Duration, ops int64) float64 {
	if ops == 0 {
		return 0
	}
	return float64(cpu.Milliseconds()) / (float64(ops) / 1000)
}

// results is every run of a comparison, in order.
type results []result

// find returns the measured run of system under workload with clients and
// values of valueSize bytes, if any: figures are only compared at the same
// value size.
func (rs results) find(system, workload string, clients, valueSize int) (result, bool) {
	for _, r := range rs {
		if r.System == system && r.Workload == workload && r.Clients == clients && r.ValueSize == valueSize && r.Missing == "" {
			return r, true
		}
	}
	return result{}, false
}
