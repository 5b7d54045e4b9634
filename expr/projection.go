package expr

import (
	"maps"
	"slices"
	"strings"

	"github.com/partitadb/partita/item"
)

// Projection is a parsed ProjectionExpression.
type Projection struct {
	Paths []Path // in source order
	root  *projNode
}

// projNode is one node of the tree of projected paths: a leaf takes the
// whole value; otherwise the node selects map keys or list indexes.
type projNode struct {
	leaf    bool
	names   map[string]*projNode
	indexes map[int]*projNode
}

// ParseProjection parses a projection expression through env.
func ParseProjection(s string, env *Env) (*Projection, error) {
	paths, err := parseProjectionPaths(s, env.limited(KindProjection))
	if err != nil {
		return nil, err
	}
	c := newChecker(KindProjection, env)
	c.reservedFirst = true
	for _, p := range paths {
		c.path(p)
	}
	c.overlaps(paths)
	if err := c.err(); err != nil {
		return nil, err
	}
	return newProjection(paths), nil
}

// parseProjectionPaths parses path { "," path }.
func parseProjectionPaths(s string, limited bool) ([]Path, error) {
	if err := checkText(KindProjection, s, limited); err != nil {
		return nil, err
	}
	p := newParser(KindProjection, s, nil)
	var paths []Path
	for {
		path, err := p.path()
		if err != nil {
			return nil, err
		}
		paths = append(paths, path)
		if !p.peek().is(",") {
			return paths, p.expectEOF()
		}
		p.next()
	}
}

// ParsePath parses a single document path ("a.b[2]", "#n.c") as it would
// appear in an expression of the given kind, through env.
func ParsePath(kind, s string, env *Env) (Path, error) {
	if err := checkText(kind, s, true); err != nil {
		return nil, err
	}
	p := newParser(kind, s, nil)
	path, err := p.path()
	if err == nil {
		err = p.expectEOF()
	}
	if err != nil {
		return nil, err
	}
	c := newChecker(kind, env)
	c.path(path)
	return path, c.err()
}

// NewProjection returns the projection of the given paths, which must not
// overlap (for legacy AttributesToGet, build them with Attr).
func NewProjection(paths ...Path) *Projection { return newProjection(paths) }

func newProjection(paths []Path) *Projection {
	root := &projNode{}
	for _, p := range paths {
		root.add(p)
	}
	return &Projection{Paths: paths, root: root}
}

// add inserts the path p below n. A path inside one already taken whole
// adds nothing.
func (n *projNode) add(p Path) {
	for _, e := range p {
		if n.leaf {
			return
		}
		n = n.child(e)
	}
	*n = projNode{leaf: true}
}

// child returns n's child for the step e, creating it.
func (n *projNode) child(e PathElem) *projNode {
	if e.IsIndex {
		if n.indexes == nil {
			n.indexes = map[int]*projNode{}
		}
		if n.indexes[e.Index] == nil {
			n.indexes[e.Index] = &projNode{}
		}
		return n.indexes[e.Index]
	}
	if n.names == nil {
		n.names = map[string]*projNode{}
	}
	if n.names[e.Name] == nil {
		n.names[e.Name] = &projNode{}
	}
	return n.names[e.Name]
}

// Apply returns the projection of it (nil for nil). Missing paths are left
// out; the selected elements of a list keep their index order.
func (p *Projection) Apply(it item.Item) item.Item {
	if it == nil {
		return nil
	}
	out := item.Item{}
	for name, c := range p.root.names {
		if v, ok := it[name]; ok {
			if pv, ok := c.project(v); ok {
				out[name] = pv
			}
		}
	}
	return out
}

// project returns the part of v that n selects, and false if none.
func (n *projNode) project(v item.Value) (item.Value, bool) {
	switch {
	case n.leaf:
		return v, true
	case v.Type == item.TypeM && n.names != nil:
		m := map[string]item.Value{}
		for name, c := range n.names {
			if cv, ok := v.M[name]; ok {
				if pv, ok := c.project(cv); ok {
					m[name] = pv
				}
			}
		}
		return item.Value{Type: item.TypeM, M: m}, len(m) > 0
	case v.Type == item.TypeL && n.indexes != nil:
		var l []item.Value
		for _, i := range slices.Sorted(maps.Keys(n.indexes)) {
			if i < len(v.L) {
				if pv, ok := n.indexes[i].project(v.L[i]); ok {
					l = append(l, pv)
				}
			}
		}
		return item.Value{Type: item.TypeL, L: l}, len(l) > 0
	}
	return item.Value{}, false
}

// String prints the projection as a ProjectionExpression.
func (p *Projection) String() string {
	s := make([]string, len(p.Paths))
	for i, path := range p.Paths {
		s[i] = path.source()
	}
	return strings.Join(s, ", ")
}
