// An external test package may start a node.
package store_test

import (
	"testing"

	"github.com/partitadb/partita/node"
)

func TestNode(t *testing.T) { node.Start() }
