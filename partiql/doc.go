// Package partiql implements the subset of PartiQL that DynamoDB serves
// through ExecuteStatement, BatchExecuteStatement and ExecuteTransaction:
// SELECT, INSERT, UPDATE and DELETE on one table, with `?` parameters and
// PartiQL's Ion-like literals ('str', 1.5, <<set>>, [list], {map}, TRUE,
// NULL).
//
// # Walkthrough
//
// A statement is lexed, parsed into a syntax tree, then planned against the
// table's primary key into the operation DynamoDB would run:
//
//	st, err := partiql.Parse(`SELECT * FROM "Music" WHERE Artist = ? AND Year > 1970`)
//	plan, err := partiql.NewPlan(st, params, partiql.KeySchema{Hash: "Artist", Range: "Song"})
//	switch plan.Access { case partiql.AccessGet, partiql.AccessQuery, partiql.AccessScan: ... }
//
// A plan does not evaluate anything itself: its WHERE clause, SET and
// REMOVE actions become DynamoDB expressions (text with generated
// #name and :value placeholders) that package expr parses and evaluates,
// the same code that serves GetItem, Query, Scan, PutItem, UpdateItem and
// DeleteItem. The wire layer (package dynamo) runs the plan.
//
// # Semantics
//
//   - SELECT with an equality on the partition key (or an IN list of
//     values) becomes one Query per value, with a sort key condition when
//     the WHERE clause has one (=, <, <=, >, >=, BETWEEN, begins_with);
//     with equalities on the whole primary key, a GetItem; otherwise a
//     Scan. The whole WHERE clause filters the items read.
//   - INSERT fails with DuplicateItemException when the key exists.
//   - UPDATE and DELETE need an equality on every key attribute; the other
//     conjuncts of the WHERE clause are a condition. UPDATE of a missing
//     item fails its condition; DELETE of a missing item does nothing.
//
// Every error is an *Error whose Msg is DynamoDB's message; the wire layer
// sends it as a ValidationException.
package partiql
