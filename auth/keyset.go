package auth

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"strings"
	"sync/atomic"
)

// KeySet is a set of keys replaced as a whole: a node keeps the access
// keys of its cluster's directory in one, refreshed in the background.
// Lookup is a map read; Replace swaps the map. Safe for concurrent use.
// The zero KeySet holds no key.
type KeySet struct {
	keys atomic.Pointer[map[string]Key]
}

var _ Credentials = (*KeySet)(nil)

// Replace makes keys the set's keys (a later one wins over an earlier
// one with the same id).
func (s *KeySet) Replace(keys []Key) {
	m := make(map[string]Key, len(keys))
	for _, k := range keys {
		m[k.AccessKeyID] = k
	}
	s.keys.Store(&m)
}

// Lookup implements Credentials.
func (s *KeySet) Lookup(accessKeyID string) (secret, user string, ok bool) {
	m := s.keys.Load()
	if m == nil {
		return "", "", false
	}
	k, ok := (*m)[accessKeyID]
	return k.Secret, k.User, ok
}

// Len returns the number of keys.
func (s *KeySet) Len() int {
	if m := s.keys.Load(); m != nil {
		return len(*m)
	}
	return 0
}

// Chain returns credentials that look a key up in each of cs in turn:
// the first that knows it answers.
func Chain(cs ...Credentials) Credentials { return chain(cs) }

type chain []Credentials

func (c chain) Lookup(accessKeyID string) (secret, user string, ok bool) {
	for _, cs := range c {
		if secret, user, ok = cs.Lookup(accessKeyID); ok {
			return secret, user, true
		}
	}
	return "", "", false
}

// AccessKeyPrefix starts the ids of the access keys a cluster issues, as
// AKIA starts AWS's long-term keys.
const AccessKeyPrefix = "PKIA"

// NewKey returns a new random access key of user: an id of
// AccessKeyPrefix and 16 letters and digits, a secret of 40 characters
// (as AWS's are).
func NewKey(user string) (Key, error) {
	raw := make([]byte, 10+30)
	if _, err := rand.Read(raw); err != nil {
		return Key{}, fmt.Errorf("auth: generate an access key: %w", err)
	}
	id := AccessKeyPrefix + base32.StdEncoding.EncodeToString(raw[:10])
	return Key{AccessKeyID: id, Secret: base64.StdEncoding.EncodeToString(raw[10:]), User: user}, nil
}

// WriteCredentialsFile writes keys to path in the credentials file's
// format, readable by its owner only.
func WriteCredentialsFile(path string, keys ...Key) error {
	var b strings.Builder
	b.WriteString("# ACCESS_KEY_ID SECRET_ACCESS_KEY USER\n")
	for _, k := range keys {
		if err := k.validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrCredentialsFile, err)
		}
		fmt.Fprintf(&b, "%s %s %s\n", k.AccessKeyID, k.Secret, k.User)
	}
	return writeSecretFile(path, []byte(b.String()))
}
