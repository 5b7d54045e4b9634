// A module that breaks every rule of package lint once (and keeps the
// rules it must not be blamed for). It shares the module path of the tree
// so the rules' package names apply.
module github.com/partitadb/partita

go 1.26

require (
	example.com/unused v0.0.0
	github.com/cockroachdb/pebble/v2 v2.0.0
)

replace (
	example.com/unused => ./stubs/unused
	github.com/cockroachdb/pebble/v2 => ./stubs/pebble
)
