package node

import (
	"context"
	"slices"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// Groups of users: a user's policies are its own and those of its groups
// (readGrants). The /auth/groups routes read walks of the meta leader and
// change it with meta commands, as the users' routes do.

// groupPolicies maps each user to the groups it is a member of and the
// policies they bring: policy name -> the first group (in name order)
// that brings it.
func groupPolicies(groups []*partitapb.Group) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, g := range groups {
		for _, u := range g.GetUsers() {
			if out[u] == nil {
				out[u] = map[string]string{}
			}
			for _, p := range g.GetPolicies() {
				if _, ok := out[u][p]; !ok {
					out[u][p] = g.GetName()
				}
			}
		}
	}
	return out
}

// effectivePolicies is a user's own policies, then its groups', each
// once, in that order.
func effectivePolicies(u *partitapb.User, fromGroups map[string]string) []string {
	names := slices.Clone(u.GetPolicies())
	extra := make([]string, 0, len(fromGroups))
	for p := range fromGroups {
		if !slices.Contains(names, p) {
			extra = append(extra, p)
		}
	}
	slices.Sort(extra)
	return append(names, extra...)
}

func (n *Node) readGroups(ctx context.Context) ([]*partitapb.Group, error) {
	lo, hi := directory.GroupsSpan()
	return walkMeta(ctx, n, lo, hi, directory.DecodeGroup)
}

// Groups implements admin.Auth.
func (c ctl) Groups(ctx context.Context) ([]admin.Group, error) {
	recs, err := c.n.readGroups(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]admin.Group, 0, len(recs))
	for _, g := range recs {
		out = append(out, groupInfo(g))
	}
	return out, nil
}

// CreateGroup implements admin.Auth.
func (c ctl) CreateGroup(ctx context.Context, name string) (admin.Group, error) {
	return c.groupCommand(ctx, &partitapb.Command{Op: &partitapb.Command_CreateGroup{CreateGroup: &partitapb.CreateGroup{Name: name}}})
}

// DeleteGroup implements admin.Auth.
func (c ctl) DeleteGroup(ctx context.Context, name string) (admin.Group, error) {
	return c.groupCommand(ctx, &partitapb.Command{Op: &partitapb.Command_DeleteGroup{DeleteGroup: &partitapb.DeleteGroup{Name: name}}})
}

// SetGroupMember implements admin.Auth.
func (c ctl) SetGroupMember(ctx context.Context, group, user string, remove bool) (admin.Group, error) {
	return c.groupCommand(ctx, &partitapb.Command{Op: &partitapb.Command_SetGroupMember{SetGroupMember: &partitapb.SetGroupMember{
		Group: group, User: user, Remove: remove}}})
}

// AttachGroupPolicy implements admin.Auth.
func (c ctl) AttachGroupPolicy(ctx context.Context, group, policy string, detach bool) (admin.Group, error) {
	return c.groupCommand(ctx, &partitapb.Command{Op: &partitapb.Command_AttachGroupPolicy{AttachGroupPolicy: &partitapb.AttachGroupPolicy{
		Group: group, Policy: policy, Detach: detach}}})
}

func (c ctl) groupCommand(ctx context.Context, cmd *partitapb.Command) (admin.Group, error) {
	res, err := c.n.proposeAuth(ctx, cmd)
	if err != nil {
		return admin.Group{}, err
	}
	c.n.refreshSoon(ctx)
	return groupInfo(res.GetGroup()), nil
}

func groupInfo(g *partitapb.Group) admin.Group {
	return admin.Group{Name: g.GetName(), Created: unixTime(g.GetCreatedUnixNanos()), Users: nonNil(g.GetUsers()),
		Policies: nonNil(g.GetPolicies())}
}
