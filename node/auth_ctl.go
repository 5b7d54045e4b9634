package node

import (
	"context"
	"fmt"
	"time"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// The node's side of the /auth/ admin routes: reads are walks of the
// meta leader, changes are commands of the meta partition.

var _ admin.Auth = ctl{}

// Users implements admin.Auth.
func (c ctl) Users(ctx context.Context) ([]admin.User, error) {
	lo, hi := directory.UsersSpan()
	recs, err := walkMeta(ctx, c.n, lo, hi, directory.DecodeUser)
	if err != nil {
		return nil, err
	}
	out := make([]admin.User, 0, len(recs))
	for _, u := range recs {
		out = append(out, userInfo(u))
	}
	return out, nil
}

// CreateUser implements admin.Auth.
func (c ctl) CreateUser(ctx context.Context, name string) (admin.User, error) {
	res, err := c.n.proposeAuth(ctx, &partitapb.Command{Op: &partitapb.Command_CreateUser{CreateUser: &partitapb.CreateUser{Name: name}}})
	if err != nil {
		return admin.User{}, err
	}
	return userInfo(res.GetUser()), nil
}

// DeleteUser implements admin.Auth.
func (c ctl) DeleteUser(ctx context.Context, name string) (admin.User, error) {
	res, err := c.n.proposeAuth(ctx, &partitapb.Command{Op: &partitapb.Command_DeleteUser{DeleteUser: &partitapb.DeleteUser{Name: name}}})
	if err != nil {
		return admin.User{}, err
	}
	c.n.refreshSoon(ctx)
	return userInfo(res.GetUser()), nil
}

// Keys implements admin.Auth.
func (c ctl) Keys(ctx context.Context, user string) ([]admin.AccessKey, error) {
	ukey := directory.UserKey(user)
	users, err := walkMeta(ctx, c.n, ukey, append(ukey, 0), directory.DecodeUser)
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("%w: user %s", admin.ErrNotFound, user)
	}
	klo, khi := directory.AccessKeysSpan()
	recs, err := walkMeta(ctx, c.n, klo, khi, directory.DecodeAccessKey)
	if err != nil {
		return nil, err
	}
	out := []admin.AccessKey{}
	for _, k := range recs {
		if k.GetUser() == user {
			out = append(out, keyInfo(k))
		}
	}
	return out, nil
}

// CreateKey implements admin.Auth.
func (c ctl) CreateKey(ctx context.Context, user string) (admin.NewAccessKey, error) {
	key, res, err := c.n.createKey(ctx, user, nil)
	if err != nil {
		return admin.NewAccessKey{}, err
	}
	return admin.NewAccessKey{AccessKey: keyInfo(res.GetAccessKey()), Secret: key.Secret}, nil
}

// SetKeyDisabled implements admin.Auth.
func (c ctl) SetKeyDisabled(ctx context.Context, id string, disabled bool) (admin.AccessKey, error) {
	res, err := c.n.proposeAuth(ctx, &partitapb.Command{Op: &partitapb.Command_SetAccessKeyDisabled{
		SetAccessKeyDisabled: &partitapb.SetAccessKeyDisabled{Id: id, Disabled: disabled}}})
	if err != nil {
		return admin.AccessKey{}, err
	}
	c.n.refreshSoon(ctx)
	return keyInfo(res.GetAccessKey()), nil
}

// DeleteKey implements admin.Auth.
func (c ctl) DeleteKey(ctx context.Context, id string) (admin.AccessKey, error) {
	res, err := c.n.proposeAuth(ctx, &partitapb.Command{Op: &partitapb.Command_DeleteAccessKey{
		DeleteAccessKey: &partitapb.DeleteAccessKey{Id: id}}})
	if err != nil {
		return admin.AccessKey{}, err
	}
	c.n.refreshSoon(ctx)
	return keyInfo(res.GetAccessKey()), nil
}

func userInfo(u *partitapb.User) admin.User {
	return admin.User{Name: u.GetName(), Created: unixTime(u.GetCreatedUnixNanos()),
		Keys: nonNil(u.GetAccessKeyIds()), Policies: nonNil(u.GetPolicies())}
}

func keyInfo(k *partitapb.AccessKey) admin.AccessKey {
	status := admin.KeyActive
	if k.GetDisabled() {
		status = admin.KeyInactive
	}
	return admin.AccessKey{ID: k.GetId(), User: k.GetUser(), Status: status,
		Created: unixTime(k.GetCreatedUnixNanos()), Updated: unixTime(k.GetUpdatedUnixNanos())}
}

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
