// Package engine may import Pebble.
package engine

import "github.com/cockroachdb/pebble/v2"

// DB is Pebble's.
type DB = pebble.DB
