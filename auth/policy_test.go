package auth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/partitadb/partita/auth"
)

const table = "arn:aws:dynamodb:us-east-1:000000000000:table/Music"

func mustPolicy(t *testing.T, name, doc string) *auth.Policy {
	t.Helper()
	p, err := auth.ParsePolicy(name, []byte(doc))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

// TestPolicyEvaluate: deny by default, Allow, an explicit Deny that wins,
// wildcards in actions and resources, NotAction, indexes, LeadingKeys
// with ${aws:username}, Select and ReturnValues.
func TestPolicyEvaluate(t *testing.T) {
	readers := mustPolicy(t, "readers", `{"Version":"2012-10-17","Statement":[
		{"Sid":"Read","Effect":"Allow","Action":["dynamodb:Get*","dynamodb:Query","dynamodb:BatchGetItem"],
		 "Resource":["arn:aws:dynamodb:*:*:table/Music","arn:aws:dynamodb:*:*:table/Music/index/*"]}]}`)
	noDeletes := mustPolicy(t, "no-deletes", `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"dynamodb:Delete*","Resource":"*"}}`)
	all := mustPolicy(t, "all", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}`)
	own := mustPolicy(t, "own-items", `{"Version":"2012-10-17","Statement":[
		{"Sid":"OwnItems","Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem","dynamodb:Query"],"Resource":"`+table+`",
		 "Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${aws:username}"]},
		              "StringEqualsIfExists":{"dynamodb:Select":"SPECIFIC_ATTRIBUTES"}}},
		{"Sid":"NoOldValues","Effect":"Deny","NotAction":"dynamodb:GetItem","Resource":"`+table+`",
		 "Condition":{"StringLike":{"dynamodb:ReturnValues":"ALL_*"}}}]}`)
	if !auth.ActionOnly([]*auth.Policy{all, noDeletes}) || auth.ActionOnly([]*auth.Policy{all, readers}) || auth.ActionOnly([]*auth.Policy{own}) {
		t.Error("ActionOnly: want true for policies on * without conditions only")
	}
	for _, c := range []struct {
		name     string
		policies []*auth.Policy
		req      auth.Request
		want     string
	}{
		{"no policy", nil, auth.Request{Action: "dynamodb:GetItem", Resource: table}, "denied: no statement"},
		{"allowed", []*auth.Policy{readers}, auth.Request{Action: "dynamodb:GetItem", Resource: table}, "allowed by statement Read of policy readers"},
		{"action case", []*auth.Policy{readers}, auth.Request{Action: "DynamoDB:getitem", Resource: table}, "allowed by"},
		{"index", []*auth.Policy{readers}, auth.Request{Action: "dynamodb:Query", Resource: table + "/index/ByYear"}, "allowed by"},
		{"other table", []*auth.Policy{readers}, auth.Request{Action: "dynamodb:GetItem", Resource: table + "2"}, "denied: no statement"},
		{"other action", []*auth.Policy{readers}, auth.Request{Action: "dynamodb:PutItem", Resource: table}, "denied: no statement"},
		{"deny wins", []*auth.Policy{all, noDeletes}, auth.Request{Action: "dynamodb:DeleteItem", Resource: table}, "denied by statement #1 of policy no-deletes"},
		{"deny elsewhere", []*auth.Policy{all, noDeletes}, auth.Request{Action: "dynamodb:PutItem", Resource: table}, "allowed by statement #1 of policy all"},
		{"list tables", []*auth.Policy{all}, auth.Request{Action: "dynamodb:ListTables", Resource: "*"}, "allowed by"},
		{"own key", []*auth.Policy{own}, auth.Request{User: "alice", Action: "dynamodb:GetItem", Resource: table,
			Context: map[string][]string{auth.KeyLeadingKeys: {"alice"}}}, "allowed by statement OwnItems"},
		{"another's key", []*auth.Policy{own}, auth.Request{User: "alice", Action: "dynamodb:GetItem", Resource: table,
			Context: map[string][]string{auth.KeyLeadingKeys: {"alice", "bob"}}}, "denied: no statement"},
		{"select all", []*auth.Policy{own}, auth.Request{User: "alice", Action: "dynamodb:Query", Resource: table,
			Context: map[string][]string{auth.KeyLeadingKeys: {"alice"}, auth.KeySelect: {"ALL_ATTRIBUTES"}}}, "denied: no statement"},
		{"select specific", []*auth.Policy{own}, auth.Request{User: "alice", Action: "dynamodb:Query", Resource: table,
			Context: map[string][]string{auth.KeyLeadingKeys: {"alice"}, auth.KeySelect: {"SPECIFIC_ATTRIBUTES"}}}, "allowed by"},
		{"return values denied", []*auth.Policy{own}, auth.Request{User: "alice", Action: "dynamodb:PutItem", Resource: table,
			Context: map[string][]string{auth.KeyLeadingKeys: {"alice"}, auth.KeyReturnVals: {"ALL_OLD"}}}, "denied by statement NoOldValues"},
		{"return none", []*auth.Policy{own}, auth.Request{User: "alice", Action: "dynamodb:PutItem", Resource: table,
			Context: map[string][]string{auth.KeyLeadingKeys: {"alice"}, auth.KeyReturnVals: {"NONE"}}}, "allowed by"},
	} {
		if got := auth.Evaluate(c.policies, c.req).String(); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: %s, want %s...", c.name, got, c.want)
		}
	}
}

// TestAccessDeniedMessage: DynamoDB's wording, for a default and an
// explicit deny.
func TestAccessDeniedMessage(t *testing.T) {
	r := auth.Request{User: "alice", Action: "dynamodb:PutItem", Resource: table}
	user := "arn:aws:iam::000000000000:user/alice"
	if got, want := auth.AccessDeniedMessage(user, r, auth.Decision{}),
		"User: arn:aws:iam::000000000000:user/alice is not authorized to perform: dynamodb:PutItem on resource: "+table+
			" because no identity-based policy allows the dynamodb:PutItem action"; got != want {
		t.Errorf("default deny:\n%s\nwant\n%s", got, want)
	}
	if got := auth.AccessDeniedMessage(user, r, auth.Decision{ExplicitDeny: true}); !strings.HasSuffix(got,
		"on resource: "+table+" with an explicit deny in an identity-based policy") {
		t.Errorf("explicit deny: %s", got)
	}
}

// TestParsePolicyRefuses: documents a policy cannot be, each with the
// reason given.
func TestParsePolicyRefuses(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{`not json`, "invalid character"},
		{`{"Version":"2012-10-17"}`, "Statement must be"},
		{`{"Version":"2012-10-17","Statement":[]}`, "Statement must be"},
		{`{"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "Version"},
		{`{"Statement":{"Effect":"Maybe","Action":"*","Resource":"*"}}`, "Effect"},
		{`{"Statement":{"Effect":"Allow","Resource":"*"}}`, "needs Action (or NotAction)"},
		{`{"Statement":{"Effect":"Allow","Action":"*","NotAction":"*","Resource":"*"}}`, "exclusive"},
		{`{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`, "want dynamodb:"},
		{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"table/Music"}}`, "want an ARN"},
		{`{"Statement":{"Effect":"Allow","Action":"*","Resource":[]}}`, "non-empty list"},
		{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Principal":"*"}}`, "Principal"},
		{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericEquals":{"dynamodb:Select":"1"}}}}`, "condition operator"},
		{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:SourceIp":"1"}}}}`, "condition key"},
		{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}, "Extra": 1}`, "unknown field"},
		{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}} {}`, "text after"},
	} {
		_, err := auth.ParsePolicy("p", []byte(c.doc))
		if !errors.Is(err, auth.ErrPolicy) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrPolicy saying %q", c.doc, err, c.want)
		}
	}
}
