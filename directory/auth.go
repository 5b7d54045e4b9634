package directory

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// The records of the DynamoDB API's users: one per user (its access key
// ids and attached policies), one per access key (its user, its secret
// sealed under the cluster key, whether it is disabled) and one per
// policy. Access keys have a span of their own, so that a node refreshing
// its keys walks them alone.
const (
	kindUser      = "user"
	kindAccessKey = "access-key"
	kindPolicy    = "policy"
)

// MaxKeysPerUser is how many access keys a user may have, active or
// disabled: two, as IAM allows, so that a key can be rotated without
// downtime (create the second, move the clients, disable then delete the
// first).
const MaxKeysPerUser = 2

// UserKey is the key of the record of the user name.
func UserKey(name string) []byte { return engine.MetaKey(kindUser, name) }

// AccessKeyKey is the key of the record of the access key id.
func AccessKeyKey(id string) []byte { return engine.MetaKey(kindAccessKey, id) }

// PolicyKey is the key of the record of the policy name.
func PolicyKey(name string) []byte { return engine.MetaKey(kindPolicy, name) }

// UsersSpan, AccessKeysSpan and PoliciesSpan are the spans [lo, hi) of
// every record of their kind, in name order: the bounds of a Walk of the
// meta partition.
func UsersSpan() (lo, hi []byte) { return engine.MetaSpan(kindUser) }

// AccessKeysSpan: see UsersSpan.
func AccessKeysSpan() (lo, hi []byte) { return engine.MetaSpan(kindAccessKey) }

// PoliciesSpan: see UsersSpan.
func PoliciesSpan() (lo, hi []byte) { return engine.MetaSpan(kindPolicy) }

// EncodeUser, EncodeAccessKey and EncodePolicy encode a record.
func EncodeUser(u *partitapb.User) ([]byte, error) { return encode("user", u) }

// EncodeAccessKey: see EncodeUser.
func EncodeAccessKey(k *partitapb.AccessKey) ([]byte, error) { return encode("access key", k) }

// EncodePolicy: see EncodeUser.
func EncodePolicy(p *partitapb.Policy) ([]byte, error) { return encode("policy", p) }

// DecodeUser, DecodeAccessKey and DecodePolicy decode a record (a value
// of a walk of its span).
func DecodeUser(raw []byte) (*partitapb.User, error) { return decode(raw, &partitapb.User{}, "user") }

// DecodeAccessKey: see DecodeUser.
func DecodeAccessKey(raw []byte) (*partitapb.AccessKey, error) {
	return decode(raw, &partitapb.AccessKey{}, "access key")
}

// DecodePolicy: see DecodeUser.
func DecodePolicy(raw []byte) (*partitapb.Policy, error) {
	return decode(raw, &partitapb.Policy{}, "policy")
}

// ReadUser, ReadAccessKey and ReadPolicy return a record, or nil when
// there is none.
func ReadUser(r engine.Reader, name string) (*partitapb.User, error) {
	return read(r, UserKey(name), DecodeUser)
}

// ReadAccessKey: see ReadUser.
func ReadAccessKey(r engine.Reader, id string) (*partitapb.AccessKey, error) {
	return read(r, AccessKeyKey(id), DecodeAccessKey)
}

// ReadPolicy: see ReadUser.
func ReadPolicy(r engine.Reader, name string) (*partitapb.Policy, error) {
	return read(r, PolicyKey(name), DecodePolicy)
}

// ReadUsers, ReadAccessKeys and ReadPolicies return every record of
// their kind, in name order.
func ReadUsers(r engine.Reader) ([]*partitapb.User, error) { return readAll(r, kindUser, DecodeUser) }

// ReadAccessKeys: see ReadUsers.
func ReadAccessKeys(r engine.Reader) ([]*partitapb.AccessKey, error) {
	return readAll(r, kindAccessKey, DecodeAccessKey)
}

// ReadPolicies: see ReadUsers.
func ReadPolicies(r engine.Reader) ([]*partitapb.Policy, error) {
	return readAll(r, kindPolicy, DecodePolicy)
}

// encode marshals m deterministically, so that replicas write the same
// bytes.
func encode(what string, m proto.Message) ([]byte, error) {
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("directory: encode %s: %w", what, err)
	}
	return raw, nil
}

func decode[T proto.Message](raw []byte, m T, what string) (T, error) {
	if err := proto.Unmarshal(raw, m); err != nil {
		var zero T
		return zero, fmt.Errorf("directory: %s record is corrupt: %w", what, err)
	}
	return m, nil
}

func read[T any](r engine.Reader, key []byte, decode func([]byte) (*T, error)) (*T, error) {
	raw, err := engine.Get(r, key)
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("directory: read %q: %w", key, err)
	}
	return decode(raw)
}
