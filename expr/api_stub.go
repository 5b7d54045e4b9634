package expr

import "github.com/partitadb/partita/item"

// This file declares the API the other packages build against. The expr
// package's owner replaces these stubs with real implementations (and deletes
// this file); the signatures and documented behaviour are the contract.

// Env holds one request's ExpressionAttributeNames and
// ExpressionAttributeValues and records which of them the request's
// expressions used, so that unused ones can be reported as DynamoDB does.
type Env struct {
	Names  map[string]string
	Values item.Item
	usedN  map[string]bool
	usedV  map[string]bool
}

// NewEnv returns an Env over names and values (either may be nil).
func NewEnv(names map[string]string, values item.Item) *Env { panic("stub") }

// CheckUnused returns DynamoDB's ValidationException message error if a
// name or value was supplied but not used by any expression parsed in env:
// "Value provided in ExpressionAttributeValues unused in expressions: keys: {:v}"
// (and the ExpressionAttributeNames counterpart).
func (e *Env) CheckUnused() error { panic("stub") }

// Condition is a parsed ConditionExpression (also the form of
// FilterExpression and, with restrictions, KeyConditionExpression).
type Condition struct{}

// ParseCondition parses a condition expression, resolving #names and
// :values through env (an undefined one is an error). kind names the
// request parameter for messages ("ConditionExpression", "FilterExpression").
func ParseCondition(kind, s string, env *Env) (*Condition, error) { panic("stub") }

// Eval evaluates c against it (nil for a missing item). Errors are
// evaluation-time validation errors (e.g. a type mismatch DynamoDB rejects).
func (c *Condition) Eval(it item.Item) (bool, error) { panic("stub") }

// Update is a parsed UpdateExpression.
type Update struct{}

// ParseUpdate parses an update expression through env, validating what can
// be validated without the item (overlapping/conflicting paths, operands of
// the wrong type when they are literals, duplicate clauses...).
func ParseUpdate(s string, env *Env) (*Update, error) { panic("stub") }

// CheckKeys rejects an update that touches any of the key attributes:
// "Cannot update attribute pk. This attribute is part of the key".
func (u *Update) CheckKeys(keyNames ...string) error { panic("stub") }

// Apply returns the item that results from applying u to it (nil for a
// missing item; the result then starts empty and the caller merges the key).
// it is not modified. Errors carry DynamoDB's validation messages.
func (u *Update) Apply(it item.Item) (item.Item, error) { panic("stub") }

// Updated returns a projection of the paths u sets, removes, adds to or
// deletes from, so ReturnValues UPDATED_OLD / UPDATED_NEW are
// u.Updated().Apply(old) / u.Updated().Apply(new), nested as DynamoDB nests them.
func (u *Update) Updated() *Projection { panic("stub") }

// Projection is a parsed ProjectionExpression.
type Projection struct{}

// ParseProjection parses a projection expression through env.
func ParseProjection(s string, env *Env) (*Projection, error) { panic("stub") }

// Apply returns the projection of it (nil for nil).
func (p *Projection) Apply(it item.Item) item.Item { panic("stub") }

// Error is a validation error with DynamoDB's message; sent as ValidationException.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }
