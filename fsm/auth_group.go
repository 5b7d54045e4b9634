package fsm

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// Groups of users (directory.GroupKey): a member of a group gets the
// policies attached to the group beside its own. The group's record lists
// its members and policies, so a user's record is untouched by either.

// applyCreateGroup creates a group without members or policies.
func applyCreateGroup(b *engine.Batch, now int64, c *partitapb.CreateGroup) (*partitapb.Result, error) {
	if res := checkName("group", c.GetName(), 128); res != nil {
		return res, nil
	}
	cur, err := directory.ReadGroup(b, c.GetName())
	if err != nil {
		return nil, err
	}
	if cur != nil {
		res := reject(partitapb.Error_ALREADY_EXISTS, "group %s already exists", c.GetName())
		res.Group = cur
		return res, nil
	}
	g := &partitapb.Group{Name: c.GetName(), CreatedUnixNanos: now}
	return &partitapb.Result{Group: g}, writeGroup(b, g)
}

// applyDeleteGroup deletes a group; its members keep their own policies.
func applyDeleteGroup(b *engine.Batch, d *partitapb.DeleteGroup) (*partitapb.Result, error) {
	g, res, err := mustGroup(b, d.GetName())
	if res != nil || err != nil {
		return res, err
	}
	if err := b.Delete(directory.GroupKey(g.GetName())); err != nil {
		return nil, fmt.Errorf("fsm: delete group %s: %w", g.GetName(), err)
	}
	return &partitapb.Result{Group: g}, nil
}

// applySetGroupMember adds a user (which must exist) to a group, or
// removes it. Both are idempotent.
func applySetGroupMember(b *engine.Batch, s *partitapb.SetGroupMember) (*partitapb.Result, error) {
	g, res, err := mustGroup(b, s.GetGroup())
	if res != nil || err != nil {
		return res, err
	}
	if !s.GetRemove() {
		if _, res, err := mustUser(b, s.GetUser()); res != nil || err != nil {
			return res, err
		}
	}
	var changed bool
	if g.Users, changed = setMember(g.GetUsers(), s.GetUser(), !s.GetRemove()); !changed {
		return &partitapb.Result{Group: g}, nil
	}
	return &partitapb.Result{Group: g}, writeGroup(b, g)
}

// applyAttachGroupPolicy attaches a policy (which must exist) to a group,
// or detaches it. Both are idempotent.
func applyAttachGroupPolicy(b *engine.Batch, a *partitapb.AttachGroupPolicy) (*partitapb.Result, error) {
	g, res, err := mustGroup(b, a.GetGroup())
	if res != nil || err != nil {
		return res, err
	}
	p, err := directory.ReadPolicy(b, a.GetPolicy())
	if err != nil {
		return nil, err
	}
	if p == nil && !a.GetDetach() {
		return reject(partitapb.Error_NOT_FOUND, "policy %s not found", a.GetPolicy()), nil
	}
	var changed bool
	if g.Policies, changed = setMember(g.GetPolicies(), a.GetPolicy(), !a.GetDetach()); !changed {
		return &partitapb.Result{Group: g, Policy: p}, nil
	}
	return &partitapb.Result{Group: g, Policy: p}, writeGroup(b, g)
}

// leaveGroups removes user from every group that lists it (the user is
// being deleted).
func leaveGroups(b *engine.Batch, user string) error {
	groups, err := directory.ReadGroups(b)
	if err != nil {
		return err
	}
	for _, g := range groups {
		var changed bool
		if g.Users, changed = setMember(g.GetUsers(), user, false); changed {
			if err := writeGroup(b, g); err != nil {
				return err
			}
		}
	}
	return nil
}

// groupWithPolicy returns the first group the policy is attached to ("":
// none).
func groupWithPolicy(b *engine.Batch, policy string) (string, error) {
	groups, err := directory.ReadGroups(b)
	if err != nil {
		return "", err
	}
	for _, g := range groups {
		if _, ok := slices.BinarySearch(g.GetPolicies(), policy); ok {
			return g.GetName(), nil
		}
	}
	return "", nil
}

// setMember adds name to the sorted list s (in) or removes it, and says
// whether s changed.
func setMember(s []string, name string, in bool) ([]string, bool) {
	i, found := slices.BinarySearch(s, name)
	switch {
	case found == in:
		return s, false
	case in:
		return slices.Insert(s, i, name), true
	default:
		return slices.Delete(s, i, i+1), true
	}
}

func mustGroup(b *engine.Batch, name string) (*partitapb.Group, *partitapb.Result, error) {
	g, err := directory.ReadGroup(b, name)
	if err != nil {
		return nil, nil, err
	}
	if g == nil {
		return nil, reject(partitapb.Error_NOT_FOUND, "group %s not found", name), nil
	}
	return proto.CloneOf(g), nil, nil
}

func writeGroup(b *engine.Batch, g *partitapb.Group) error {
	return writeRecord(b, directory.GroupKey(g.GetName()), g, directory.EncodeGroup)
}
