package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/partitadb/partita/auth"
	"github.com/partitadb/partita/expr"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partiql"
	"github.com/partitadb/partita/partitapb"
)

// The namespaces DynamoDB prefixes to error types. Clients read the part
// after '#'; the prefixes are kept as DynamoDB sends them.
const (
	nsDynamo   = "com.amazonaws.dynamodb.v20120810#"
	nsService  = "com.amazon.coral.service#"
	nsValidate = "com.amazon.coral.validate#"
	nsAvail    = "com.amazon.coral.availability#"
)

// errKind is one kind of error the wire shows: its __type, HTTP status and
// the JSON key its message goes under ("" sends no message).
type errKind struct {
	Type       string
	Status     int
	MessageKey string
}

// The error kinds Partita sends.
var (
	kindValidation    = errKind{nsValidate + "ValidationException", http.StatusBadRequest, "message"}
	kindSerialization = errKind{nsService + "SerializationException", http.StatusBadRequest, "Message"}
	// kindInvalidEncoding is DynamoDB's answer to a body that is not valid
	// UTF-8, not JSON, or empty: a SerializationException without a
	// message.
	kindInvalidEncoding = errKind{nsService + "SerializationException", http.StatusBadRequest, ""}
	// kindThrottling is the node's answer beyond its in-flight request
	// limit; the SDKs retry it with backoff.
	kindThrottling = errKind{nsAvail + "ThrottlingException", http.StatusBadRequest, "message"}
	// kindProvisionedExceeded is admission control's answer (package
	// admission): a partition or table out of capacity. The SDKs retry it.
	kindProvisionedExceeded = errKind{nsDynamo + "ProvisionedThroughputExceededException", http.StatusBadRequest, "message"}
	kindUnknownOperation    = errKind{nsService + "UnknownOperationException", http.StatusBadRequest, ""}
	kindRequestTooLarge     = errKind{nsService + "RequestEntityTooLargeException", http.StatusRequestEntityTooLarge, "message"}
	// kindUnsupportedEncoding: a body in a Content-Encoding the endpoint
	// cannot read (HTTP 415).
	kindUnsupportedEncoding = errKind{nsService + "SerializationException", http.StatusUnsupportedMediaType, "Message"}
	kindResourceNotFound    = errKind{nsDynamo + "ResourceNotFoundException", http.StatusBadRequest, "message"}
	kindResourceInUse       = errKind{nsDynamo + "ResourceInUseException", http.StatusBadRequest, "message"}
	kindConditionFailed     = errKind{nsDynamo + "ConditionalCheckFailedException", http.StatusBadRequest, "message"}
	kindDuplicateItem       = errKind{nsDynamo + "DuplicateItemException", http.StatusBadRequest, "message"}
	kindTransactionCanceled = errKind{nsDynamo + "TransactionCanceledException", http.StatusBadRequest, "Message"}
	kindTransactionConflict = errKind{nsDynamo + "TransactionConflictException", http.StatusBadRequest, "message"}
	kindLimitExceeded       = errKind{nsDynamo + "LimitExceededException", http.StatusBadRequest, "message"}
	kindCollectionTooLarge  = errKind{nsDynamo + "ItemCollectionSizeLimitExceededException", http.StatusBadRequest, "message"}
	kindInternal            = errKind{nsDynamo + "InternalServerError", http.StatusInternalServerError, "message"}
	// The authentication errors (package auth), as DynamoDB sends them:
	// HTTP 400, in the coral service namespace.
	kindMissingToken        = errKind{nsService + "MissingAuthenticationTokenException", http.StatusBadRequest, "message"}
	kindIncompleteSignature = errKind{nsService + "IncompleteSignatureException", http.StatusBadRequest, "message"}
	kindUnrecognizedClient  = errKind{nsService + "UnrecognizedClientException", http.StatusBadRequest, "message"}
	kindAccessDenied        = errKind{nsService + "AccessDeniedException", http.StatusBadRequest, "message"}
	kindInvalidSignature    = errKind{nsService + "InvalidSignatureException", http.StatusBadRequest, "message"}
	msgConditionFailed      = "The conditional request failed"
	msgResourceNotFound     = "Requested resource not found"
	msgInternal             = "Internal server error"
	msgItemTooLarge         = "Item size has exceeded the maximum allowed size"
	msgThrottling           = "Rate of requests exceeds the allowed throughput."
	msgProvisionedExceeded  = "The level of configured provisioned throughput for the table was exceeded. " +
		"Consider increasing your provisioning level with the UpdateTable API."
	msgKeyRangeExceeded = "Throughput exceeds the current capacity of your table or index. " +
		"If exceptions persist, check if you have a hot key."
)

// apiError is an error as the wire shows it. Handlers return it (or domain
// errors that toAPIError maps to it).
type apiError struct {
	Kind    errKind
	Message string
	// Item is the item sent with a ConditionalCheckFailedException when the
	// request asked for ReturnValuesOnConditionCheckFailure=ALL_OLD.
	Item item.Item
	// Reasons are a throttled request's ThrottlingReasons; their resource
	// is the table's name until the server writes its ARN.
	Reasons []throttlingReason
	// Cancellation are a canceled transaction's CancellationReasons, one
	// per statement.
	Cancellation []cancellationReason
}

// throttlingReason says why a request was throttled, as DynamoDB does.
type throttlingReason struct {
	Reason   string `json:"reason"`
	Resource string `json:"resource"`
}

func (e *apiError) Error() string {
	name := e.Kind.Type[strings.IndexByte(e.Kind.Type, '#')+1:]
	return name + ": " + e.Message
}

// newError returns an apiError of kind with a formatted message.
func newError(kind errKind, format string, args ...any) *apiError {
	return &apiError{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// validationf returns a ValidationException.
func validationf(format string, args ...any) *apiError {
	return newError(kindValidation, format, args...)
}

// codeKinds maps the domain error codes to the wire: the one table of the
// project's rejections.
var codeKinds = map[partitapb.Error_Code]errKind{
	partitapb.Error_CONDITION_FAILED:          kindConditionFailed,
	partitapb.Error_VALIDATION:                kindValidation,
	partitapb.Error_TABLE_NOT_FOUND:           kindResourceNotFound,
	partitapb.Error_TABLE_IN_USE:              kindResourceInUse,
	partitapb.Error_ITEM_TOO_LARGE:            kindValidation,
	partitapb.Error_THROTTLED:                 kindProvisionedExceeded,
	partitapb.Error_TXN_CONFLICT:              kindTransactionConflict,
	partitapb.Error_ITEM_COLLECTION_TOO_LARGE: kindCollectionTooLarge,
}

// authKinds maps authentication failures to the wire.
var authKinds = map[auth.Code]errKind{
	auth.MissingToken:        kindMissingToken,
	auth.IncompleteSignature: kindIncompleteSignature,
	auth.UnrecognizedClient:  kindUnrecognizedClient,
	auth.InvalidSignature:    kindInvalidSignature,
	auth.AccessDenied:        kindAccessDenied,
}

// defaultMessages is what a domain error says when it carries no message.
var defaultMessages = map[partitapb.Error_Code]string{
	partitapb.Error_CONDITION_FAILED: msgConditionFailed,
	partitapb.Error_TABLE_NOT_FOUND:  msgResourceNotFound,
	partitapb.Error_ITEM_TOO_LARGE:   msgItemTooLarge,
}

// toAPIError maps any error a handler returns to its wire form. internal
// reports whether err was unexpected (and should be logged).
func toAPIError(err error) (e *apiError, internal bool) {
	var (
		ae *apiError
		pe *partitapb.Error
		ie *item.Error
		ee *expr.Error
		pq *partiql.Error
		au *auth.Error
	)
	switch {
	case errors.As(err, &ae):
		return ae, ae.Kind == kindInternal
	case errors.As(err, &au):
		if kind, ok := authKinds[au.Code]; ok {
			return &apiError{Kind: kind, Message: au.Message}, false
		}
	case errors.As(err, &pe):
		return fromDomain(pe)
	case errors.As(err, &ie):
		if ie.Serialization {
			return &apiError{Kind: kindSerialization, Message: ie.Msg}, false
		}
		return &apiError{Kind: kindValidation, Message: ie.Msg}, false
	case errors.As(err, &ee):
		return &apiError{Kind: kindValidation, Message: ee.Msg}, false
	case errors.As(err, &pq):
		return &apiError{Kind: kindValidation, Message: pq.Msg}, false
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &apiError{Kind: kindInternal, Message: "Request timed out or was canceled"}, false
	}
	return &apiError{Kind: kindInternal, Message: msgInternal}, true
}

// fromDomain maps a *partitapb.Error through codeKinds.
func fromDomain(pe *partitapb.Error) (*apiError, bool) {
	kind, ok := codeKinds[pe.GetCode()]
	if !ok {
		return &apiError{Kind: kindInternal, Message: msgInternal}, true
	}
	if pe.GetCode() == partitapb.Error_THROTTLED {
		return throttledError(pe), false
	}
	msg := pe.GetMessage()
	if msg == "" {
		msg = defaultMessages[pe.GetCode()]
	}
	return &apiError{Kind: kind, Message: msg}, false
}

// throttledError is the wire form of admission control's refusal: its
// message carries DynamoDB's throttling reason.
func throttledError(pe *partitapb.Error) *apiError {
	msg := msgProvisionedExceeded
	if strings.HasSuffix(pe.GetMessage(), "KeyRangeThroughputExceeded") {
		msg = msgKeyRangeExceeded
	}
	return &apiError{Kind: kindProvisionedExceeded, Message: msg,
		Reasons: []throttlingReason{{Reason: pe.GetMessage(), Resource: pe.GetTable()}}}
}

// isThrottled says err is admission control's refusal: the request was
// not served and may be retried.
func isThrottled(err error) bool { return isDomainCode(err, partitapb.Error_THROTTLED) }

// body returns the JSON body of e.
func (e *apiError) body() []byte {
	m := map[string]any{"__type": e.Kind.Type}
	if e.Kind.MessageKey != "" {
		m[e.Kind.MessageKey] = e.Message
	}
	if e.Item != nil {
		m["Item"] = e.Item
	}
	if len(e.Reasons) > 0 {
		m["ThrottlingReasons"] = e.Reasons
	}
	if len(e.Cancellation) > 0 {
		m["CancellationReasons"] = e.Cancellation
	}
	b, err := json.Marshal(m)
	if err != nil {
		// Only the Item can fail to marshal; send the error without it.
		delete(m, "Item")
		b, _ = json.Marshal(m)
	}
	return b
}

// isDomainCode reports whether err is a *partitapb.Error with code.
func isDomainCode(err error, code partitapb.Error_Code) bool {
	var pe *partitapb.Error
	return errors.As(err, &pe) && pe.GetCode() == code
}
