package expr

import (
	"errors"
	"fmt"

	"github.com/partitadb/partita/item"
)

// Error is a validation error with DynamoDB's message; sent as ValidationException.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// The names of the request parameters that hold expressions; they prefix
// parse-time messages ("Invalid UpdateExpression: ...").
const (
	KindCondition    = "ConditionExpression"
	KindFilter       = "FilterExpression"
	KindKeyCondition = "KeyConditionExpression"
	KindUpdate       = "UpdateExpression"
	KindProjection   = "ProjectionExpression"
)

// MaxExpressionSize is the largest expression string DynamoDB accepts, in bytes.
const MaxExpressionSize = 4096

// MaxPathDepth is the most elements (names and list indexes) a document
// path may have.
const MaxPathDepth = 32

// MaxInOperands is the most operands an IN comparison may have, counting the
// one left of IN (so its list holds at most 99 values).
const MaxInOperands = 100

// DynamoDB's messages for errors found while applying an update to an item.
const (
	msgInvalidPath    = "The document path provided in the update expression is invalid for update"
	msgBadOperandType = "An operand in the update expression has an incorrect data type"
	msgMissingAttr    = "The provided expression refers to an attribute that does not exist in the item"
)

// errorf returns an *Error with a formatted message.
func errorf(format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}

// invalidf returns an *Error for a parse-time problem in the expression held
// by the request parameter kind: "Invalid <kind>: <message>".
func invalidf(kind, format string, args ...any) *Error {
	return &Error{Msg: "Invalid " + kind + ": " + fmt.Sprintf(format, args...)}
}

// fromItemError turns an item package validation error (a number overflow
// in SET a = a + :n, say) into an *Error with the same message.
func fromItemError(err error) error {
	var ie *item.Error
	if errors.As(err, &ie) {
		return &Error{Msg: ie.Msg}
	}
	return err
}
