package fsm

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// maxPolicyDocument bounds a policy document, as IAM bounds a managed
// policy (6,144 characters).
const maxPolicyDocument = 6144

// applyPutPolicy creates or replaces a policy. The proposer parsed the
// document; apply checks only what the directory needs.
func applyPutPolicy(b *engine.Batch, now int64, put *partitapb.PutPolicy) (*partitapb.Result, error) {
	p := put.GetPolicy()
	if p == nil {
		return reject(partitapb.Error_VALIDATION, "policy: the policy is required"), nil
	}
	if res := checkName("policy", p.GetName(), 128); res != nil {
		return res, nil
	}
	if n := len(p.GetDocument()); n == 0 || n > maxPolicyDocument {
		return reject(partitapb.Error_VALIDATION, "policy %s: the document must be 1 to %d bytes, not %d",
			p.GetName(), maxPolicyDocument, n), nil
	}
	p = proto.Clone(p).(*partitapb.Policy)
	p.UpdatedUnixNanos = now
	return &partitapb.Result{Policy: p}, writeRecord(b, directory.PolicyKey(p.GetName()), p, directory.EncodePolicy)
}

// applyDeletePolicy deletes a policy no user or group has attached.
func applyDeletePolicy(b *engine.Batch, d *partitapb.DeletePolicy) (*partitapb.Result, error) {
	p, err := directory.ReadPolicy(b, d.GetName())
	if err != nil {
		return nil, err
	}
	if p == nil {
		return reject(partitapb.Error_NOT_FOUND, "policy %s not found", d.GetName()), nil
	}
	users, err := directory.ReadUsers(b)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if slices.Contains(u.GetPolicies(), p.GetName()) {
			res := reject(partitapb.Error_IN_USE, "policy %s is attached to user %s: detach it first", p.GetName(), u.GetName())
			res.Policy = p
			return res, nil
		}
	}
	group, err := groupWithPolicy(b, p.GetName())
	if err != nil {
		return nil, err
	}
	if group != "" {
		res := reject(partitapb.Error_IN_USE, "policy %s is attached to group %s: detach it first", p.GetName(), group)
		res.Policy = p
		return res, nil
	}
	if err := b.Delete(directory.PolicyKey(p.GetName())); err != nil {
		return nil, fmt.Errorf("fsm: delete policy %s: %w", p.GetName(), err)
	}
	return &partitapb.Result{Policy: p}, nil
}

// applyAttachPolicy attaches a policy to a user, or detaches it. Both are
// idempotent.
func applyAttachPolicy(b *engine.Batch, a *partitapb.AttachPolicy) (*partitapb.Result, error) {
	u, res, err := mustUser(b, a.GetUser())
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
	i, attached := slices.BinarySearch(u.GetPolicies(), a.GetPolicy())
	switch {
	case attached == !a.GetDetach():
		return &partitapb.Result{User: u, Policy: p}, nil
	case a.GetDetach():
		u.Policies = slices.Delete(u.Policies, i, i+1)
	default:
		u.Policies = slices.Insert(u.Policies, i, a.GetPolicy())
	}
	return &partitapb.Result{User: u, Policy: p}, writeUser(b, u)
}
