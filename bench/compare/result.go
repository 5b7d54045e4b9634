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
	// Round is the repeat (-rounds) this run belongs to: 0 for the main
	// measurement (the first round), 2 and up for the repeated runs (the
	// cluster's and etcd's puts, the floor's and the single node's puts
	// and gets).
	Round int
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

// find returns the main measurement's run of system under workload with
// clients and values of valueSize bytes, if any: figures are only compared
// at the same value size.
func (rs results) find(system, workload string, clients, valueSize int) (result, bool) {
	for _, r := range rs {
		if r.Round == 0 && r.matches(system, workload, clients, valueSize) {
			return r, true
		}
	}
	return result{}, false
}

// inRound returns round's run of system under workload with clients and
// values of valueSize bytes, if any (round 1 is the main measurement,
// whose runs carry Round 0).
func (rs results) inRound(round int, system, workload string, clients, valueSize int) (result, bool) {
	for _, r := range rs {
		if max(r.Round, 1) == round && r.matches(system, workload, clients, valueSize) {
			return r, true
		}
	}
	return result{}, false
}

func (r result) matches(system, workload string, clients, valueSize int) bool {
	return r.System == system && r.Workload == workload && r.Clients == clients && r.ValueSize == valueSize && r.Missing == ""
}
