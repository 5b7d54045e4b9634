package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Policies are IAM's identity-based policies, for DynamoDB's actions:
//
//	{"Version": "2012-10-17",
//	 "Statement": [{"Sid": "ReadOwnItems", "Effect": "Allow",
//	   "Action": ["dynamodb:GetItem", "dynamodb:Query"],
//	   "Resource": "arn:aws:dynamodb:us-east-1:000000000000:table/Music",
//	   "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:username}"]}}}]}
//
// A statement has an Effect (Allow or Deny), Action or NotAction and
// Resource or NotResource (a string or a list; * and ? are wildcards;
// actions compare without case), and optional Conditions. A request is
// allowed when a statement allows it and none denies it: an explicit Deny
// wins, and what no statement allows is denied.

// ErrPolicy reports a policy document that does not parse.
var ErrPolicy = errors.New("auth: invalid policy")

// Effects of a statement.
const (
	Allow = "Allow"
	Deny  = "Deny"
)

// PolicyVersions are the policy languages accepted; "" defaults to the
// oldest, as IAM does.
var policyVersions = map[string]bool{"2012-10-17": true, "2008-10-17": true, "": true}

// Policy is a parsed policy document.
type Policy struct {
	Name       string
	Version    string
	Statements []Statement
}

// Statement is one statement of a policy.
type Statement struct {
	Sid    string
	Effect string
	// Actions (or, with NotAction, every action but them) and Resources
	// (or NotResources) the statement covers.
	Actions, Resources []string
	NotAction          bool
	NotResource        bool
	Conditions         []Condition
}

// Condition is one test of a statement's Condition block: Operator over
// the request's values of Key, against Values.
type Condition struct {
	// Operator is StringEquals, StringNotEquals, StringLike or
	// StringNotLike, with Set ForAllValues or ForAnyValue ("" for
	// neither) and IfExists.
	Operator string
	Set      string
	IfExists bool
	Key      string
	Values   []string
}

// The condition keys a request carries (Request.Context).
const (
	KeyLeadingKeys = "dynamodb:LeadingKeys"
	KeyAttributes  = "dynamodb:Attributes"
	KeySelect      = "dynamodb:Select"
	KeyReturnVals  = "dynamodb:ReturnValues"
)

// maxPolicyBytes bounds a document, as IAM bounds a managed policy.
const maxPolicyBytes = 6144

// ParsePolicy parses a policy document.
func ParsePolicy(name string, doc []byte) (*Policy, error) {
	if len(doc) > maxPolicyBytes {
		return nil, fmt.Errorf("%w %s: the document is %d bytes, more than %d", ErrPolicy, name, len(doc), maxPolicyBytes)
	}
	var raw struct {
		Version   string
		Id        string
		Statement json.RawMessage
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrPolicy, name, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w %s: text after the document", ErrPolicy, name)
	}
	if !policyVersions[raw.Version] {
		return nil, fmt.Errorf("%w %s: Version %q: want 2012-10-17", ErrPolicy, name, raw.Version)
	}
	stmts, err := oneOrMany[rawStatement](raw.Statement)
	if err != nil || len(stmts) == 0 {
		return nil, fmt.Errorf("%w %s: Statement must be a statement or a non-empty list of them", ErrPolicy, name)
	}
	p := &Policy{Name: name, Version: raw.Version}
	for i, rs := range stmts {
		s, err := rs.statement()
		if err != nil {
			return nil, fmt.Errorf("%w %s: statement %d: %w", ErrPolicy, name, i+1, err)
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

type rawStatement struct {
	Sid         string
	Effect      string
	Action      json.RawMessage
	NotAction   json.RawMessage
	Resource    json.RawMessage
	NotResource json.RawMessage
	Condition   map[string]map[string]json.RawMessage
	Principal   json.RawMessage
}

func (rs rawStatement) statement() (Statement, error) {
	s := Statement{Sid: rs.Sid, Effect: rs.Effect}
	if rs.Effect != Allow && rs.Effect != Deny {
		return s, fmt.Errorf("the Effect %q: want Allow or Deny", rs.Effect)
	}
	if rs.Principal != nil {
		return s, errors.New("a Principal has no place in a policy attached to a user")
	}
	var err error
	if s.Actions, s.NotAction, err = either("Action", rs.Action, rs.NotAction); err != nil {
		return s, err
	}
	for _, a := range s.Actions {
		if svc, _, ok := strings.Cut(a, ":"); a != "*" && (!ok || !strings.EqualFold(svc, "dynamodb")) {
			return s, fmt.Errorf("action %q: want dynamodb:<Action> (wildcards allowed) or *", a)
		}
	}
	if s.Resources, s.NotResource, err = either("Resource", rs.Resource, rs.NotResource); err != nil {
		return s, err
	}
	for _, r := range s.Resources {
		if r != "*" && !strings.HasPrefix(r, "arn:") {
			return s, fmt.Errorf("resource %q: want an ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME) or *", r)
		}
	}
	s.Conditions, err = conditions(rs.Condition)
	return s, err
}

// either reads the one of name and Not<name> a statement gives.
func either(name string, pos, neg json.RawMessage) ([]string, bool, error) {
	switch {
	case pos != nil && neg != nil:
		return nil, false, fmt.Errorf("the %s and Not%s are exclusive", name, name)
	case pos == nil && neg == nil:
		return nil, false, fmt.Errorf("a statement needs %s (or Not%s)", name, name)
	case neg != nil:
		v, err := strings1(neg)
		if err != nil {
			return nil, false, fmt.Errorf("the Not%s: %w", name, err)
		}
		return v, true, nil
	}
	v, err := strings1(pos)
	if err != nil {
		return nil, false, fmt.Errorf("the %s: %w", name, err)
	}
	return v, false, nil
}

// strings1 reads a string or a non-empty list of non-empty strings.
func strings1(raw json.RawMessage) ([]string, error) {
	v, err := oneOrMany[string](raw)
	if err != nil || len(v) == 0 {
		return nil, errors.New("want a string or a non-empty list of strings")
	}
	for _, s := range v {
		if s == "" {
			return nil, errors.New("an empty string")
		}
	}
	return v, nil
}

// oneOrMany reads a JSON value that is a T or a list of T.
func oneOrMany[T any](raw json.RawMessage) ([]T, error) {
	t := bytes.TrimSpace(raw)
	if len(t) > 0 && t[0] == '[' {
		var v []T
		err := json.Unmarshal(t, &v)
		return v, err
	}
	var v T
	if err := json.Unmarshal(t, &v); err != nil {
		return nil, err
	}
	return []T{v}, nil
}

var conditionOperators = map[string]bool{"StringEquals": true, "StringNotEquals": true, "StringLike": true, "StringNotLike": true}

var conditionKeys = map[string]bool{KeyLeadingKeys: true, KeyAttributes: true, KeySelect: true, KeyReturnVals: true,
	"aws:username": true}

// conditions reads a Condition block: {"Operator": {"key": value(s)}}.
func conditions(block map[string]map[string]json.RawMessage) ([]Condition, error) {
	var out []Condition
	for op, keys := range block {
		c := Condition{Operator: op}
		if set, rest, ok := strings.Cut(op, ":"); ok {
			if set != "ForAllValues" && set != "ForAnyValue" {
				return nil, fmt.Errorf("condition operator %q: want ForAllValues: or ForAnyValue: before the operator", op)
			}
			c.Set, c.Operator = set, rest
		}
		c.Operator, c.IfExists = strings.CutSuffix(c.Operator, "IfExists")
		if !conditionOperators[c.Operator] {
			return nil, fmt.Errorf("condition operator %q: want StringEquals, StringNotEquals, StringLike or StringNotLike", op)
		}
		for key, raw := range keys {
			if !conditionKeys[key] {
				return nil, fmt.Errorf("condition key %q: want dynamodb:LeadingKeys, dynamodb:Attributes, dynamodb:Select, dynamodb:ReturnValues or aws:username", key)
			}
			vals, err := strings0(raw)
			if err != nil {
				return nil, fmt.Errorf("condition %s %s: %w", op, key, err)
			}
			cc := c
			cc.Key, cc.Values = key, vals
			out = append(out, cc)
		}
	}
	sortConditions(out)
	return out, nil
}

// strings0 reads a string or a list of strings (empty strings allowed).
func strings0(raw json.RawMessage) ([]string, error) {
	v, err := oneOrMany[string](raw)
	if err != nil || len(v) == 0 {
		return nil, errors.New("want a string or a non-empty list of strings")
	}
	return v, nil
}

// sortConditions orders conditions by key then operator, so that a
// policy's statements evaluate (and print) alike whatever the map order.
func sortConditions(cs []Condition) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && condLess(cs[j], cs[j-1]); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

func condLess(a, b Condition) bool {
	if a.Key != b.Key {
		return a.Key < b.Key
	}
	return a.Set+a.Operator < b.Set+b.Operator
}
