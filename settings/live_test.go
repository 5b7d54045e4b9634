package settings

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func mustState(t *testing.T, changes ...Change) State {
	t.Helper()
	for i := range changes {
		changes[i].Version = uint64(i) + 1
	}
	st, err := Replay(changes, 0)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func set(key, value string, scope Scope) Change {
	return Change{Edits: []Edit{{Key: key, Value: value, Scope: scope}}}
}

func TestLiveWatchersSeeChanges(t *testing.T) {
	reg := MustRegistry(Catalog()...)
	l, err := NewLive(reg, map[string]Static{"doctor.dead-after": {Text: "40s", From: FromFlag}}, Target{Node: "3", Zone: "b"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Get("doctor.dead-after").Duration(); got != 40*time.Second {
		t.Fatalf("dead-after %v, want the flag's 40s", got)
	}
	var seen []time.Duration
	cancel := l.Watch("doctor.dead-after", func(v Value) { seen = append(seen, v.Duration()) })

	zoneA := mustState(t, set("doctor.dead-after", "1m0s", Scope{ScopeZone, "a"}))
	if changed := l.Update(zoneA); len(changed) != 0 || len(seen) != 0 {
		t.Fatalf("another zone's override changed %v, watcher saw %v", changed, seen)
	}
	zoneB := mustState(t, set("doctor.dead-after", "1m0s", Scope{ScopeZone, "a"}), set("doctor.dead-after", "2m0s", Scope{ScopeZone, "b"}))
	if changed := l.Update(zoneB); len(changed) != 1 || changed[0] != "doctor.dead-after" {
		t.Fatalf("changed %v", changed)
	}
	if len(seen) != 1 || seen[0] != 2*time.Minute || l.Version() != 2 {
		t.Fatalf("watcher saw %v at version %d", seen, l.Version())
	}
	// An older state (a late push) is ignored.
	if changed := l.Update(zoneA); changed != nil || l.Get("doctor.dead-after").Duration() != 2*time.Minute {
		t.Fatalf("an older version was applied: %v", changed)
	}
	cancel()
	unset := zoneB
	unset, _ = unset.Apply(Change{Version: 3, Edits: []Edit{{Key: "doctor.dead-after", Scope: Scope{ScopeZone, "b"}, Unset: true}}})
	l.Update(unset)
	if len(seen) != 1 {
		t.Fatalf("a cancelled watcher was called: %v", seen)
	}
	if e := effective(l, "doctor.dead-after"); e.Value.Duration() != 40*time.Second || e.Source.Kind != FromFlag {
		t.Fatalf("after the unset: %v from %v, want 40s from flag", e.Value, e.Source)
	}
}

// TestLiveVersionFollowsTheWatchers: a version is reported in force only
// once every watcher of what it changed has run; the watchers read the
// new values meanwhile. (Reported first, a node's /debug/config showed a
// raft tick override's version while the store still ran the old tick.)
func TestLiveVersionFollowsTheWatchers(t *testing.T) {
	l, err := NewLive(MustRegistry(Catalog()...), nil, Target{Node: "1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var during uint64
	var read time.Duration
	l.Watch("raft.tick-interval", func(Value) {
		during, read = l.Version(), l.Get("raft.tick-interval").Duration()
	})
	l.Update(mustState(t, set("raft.tick-interval", "50ms", Cluster)))
	if during != 0 || read != 50*time.Millisecond {
		t.Fatalf("the watcher ran at version %d reading %v: want version 0 (not yet in force), reading 50ms", during, read)
	}
	if v := l.Version(); v != 1 {
		t.Fatalf("version %d after the update, want 1", v)
	}
}

func effective(l *Live, name string) Effective {
	for _, e := range l.Effective() {
		if e.Name == name {
			return e
		}
	}
	return Effective{}
}

func TestLiveTableOverrides(t *testing.T) {
	reg := MustRegistry(Catalog()...)
	l, err := NewLive(reg, nil, Target{Node: "1", Zone: "a", Table: "ignored"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	l.Watch("request.timeout", func(Value) { calls++ })
	tableOnly := mustState(t, set("request.timeout", "2s", Scope{ScopeTable, "orders"}))
	if changed := l.Update(tableOnly); len(changed) != 1 || calls != 1 {
		t.Fatalf("a table's override: changed %v, watcher called %d times; want it told", changed, calls)
	}
	if got := l.ForTable("request.timeout", "orders").Duration(); got != 2*time.Second {
		t.Fatalf("orders: %v", got)
	}
	if got, node := l.ForTable("request.timeout", "users").Duration(), l.Get("request.timeout").Duration(); got != 10*time.Second || node != 10*time.Second {
		t.Fatalf("users %v, node %v: want the default 10s", got, node)
	}
	if tables := l.TableOverrides("request.timeout"); len(tables) != 1 || tables["orders"].Duration() != 2*time.Second {
		t.Fatalf("table overrides %v", tables)
	}
	// A cluster-wide override moves every table but the one named.
	both := mustState(t, set("request.timeout", "2s", Scope{ScopeTable, "orders"}), set("request.timeout", "30s", Cluster))
	l.Update(both)
	if o, u := l.ForTable("request.timeout", "orders").Duration(), l.ForTable("request.timeout", "users").Duration(); o != 2*time.Second || u != 30*time.Second {
		t.Fatalf("orders %v, users %v; want 2s and 30s", o, u)
	}
}

// Concurrent updates reach the watchers in version order, and the newest
// version stays, whatever order they arrive in.
func TestLiveConcurrentUpdates(t *testing.T) {
	reg := MustRegistry(Catalog()...)
	l, err := NewLive(reg, nil, Target{Node: "1", Zone: "a"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var seen []int64 // written by Update's goroutine, under its lock
	l.Watch("raft.log-max-entries", func(v Value) { seen = append(seen, v.Int()) })
	const n = 50
	states := make([]State, n)
	var st State
	for i := range n {
		st, err = st.Apply(Change{Version: uint64(i) + 1, Edits: []Edit{{Key: "raft.log-max-entries", Scope: Cluster, Value: fmt.Sprint(100 + i)}}})
		if err != nil {
			t.Fatal(err)
		}
		states[i] = st
	}
	var wg sync.WaitGroup
	for _, i := range rand.Perm(n) {
		wg.Go(func() { l.Update(states[i]) })
	}
	wg.Wait()
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] {
			t.Fatalf("watcher saw %d after %d: %v", seen[i], seen[i-1], seen)
		}
	}
	if got := l.Get("raft.log-max-entries").Int(); got != 100+n-1 || l.Version() != n {
		t.Fatalf("value %d at version %d, want %d at %d", got, l.Version(), 100+n-1, n)
	}
}

func TestRegistryRejectsBadCatalogues(t *testing.T) {
	good := Setting{Name: "a.b", Kind: Int, Default: "5", Min: "1", Max: "10", Doc: "d", Readers: "r"}
	for name, mod := range map[string]func(*Setting){
		"default out of bounds": func(s *Setting) { s.Default = "11" },
		"min above max":         func(s *Setting) { s.Min = "20" },
		"bad default":           func(s *Setting) { s.Default = "five" },
		"no doc":                func(s *Setting) { s.Doc = "" },
		"choices on an int":     func(s *Setting) { s.Choices = []string{"x"} },
		"enum without choices":  func(s *Setting) { s.Kind, s.Min, s.Max, s.Default = Enum, "", "", "x" },
		"bounds on a bool":      func(s *Setting) { s.Kind, s.Default = Bool, "true" },
	} {
		s := good
		mod(&s)
		if _, err := NewRegistry(s); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewRegistry(good, good); err == nil {
		t.Error("a name defined twice: accepted")
	}
	if _, err := NewRegistry(good); err != nil {
		t.Errorf("a good setting: %v", err)
	}
	if _, err := NewRegistry(Catalog()...); err != nil {
		t.Errorf("the catalogue: %v", err)
	}
}

func TestReplayRefusesGaps(t *testing.T) {
	if _, err := Replay([]Change{{Version: 1}, {Version: 3}}, 0); err == nil {
		t.Error("a gap in the versions was replayed")
	}
	if _, err := Replay([]Change{{Version: 1}}, 4); err == nil {
		t.Error("a version past the last was replayed")
	}
}

// FuzzParse: whatever a value parses to prints in a form that parses
// back to the same value.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"16MiB", "1000000", "1GB", "2s", "1m30s", "0.25", "true", "debug", "-5", "9223372036854775807KiB"} {
		for k := Duration; k <= Enum; k++ {
			f.Add(int(k), s)
		}
	}
	choices := []string{"debug", "info"}
	f.Fuzz(func(t *testing.T, kind int, text string) {
		k := Kind(kind%int(Enum) + 1)
		if k < Duration {
			k = Duration
		}
		v, err := parse(k, text, choices)
		if err != nil {
			return
		}
		back, err := parse(k, v.String(), choices)
		if err != nil || !back.Equal(v) {
			t.Fatalf("%v %q parsed to %v, printed %q, read back %v (%v)", k, text, v, v.String(), back, err)
		}
	})
}
