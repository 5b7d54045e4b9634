// Package directory is a fixture: it imports a package of a higher layer.
package directory

import "github.com/partitadb/partita/route"

// Up breaks the layering.
var Up route.Sender
