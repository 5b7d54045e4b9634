package item

import "strings"

// Error is a validation error with DynamoDB's message; the wire layer sends it
// as a ValidationException (or SerializationException when Serialization is set).
type Error struct {
	Msg           string
	Serialization bool
}

func (e *Error) Error() string { return e.Msg }

// validationError returns an *Error for a ValidationException.
func validationError(msg string) *Error { return &Error{Msg: msg} }

// serializationError returns an *Error for a SerializationException.
func serializationError(msg string) *Error { return &Error{Msg: msg, Serialization: true} }

// DynamoDB's messages for numbers that cannot be stored.
const (
	msgNotNumeric = "The parameter cannot be converted to a numeric value: "
	msgOverflow   = "Number overflow. Attempting to store a number with magnitude larger than supported range"
	msgUnderflow  = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
	msgPrecision  = "Attempting to store more than 38 significant digits in a Number"
)

// DynamoDB's messages for malformed attribute values.
const (
	msgEmptyValue    = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
	msgMultipleTypes = "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
	msgInvalidPrefix = "One or more parameter values were invalid: "
	msgNullFalse     = msgInvalidPrefix + "Null attribute value types must have the value of true"
	msgInvalidString = "Malformed JSON: a string holds invalid UTF-8 or a lone surrogate escape"
	msgDepth         = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"
)

// emptySetError is DynamoDB's message for an empty SS, NS or BS (sic: "An
// string set", two spaces).
func emptySetError(t Type) *Error {
	kind := map[Type]string{TypeSS: "string", TypeNS: "number", TypeBS: "binary"}[t]
	return validationError(msgInvalidPrefix + "An " + kind + " set  may not be empty")
}

// duplicatesError is DynamoDB's message for a set with repeated members;
// members are listed as the client wrote them.
func duplicatesError(members []string) *Error {
	return validationError(msgInvalidPrefix + "Input collection [" + strings.Join(members, ", ") + "] contains duplicates.")
}
