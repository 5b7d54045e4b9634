package directory

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// The records of groups of users, and of the tokens of the admin endpoint
// and of joins: one per group (its members and attached policies), one
// per admin token and one per join token (their SHA-256 digests, never
// the tokens).
const (
	kindGroup      = "group"
	kindAdminToken = "admin-token"
	kindJoinToken  = "join-token"
)

// GroupKey, AdminTokenKey and JoinTokenKey are the keys of the records of
// a group name and of a token id.
func GroupKey(name string) []byte { return engine.MetaKey(kindGroup, name) }

// AdminTokenKey: see GroupKey.
func AdminTokenKey(id string) []byte { return engine.MetaKey(kindAdminToken, id) }

// JoinTokenKey: see GroupKey.
func JoinTokenKey(id string) []byte { return engine.MetaKey(kindJoinToken, id) }

// GroupsSpan, AdminTokensSpan and JoinTokensSpan are the spans of every
// record of their kind: see UsersSpan.
func GroupsSpan() (lo, hi []byte) { return engine.MetaSpan(kindGroup) }

// AdminTokensSpan: see GroupsSpan.
func AdminTokensSpan() (lo, hi []byte) { return engine.MetaSpan(kindAdminToken) }

// JoinTokensSpan: see GroupsSpan.
func JoinTokensSpan() (lo, hi []byte) { return engine.MetaSpan(kindJoinToken) }

// EncodeGroup, EncodeAdminToken and EncodeJoinToken encode a record.
func EncodeGroup(g *partitapb.Group) ([]byte, error) { return encode("group", g) }

// EncodeAdminToken: see EncodeGroup.
func EncodeAdminToken(t *partitapb.AdminToken) ([]byte, error) { return encode("admin token", t) }

// EncodeJoinToken: see EncodeGroup.
func EncodeJoinToken(t *partitapb.JoinToken) ([]byte, error) { return encode("join token", t) }

// DecodeGroup, DecodeAdminToken and DecodeJoinToken decode a record.
func DecodeGroup(raw []byte) (*partitapb.Group, error) {
	return decode(raw, &partitapb.Group{}, "group")
}

// DecodeAdminToken: see DecodeGroup.
func DecodeAdminToken(raw []byte) (*partitapb.AdminToken, error) {
	return decode(raw, &partitapb.AdminToken{}, "admin token")
}

// DecodeJoinToken: see DecodeGroup.
func DecodeJoinToken(raw []byte) (*partitapb.JoinToken, error) {
	return decode(raw, &partitapb.JoinToken{}, "join token")
}

// ReadGroup, ReadAdminToken and ReadJoinToken return a record, or nil
// when there is none.
func ReadGroup(r engine.Reader, name string) (*partitapb.Group, error) {
	return read(r, GroupKey(name), DecodeGroup)
}

// ReadAdminToken: see ReadGroup.
func ReadAdminToken(r engine.Reader, id string) (*partitapb.AdminToken, error) {
	return read(r, AdminTokenKey(id), DecodeAdminToken)
}

// ReadJoinToken: see ReadGroup.
func ReadJoinToken(r engine.Reader, id string) (*partitapb.JoinToken, error) {
	return read(r, JoinTokenKey(id), DecodeJoinToken)
}

// ReadGroups and ReadJoinTokens return every record of their kind, in
// name order.
func ReadGroups(r engine.Reader) ([]*partitapb.Group, error) {
	return readAll(r, kindGroup, DecodeGroup)
}

// ReadJoinTokens: see ReadGroups.
func ReadJoinTokens(r engine.Reader) ([]*partitapb.JoinToken, error) {
	return readAll(r, kindJoinToken, DecodeJoinToken)
}

// TokenDigest is the SHA-256 of a token, the form in which the directory
// keeps admin and join tokens.
func TokenDigest(token string) []byte {
	d := sha256.Sum256([]byte(token))
	return d[:]
}

// TokenID is the id of the token of digest: the hex of its first 8 bytes
// ("" for a digest too short).
func TokenID(digest []byte) string {
	if len(digest) < 8 {
		return ""
	}
	return hex.EncodeToString(digest[:8])
}
