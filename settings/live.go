package settings

import (
	"log/slog"
	"sync"
)

// Live is one node's effective settings. Readers subscribe to the
// settings they use and apply each change as it comes; Update installs a
// new state of the overrides. Safe for concurrent use.
type Live struct {
	reg    *Registry
	static map[string]Static
	target Target // the node and its zone; Table is empty
	log    *slog.Logger

	upd      sync.Mutex // serializes Update, so watchers see changes in order
	mu       sync.Mutex // guards the fields below
	state    State
	eff      map[string]Effective
	watchers map[string]map[int]func(Value)
	nextID   int
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
	l.eff = l.resolveAll(State{})
	return l, nil
}

func (l *Live) resolveAll(st State) map[string]Effective {
	eff := make(map[string]Effective, len(l.reg.names))
	for _, n := range l.reg.names {
		e, err := l.reg.Resolve(n, l.static, st, l.target)
		if err != nil {
			l.log.Warn("a setting override does not apply", "setting", n, "err", err)
		}
		eff[n] = e
	}
	return eff
}

// Get is the node's value of name. An unknown name is a programming
// error: readers name settings of the catalogue.
func (l *Live) Get(name string) Value {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.eff[name]
	if !ok {
		panic("settings: Get of unknown setting " + name)
	}
	return e.Value
}

// Lookup is name's value with its source.
func (l *Live) Lookup(name string) Effective {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.eff[name]
	if !ok {
		panic("settings: Lookup of unknown setting " + name)
	}
	return e
}

// ForTable is name's value for one table: the node's, unless an override
// names the table.
func (l *Live) ForTable(name, table string) Value {
	l.mu.Lock()
	st := l.state
	l.mu.Unlock()
	t := l.target
	t.Table = table
	e, _ := l.reg.Resolve(name, l.static, st, t)
	return e.Value
}

// Version is the version of the overrides in force.
func (l *Live) Version() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state.Version
}

// Effective lists every setting's value and source, by name.
func (l *Live) Effective() []Effective {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Effective, 0, len(l.reg.names))
	for _, n := range l.reg.names {
		out = append(out, l.eff[n])
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
// the watchers of every setting whose value changed. It returns the
// names of those settings.
func (l *Live) Update(st State) []string {
	l.upd.Lock()
	defer l.upd.Unlock()
	l.mu.Lock()
	if st.Version <= l.state.Version && l.state.Version != 0 {
		l.mu.Unlock()
		return nil
	}
	eff := l.resolveAll(st)
	var changed []string
	var calls []func()
	for _, n := range l.reg.names {
		if eff[n].Value.Equal(l.eff[n].Value) {
			continue
		}
		changed = append(changed, n)
		v := eff[n].Value
		for _, fn := range l.watchers[n] {
			calls = append(calls, func() { fn(v) })
		}
	}
	l.state, l.eff = st, eff
	l.mu.Unlock()
	for _, call := range calls {
		call()
	}
	if len(changed) > 0 {
		l.log.Info("settings changed", "version", st.Version, "settings", changed)
	}
	return changed
}
