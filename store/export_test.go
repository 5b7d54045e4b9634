package store

// SetDestroying makes Destroy call f between the replica's removal from
// the store's map and the clearing of its state.
func (s *Store) SetDestroying(f func(partition uint64)) { s.destroying = f }
