//go:build race

package auth_test

// raceEnabled: under -race, sync.Pool drops some of what it is given, so
// reuse cannot be counted in allocations.
const raceEnabled = true
