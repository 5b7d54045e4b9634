package auth

import (
	"fmt"
	"strings"
)

// Request is what a policy decides on: who asks to do what to which
// resource, and the condition keys the request carries (a key absent from
// Context is not in the request).
type Request struct {
	User string
	// Action is "dynamodb:<Operation>".
	Action string
	// Resource is the ARN of a table, index or stream, or "*" for actions
	// on no table (ListTables, DescribeLimits).
	Resource string
	Context  map[string][]string
}

// Decision is a policy evaluation's verdict, and what made it.
type Decision struct {
	Allowed bool
	// ExplicitDeny: a Deny statement matched (else a refusal is the
	// default: no statement allowed the request).
	ExplicitDeny bool
	// Policy and Statement name the statement that decided (the Deny, or
	// the first Allow; Statement is its Sid, or "#N" for the Nth
	// statement without one); empty for a default deny.
	Policy, Statement string
}

// String says what decided, as `ctl policy simulate` prints it.
func (d Decision) String() string {
	switch {
	case d.ExplicitDeny:
		return fmt.Sprintf("denied by statement %s of policy %s (an explicit deny wins)", d.Statement, d.Policy)
	case d.Allowed:
		return fmt.Sprintf("allowed by statement %s of policy %s", d.Statement, d.Policy)
	}
	return "denied: no statement of the user's policies allows it (denied by default)"
}

// Evaluate decides r under policies: denied if a Deny statement matches,
// else allowed if an Allow statement does, else denied.
func Evaluate(policies []*Policy, r Request) Decision {
	var allow Decision
	for _, p := range policies {
		for i, s := range p.Statements {
			if !s.matches(r) {
				continue
			}
			d := Decision{Allowed: s.Effect == Allow, ExplicitDeny: s.Effect == Deny, Policy: p.Name, Statement: s.Sid}
			if d.Statement == "" {
				d.Statement = fmt.Sprintf("#%d", i+1)
			}
			if d.ExplicitDeny {
				return d
			}
			if !allow.Allowed {
				allow = d
			}
		}
	}
	return allow
}

// ActionOnly reports whether policies decide every request by its action
// alone (every statement on every resource, without conditions): then a
// request's tables and keys need not be read to decide it.
func ActionOnly(policies []*Policy) bool {
	for _, p := range policies {
		for _, s := range p.Statements {
			if len(s.Conditions) > 0 || s.NotResource || len(s.Resources) != 1 || s.Resources[0] != "*" {
				return false
			}
		}
	}
	return true
}

// AccessDeniedMessage is the message of DynamoDB's AccessDeniedException
// for a refused request of user (userARN) in account.
func AccessDeniedMessage(userARN string, r Request, d Decision) string {
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", userARN, r.Action, r.Resource)
	if d.ExplicitDeny {
		return msg + " with an explicit deny in an identity-based policy"
	}
	return msg + " because no identity-based policy allows the " + r.Action + " action"
}

func (s *Statement) matches(r Request) bool {
	action := false
	for _, a := range s.Actions {
		if wildcardFold(a, r.Action) {
			action = true
			break
		}
	}
	if action == s.NotAction {
		return false
	}
	resource := false
	for _, p := range s.Resources {
		if wildcard(expand(p, r), r.Resource) {
			resource = true
			break
		}
	}
	if resource == s.NotResource {
		return false
	}
	for _, c := range s.Conditions {
		if !c.holds(r) {
			return false
		}
	}
	return true
}

// holds evaluates the condition against r's values of its key.
func (c *Condition) holds(r Request) bool {
	vals, present := r.Context[c.Key]
	if c.Key == "aws:username" {
		vals, present = []string{r.User}, true
	}
	switch c.Set {
	case "ForAllValues":
		for _, v := range vals {
			if !c.one(v, r) {
				return false
			}
		}
		return true
	case "ForAnyValue":
		if !present {
			return c.IfExists
		}
		for _, v := range vals {
			if c.one(v, r) {
				return true
			}
		}
		return false
	}
	if !present || len(vals) == 0 {
		return c.IfExists && !present
	}
	for _, v := range vals {
		if !c.one(v, r) {
			return false
		}
	}
	return true
}

// one tests a single value of the key against the condition's values.
func (c *Condition) one(v string, r Request) bool {
	negate := c.Operator == "StringNotEquals" || c.Operator == "StringNotLike"
	like := c.Operator == "StringLike" || c.Operator == "StringNotLike"
	for _, p := range c.Values {
		p = expand(p, r)
		if (like && wildcard(p, v)) || (!like && p == v) {
			return !negate
		}
	}
	return negate
}

// expand replaces the policy variable ${aws:username} by the user's name.
func expand(pattern string, r Request) string {
	if !strings.Contains(pattern, "${") {
		return pattern
	}
	return strings.ReplaceAll(pattern, "${aws:username}", r.User)
}

// wildcard reports whether s matches pattern, where * matches any run of
// characters and ? any one.
func wildcard(pattern, s string) bool { return match(pattern, s, false) }

// wildcardFold is wildcard without regard to the case of ASCII letters
// (actions are ASCII: "dynamodb:GetItem" matches "DynamoDB:get*"),
// without building lower-case copies.
func wildcardFold(pattern, s string) bool { return match(pattern, s, true) }

func match(pattern, s string, fold bool) bool {
	// Iterative matching with one backtrack point: linear in practice,
	// never exponential.
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i] || fold && lowerASCII(pattern[p]) == lowerASCII(s[i])):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p, mark = star+1, mark+1
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
