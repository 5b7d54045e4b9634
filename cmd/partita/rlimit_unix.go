//go:build unix

package main

import (
	"fmt"
	"syscall"
)

// raiseOpenFileLimit raises the soft limit on open files to the hard limit
// and returns the limit in force.
func raiseOpenFileLimit() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return defaultOpenFileLimit, fmt.Errorf("getrlimit: %w", err)
	}
	if rl.Cur >= rl.Max {
		return uint64(rl.Cur), nil
	}
	raised := rl
	raised.Cur = rl.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
		return uint64(rl.Cur), fmt.Errorf("setrlimit to %d: %w", rl.Max, err)
	}
	return uint64(raised.Cur), nil
}
