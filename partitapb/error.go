package partitapb

import (
	"errors"
	"fmt"
)

// Error makes *Error a Go error, so domain rejections travel as one type from
// apply (or the router) to the wire layer, which maps Code to DynamoDB's
// __type and HTTP status in one table.
func (e *Error) Error() string { return e.GetMessage() }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code Error_Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// IsWrongRange reports whether err is a WRONG_RANGE rejection: the command
// reached a replica whose range does not hold its key, or that moved to a
// newer range generation than the one it was routed by. Nothing was
// written; the sender re-reads the directory and retries with the same
// command id.
func IsWrongRange(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.GetCode() == Error_WRONG_RANGE
}

// IsStaleEvaluation says err is a STALE_EVALUATION rejection: Effects
// evaluated against a state that changed before they applied; nothing was
// written and the command is to be evaluated again.
func IsStaleEvaluation(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.GetCode() == Error_STALE_EVALUATION
}

// IsCode reports whether err is a domain rejection with code.
func IsCode(err error, code Error_Code) bool {
	var e *Error
	return errors.As(err, &e) && e.GetCode() == code
}
