package settings

import (
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
)

// Live is one node's effective settings. Readers subscribe to the
// settings they use and apply each change as it comes; Update installs a
// new state of the overrides. Safe for concurrent use; reads take no
// lock (they are on the request path: ForTable).
type Live struct {
	reg    *Registry
	static map[string]Static
	target Target // the node and its zone; Table is empty
	log    *slog.Logger

	cur atomic.Pointer[view]
	// applied is the version of the last state whose watchers have all
	// run (Version): cur is stored first, so that watchers read the new
	// values, and a reader of the version must not see it before what
	// watches the values has changed.
	applied atomic.Uint64

	upd      sync.Mutex // serializes Update, so watchers see changes in order
	mu       sync.Mutex // guards the fields below
	watchers map[string]map[int]func(Value)
	nextID   int
}

// view is one state of the overrides resolved for the node: immutable.
type view struct {
	state State
	eff   map[string]Effective
	// tables holds, for the settings with an override for a table, the
	// value for each such table.
	tables map[string]map[string]Effective
}

// NewLive resolves every setting of reg for the node target from its
// static values (checked: a bad one is an error) and no overrides.
func NewLive(reg *Registry, static map[string]Static, target Target, log *slog.Logger) (*Live, error) {
	if err := reg.CheckStatic(static); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	target.Table = ""
	l := &Live{reg: reg, static: static, target: target, log: log, watchers: map[string]map[int]func(Value){}}
	l.cur.Store(l.resolve(State{}))
	return l, nil
}

// resolve resolves every setting for the node, and each table-scoped
// override for its table, under st.
func (l *Live) resolve(st State) *view {
	v := &view{state: st, eff: make(map[string]Effective, len(l.reg.names))}
	for _, n := range l.reg.names {
		e, err := l.reg.Resolve(n, l.static, st, l.target)
		if err != nil {
			l.log.Warn("a setting override does not apply", "setting", n, "err", err)
		}
		v.eff[n] = e
	}
	for k := range st.set {
		if k.scope.Kind != ScopeTable {
			continue
		}
		t := l.target
		t.Table = k.scope.Name
		e, err := l.reg.Resolve(k.key, l.static, st, t)
		if err != nil {
			l.log.Warn("a table's setting override does not apply", "setting", k.key, "table", t.Table, "err", err)
		}
		if v.tables == nil {
			v.tables = map[string]map[string]Effective{}
		}
		if v.tables[k.key] == nil {
			v.tables[k.key] = map[string]Effective{}
		}
		v.tables[k.key][t.Table] = e
	}
	return v
}

// Get is the node's value of name. An unknown name is a programming
// error: readers name settings of the catalogue.
func (l *Live) Get(name string) Value {
	return l.Lookup(name).Value
}

// Lookup is name's value with its source.
func (l *Live) Lookup(name string) Effective {
	e, ok := l.cur.Load().eff[name]
	if !ok {
		panic("settings: Lookup of unknown setting " + name)
	}
	return e
}

// ForTable is name's value for one table: the node's, unless an override
// names the table.
func (l *Live) ForTable(name, table string) Value {
	return l.LookupTable(name, table).Value
}

// LookupTable is name's value for one table, with its source.
func (l *Live) LookupTable(name, table string) Effective {
	v := l.cur.Load()
	if e, ok := v.tables[name][table]; ok {
		return e
	}
	e, ok := v.eff[name]
	if !ok {
		panic("settings: LookupTable of unknown setting " + name)
	}
	return e
}

// TableOverrides lists the tables with an override of name in force, with
// the value for each.
func (l *Live) TableOverrides(name string) map[string]Value {
	out := map[string]Value{}
	for t, e := range l.cur.Load().tables[name] {
		out[t] = e.Value
	}
	return out
}

// Version is the version of the overrides in force: installed, and
// every watcher of a setting it changed told (a caller seeing version v
// sees what v changed in the readers, not only in Get).
func (l *Live) Version() uint64 {
	return l.applied.Load()
}

// Effective lists every setting's value and source, by name.
func (l *Live) Effective() []Effective {
	v := l.cur.Load()
	out := make([]Effective, 0, len(l.reg.names))
	for _, n := range l.reg.names {
		out = append(out, v.eff[n])
	}
	return out
}

// Watch calls fn with name's new value after every Update that changes it,
// in the goroutine of Update, until the returned cancel is called. fn
// must not call Update.
func (l *Live) Watch(name string, fn func(Value)) (cancel func()) {
	if _, err := l.reg.Lookup(name); err != nil {
		panic("settings: Watch of unknown setting " + name)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	id := l.nextID
	l.nextID++
	if l.watchers[name] == nil {
		l.watchers[name] = map[int]func(Value){}
	}
	l.watchers[name][id] = fn
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.watchers[name], id)
	}
}

// Update installs st if it is newer than the state in force, and tells
// the watchers of every setting whose value changed (for the node or,
// for a table-scoped override, for a table). It returns the names of
// those settings.
func (l *Live) Update(st State) []string {
	l.upd.Lock()
	defer l.upd.Unlock()
	old := l.cur.Load()
	if st.Version <= old.state.Version && old.state.Version != 0 {
		return nil
	}
	next := l.resolve(st)
	l.cur.Store(next)
	var changed []string
	var calls []func()
	l.mu.Lock()
	for _, n := range l.reg.names {
		if next.eff[n].Value.Equal(old.eff[n].Value) && sameValues(next.tables[n], old.tables[n]) {
			continue
		}
		changed = append(changed, n)
		v := next.eff[n].Value
		for _, fn := range l.watchers[n] {
			calls = append(calls, func() { fn(v) })
		}
	}
	l.mu.Unlock()
	for _, call := range calls {
		call()
	}
	l.applied.Store(st.Version)
	if len(changed) > 0 {
		l.log.Info("settings changed", "version", st.Version, "settings", changed)
	}
	return changed
}

func sameValues(a, b map[string]Effective) bool {
	return maps.EqualFunc(a, b, func(x, y Effective) bool { return x.Value.Equal(y.Value) })
}
