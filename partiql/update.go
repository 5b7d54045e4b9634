package partiql

import "strings"

// updateText writes the SET and REMOVE actions of an UPDATE as an update
// expression: set_add and set_delete become ADD and DELETE actions.
func updateText(st *Statement, w *writer) (string, error) {
	var sets, adds, dels, removes []string
	for _, a := range st.Sets {
		p := w.path(a.Path)
		if c, ok := a.Value.(*Call); ok && (c.Name == "set_add" || c.Name == "set_delete") {
			v, err := setOperation(c, a.Path, w)
			if err != nil {
				return "", err
			}
			if c.Name == "set_add" {
				adds = append(adds, p+" "+v)
			} else {
				dels = append(dels, p+" "+v)
			}
			continue
		}
		v, err := w.setValue(a.Value, 0)
		if err != nil {
			return "", err
		}
		sets = append(sets, p+" = "+v)
	}
	for _, r := range st.Removes {
		removes = append(removes, w.path(r))
	}
	var b strings.Builder
	clause := func(kw string, parts []string) {
		if len(parts) > 0 {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(kw + " " + strings.Join(parts, ", "))
		}
	}
	clause("SET", sets)
	clause("REMOVE", removes)
	clause("ADD", adds)
	clause("DELETE", dels)
	return b.String(), nil
}

// setOperation checks SET a = set_add(a, <<...>>) (or set_delete) and
// returns the placeholder of the set.
func setOperation(c *Call, target Path, w *writer) (string, error) {
	op := strings.ToUpper(strings.TrimPrefix(c.Name, "set_"))
	if len(c.Args) != 2 {
		return "", errorf("SET_%s must have exactly two arguments", op)
	}
	if pe, ok := c.Args[0].(*PathExpr); !ok || !pe.Path.equal(target) {
		return "", errorf("The first argument to SET_%s must equal the assignment value", op)
	}
	if !isConstant(c.Args[1]) {
		return "", errorf("The second argument to SET_%s must be a value with type SET", op)
	}
	v, err := constant(c.Args[1], w.params)
	if err != nil {
		return "", err
	}
	if !isSetType(v) {
		return "", errorf("The second argument to SET_%s must be a value with type SET", op)
	}
	return w.value(v), nil
}

// updateFuncs are the functions a SET value may call, with their
// argument counts.
var updateFuncs = map[string]int{"list_append": 2, "if_not_exists": 2}

// setValue writes the value of a SET action: a constant, a path, a sum
// or difference, or list_append / if_not_exists.
func (w *writer) setValue(e Expr, depth int) (string, error) {
	if depth > maxDepth {
		return "", malformed("Expression nested too deeply")
	}
	switch x := e.(type) {
	case *PathExpr:
		return w.path(x.Path), nil
	case *Binary:
		if x.Op != "+" && x.Op != "-" {
			return "", errorf("Unsupported operator in Update Expression. Operator: %s", x.Op)
		}
		l, err := w.setValue(x.L, depth+1)
		if err != nil {
			return "", err
		}
		r, err := w.setValue(x.R, depth+1)
		if err != nil {
			return "", err
		}
		return l + " " + x.Op + " " + r, nil
	case *Call:
		n, ok := updateFuncs[x.Name]
		if !ok {
			return "", errorf("Unrecognized function: %s", x.Name)
		}
		if len(x.Args) != n {
			return "", malformed("Incorrect number of arguments to " + x.Name)
		}
		args := make([]string, len(x.Args))
		for i, a := range x.Args {
			s, err := w.setValue(a, depth+1)
			if err != nil {
				return "", err
			}
			args[i] = s
		}
		return x.Name + "(" + strings.Join(args, ", ") + ")", nil
	case *Is:
		return "", errorf("%s", msgISInUpdate)
	}
	if !isConstant(e) {
		return "", errorf("Unsupported operation: expression in an update")
	}
	v, err := constant(e, w.params)
	if err != nil {
		return "", err
	}
	return w.value(v), nil
}
