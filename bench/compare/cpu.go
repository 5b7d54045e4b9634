package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times (100 on Linux).
const clockTicks = 100

// processCPU returns the user+system CPU time pid has used so far.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may
	// contain spaces: state is field 3, utime 14, stime 15.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("compare: short /proc/%d/stat", pid)
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// cpuOf sums the CPU time of pids (a process that is gone counts 0).
func cpuOf(pids []int) time.Duration {
	var total time.Duration
	for _, p := range pids {
		if d, err := processCPU(p); err == nil {
			total += d
		}
	}
	return total
}

// selfCPU returns this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return rusageCPU(&ru)
}

func rusageCPU(ru *syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter measures the CPU a client and some server processes use
// between start and stop.
type cpuMeter struct {
	servers       []int
	client, serve time.Duration
	clientFn      func() time.Duration
}

func startMeter(client func() time.Duration, servers []int) *cpuMeter {
	return &cpuMeter{servers: servers, clientFn: client, client: client(), serve: cpuOf(servers)}
}

// stop returns the client's and the servers' CPU since start.
func (m *cpuMeter) stop() (client, server time.Duration) {
	return m.clientFn() - m.client, cpuOf(m.servers) - m.serve
}
