// Package operator imports store: a violation.
package operator

import "github.com/partitadb/partita/store"

// Run starts the store.
func Run() { store.Start() }
