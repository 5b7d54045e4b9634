package expr

import "slices"

// ActionKind is the clause an update action belongs to.
type ActionKind uint8

// The update clauses.
const (
	ActionSet ActionKind = iota + 1
	ActionRemove
	ActionAdd
	ActionDelete
)

var actionNames = [...]string{"", "SET", "REMOVE", "ADD", "DELETE"}

// String returns the clause keyword.
func (k ActionKind) String() string {
	if int(k) < len(actionNames) {
		return actionNames[k]
	}
	return "?"
}

// Action is one action of an update expression: "SET path = value",
// "REMOVE path", "ADD path :value" or "DELETE path :value".
type Action struct {
	Kind ActionKind
	Path Path
	// Value is what SET assigns (a path, a :value, or an OperandCall of
	// if_not_exists, list_append, "+" or "-"), or the :value of ADD and
	// DELETE; nil for REMOVE.
	Value *Operand
}

// Update is a parsed UpdateExpression.
type Update struct {
	Actions []Action // in source order
}

// ParseUpdate parses an update expression through env, validating what can
// be validated without the item (overlapping/conflicting paths, operands of
// the wrong type when they are literals, duplicate clauses...).
func ParseUpdate(s string, env *Env) (*Update, error) {
	u, clauses, err := parseUpdateTree(s, env.limited(KindUpdate))
	if err != nil {
		return nil, err
	}
	c := newChecker(KindUpdate, env)
	c.reservedFirst = true
	c.update(u, clauses)
	if err := c.err(); err != nil {
		return nil, err
	}
	return u, nil
}

// CheckKeys rejects an update that touches any of the key attributes:
// "One or more parameter values were invalid: Cannot update attribute pk.
// This attribute is part of the key". The first action (in source order)
// that touches a key is reported.
func (u *Update) CheckKeys(keyNames ...string) error {
	for _, a := range u.Actions {
		if name := a.Path.Name(); slices.Contains(keyNames, name) {
			return errorf("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", name)
		}
	}
	return nil
}

// Updated returns a projection of the paths u sets, removes, adds to or
// deletes from, so ReturnValues UPDATED_OLD / UPDATED_NEW are
// u.Updated().Apply(old) / u.Updated().Apply(new), nested as DynamoDB nests them.
func (u *Update) Updated() *Projection {
	paths := make([]Path, len(u.Actions))
	for i, a := range u.Actions {
		paths[i] = a.Path
	}
	return newProjection(paths)
}
