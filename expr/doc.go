// Package expr implements DynamoDB's expression language: condition and
// filter expressions, key conditions, update expressions and projection
// expressions. Each is parsed once into a syntax tree and then evaluated
// purely against items: no I/O, no clock, no randomness, so a replica can
// evaluate a logged command at apply time and get the same answer as every
// other replica.
//
// # Walkthrough
//
// A request's ExpressionAttributeNames and ExpressionAttributeValues are
// first checked as maps, then wrapped in an Env that every expression of
// the request is parsed through; the Env records which placeholders were
// used:
//
//	if err := expr.ValidateParams(names, values); err != nil { ... } // "must not be empty", bad keys
//	env := expr.NewEnv(names, values)
//	cond, err := expr.ParseCondition(expr.KindCondition, "attribute_not_exists(pk) OR #v < :v", env)
//	upd, err := expr.ParseUpdate("SET #v = #v + :one REMOVE tmp", env)
//	proj, err := expr.ParseProjection("a.b[2], #v", env)
//	if err := env.CheckUnused(); err != nil { ... } // "Value provided in ... unused in expressions"
//
// Every parse and validation error is an *Error whose Msg is DynamoDB's
// message, prefixed with the request parameter ("Invalid UpdateExpression:
// ..."); the wire layer sends it as a ValidationException.
//
// Applying them to the stored item (nil when there is none):
//
//	ok, err := cond.Eval(old)           // false: ConditionalCheckFailedException
//	if err := upd.CheckKeys("pk", "sk"); err != nil { ... }
//	updated, err := upd.Apply(old)      // old is never modified
//	attrs := upd.Updated().Apply(old)   // ReturnValues: UPDATED_OLD
//	out := proj.Apply(updated)
//
// # Parsing
//
// The lexer turns the text into tokens; characters that start no token
// become "bad" tokens, so every lexical problem surfaces as a syntax error
// with DynamoDB's context: `Syntax error; token: "x", near: "a x b"`, where
// near runs from the previous token through the next one. A recursive
// descent parser builds the tree (conditions: OR binds loosest, then AND,
// then NOT; a parenthesized operand and a parenthesized condition are told
// apart by what follows the ")"). Everything that is not grammar — unknown
// functions, reserved words, undefined placeholders, operand counts and
// types, overlapping update paths — is checked by a second pass that keeps
// the first error of each category and reports them in DynamoDB's order,
// so an expression with several mistakes gets the message DynamoDB gives.
//
// # The tree
//
// The tree is exported so that callers can inspect it: a Condition is a
// tree of *Node (Op says what the node is; Operands are paths, :values or
// function calls); an Update is a list of Actions; a Projection is a list of
// Paths. ParseKeyCondition builds on ParseCondition for Query: it accepts
// only "key = :v AND sortkey op :v" shapes, and KeyCondition.Resolve matches
// the terms to a table's key schema.
//
// # Semantics worth knowing
//
//   - Comparisons between different types, or with a missing attribute, are
//     false (and <> is true); only S, N and B order, bytes compared unsigned.
//   - Literal operands of the wrong type are errors at parse time
//     (begins_with(a, :number), a < :list, BETWEEN bounds out of order);
//     item attributes of the wrong type just make the condition false.
//   - An update reads every operand from the old item before writing
//     anything. List indexes refer to the old list: SET past the end
//     appends (several appends land in index order), REMOVE of several
//     elements removes the original ones. DELETE that empties a set removes
//     the attribute; removing the last key of a map leaves an empty map.
//   - A projection nests what it selects: "a.b, a.c" yields a map with b and
//     c, "l[3], l[1]" a list of the two elements in index order.
package expr
