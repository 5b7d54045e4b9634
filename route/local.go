package route

import "github.com/partitadb/partita/store"

// LocalStore is a node's store as the Sender's Local.
func LocalStore(s *store.Store) Local { return storeLocal{s} }

type storeLocal struct{ *store.Store }

func (l storeLocal) HasReplica(partition uint64) bool { return l.Replica(partition) != nil }

func (l storeLocal) LeaderOf(partition uint64) uint64 {
	if r := l.Replica(partition); r != nil {
		return r.Leader()
	}
	return 0
}
