package dynamo

import (
	"mime"
	"net/http"
)

// The shape of an HTTP request, before its operation is known. DynamoDB
// takes a POST on any path with a JSON body (application/x-amz-json-1.0,
// or application/json, which it echoes in its answer's Content-Type). A
// body of another media type, a method other than POST (GET is our health
// check, and OPTIONS with an Origin a CORS preflight) is not an operation:
// DynamoDB answers those with a 404 whose body is an XML element, not
// JSON.

// jsonType is the other media type DynamoDB reads its JSON protocol in.
const jsonType = "application/json"

// notFoundBody is DynamoDB's answer to what is not an operation.
const notFoundBody = "<UnknownOperationException/>\n"

// readableBody reports whether r's body, if it has one, is in a media type
// the protocol reads. A request without a body passes: its missing body is
// the operation's SerializationException.
func readableBody(r *http.Request) bool {
	if r.ContentLength == 0 {
		return true
	}
	t, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && (t == contentType || t == jsonType)
}

// responseType is the Content-Type of the answer to r: application/json
// when the client sent its body so, else the protocol's own type.
func responseType(r *http.Request) string {
	if t, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && t == jsonType {
		return jsonType
	}
	return contentType
}

// setContentType gives an answer the protocol's Content-Type unless the
// request chose application/json.
func setContentType(h http.Header) {
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", contentType)
	}
}

// serveNotFound answers a request that is not an operation. Like
// DynamoDB's, the answer names no Content-Type (a nil value keeps net/http
// from guessing one).
func serveNotFound(w http.ResponseWriter) {
	w.Header()["Content-Type"] = nil
	writeBody(w, http.StatusNotFound, []byte(notFoundBody))
}
