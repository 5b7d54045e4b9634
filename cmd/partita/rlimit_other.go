//go:build !unix

package main

// raiseOpenFileLimit has no limit to raise here; it returns a modest one.
func raiseOpenFileLimit() (uint64, error) { return defaultOpenFileLimit, nil }
