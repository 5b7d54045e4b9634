package node

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/certs"
	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// Admin tokens and join tokens of the directory. An admin token is a
// bearer token of the admin endpoint valid on every node (the refresh
// loop reads their digests with the access keys); the bootstrap node of
// a closed cluster makes the first one and writes it to AdminTokenFile.
// A join token admits one node to a closed cluster whose peers have no
// certificates.

// AdminTokenFile is the file of the data directory where the bootstrap
// node writes the first admin token (mode 0600); `partita ctl` on the
// same machine reads it (--data-dir).
const AdminTokenFile = "admin-token"

// joinTokenPrefix marks join tokens, as certs' "ptk_" marks admin tokens.
const joinTokenPrefix = "pjt_"

// adminTokenSet maps the digest of each admin token of the directory to
// what it is. Safe for concurrent use; replaced as a whole by each
// refresh.
type adminTokenSet struct {
	m atomic.Pointer[map[[sha256.Size]byte]adminTokenEntry]
}

// adminTokenEntry is an admin token as the guard needs it.
type adminTokenEntry struct {
	id string
	// expires is when it stops being valid (0: never).
	expires  int64
	readOnly bool
}

// adminToken names the admin of a bearer token: one of the token file
// ("token") or of the directory ("token:ID"), unless it expired, and says
// whether its scope is read. The directory's are looked up by digest, so
// the lookup's timing says nothing of a valid token.
func (n *Node) adminToken(tok string) (who string, readOnly, ok bool) {
	if n.sec != nil && n.sec.tokenFile != nil && n.sec.tokenFile.Valid(tok) {
		return "token", false, true
	}
	if m := n.auth.adminTokens.m.Load(); m != nil {
		if e, ok := (*m)[sha256.Sum256([]byte(tok))]; ok && !tokenExpired(e.expires, n.now()) {
			return "token:" + e.id, e.readOnly, true
		}
	}
	return "", false, false
}

// tokenExpired says whether a token expiring at expires (0: never) has
// expired at now.
func tokenExpired(expires int64, now time.Time) bool {
	return expires != 0 && now.UnixNano() >= expires
}

// refreshAdminTokens replaces the node's admin tokens by the directory's.
func (n *Node) refreshAdminTokens(ctx context.Context) error {
	recs, err := n.readAdminTokens(ctx)
	if err != nil {
		return err
	}
	m := make(map[[sha256.Size]byte]adminTokenEntry, len(recs))
	for _, r := range recs {
		if len(r.GetDigest()) == sha256.Size {
			m[[sha256.Size]byte(r.GetDigest())] = adminTokenEntry{id: r.GetId(), expires: r.GetExpiresUnixNanos(),
				readOnly: r.GetScope() == admin.ScopeRead}
		}
	}
	n.auth.adminTokens.m.Store(&m)
	return nil
}

func (n *Node) readAdminTokens(ctx context.Context) ([]*partitapb.AdminToken, error) {
	lo, hi := directory.AdminTokensSpan()
	return walkMeta(ctx, n, lo, hi, directory.DecodeAdminToken)
}

// createAdminToken makes a token, proposes its digest and returns it.
func (n *Node) createAdminToken(ctx context.Context, spec admin.AdminTokenSpec) (string, *partitapb.AdminToken, error) {
	rec := &partitapb.AdminToken{Name: spec.Name}
	switch spec.Scope {
	case "", admin.ScopeAll:
	case admin.ScopeRead:
		rec.Scope = admin.ScopeRead
	default:
		return "", nil, fmt.Errorf("%w: admin token scope %q: want %s or %s", admin.ErrBadRequest, spec.Scope, admin.ScopeAll, admin.ScopeRead)
	}
	if spec.TTL < 0 {
		return "", nil, fmt.Errorf("%w: admin token ttl %v: want 0 (until revoked) or more", admin.ErrBadRequest, spec.TTL)
	}
	if spec.TTL > 0 {
		rec.ExpiresUnixNanos = n.now().Add(spec.TTL).UnixNano()
	}
	tok, err := certs.NewToken()
	if err != nil {
		return "", nil, err
	}
	d := directory.TokenDigest(tok)
	rec.Id, rec.Digest = directory.TokenID(d), d
	res, err := n.proposeAuth(ctx, &partitapb.Command{Op: &partitapb.Command_CreateAdminToken{CreateAdminToken: &partitapb.CreateAdminToken{
		Token: rec}}})
	if err != nil {
		return "", nil, err
	}
	n.refreshSoon(ctx)
	return tok, res.GetAdminToken(), nil
}

// ensureAdminToken gives a closed cluster its first admin token: on the
// node that created it (node 1, which joins no one), when the directory
// holds no admin token and the data directory no AdminTokenFile. The
// token is written to that file and kept for BootstrapAdminToken. (A
// cluster made before admin tokens existed gets one at node 1's restart.)
func (n *Node) ensureAdminToken(ctx context.Context) error {
	if !n.cfg.Auth.Enabled || n.id != 1 || len(n.cfg.Join) > 0 {
		return nil
	}
	path := filepath.Join(n.cfg.DataDir, AdminTokenFile)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	have, err := n.readAdminTokens(ctx)
	if err != nil {
		n.log.Warn("could not read the admin tokens of the directory: no first admin token made", "err", err)
		return nil
	}
	if len(have) > 0 {
		return nil
	}
	tok, rec, err := n.createAdminToken(ctx, admin.AdminTokenSpec{Name: "bootstrap"})
	if err != nil {
		return fmt.Errorf("node: create the first admin token: %w", err)
	}
	if err := writeSecretFile(path, tok+"\n"); err != nil {
		return err
	}
	n.auth.createdAdminToken = tok
	n.log.Warn("created the first admin token of the cluster; it is shown once, and kept in a file only its owner reads",
		"id", rec.GetId(), "file", path)
	return nil
}

// writeSecretFile creates path (mode 0600, never over an existing file)
// holding s.
func writeSecretFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	_, err = f.WriteString(s)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("node: write %s: %w", path, err)
	}
	return nil
}

// BootstrapAdminToken returns the admin token this start made for a new
// cluster ("" if it made none): `partita start` prints it once.
func (n *Node) BootstrapAdminToken() string { return n.auth.createdAdminToken }

// CreateJoinToken makes a join token valid for ttl: a node started with
// it (Config.JoinToken) may join this closed cluster.
func (n *Node) CreateJoinToken(ctx context.Context, ttl time.Duration) (string, error) {
	tok, _, err := n.createJoinToken(ctx, ttl)
	return tok, err
}

func (n *Node) createJoinToken(ctx context.Context, ttl time.Duration) (string, *partitapb.JoinToken, error) {
	tok, err := certs.NewToken()
	if err != nil {
		return "", nil, err
	}
	tok = joinTokenPrefix + tok[len("ptk_"):]
	d := directory.TokenDigest(tok)
	res, err := n.proposeAuth(ctx, &partitapb.Command{Op: &partitapb.Command_CreateJoinToken{CreateJoinToken: &partitapb.CreateJoinToken{
		Token: &partitapb.JoinToken{Id: directory.TokenID(d), Digest: d, ExpiresUnixNanos: n.now().Add(ttl).UnixNano()}}}})
	if err != nil {
		return "", nil, err
	}
	return tok, res.GetJoinToken(), nil
}

// ErrJoinTokenRequired is the refusal of a node that asks to join a
// closed cluster without a join token or a node certificate.
var ErrJoinTokenRequired = fmt.Errorf("%w: this cluster is closed: start the joining node with a join token "+
	"(`partita ctl join-token create`, then `partita start --join-token T` or PARTITA_JOIN_TOKEN) or give every node "+
	"a node certificate (--certs-dir)", cluster.ErrJoinRefused)

// admitJoin decides whether the node rec may join: its binary must run at
// the cluster version in force (admitVersion); then, with mutual TLS
// between nodes, the handshake already checked its node certificate; a
// cluster with authentication off (--insecure, dev) admits anyone; else
// the node must spend a valid join token.
func (n *Node) admitJoin(ctx context.Context, rec *partitapb.Node, token string) error {
	if err := n.admitVersion(ctx, rec); err != nil {
		return err
	}
	if n.sec != nil && n.sec.peerServer != nil || !n.cfg.Auth.Enabled {
		return nil
	}
	if token == "" {
		n.log.Warn("refused a node that asked to join without a join token", "peer_addr", rec.GetPeerAddr())
		return ErrJoinTokenRequired
	}
	_, err := n.proposeAuth(ctx, &partitapb.Command{Op: &partitapb.Command_UseJoinToken{UseJoinToken: &partitapb.UseJoinToken{
		Digest: directory.TokenDigest(token), PeerAddr: rec.GetPeerAddr()}}})
	var pe *partitapb.Error
	if errors.As(err, &pe) && pe.GetCode() == partitapb.Error_TOKEN_REFUSED {
		n.log.Warn("refused a node that asked to join with an invalid join token", "peer_addr", rec.GetPeerAddr(), "reason", pe.GetMessage())
		return fmt.Errorf("%w: %s", cluster.ErrJoinRefused, pe.GetMessage())
	}
	if err == nil {
		n.log.Info("admitted a node with a join token", "peer_addr", rec.GetPeerAddr())
	}
	return err
}

// AdminTokens implements admin.Auth.
func (c ctl) AdminTokens(ctx context.Context) ([]admin.AdminToken, error) {
	recs, err := c.n.readAdminTokens(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]admin.AdminToken, 0, len(recs))
	now := c.n.now()
	for _, r := range recs {
		out = append(out, adminTokenInfo(r, now))
	}
	return out, nil
}

// CreateAdminToken implements admin.Auth.
func (c ctl) CreateAdminToken(ctx context.Context, spec admin.AdminTokenSpec) (admin.NewAdminToken, error) {
	tok, rec, err := c.n.createAdminToken(ctx, spec)
	if err != nil {
		return admin.NewAdminToken{}, err
	}
	return admin.NewAdminToken{AdminToken: adminTokenInfo(rec, c.n.now()), Token: tok}, nil
}

// RevokeAdminToken implements admin.Auth.
func (c ctl) RevokeAdminToken(ctx context.Context, id string) (admin.AdminToken, error) {
	res, err := c.n.proposeAuth(ctx, &partitapb.Command{Op: &partitapb.Command_DeleteAdminToken{
		DeleteAdminToken: &partitapb.DeleteAdminToken{Id: id}}})
	if err != nil {
		return admin.AdminToken{}, err
	}
	c.n.refreshSoon(ctx)
	return adminTokenInfo(res.GetAdminToken(), c.n.now()), nil
}

// JoinTokens implements admin.Auth.
func (c ctl) JoinTokens(ctx context.Context) ([]admin.JoinToken, error) {
	lo, hi := directory.JoinTokensSpan()
	recs, err := walkMeta(ctx, c.n, lo, hi, directory.DecodeJoinToken)
	if err != nil {
		return nil, err
	}
	out := make([]admin.JoinToken, 0, len(recs))
	for _, r := range recs {
		out = append(out, joinTokenInfo(r))
	}
	return out, nil
}

// CreateJoinToken implements admin.Auth.
func (c ctl) CreateJoinToken(ctx context.Context, ttl time.Duration) (admin.NewJoinToken, error) {
	tok, rec, err := c.n.createJoinToken(ctx, ttl)
	if err != nil {
		return admin.NewJoinToken{}, err
	}
	return admin.NewJoinToken{JoinToken: joinTokenInfo(rec), Token: tok}, nil
}

// RevokeJoinToken implements admin.Auth.
func (c ctl) RevokeJoinToken(ctx context.Context, id string) (admin.JoinToken, error) {
	res, err := c.n.proposeAuth(ctx, &partitapb.Command{Op: &partitapb.Command_DeleteJoinToken{
		DeleteJoinToken: &partitapb.DeleteJoinToken{Id: id}}})
	if err != nil {
		return admin.JoinToken{}, err
	}
	return joinTokenInfo(res.GetJoinToken()), nil
}

func adminTokenInfo(t *partitapb.AdminToken, now time.Time) admin.AdminToken {
	scope := admin.ScopeAll
	if t.GetScope() == admin.ScopeRead {
		scope = admin.ScopeRead
	}
	return admin.AdminToken{ID: t.GetId(), Name: t.GetName(), Created: unixTime(t.GetCreatedUnixNanos()),
		Expires: unixTime(t.GetExpiresUnixNanos()), Expired: tokenExpired(t.GetExpiresUnixNanos(), now), Scope: scope}
}

func joinTokenInfo(t *partitapb.JoinToken) admin.JoinToken {
	return admin.JoinToken{ID: t.GetId(), Created: unixTime(t.GetCreatedUnixNanos()), Expires: unixTime(t.GetExpiresUnixNanos()),
		UsedBy: t.GetUsedBy(), Used: unixTime(t.GetUsedUnixNanos())}
}
