// Command partita may import node.
package main

import "github.com/partitadb/partita/node"

func main() { node.Start() }
