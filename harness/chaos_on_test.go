//go:build chaos

package harness_test

import "time"

// The soak (go test -tags chaos): many seeds, longer workloads.
const (
	defaultSeeds    = 20
	defaultDuration = 10 * time.Second
)
