package node

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/auth"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/dynamo"
	"github.com/partitadb/partita/partitapb"
)

// Authorization: every user of the directory is allowed what the
// policies attached to it or to its groups allow (an explicit Deny wins, nothing is
// allowed by default: a user without policies can do nothing). The users
// of --credentials-file keys that are not users of the directory are the
// operator's: they are allowed everything. The refresh loop that reads
// the keys also reads the users and policies (auth.go).

// AllowAllPolicy is the policy the bootstrap user gets: every DynamoDB
// action on every resource.
const AllowAllPolicy = "AllowAll"

// allowAllDocument is AllowAllPolicy's document.
const allowAllDocument = `{"Version":"2012-10-17","Statement":[{"Sid":"AllowAll","Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}`

// attachAllowAll puts AllowAllPolicy (again) and attaches it to user.
func (n *Node) attachAllowAll(ctx context.Context, user string) error {
	_, err := n.proposeAuth(ctx, &partitapb.Command{Op: &partitapb.Command_PutPolicy{PutPolicy: &partitapb.PutPolicy{
		Policy: &partitapb.Policy{Name: AllowAllPolicy, Document: allowAllDocument}}}})
	if err == nil {
		_, err = n.proposeAuth(ctx, &partitapb.Command{Op: &partitapb.Command_AttachPolicy{AttachPolicy: &partitapb.AttachPolicy{
			User: user, Policy: AllowAllPolicy}}})
	}
	if err != nil {
		return fmt.Errorf("node: give the bootstrap user %s the policy %s: %w", user, AllowAllPolicy, err)
	}
	return nil
}

// grants are the policies of each user of the directory, parsed; it is
// replaced as a whole by each refresh.
type grants struct {
	users map[string][]*auth.Policy
	// actionOnly says, per user, whether its policies decide by action
	// alone (auth.ActionOnly).
	actionOnly map[string]bool
	// parsed caches each policy by name, with the time it was written,
	// so that a refresh parses only the policies that changed.
	parsed map[string]parsedPolicy
	// viaGroup names, per user, the group that brings each policy the
	// user has from a group alone (simulate says so).
	viaGroup map[string]map[string]string
}

type parsedPolicy struct {
	updated int64
	policy  *auth.Policy
}

// policySet is the node's current grants. Safe for concurrent use.
type policySet struct{ g atomic.Pointer[grants] }

var _ dynamo.Authorizer = (*Node)(nil)

// Authorize implements dynamo.Authorizer from the grants last read.
func (n *Node) Authorize(p auth.Principal, r auth.Request) auth.Decision {
	var policies []*auth.Policy
	ok := false
	if g := n.auth.policies.g.Load(); g != nil {
		policies, ok = g.users[p.User]
	}
	if !ok {
		if n.cfg.Auth.Credentials != nil {
			if _, user, known := n.cfg.Auth.Credentials.Lookup(p.AccessKeyID); known && user == p.User {
				return auth.Decision{Allowed: true, Policy: "--credentials-file", Statement: "(every key of the file)"}
			}
		}
		return auth.Decision{}
	}
	return auth.Evaluate(policies, r)
}

// ActionOnly implements dynamo.Authorizer.
func (n *Node) ActionOnly(p auth.Principal) bool {
	g := n.auth.policies.g.Load()
	if g == nil {
		return true
	}
	ps, ok := g.actionOnly[p.User]
	return !ok || ps
}

// refreshGrants reads every user and policy of the directory and replaces
// the node's grants.
func (n *Node) refreshGrants(ctx context.Context) error {
	g, err := n.readGrants(ctx)
	if err != nil {
		return err
	}
	n.auth.policies.g.Store(g)
	return nil
}

// readGrants reads every user and policy of the directory, parsing only
// the policies that changed since the node's current grants.
func (n *Node) readGrants(ctx context.Context) (*grants, error) {
	ulo, uhi := directory.UsersSpan()
	users, err := walkMeta(ctx, n, ulo, uhi, directory.DecodeUser)
	if err != nil {
		return nil, err
	}
	plo, phi := directory.PoliciesSpan()
	recs, err := walkMeta(ctx, n, plo, phi, directory.DecodePolicy)
	if err != nil {
		return nil, err
	}
	groups, err := n.readGroups(ctx)
	if err != nil {
		return nil, err
	}
	old := n.auth.policies.g.Load()
	g := &grants{users: make(map[string][]*auth.Policy, len(users)), actionOnly: make(map[string]bool, len(users)),
		parsed: make(map[string]parsedPolicy, len(recs)), viaGroup: groupPolicies(groups)}
	for _, rec := range recs {
		if old != nil {
			if pp, ok := old.parsed[rec.GetName()]; ok && pp.updated == rec.GetUpdatedUnixNanos() {
				g.parsed[rec.GetName()] = pp
				continue
			}
		}
		p, err := auth.ParsePolicy(rec.GetName(), []byte(rec.GetDocument()))
		if err != nil {
			n.log.Error("a policy of the directory does not parse: it allows and denies nothing", "policy", rec.GetName(), "err", err)
			continue
		}
		g.parsed[rec.GetName()] = parsedPolicy{updated: rec.GetUpdatedUnixNanos(), policy: p}
	}
	for _, u := range users {
		ps := []*auth.Policy{}
		for _, own := range u.GetPolicies() {
			delete(g.viaGroup[u.GetName()], own)
		}
		for _, name := range effectivePolicies(u, g.viaGroup[u.GetName()]) {
			if pp, ok := g.parsed[name]; ok {
				ps = append(ps, pp.policy)
			}
		}
		g.users[u.GetName()] = ps
		g.actionOnly[u.GetName()] = auth.ActionOnly(ps)
	}
	return g, nil
}

// Policies implements admin.Auth.
func (c ctl) Policies(ctx context.Context) ([]admin.Policy, error) {
	lo, hi := directory.PoliciesSpan()
	recs, err := walkMeta(ctx, c.n, lo, hi, directory.DecodePolicy)
	if err != nil {
		return nil, err
	}
	out := make([]admin.Policy, 0, len(recs))
	for _, p := range recs {
		out = append(out, policyInfo(p))
	}
	return out, nil
}

// PutPolicy implements admin.Auth: the document must parse.
func (c ctl) PutPolicy(ctx context.Context, name string, doc []byte) (admin.Policy, error) {
	if _, err := auth.ParsePolicy(name, doc); err != nil {
		return admin.Policy{}, fmt.Errorf("%w: %w", admin.ErrBadRequest, err)
	}
	res, err := c.n.proposeAuth(ctx, &partitapb.Command{Op: &partitapb.Command_PutPolicy{PutPolicy: &partitapb.PutPolicy{
		Policy: &partitapb.Policy{Name: name, Document: string(doc)}}}})
	if err != nil {
		return admin.Policy{}, err
	}
	c.n.refreshSoon(ctx)
	return policyInfo(res.GetPolicy()), nil
}

// DeletePolicy implements admin.Auth.
func (c ctl) DeletePolicy(ctx context.Context, name string) (admin.Policy, error) {
	res, err := c.n.proposeAuth(ctx, &partitapb.Command{Op: &partitapb.Command_DeletePolicy{DeletePolicy: &partitapb.DeletePolicy{Name: name}}})
	if err != nil {
		return admin.Policy{}, err
	}
	c.n.refreshSoon(ctx)
	return policyInfo(res.GetPolicy()), nil
}

// AttachPolicy implements admin.Auth.
func (c ctl) AttachPolicy(ctx context.Context, user, policy string, detach bool) (admin.User, error) {
	res, err := c.n.proposeAuth(ctx, &partitapb.Command{Op: &partitapb.Command_AttachPolicy{AttachPolicy: &partitapb.AttachPolicy{
		User: user, Policy: policy, Detach: detach}}})
	if err != nil {
		return admin.User{}, err
	}
	c.n.refreshSoon(ctx)
	return userInfo(res.GetUser()), nil
}

// Simulate implements admin.Auth: the user's policies as the directory
// holds them now decide the request, as the API would.
func (c ctl) Simulate(ctx context.Context, q admin.SimulateRequest) (admin.SimulateResult, error) {
	g, err := c.n.readGrants(ctx)
	if err != nil {
		return admin.SimulateResult{}, err
	}
	r := auth.Request{User: q.User, Action: q.Action, Resource: q.Resource, Context: map[string][]string{}}
	if !strings.Contains(r.Action, ":") {
		r.Action = "dynamodb:" + r.Action
	}
	if r.Resource != "*" && !strings.HasPrefix(r.Resource, "arn:") {
		r.Resource = "arn:aws:dynamodb:" + c.n.cfg.Region + ":" + c.n.cfg.AccountID + ":table/" + r.Resource
	}
	for k, v := range map[string][]string{auth.KeyLeadingKeys: q.LeadingKeys, auth.KeyAttributes: q.Attributes,
		auth.KeySelect: q.Select, auth.KeyReturnVals: q.ReturnValues} {
		if len(v) > 0 {
			r.Context[k] = v
		}
	}
	if _, ok := g.users[q.User]; !ok {
		return admin.SimulateResult{}, fmt.Errorf("%w: user %s", admin.ErrNotFound, q.User)
	}
	d := auth.Evaluate(g.users[q.User], r)
	out := admin.SimulateResult{User: q.User, Action: r.Action, Resource: r.Resource, Allowed: d.Allowed,
		ExplicitDeny: d.ExplicitDeny, Policy: d.Policy, Statement: d.Statement, Explanation: d.String()}
	if grp, ok := g.viaGroup[q.User][d.Policy]; ok {
		out.Group = grp
		out.Explanation += " (attached to group " + grp + ")"
	}
	if !d.Allowed {
		out.Message = auth.AccessDeniedMessage("arn:aws:iam::"+c.n.cfg.AccountID+":user/"+q.User, r, d)
	}
	return out, nil
}

func policyInfo(p *partitapb.Policy) admin.Policy {
	return admin.Policy{Name: p.GetName(), Document: p.GetDocument(), Updated: unixTime(p.GetUpdatedUnixNanos())}
}
