package expr

import (
	"strconv"
	"strings"

	"github.com/partitadb/partita/item"
)

// PathElem is one step of a document path: an attribute or map key name, or
// a list index.
type PathElem struct {
	Name    string // the attribute or map key (placeholders resolved); unused for an index
	Index   int    // the list index, when IsIndex
	IsIndex bool

	// placeholder is the "#name" the element was written as, or "" for a
	// name written literally; kept for printing and for name resolution.
	placeholder string
}

// Path is a document path such as a.b[2].c: a top-level attribute name
// followed by map keys and list indexes.
type Path []PathElem

// Attr returns the path of the top-level attribute name.
func Attr(name string) Path { return Path{{Name: name}} }

// Name returns the path's top-level attribute name.
func (p Path) Name() string {
	if len(p) == 0 {
		return ""
	}
	return p[0].Name
}

// String prints p as DynamoDB does in messages: "[a, [2], c]".
func (p Path) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, e := range p {
		if i > 0 {
			b.WriteString(", ")
		}
		if e.IsIndex {
			b.WriteString("[" + strconv.Itoa(e.Index) + "]")
		} else {
			b.WriteString(e.Name)
		}
	}
	b.WriteByte(']')
	return b.String()
}

// source prints p in expression syntax, with placeholders as written.
func (p Path) source() string {
	var b strings.Builder
	for i, e := range p {
		switch {
		case e.IsIndex:
			b.WriteString("[" + strconv.Itoa(e.Index) + "]")
		case i > 0:
			b.WriteString("." + e.sourceName())
		default:
			b.WriteString(e.sourceName())
		}
	}
	return b.String()
}

func (e PathElem) sourceName() string {
	if e.placeholder != "" {
		return e.placeholder
	}
	return e.Name
}

// Equal reports whether p and q address the same element.
func (p Path) Equal(q Path) bool {
	if len(p) != len(q) {
		return false
	}
	for i := range p {
		if !p[i].same(q[i]) {
			return false
		}
	}
	return true
}

// same reports whether two elements address the same step.
func (e PathElem) same(f PathElem) bool {
	if e.IsIndex != f.IsIndex {
		return false
	}
	if e.IsIndex {
		return e.Index == f.Index
	}
	return e.Name == f.Name
}

// compare orders paths element by element (names by bytes, indexes
// numerically, names before indexes, prefixes first); updates apply their
// actions in this order.
func (p Path) compare(q Path) int {
	for i := 0; i < len(p) && i < len(q); i++ {
		if c := p[i].compare(q[i]); c != 0 {
			return c
		}
	}
	return len(p) - len(q)
}

func (e PathElem) compare(f PathElem) int {
	switch {
	case e.IsIndex != f.IsIndex && e.IsIndex:
		return 1
	case e.IsIndex != f.IsIndex:
		return -1
	case e.IsIndex:
		return e.Index - f.Index
	default:
		return strings.Compare(e.Name, f.Name)
	}
}

// Get returns the value at p in it, and false if there is none (a missing
// attribute or key, an index past the end, or a step into a value that is
// not a map or list).
func (p Path) Get(it item.Item) (item.Value, bool) {
	if len(p) == 0 || p[0].IsIndex {
		return item.Value{}, false
	}
	v, ok := it[p[0].Name]
	for _, e := range p[1:] {
		if !ok {
			break
		}
		v, ok = child(v, e)
	}
	return v, ok
}

// child returns the element e of the map or list v.
func child(v item.Value, e PathElem) (item.Value, bool) {
	if e.IsIndex {
		if v.Type != item.TypeL || e.Index >= len(v.L) {
			return item.Value{}, false
		}
		return v.L[e.Index], true
	}
	if v.Type != item.TypeM {
		return item.Value{}, false
	}
	c, ok := v.M[e.Name]
	return c, ok
}
