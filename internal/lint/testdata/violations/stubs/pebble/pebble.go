// Package pebble stands in for Pebble.
package pebble

// DB is a stub.
type DB struct{}
