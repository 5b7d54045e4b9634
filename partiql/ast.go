package partiql

import "github.com/partitadb/partita/item"

// Kind is what a statement does.
type Kind uint8

// The statement kinds.
const (
	KindSelect Kind = iota + 1
	KindInsert
	KindUpdate
	KindDelete
)

var kindNames = [...]string{"", "SELECT", "INSERT", "UPDATE", "DELETE"}

// String returns the statement's keyword.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "?"
}

// Statement is a parsed PartiQL statement.
type Statement struct {
	Kind  Kind
	Table string
	Index string // SELECT ... FROM "table"."index"; "" for none

	// SELECT
	Star       bool   // SELECT *
	Projection []Path // SELECT a, b.c
	// OrderBy are the keys of ORDER BY, in order; OrderDesc[i] says
	// OrderBy[i] is DESC.
	OrderBy   []string
	OrderDesc []bool

	Where Expr // nil for none

	// INSERT
	Value Expr

	// UPDATE
	Sets    []Assign
	Removes []Path

	// Returning is the RETURNING clause of UPDATE and DELETE: "ALL OLD",
	// "MODIFIED OLD", "ALL NEW" or "MODIFIED NEW"; "" for none.
	Returning string

	// Params is the number of `?` in the statement.
	Params int
}

// Assign is one `SET path = value` of an UPDATE.
type Assign struct {
	Path  Path
	Value Expr
}

// PathElem is one step of a path: a name, or a list index.
type PathElem struct {
	Name    string
	Index   int
	IsIndex bool
}

// Path is a document path: an attribute, then map keys and list indexes.
type Path []PathElem

// Expr is a node of an expression: *PathExpr, *Literal, *Param, *ListExpr,
// *BagExpr, *MapExpr, *Binary, *Not, *Between, *In, *Is or *Call.
type Expr interface{ expr() }

// PathExpr reads a path of the item.
type PathExpr struct{ Path Path }

// Literal is a scalar literal; Missing marks the MISSING literal, Num a
// number as written (its Value is taken when the statement is planned).
type Literal struct {
	Value   item.Value
	Missing bool
	Num     string
}

// Param is the N-th `?` of the statement (from 0).
type Param struct{ N int }

// ListExpr is [a, b].
type ListExpr struct{ Elems []Expr }

// BagExpr is <<a, b>>: a set.
type BagExpr struct{ Elems []Expr }

// MapExpr is {'k': v, ...}, keys in source order.
type MapExpr struct {
	Keys []string
	Vals []Expr
}

// Binary is a comparison (= <> != < <= > >=), AND, OR, + or -.
type Binary struct {
	Op   string
	L, R Expr
}

// Not is NOT x.
type Not struct{ X Expr }

// Between is x [NOT] BETWEEN lo AND hi.
type Between struct {
	X, Lo, Hi Expr
	Negated   bool
}

// In is x [NOT] IN [a, b] (or (a, b)).
type In struct {
	X       Expr
	List    []Expr
	Negated bool
}

// Is is x IS [NOT] type: MISSING, NULL, BOOLEAN, STRING, NUMERIC, BLOB,
// LIST, STRUCT or TUPLE.
type Is struct {
	X       Expr
	Type    string // upper case
	Negated bool
}

// Call is a function call; Name is lower case.
type Call struct {
	Name string
	Args []Expr
}

func (*PathExpr) expr() {}
func (*Literal) expr()  {}
func (*Param) expr()    {}
func (*ListExpr) expr() {}
func (*BagExpr) expr()  {}
func (*MapExpr) expr()  {}
func (*Binary) expr()   {}
func (*Not) expr()      {}
func (*Between) expr()  {}
func (*In) expr()       {}
func (*Is) expr()       {}
func (*Call) expr()     {}
