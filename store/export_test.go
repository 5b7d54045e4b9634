package store

import "github.com/partitadb/partita/transport"

// SetDestroying makes Destroy call f between the replica's removal from
// the store's map and the clearing of its state.
func (s *Store) SetDestroying(f func(partition uint64)) { s.destroying = f }

// Process runs one processing round over ids, as a worker does, for a
// test that runs a store's rounds itself (a store never started).
func (s *Store) Process(ids []uint64) error {
	_, _, _, err := s.process(ids)
	return err
}

// SetTransport gives a store that is never started its transport.
func (s *Store) SetTransport(tr transport.Transport) { s.tr = tr }
