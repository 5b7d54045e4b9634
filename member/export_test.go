package member

import "context"

// SetDirectoryRead makes LocalDirectory call f between its reads and its
// check that the meta replica it read is still this node's.
func (m *Member) SetDirectoryRead(f func()) { m.directoryRead = f }

// CollectRemoved runs the reconciler's collection of removed replicas.
func (m *Member) CollectRemoved() (int, error) { return m.collectRemoved(context.Background()) }
