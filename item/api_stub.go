package item

// This file declares the API the other packages build against. The item
// package's owner replaces these stubs with real implementations (and deletes
// this file); the signatures and documented behaviour are the contract.

// Number is an exact decimal as DynamoDB stores it: up to 38 significant
// digits, magnitude between 1E-130 and 9.9999999999999999999999999999999999999E+125,
// or zero. A Number is kept in canonical form, so two Numbers are numerically
// equal exactly when they are == (1, 1.0 and 10E-1 are the same Number).
// The zero Number is 0.
type Number struct {
	digits string // significant digits, no leading or trailing zeros; "" for zero
	exp    int32  // value = 0.digits * 10^exp
	neg    bool
}

// ParseNumber parses a DynamoDB number string ("12", "-1.5e3", " 7"? no: no
// spaces). Errors are *Error values carrying DynamoDB's message.
func ParseNumber(s string) (Number, error) { panic("stub") }

// MustNumber is ParseNumber that panics; for tests and constants.
func MustNumber(s string) Number { panic("stub") }

// String prints n as DynamoDB prints numbers in responses.
func (n Number) String() string { panic("stub") }

// Cmp compares numerically: -1, 0, +1.
func (n Number) Cmp(m Number) int { panic("stub") }

// Add returns n+m exactly, or an *Error if the result is out of DynamoDB's
// range or needs more than 38 significant digits.
func (n Number) Add(m Number) (Number, error) { panic("stub") }

// Sub returns n-m, like Add.
func (n Number) Sub(m Number) (Number, error) { panic("stub") }

// Equal reports whether a and b are the same DynamoDB value (sets compare as
// sets, ignoring order; maps and lists deeply).
func Equal(a, b Value) bool { panic("stub") }

// Compare orders two scalar values of the same type (S by UTF-8 bytes, N
// numerically, B by unsigned bytes). ok is false when the values are not both
// S, both N or both B.
func Compare(a, b Value) (c int, ok bool) { panic("stub") }

// Size is the value's size by DynamoDB's accounting rules.
func (v Value) Size() int { panic("stub") }

// Size is the item's size by DynamoDB's rules: attribute names plus values.
func (it Item) Size() int { panic("stub") }

// Error is a validation error with DynamoDB's message; the wire layer sends it
// as a ValidationException (or SerializationException when Serialization is set).
type Error struct {
	Msg           string
	Serialization bool
}

func (e *Error) Error() string { return e.Msg }
