package fsm

import (
	"bytes"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// Admin tokens and join tokens (directory.AdminTokenKey, JoinTokenKey):
// the proposer made the token and sends only its SHA-256 digest, so the
// raft log and the directory never hold a token.

// maxTokenName bounds the free-text name of an admin token.
const maxTokenName = 128

// applyCreateAdminToken adds an admin token.
func applyCreateAdminToken(b *engine.Batch, now int64, c *partitapb.CreateAdminToken) (*partitapb.Result, error) {
	t := c.GetToken()
	if res := checkDigest("admin token", t.GetId(), t.GetDigest()); res != nil {
		return res, nil
	}
	if len(t.GetName()) > maxTokenName {
		return reject(partitapb.Error_VALIDATION, "admin token: a name is at most %d bytes", maxTokenName), nil
	}
	cur, err := directory.ReadAdminToken(b, t.GetId())
	if err != nil {
		return nil, err
	}
	if cur != nil {
		return reject(partitapb.Error_ALREADY_EXISTS, "admin token %s already exists", t.GetId()), nil
	}
	t = proto.CloneOf(t)
	t.CreatedUnixNanos = now
	return &partitapb.Result{AdminToken: t}, writeRecord(b, directory.AdminTokenKey(t.GetId()), t, directory.EncodeAdminToken)
}

// applyDeleteAdminToken revokes an admin token.
func applyDeleteAdminToken(b *engine.Batch, d *partitapb.DeleteAdminToken) (*partitapb.Result, error) {
	t, err := directory.ReadAdminToken(b, d.GetId())
	if err != nil {
		return nil, err
	}
	if t == nil {
		return reject(partitapb.Error_NOT_FOUND, "admin token %s not found", d.GetId()), nil
	}
	if err := b.Delete(directory.AdminTokenKey(t.GetId())); err != nil {
		return nil, fmt.Errorf("fsm: delete admin token %s: %w", t.GetId(), err)
	}
	return &partitapb.Result{AdminToken: t}, nil
}

// applyCreateJoinToken adds a join token, and deletes the join tokens
// that expired (the command's time is the clock).
func applyCreateJoinToken(b *engine.Batch, now int64, c *partitapb.CreateJoinToken) (*partitapb.Result, error) {
	t := c.GetToken()
	if res := checkDigest("join token", t.GetId(), t.GetDigest()); res != nil {
		return res, nil
	}
	if t.GetExpiresUnixNanos() <= now {
		return reject(partitapb.Error_VALIDATION, "join token: it would expire before it is made"), nil
	}
	all, err := directory.ReadJoinTokens(b)
	if err != nil {
		return nil, err
	}
	for _, old := range all {
		if old.GetId() == t.GetId() {
			return reject(partitapb.Error_ALREADY_EXISTS, "join token %s already exists", t.GetId()), nil
		}
		if old.GetExpiresUnixNanos() <= now {
			if err := b.Delete(directory.JoinTokenKey(old.GetId())); err != nil {
				return nil, fmt.Errorf("fsm: delete expired join token %s: %w", old.GetId(), err)
			}
		}
	}
	t = proto.CloneOf(t)
	t.CreatedUnixNanos, t.UsedBy, t.UsedUnixNanos = now, "", 0
	return &partitapb.Result{JoinToken: t}, writeJoinToken(b, t)
}

// applyDeleteJoinToken revokes a join token.
func applyDeleteJoinToken(b *engine.Batch, d *partitapb.DeleteJoinToken) (*partitapb.Result, error) {
	t, err := directory.ReadJoinToken(b, d.GetId())
	if err != nil {
		return nil, err
	}
	if t == nil {
		return reject(partitapb.Error_NOT_FOUND, "join token %s not found", d.GetId()), nil
	}
	if err := b.Delete(directory.JoinTokenKey(t.GetId())); err != nil {
		return nil, fmt.Errorf("fsm: delete join token %s: %w", t.GetId(), err)
	}
	return &partitapb.Result{JoinToken: t}, nil
}

// applyUseJoinToken spends a join token for the node at peer_addr, or
// refuses it: unknown, expired, or used by another node. The node that
// used it may use it again (its join failed after the token was spent).
func applyUseJoinToken(b *engine.Batch, now int64, u *partitapb.UseJoinToken) (*partitapb.Result, error) {
	id := directory.TokenID(u.GetDigest())
	t, err := directory.ReadJoinToken(b, id)
	if err != nil {
		return nil, err
	}
	switch {
	case id == "" || t == nil || !bytes.Equal(t.GetDigest(), u.GetDigest()):
		return reject(partitapb.Error_TOKEN_REFUSED, "the join token is not one of this cluster's (create one with `partita ctl join-token create`)"), nil
	case t.GetExpiresUnixNanos() <= now:
		return reject(partitapb.Error_TOKEN_REFUSED, "join token %s expired at %s", id,
			time.Unix(0, t.GetExpiresUnixNanos()).UTC().Format(time.RFC3339)), nil
	case t.GetUsedBy() != "" && t.GetUsedBy() != u.GetPeerAddr():
		return reject(partitapb.Error_TOKEN_REFUSED, "join token %s was used by the node at %s: a token admits one node", id, t.GetUsedBy()), nil
	case t.GetUsedBy() != "":
		return &partitapb.Result{JoinToken: t}, nil
	}
	t.UsedBy, t.UsedUnixNanos = u.GetPeerAddr(), now
	return &partitapb.Result{JoinToken: t}, writeJoinToken(b, t)
}

// checkDigest refuses a token record whose digest is not a SHA-256 or
// whose id is not the digest's.
func checkDigest(what, id string, digest []byte) *partitapb.Result {
	if len(digest) != 32 || id != directory.TokenID(digest) {
		return reject(partitapb.Error_VALIDATION, "%s: want a SHA-256 digest and the id of its first 8 bytes", what)
	}
	return nil
}

func writeJoinToken(b *engine.Batch, t *partitapb.JoinToken) error {
	return writeRecord(b, directory.JoinTokenKey(t.GetId()), t, directory.EncodeJoinToken)
}
