package partiql

import (
	"slices"
	"strings"

	"github.com/partitadb/partita/item"
)

// KeySchema names a table's key attributes; Range is "" for a table
// without a sort key.
type KeySchema struct {
	Hash, Range string
}

// Access is how a SELECT reads the table.
type Access uint8

// The read accesses.
const (
	AccessGet   Access = iota + 1 // one item by its full key
	AccessQuery                   // one partition per value of the partition key
	AccessScan                    // the whole table
)

var accessNames = [...]string{"", "get", "query", "scan"}

func (a Access) String() string {
	if int(a) < len(accessNames) {
		return accessNames[a]
	}
	return "?"
}

// Plan is a statement bound to its parameters and resolved against the
// table's key: the operation to run and its expressions. Expression texts
// use the placeholders of Names and Values.
type Plan struct {
	Kind  Kind
	Table string
	Index string

	// SELECT
	Access Access
	// Keys are the keys of a get, one per partition key value of an IN
	// list.
	Keys []item.Item
	// KeyConditions are a query's key conditions, one per partition.
	KeyConditions []string
	// Partitions are the partition key values a get or query reads (nil
	// for a scan), or the one an INSERT, UPDATE or DELETE writes.
	Partitions []item.Value
	Forward    bool
	// Filter is the condition every item read must pass ("" for none).
	Filter     string
	Star       bool
	Projection []Path

	// Key is the item an UPDATE or DELETE writes.
	Key item.Item
	// Item is what an INSERT writes.
	Item item.Item
	// Update is an UPDATE's update expression.
	Update string
	// Condition guards the write ("" for none). On an INSERT it fails
	// only when the key exists.
	Condition string
	Returning string

	Names  map[string]string
	Values item.Item
}

// NewPlan binds st to params and plans it against the table's key.
func NewPlan(st *Statement, params []item.Value, ks KeySchema) (*Plan, error) {
	if st.Params != len(params) {
		return nil, errorf("%s", msgParamCount)
	}
	w := newWriter(params)
	p := &Plan{Kind: st.Kind, Table: st.Table, Index: st.Index, Returning: st.Returning}
	var err error
	switch st.Kind {
	case KindSelect:
		err = p.planSelect(st, ks, w)
	case KindInsert:
		err = p.planInsert(st, ks, w)
	case KindUpdate:
		err = p.planUpdate(st, ks, w)
	case KindDelete:
		err = p.planDelete(st, ks, w)
	}
	if err != nil {
		return nil, err
	}
	p.Names, p.Values = w.names, w.values
	return p, nil
}

// conjuncts splits e at its top-level ANDs.
func conjuncts(e Expr) []Expr {
	if b, ok := e.(*Binary); ok && b.Op == "AND" {
		return append(conjuncts(b.L), conjuncts(b.R)...)
	}
	if e == nil {
		return nil
	}
	return []Expr{e}
}

// keyEquality returns the constant a conjunct sets attribute name to:
// `name = c` or `c = name`.
func keyEquality(e Expr, name string) (Expr, bool) {
	b, ok := e.(*Binary)
	if !ok || b.Op != "=" {
		return nil, false
	}
	if isAttr(b.L, name) && isConstant(b.R) {
		return b.R, true
	}
	if isAttr(b.R, name) && isConstant(b.L) {
		return b.L, true
	}
	return nil, false
}

// isAttr reports whether e is the top-level attribute name.
func isAttr(e Expr, name string) bool {
	pe, ok := e.(*PathExpr)
	return ok && len(pe.Path) == 1 && !pe.Path[0].IsIndex && pe.Path[0].Name == name
}

// planSelect picks the access: a get when the whole key is fixed, a query
// when the partition key is, a scan otherwise. The WHERE clause filters
// what is read in every case.
func (p *Plan) planSelect(st *Statement, ks KeySchema, w *writer) error {
	p.Star, p.Projection, p.Forward = st.Star, st.Projection, !st.descending(ks.Range)
	if err := checkProjection(st.Projection); err != nil {
		return err
	}
	if st.Where != nil {
		f, err := w.cond(st.Where)
		if err != nil {
			return err
		}
		p.Filter = f
	}
	parts := conjuncts(st.Where)
	pks, err := partitionValues(parts, ks.Hash, w.params)
	if err != nil {
		return err
	}
	if err := checkOrderBy(st, ks, len(pks)); err != nil {
		return err
	}
	if slices.Contains(st.OrderBy, ks.Hash) {
		sortValues(pks, st.descending(ks.Hash))
	}
	if pks == nil {
		p.Access = AccessScan
		return nil
	}
	p.Partitions = pks
	if ks.Range != "" {
		if c, ok := uniqueEquality(parts, ks.Range); ok && st.Index == "" {
			v, err := constant(c, w.params)
			if err != nil {
				return err
			}
			p.Access = AccessGet
			for _, pk := range pks {
				p.Keys = append(p.Keys, item.Item{ks.Hash: pk, ks.Range: v})
			}
			return nil
		}
	} else if st.Index == "" {
		p.Access = AccessGet
		for _, pk := range pks {
			p.Keys = append(p.Keys, item.Item{ks.Hash: pk})
		}
		return nil
	}
	p.Access = AccessQuery
	sortCond, err := sortKeyCondition(parts, ks.Range, w)
	if err != nil {
		return err
	}
	for _, pk := range pks {
		kc := w.name(ks.Hash) + " = " + w.value(pk)
		if sortCond != "" {
			kc += " AND " + sortCond
		}
		p.KeyConditions = append(p.KeyConditions, kc)
	}
	return nil
}

// checkProjection rejects a projection that names an attribute twice.
func checkProjection(paths []Path) error {
	seen := map[string]bool{}
	for _, path := range paths {
		n := path.outputName()
		if seen[n] {
			return errorf("Duplicate identifiers in select clause: %s", n)
		}
		seen[n] = true
	}
	return nil
}

// descending reports whether ORDER BY sorts key name DESC.
func (st *Statement) descending(name string) bool {
	i := slices.Index(st.OrderBy, name)
	return name != "" && i >= 0 && st.OrderDesc[i]
}

// checkOrderBy applies DynamoDB's rules on ORDER BY.
func checkOrderBy(st *Statement, ks KeySchema, partitions int) error {
	if len(st.OrderBy) == 0 {
		return nil
	}
	if st.Where == nil {
		return errorf("Must have WHERE clause in the statement when using ORDER BY clause.")
	}
	if partitions == 0 {
		return errorf("Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause.")
	}
	if partitions > 1 && !slices.Contains(st.OrderBy, ks.Hash) {
		return errorf("Must have hash key in ORDER BY clause when more than one hash key condition specified in WHERE clause.")
	}
	for _, n := range st.OrderBy {
		if n != ks.Hash && n != ks.Range {
			return errorf("Variable reference %s in ORDER BY clause must be part of the primary key", n)
		}
	}
	return nil
}

// maxPartitions bounds the partitions one SELECT reads by key, as
// package expr bounds an IN list.
const maxPartitions = 100

// partitionValues returns the partition key values the WHERE clause
// fixes (nil when it fixes none: the read is a scan). One `pk = c`
// conjunct fixes one value, one `pk IN [...]` several, and a disjunction
// the values of its branches when each fixes some.
func partitionValues(parts []Expr, hash string, params []item.Value) ([]item.Value, error) {
	if len(parts) == 1 && isLogical(parts[0], "OR") {
		return orPartitions(parts[0], hash, params)
	}
	var found []Expr
	var in *In
	for _, c := range parts {
		if v, ok := keyEquality(c, hash); ok {
			found = append(found, v)
		}
		if x, ok := c.(*In); ok && !x.Negated && isAttr(x.X, hash) && allConstant(x.List) {
			in = x
			found = append(found, x)
		}
	}
	if len(found) != 1 {
		return nil, nil
	}
	exprs := []Expr{found[0]}
	if in != nil {
		exprs = in.List
	}
	if len(exprs) > maxPartitions {
		return nil, errorf("Too many decomposed read operations for a given query.")
	}
	var out []item.Value
	for _, e := range exprs {
		v, err := constant(e, params)
		if err != nil {
			return nil, err
		}
		if !containsValue(out, v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// orPartitions returns the partition key values of a disjunction whose
// every branch fixes some (nil when one does not: the read is a scan).
func orPartitions(e Expr, hash string, params []item.Value) ([]item.Value, error) {
	var out []item.Value
	for _, d := range disjuncts(e) {
		vs, err := partitionValues(conjuncts(d), hash, params)
		if vs == nil || err != nil {
			return nil, err
		}
		for _, v := range vs {
			if !containsValue(out, v) {
				out = append(out, v)
			}
		}
	}
	if len(out) > maxPartitions {
		return nil, errorf("Too many decomposed read operations for a given query.")
	}
	return out, nil
}

// disjuncts splits e at its top-level ORs.
func disjuncts(e Expr) []Expr {
	if isLogical(e, "OR") {
		b := e.(*Binary)
		return append(disjuncts(b.L), disjuncts(b.R)...)
	}
	return []Expr{e}
}

// sortValues orders partition key values for ORDER BY.
func sortValues(vs []item.Value, desc bool) {
	slices.SortStableFunc(vs, func(a, b item.Value) int {
		c, _ := item.Compare(a, b)
		if desc {
			return -c
		}
		return c
	})
}

func containsValue(vs []item.Value, v item.Value) bool {
	for _, w := range vs {
		if item.Equal(v, w) {
			return true
		}
	}
	return false
}

// uniqueEquality returns the constant of the one `name = c` conjunct.
func uniqueEquality(parts []Expr, name string) (Expr, bool) {
	var found Expr
	n := 0
	for _, c := range parts {
		if v, ok := keyEquality(c, name); ok {
			found = v
			n++
		}
	}
	return found, n == 1
}

// flipped mirrors a comparison written `c op key`.
var flipped = map[string]string{"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

// sortKeyCondition returns the first conjunct that a key condition can
// serve on the sort key, written as one ("" for none).
func sortKeyCondition(parts []Expr, rng string, w *writer) (string, error) {
	if rng == "" {
		return "", nil
	}
	for _, c := range parts {
		switch x := c.(type) {
		case *Binary:
			op, ok := flipped[x.Op]
			switch {
			case ok && isAttr(x.L, rng) && isConstant(x.R):
				return w.cond(x)
			case ok && isAttr(x.R, rng) && isConstant(x.L):
				return w.cond(&Binary{Op: op, L: x.R, R: x.L})
			}
		case *Between:
			if !x.Negated && isAttr(x.X, rng) && isConstant(x.Lo) && isConstant(x.Hi) {
				return w.cond(x)
			}
		case *Call:
			if x.Name == "begins_with" && len(x.Args) == 2 && isAttr(x.Args[0], rng) && isConstant(x.Args[1]) {
				return w.cond(x)
			}
		}
	}
	return "", nil
}

// planInsert builds the item; the write fails when the key exists. A bad
// value is named by its place inside its attribute (root, root.k, root[1]).
func (p *Plan) planInsert(st *Statement, ks KeySchema, w *writer) error {
	m := st.Value.(*MapExpr)
	p.Item = make(item.Item, len(m.Keys))
	for i, k := range m.Keys {
		if _, dup := p.Item[k]; dup {
			return errorf("Duplicate keys in tuple. Key: %s under root", k)
		}
		v, err := constantAt(m.Vals[i], w.params, "root", 1)
		if err != nil {
			return err
		}
		p.Item[k] = v
	}
	if pk, ok := p.Item[ks.Hash]; ok {
		p.Partitions = []item.Value{pk}
	}
	p.Condition = "attribute_not_exists(" + w.name(ks.Hash) + ")"
	return nil
}

// writeKey splits the WHERE clause of an UPDATE or DELETE into the item's
// key (an equality on each key attribute) and the rest, the condition.
func writeKey(where Expr, ks KeySchema, w *writer) (item.Item, []Expr, error) {
	key := item.Item{}
	var rest []Expr
	names := []string{ks.Hash}
	if ks.Range != "" {
		names = append(names, ks.Range)
	}
outer:
	for _, c := range conjuncts(where) {
		for _, n := range names {
			ce, ok := keyEquality(c, n)
			if !ok {
				continue
			}
			if _, dup := key[n]; dup {
				return nil, nil, errorf("Multiple conditions on same key %s. Only single item Update/Insert/Delete are supported", n)
			}
			v, err := constant(ce, w.params)
			if err != nil {
				return nil, nil, err
			}
			key[n] = v
			continue outer
		}
		rest = append(rest, c)
	}
	if len(key) != len(names) {
		return nil, nil, errorf("%s", msgIncompleteKey)
	}
	return key, rest, nil
}

// andAll writes conjuncts as one condition ("" for none).
func andAll(parts []Expr, w *writer) (string, error) {
	var out []string
	for _, c := range parts {
		s, err := w.cond(c)
		if err != nil {
			return "", err
		}
		out = append(out, wrapOr(c, s))
	}
	return strings.Join(out, " AND "), nil
}

// planUpdate builds the update expression and its condition: the item
// exists and the non-key conjuncts hold.
func (p *Plan) planUpdate(st *Statement, ks KeySchema, w *writer) error {
	key, rest, err := writeKey(st.Where, ks, w)
	if err != nil {
		return err
	}
	p.Key, p.Partitions = key, []item.Value{key[ks.Hash]}
	upd, err := updateText(st, w)
	if err != nil {
		return err
	}
	p.Update = upd
	cond, err := andAll(rest, w)
	if err != nil {
		return err
	}
	p.Condition = "attribute_exists(" + w.name(ks.Hash) + ")"
	if cond != "" {
		p.Condition += " AND " + cond
	}
	return nil
}

// planDelete builds the delete's condition: the non-key conjuncts hold,
// or there is no item (deleting nothing succeeds).
func (p *Plan) planDelete(st *Statement, ks KeySchema, w *writer) error {
	key, rest, err := writeKey(st.Where, ks, w)
	if err != nil {
		return err
	}
	p.Key, p.Partitions = key, []item.Value{key[ks.Hash]}
	cond, err := andAll(rest, w)
	if err != nil {
		return err
	}
	if cond != "" {
		p.Condition = "attribute_not_exists(" + w.name(ks.Hash) + ") OR " + cond
	}
	return nil
}
