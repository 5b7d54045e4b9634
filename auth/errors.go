package auth

import "errors"

// Code says which of DynamoDB's authentication errors a request gets. The
// wire layer (package dynamo) maps each to its __type and HTTP status.
type Code int

const (
	// MissingToken: the request carries no signature at all
	// (MissingAuthenticationTokenException).
	MissingToken Code = iota + 1
	// IncompleteSignature: the signature is there but malformed or
	// missing a part (IncompleteSignatureException).
	IncompleteSignature
	// UnrecognizedClient: the access key id is unknown, or the request
	// carries a session token (UnrecognizedClientException).
	UnrecognizedClient
	// InvalidSignature: the signature does not match, is out of its time
	// window, or is scoped wrongly (InvalidSignatureException).
	InvalidSignature
	// AccessDenied: the signer's policies do not allow the request
	// (AccessDeniedException).
	AccessDenied
)

// String returns the name of the DynamoDB error the code stands for.
func (c Code) String() string {
	switch c {
	case MissingToken:
		return "MissingAuthenticationTokenException"
	case IncompleteSignature:
		return "IncompleteSignatureException"
	case UnrecognizedClient:
		return "UnrecognizedClientException"
	case InvalidSignature:
		return "InvalidSignatureException"
	case AccessDenied:
		return "AccessDeniedException"
	}
	return "UnknownAuthError"
}

// Error is a request that failed authentication: its Code and the message
// DynamoDB sends with it.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return "auth: " + e.Code.String() + ": " + e.Message }

// Is makes errors.Is(err, ErrX) true for every *Error of the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// Sentinels to test an error's Code with errors.Is.
var (
	ErrMissingToken        error = &Error{Code: MissingToken}
	ErrIncompleteSignature error = &Error{Code: IncompleteSignature}
	ErrUnrecognizedClient  error = &Error{Code: UnrecognizedClient}
	ErrInvalidSignature    error = &Error{Code: InvalidSignature}
	ErrAccessDenied        error = &Error{Code: AccessDenied}
)

// ErrCredentialsFile reports a malformed credentials file.
var ErrCredentialsFile = errors.New("auth: invalid credentials file")

// The messages DynamoDB sends.
const (
	msgMissingToken      = "Request is missing Authentication Token"
	msgUnrecognized      = "The security token included in the request is invalid."
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgBothForms = "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
)

func fail(c Code, msg string) *Error { return &Error{Code: c, Message: msg} }
