// Package route is a fixture: a package of a higher layer.
package route

// Sender is referenced by the directory fixture.
type Sender struct{}
