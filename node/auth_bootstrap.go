package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/partitadb/partita/auth"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// The first user and key of a new cluster.

// BootstrapUser is the user the bootstrap node creates, with a policy
// allowing everything (see docs/security.md).
const BootstrapUser = "admin"

// BootstrapCredentialsFile is the file of the data directory where the
// bootstrap node writes the first key it generated (mode 0600).
const BootstrapCredentialsFile = "bootstrap-credentials"

// bootstrapUnfinished says whether this node created its cluster but
// stopped before it created the first key: the first node (it joins no
// one) of a cluster without users, which never wrote the bootstrap
// credentials file. (An operator who deleted every user and that file
// gets a new first key at the next restart.)
func (n *Node) bootstrapUnfinished(ctx context.Context) bool {
	if !n.cfg.Auth.Enabled || n.id != 1 || len(n.cfg.Join) > 0 {
		return false
	}
	if _, err := os.Stat(filepath.Join(n.cfg.DataDir, BootstrapCredentialsFile)); !errors.Is(err, os.ErrNotExist) {
		return false
	}
	lo, hi := directory.UsersSpan()
	users, err := walkMeta(ctx, n, lo, hi, directory.DecodeUser)
	return err == nil && len(users) == 0
}

// createBootstrapKey creates the first user and key of a new cluster:
// AuthConfig.Bootstrap, or a generated key of BootstrapUser, written to
// BootstrapCredentialsFile and kept for BootstrapCredentials.
func (n *Node) createBootstrapKey(ctx context.Context) error {
	given := n.cfg.Auth.Bootstrap
	if given == nil && !n.cfg.Auth.Enabled {
		return nil
	}
	user := BootstrapUser
	if given != nil {
		user = given.User
	}
	_, err := n.proposeAuth(ctx, &partitapb.Command{Op: &partitapb.Command_CreateUser{CreateUser: &partitapb.CreateUser{Name: user}}})
	if err != nil {
		return fmt.Errorf("node: create the bootstrap user %s: %w", user, err)
	}
	if err := n.attachAllowAll(ctx, user); err != nil {
		return err
	}
	key, _, err := n.createKey(ctx, user, given)
	if err != nil {
		return fmt.Errorf("node: create the bootstrap key: %w", err)
	}
	if given != nil {
		n.log.Info("created the bootstrap user and key", "user", user, "access_key_id", key.AccessKeyID)
		return nil
	}
	path := filepath.Join(n.cfg.DataDir, BootstrapCredentialsFile)
	if err := auth.WriteCredentialsFile(path, key); err != nil {
		return err
	}
	n.auth.created = &key
	n.log.Warn("created the first user and access key of the cluster; the secret is shown once, and kept in a file only its owner reads",
		"user", user, "access_key_id", key.AccessKeyID, "file", path)
	return nil
}

// BootstrapCredentials returns the key this start generated for a new
// cluster (nil if it generated none): `partita start` prints it once.
func (n *Node) BootstrapCredentials() *auth.Key { return n.auth.created }
