package partiql

import (
	"github.com/partitadb/partita/item"
)

// equal reports whether p and q are the same path.
func (p Path) equal(q Path) bool {
	if len(p) != len(q) {
		return false
	}
	for i := range p {
		if p[i] != q[i] {
			return false
		}
	}
	return true
}

// outputName is the attribute a projected path comes back under: its
// last name.
func (p Path) outputName() string {
	for i := len(p) - 1; i >= 0; i-- {
		if !p[i].IsIndex {
			return p[i].Name
		}
	}
	return ""
}

// Get returns the value at p in it.
func (p Path) Get(it item.Item) (item.Value, bool) {
	if len(p) == 0 || p[0].IsIndex {
		return item.Value{}, false
	}
	v, ok := it[p[0].Name]
	for _, e := range p[1:] {
		if !ok {
			break
		}
		switch {
		case e.IsIndex && v.Type == item.TypeL && e.Index < len(v.L):
			v = v.L[e.Index]
		case !e.IsIndex && v.Type == item.TypeM:
			v, ok = v.M[e.Name]
		default:
			ok = false
		}
	}
	return v, ok
}

// Project returns the attributes of it that paths select, each under its
// path's last name, as DynamoDB's SELECT does.
func Project(paths []Path, it item.Item) item.Item {
	out := make(item.Item, len(paths))
	for _, p := range paths {
		if v, ok := p.Get(it); ok {
			out[p.outputName()] = v
		}
	}
	return out
}

// isSetType reports whether v is a set.
func isSetType(v item.Value) bool {
	return v.Type == item.TypeSS || v.Type == item.TypeNS || v.Type == item.TypeBS
}
