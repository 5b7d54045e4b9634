package partitapb

import "fmt"

// Error makes *Error a Go error, so domain rejections travel as one type from
// apply (or the router) to the wire layer, which maps Code to DynamoDB's
// __type and HTTP status in one table.
func (e *Error) Error() string { return e.GetMessage() }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code Error_Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
