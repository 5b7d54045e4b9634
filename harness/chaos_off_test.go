//go:build !chaos

package harness_test

import "time"

// The default run: one seed per scenario, a short workload.
const (
	defaultSeeds    = 1
	defaultDuration = 2 * time.Second
)
