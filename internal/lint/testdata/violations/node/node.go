// Package node is the wiring.
package node

// Start starts nothing.
func Start() {}
