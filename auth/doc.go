// Package auth authenticates DynamoDB API requests: it verifies AWS
// Signature Version 4 (SigV4) as DynamoDB does, against access keys a
// Credentials implementation looks up, and answers a bad request with the
// error DynamoDB would send (the *Error codes; package dynamo gives them
// their __type and HTTP status).
//
// Verification runs in two phases, so that a request without a valid
// signature is refused before its body is read:
//
//	claim, err := verifier.Authenticate(r) // headers: form, time, scope, key
//	...read the body (as sent, before gunzip)...
//	principal, err := claim.Verify(body)   // the signature over it all
//
// Authenticate accepts the Authorization header form
//
//	Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261204/us-east-1/dynamodb/aws4_request,
//	    SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=<64 hex digits>
//
// and the presigned query form (X-Amz-Algorithm, X-Amz-Credential,
// X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature), and
// checks, in DynamoDB's order: a signature is present; its parameters are
// all there; the request time (X-Amz-Date, else Date) is within 15 minutes
// of the server's clock (or, presigned, within X-Amz-Expires); host,
// x-amz-date and x-amz-target are signed when sent; the algorithm; the
// credential scope (date of the request, a served region, service
// dynamodb, aws4_request); the access key. Verify then builds the
// canonical request, hashes the body (x-amz-content-sha256, when sent,
// must match it or be UNSIGNED-PAYLOAD), and compares signatures in
// constant time.
//
// Signing keys are derived once per access key, day and region and kept in
// a bounded cache, so a warm verification costs two SHA-256 passes and one
// HMAC (BenchmarkVerify: about 2 microseconds), and allocates nothing: the
// header is parsed into slices of itself, and a Claim, with the buffer of
// its canonical request, is reused once Verify ends it.
//
// StaticCredentials, loaded by LoadCredentialsFile, is the first store of
// keys; keys kept in the cluster's directory come later behind the same
// Credentials interface.
package auth
