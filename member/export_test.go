package member

// SetDirectoryRead makes LocalDirectory call f between its reads and its
// check that the meta replica it read is still this node's.
func (m *Member) SetDirectoryRead(f func()) { m.directoryRead = f }
