package partiql

import "fmt"

// Error is a statement DynamoDB would refuse, with its message; the wire
// layer sends it as a ValidationException.
type Error struct {
	Msg string
}

func (e *Error) Error() string { return e.Msg }

// msgMalformed starts the message of every syntax error.
const msgMalformed = "Statement wasn't well formed, can't be processed: "

// errorf returns an *Error with a formatted message.
func errorf(format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}

// malformed returns a syntax error with detail.
func malformed(detail string) *Error { return &Error{Msg: msgMalformed + detail} }

// DynamoDB's messages for statements it parses but does not serve.
const (
	msgIncompleteKey     = "Where clause does not contain a mandatory equality on all key attributes"
	msgParamCount        = "Number of parameters in request and statement don't match."
	msgStarAndOthers     = "Other attributes should not be present in the projection when '*' is used."
	msgAlias             = "Aliasing is not supported"
	msgEmptyBag          = "Empty bags are not supported"
	msgBagType           = "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags"
	msgMissingCompare    = "MISSING must be compared using IS operator"
	msgInsertItem        = "Unsupported format in item expression. Please use struct format {...} to express item values for insert statement."
	msgReturningInsert   = "RETURNING is not supported in INSERT"
	msgReturningSyntax   = "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause"
	msgIonLiteral        = "Ion Literals are not supported"
	msgExistsOutsideTx   = "EXISTS can only be used in ExecuteTransaction write requests."
	msgIndexWrite        = "This operation is not supported on an index"
	msgFromPath          = "A path may contain at most 2 components in the FROM clause"
	msgInvalidIn         = "IN operator must have a left hand argument of type Variable Reference and right hand argument of type Seq with at least one member"
	msgWhereBoolean      = "WHERE clause must contain an expression that resolves to a boolean"
	msgPathStartsAtIndex = "A path cannot start with a list index"
	msgISInUpdate        = "IS operator is not supported in update expressions"
)
