// Package store is below node and imports it: a violation.
package store

import "github.com/partitadb/partita/node"

// Start starts the node.
func Start() { node.Start() }
