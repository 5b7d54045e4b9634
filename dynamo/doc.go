// Package dynamo is the DynamoDB wire layer of a Partita node: the HTTP
// endpoint that AWS SDKs, boto3 and the AWS CLI talk to, speaking
// DynamoDB's JSON 1.0 protocol.
//
// A request is a POST whose X-Amz-Target header names the operation
// ("DynamoDB_20120810.PutItem") and whose body is a JSON object, possibly
// gzip-compressed. Server.ServeHTTP reads the body (at most
// Config.MaxRequestBytes), dispatches on the operation to one handler per
// operation (handleCreateTable, handlePutItem, ...), and answers with a
// JSON body, its CRC32 in x-amz-crc32 and a request id in
// x-amzn-RequestId. GET / answers a health check as DynamoDB's endpoint
// does.
//
//	client ──POST / X-Amz-Target──▶ Server.ServeHTTP
//	                                  │ Config.Auth.Authenticate (the headers)
//	                                  │ readBody (size limit)
//	                                  │ claim.Verify (the signature over the raw body)
//	                                  │ decompress (gunzip)
//	                                  │ operations[op] → handleX
//	                                  │    decode → validate → translate legacy
//	                                  │    → expr.Parse* → Backend
//	                                  ▼
//	                  writeJSON / writeError (errors.go: the one table)
//
// Every handler works in the same order as DynamoDB, so that a request with
// several faults gets the error DynamoDB would report:
//
//  1. decode: malformed JSON or a wrong JSON type is a
//     SerializationException; an invalid attribute value a
//     ValidationException with DynamoDB's message (package item);
//  2. parameter constraints, all of them in one answer through violations
//     ("2 validation errors detected: Value null at 'tableName' failed to
//     satisfy constraint: Member must not be null; Value ..."), in the
//     member order DynamoDB was recorded using (docs/protocol.md,
//     "Validation order"; validation_order_test.go covers every operation);
//  3. cross-parameter rules (ReturnValues per operation, expression versus
//     legacy parameters, placeholder maps);
//  4. expressions: legacy parameters (Expected, AttributeUpdates,
//     AttributesToGet) are translated into expression text with generated
//     placeholders (legacy.go), then parsed by package expr exactly like
//     request expressions: there is a single evaluator, at apply time;
//  5. the table (ResourceNotFoundException) and the key against its schema;
//  6. the mutation, proposed as one partitapb.Command through
//     Backend.Write; the apply Result's old and new images shape
//     ReturnValues, and its Error (a failed condition, an item grown too
//     large) becomes the wire error.
//
// Domain errors reach the wire through toAPIError in errors.go: the only
// place that knows __type strings and HTTP statuses. A handler panic is
// recovered, logged and answered as InternalServerError; nothing is written
// before a handler returns, so no request is ever half-answered, and every
// write is one command, so none is ever half-applied.
//
// The Backend interface (backend.go) is all the package needs below it:
// the table catalog and the routing of item commands. Tests drive the
// Server over a real single node's Backend (with a test clock and ids),
// and through the AWS SDK for Go against a real node.
package dynamo
