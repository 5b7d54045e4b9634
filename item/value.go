package item

// Type is the DynamoDB data type of an attribute value, named as on the wire.
type Type uint8

// The DynamoDB data types. The zero Type is invalid.
const (
	TypeS Type = iota + 1
	TypeN
	TypeB
	TypeBOOL
	TypeNULL
	TypeM
	TypeL
	TypeSS
	TypeNS
	TypeBS
)

var typeNames = [...]string{"", "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}

// String returns the wire name of t ("S", "NS", ...).
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "?"
}

// ParseType returns the Type named s on the wire, and false if s names none.
func ParseType(s string) (Type, bool) {
	for i, n := range typeNames {
		if i > 0 && n == s {
			return Type(i), true
		}
	}
	return 0, false
}

// Value is one DynamoDB attribute value. Type selects which field holds it;
// the others are zero. The zero Value (Type 0) is invalid and never stored.
//
// Values are immutable once built: code that derives a new value (an update
// expression, a projection) copies what it changes and may share the rest.
type Value struct {
	Type Type
	S    string           // TypeS
	N    Number           // TypeN
	B    []byte           // TypeB
	BOOL bool             // TypeBOOL; TypeNULL has no payload (always true on the wire)
	M    map[string]Value // TypeM
	L    []Value          // TypeL
	SS   []string         // TypeSS, no duplicates, never empty
	NS   []Number         // TypeNS, no duplicates, never empty
	BS   [][]byte         // TypeBS, no duplicates, never empty
}

// Item is a DynamoDB item (also used for keys and ExpressionAttributeValues):
// attribute names to values.
type Item map[string]Value

// Constructors for the scalar types.

// S returns a string value.
func S(s string) Value { return Value{Type: TypeS, S: s} }

// N returns a number value.
func N(n Number) Value { return Value{Type: TypeN, N: n} }

// B returns a binary value.
func B(b []byte) Value { return Value{Type: TypeB, B: b} }

// Bool returns a BOOL value.
func Bool(b bool) Value { return Value{Type: TypeBOOL, BOOL: b} }

// Null returns the NULL value.
func Null() Value { return Value{Type: TypeNULL} }

// M returns a map value.
func M(m Item) Value { return Value{Type: TypeM, M: m} }

// L returns a list value.
func L(l []Value) Value { return Value{Type: TypeL, L: l} }

// SS returns a string set value.
func SS(ss []string) Value { return Value{Type: TypeSS, SS: ss} }

// NS returns a number set value.
func NS(ns []Number) Value { return Value{Type: TypeNS, NS: ns} }

// BS returns a binary set value.
func BS(bs [][]byte) Value { return Value{Type: TypeBS, BS: bs} }
