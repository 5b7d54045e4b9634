package fsm

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// The users of the DynamoDB API in the meta partition: a record per user
// (directory.UserKey) listing its access key ids and attached policies, a
// record per access key (directory.AccessKeyKey) and per policy
// (directory.PolicyKey). Secrets arrive sealed: the proposer encrypted
// them under the cluster key, so apply (deterministic, without the key)
// stores bytes it cannot read.

// applyCreateUser creates a user without keys or policies.
func applyCreateUser(b *engine.Batch, now int64, c *partitapb.CreateUser) (*partitapb.Result, error) {
	if res := checkName("user", c.GetName(), 64); res != nil {
		return res, nil
	}
	cur, err := directory.ReadUser(b, c.GetName())
	if err != nil {
		return nil, err
	}
	if cur != nil {
		res := reject(partitapb.Error_ALREADY_EXISTS, "user %s already exists", c.GetName())
		res.User = cur
		return res, nil
	}
	u := &partitapb.User{Name: c.GetName(), CreatedUnixNanos: now}
	return &partitapb.Result{User: u}, writeUser(b, u)
}

// applyDeleteUser deletes a user and its access keys.
func applyDeleteUser(b *engine.Batch, d *partitapb.DeleteUser) (*partitapb.Result, error) {
	u, res, err := mustUser(b, d.GetName())
	if res != nil || err != nil {
		return res, err
	}
	for _, id := range u.GetAccessKeyIds() {
		if err := b.Delete(directory.AccessKeyKey(id)); err != nil {
			return nil, fmt.Errorf("fsm: delete access key %s: %w", id, err)
		}
	}
	if err := leaveGroups(b, u.GetName()); err != nil {
		return nil, err
	}
	if err := b.Delete(directory.UserKey(u.GetName())); err != nil {
		return nil, fmt.Errorf("fsm: delete user %s: %w", u.GetName(), err)
	}
	return &partitapb.Result{User: u}, nil
}

// applyCreateAccessKey adds a key, sealed by the proposer, to its user.
func applyCreateAccessKey(b *engine.Batch, now int64, c *partitapb.CreateAccessKey) (*partitapb.Result, error) {
	k := c.GetKey()
	if res := validateAccessKey(k); res != nil {
		return res, nil
	}
	u, res, err := mustUser(b, k.GetUser())
	if res != nil || err != nil {
		return res, err
	}
	cur, err := directory.ReadAccessKey(b, k.GetId())
	if err != nil {
		return nil, err
	}
	switch {
	case cur != nil:
		res = reject(partitapb.Error_ALREADY_EXISTS, "access key %s already exists", k.GetId())
	case len(u.GetAccessKeyIds()) >= directory.MaxKeysPerUser:
		res = reject(partitapb.Error_LIMIT_EXCEEDED, "Cannot exceed quota for AccessKeysPerUser: %d", directory.MaxKeysPerUser)
	}
	if res != nil {
		res.User = u
		return res, nil
	}
	k = proto.Clone(k).(*partitapb.AccessKey)
	k.Disabled, k.CreatedUnixNanos, k.UpdatedUnixNanos = false, now, now
	u = proto.Clone(u).(*partitapb.User)
	u.AccessKeyIds = append(u.AccessKeyIds, k.GetId())
	if err := writeUser(b, u); err != nil {
		return nil, err
	}
	return &partitapb.Result{User: u, AccessKey: k}, writeAccessKey(b, k)
}

// validateAccessKey refuses a key the directory cannot hold.
func validateAccessKey(k *partitapb.AccessKey) *partitapb.Result {
	switch {
	case k == nil:
		return reject(partitapb.Error_VALIDATION, "access key: the key is required")
	case len(k.GetId()) < 16 || len(k.GetId()) > 128 || !allAlnum(k.GetId()):
		return reject(partitapb.Error_VALIDATION, "access key: id %q must be 16 to 128 letters and digits", k.GetId())
	case len(k.GetSealedSecret()) == 0:
		return reject(partitapb.Error_VALIDATION, "access key %s: the sealed secret is required", k.GetId())
	}
	return nil
}

// applySetAccessKeyDisabled disables or enables a key.
func applySetAccessKeyDisabled(b *engine.Batch, now int64, s *partitapb.SetAccessKeyDisabled) (*partitapb.Result, error) {
	k, res, err := mustAccessKey(b, s.GetId())
	if res != nil || err != nil {
		return res, err
	}
	if k.GetDisabled() == s.GetDisabled() {
		return &partitapb.Result{AccessKey: k}, nil
	}
	k.Disabled, k.UpdatedUnixNanos = s.GetDisabled(), now
	return &partitapb.Result{AccessKey: k}, writeAccessKey(b, k)
}

// applyDeleteAccessKey deletes a key and its id from its user.
func applyDeleteAccessKey(b *engine.Batch, d *partitapb.DeleteAccessKey) (*partitapb.Result, error) {
	k, res, err := mustAccessKey(b, d.GetId())
	if res != nil || err != nil {
		return res, err
	}
	u, err := directory.ReadUser(b, k.GetUser())
	if err != nil {
		return nil, err
	}
	if u != nil {
		u.AccessKeyIds = slices.DeleteFunc(u.AccessKeyIds, func(id string) bool { return id == k.GetId() })
		if err := writeUser(b, u); err != nil {
			return nil, err
		}
	}
	if err := b.Delete(directory.AccessKeyKey(k.GetId())); err != nil {
		return nil, fmt.Errorf("fsm: delete access key %s: %w", k.GetId(), err)
	}
	return &partitapb.Result{AccessKey: k, User: u}, nil
}

func mustUser(b *engine.Batch, name string) (*partitapb.User, *partitapb.Result, error) {
	u, err := directory.ReadUser(b, name)
	if err != nil {
		return nil, nil, err
	}
	if u == nil {
		return nil, reject(partitapb.Error_NOT_FOUND, "user %s not found", name), nil
	}
	return u, nil, nil
}

func mustAccessKey(b *engine.Batch, id string) (*partitapb.AccessKey, *partitapb.Result, error) {
	k, err := directory.ReadAccessKey(b, id)
	if err != nil {
		return nil, nil, err
	}
	if k == nil {
		return nil, reject(partitapb.Error_NOT_FOUND, "access key %s not found", id), nil
	}
	return k, nil, nil
}

// checkName refuses a user or policy name IAM would: 1 to max letters,
// digits and the characters _+=,.@-.
func checkName(what, name string, maxLen int) *partitapb.Result {
	if len(name) == 0 || len(name) > maxLen {
		return reject(partitapb.Error_VALIDATION, "%s name %q must be 1 to %d characters", what, name, maxLen)
	}
	for _, r := range name {
		if !isAlnum(r) && !isNamePunct(r) {
			return reject(partitapb.Error_VALIDATION, "%s name %q may hold letters, digits and _+=,.@- only", what, name)
		}
	}
	return nil
}

func isNamePunct(r rune) bool {
	switch r {
	case '_', '+', '=', ',', '.', '@', '-':
		return true
	}
	return false
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

func allAlnum(s string) bool {
	for _, r := range s {
		if !isAlnum(r) {
			return false
		}
	}
	return true
}

func writeUser(b *engine.Batch, u *partitapb.User) error {
	return writeRecord(b, directory.UserKey(u.GetName()), u, directory.EncodeUser)
}

func writeAccessKey(b *engine.Batch, k *partitapb.AccessKey) error {
	return writeRecord(b, directory.AccessKeyKey(k.GetId()), k, directory.EncodeAccessKey)
}

func writeRecord[T any](b *engine.Batch, key []byte, rec T, encode func(T) ([]byte, error)) error {
	raw, err := encode(rec)
	if err != nil {
		return err
	}
	if err := b.Set(key, raw); err != nil {
		return fmt.Errorf("fsm: write %q: %w", key, err)
	}
	return nil
}
