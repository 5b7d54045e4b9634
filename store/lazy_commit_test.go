package store_test

import (
	"testing"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/store"
)

// TestLazyCommitSwitchIsEachStores: stores built from one Config each
// get a switch of their own (raft.lazy-commit turns one node's), on as
// the configuration says.
func TestLazyCommitSwitchIsEachStores(t *testing.T) {
	cfg := store.DefaultConfig()
	var stores []*store.Store
	for i := range 2 {
		eng, err := engine.Open(engine.Options{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { eng.Close() })
		c := cfg
		c.NodeID, c.Engine = uint64(i+1), eng
		s, err := store.NewStore(c)
		if err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
	}
	if !stores[0].LazyCommit() || !stores[1].LazyCommit() {
		t.Fatal("lazy commit off by default")
	}
	stores[0].SetLazyCommit(false)
	if stores[0].LazyCommit() || !stores[1].LazyCommit() {
		t.Fatalf("one store's switch turned off: lazy commit %t and %t, want false and true",
			stores[0].LazyCommit(), stores[1].LazyCommit())
	}
	if !cfg.Replica.LazyCommit.Load() {
		t.Fatal("a store turned its configuration's switch")
	}
}
