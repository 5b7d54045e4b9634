//go:build !race

package auth_test

// raceEnabled: see race_test.go.
const raceEnabled = false
