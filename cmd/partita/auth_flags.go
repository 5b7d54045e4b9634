package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/pflag"

	"github.com/partitadb/partita/auth"
	"github.com/partitadb/partita/node"
)

// authFlags decide who may use the DynamoDB API. `partita start` is
// closed by default: requests must be signed by a key of the directory
// (`partita ctl key create`) or of --credentials-file, unless --insecure.
// `partita dev` is open unless --auth.
type authFlags struct {
	// on is dev's --auth; insecure is start's --insecure.
	on, insecure  bool
	file          string
	bootstrapFile string
	regions       []string
	// peerAuth is --peer-auth: node.PeerAuthRequire or PeerAuthAccept.
	peerAuth string
}

func (f *authFlags) register(fs *pflag.FlagSet, dev bool) {
	if dev {
		fs.BoolVar(&f.on, "auth", false, "verify the SigV4 signature of every request, against the directory's keys and --credentials-file (off by default in development)")
	} else {
		fs.BoolVar(&f.insecure, "insecure", false, "accept any access key, and anyone at the admin endpoint and the peer port: no authentication (logged as a warning at every start)")
	}
	fs.StringVar(&f.file, "credentials-file", "", "file of access keys accepted beside the directory's, one \"ACCESS_KEY_ID SECRET USER\" per line (or JSON; docs/security.md)")
	fs.StringVar(&f.bootstrapFile, "bootstrap-credentials-file", "", "file holding the first key of a new cluster (same format, one key), created with its user by the bootstrap node instead of a generated one")
	fs.StringSliceVar(&f.regions, "auth-regions", nil, "regions a request's credential scope may name (comma-separated); empty: any")
	fs.StringVar(&f.peerAuth, "peer-auth", node.PeerAuthRequire, "peer calls without the cluster's credential, on a closed cluster without --certs-dir: "+
		"require (refuse them) or accept (take them, logged and counted: for a rolling upgrade from a binary that sends none)")
}

// apply sets cfg.Auth from the flags; dev says whether --auth decides
// (else --insecure does).
func (f *authFlags) apply(cfg *node.Config, dev bool) error {
	switch {
	case dev && !f.on && (f.file != "" || f.bootstrapFile != ""):
		return errors.New("--credentials-file and --bootstrap-credentials-file are used with --auth: add --auth to turn authentication on")
	case !dev && f.insecure && (f.file != "" || f.bootstrapFile != ""):
		return errors.New("--insecure turns authentication off: drop --credentials-file and --bootstrap-credentials-file, or --insecure")
	case f.peerAuth != node.PeerAuthRequire && f.peerAuth != node.PeerAuthAccept:
		return fmt.Errorf("--peer-auth %q: want %s or %s", f.peerAuth, node.PeerAuthRequire, node.PeerAuthAccept)
	}
	cfg.Auth = node.AuthConfig{Enabled: f.on || (!dev && !f.insecure), Regions: f.regions, PeerAuth: f.peerAuth}
	if !cfg.Auth.Enabled {
		return nil
	}
	if f.file != "" {
		creds, err := loadKeyFile("--credentials-file", f.file, cfg.Logger)
		if err != nil {
			return err
		}
		cfg.Auth.Credentials = creds
	}
	if f.bootstrapFile != "" {
		creds, err := loadKeyFile("--bootstrap-credentials-file", f.bootstrapFile, cfg.Logger)
		if err != nil {
			return err
		}
		keys := creds.Keys()
		if len(keys) != 1 {
			return fmt.Errorf("--bootstrap-credentials-file %s: want one key, got %d", f.bootstrapFile, len(keys))
		}
		cfg.Auth.Bootstrap = &keys[0]
	}
	cfg.Logger.Info("authentication is on: requests must be signed with SigV4 by a key of the directory or of --credentials-file",
		"credentials_file", f.file)
	return nil
}

// loadKeyFile reads a credentials file, warning when others may read it.
func loadKeyFile(flag, path string, log *slog.Logger) (*auth.StaticCredentials, error) {
	creds, err := auth.LoadCredentialsFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	if mode, err := fileMode(path); err == nil && mode&0o077 != 0 {
		log.Warn("a credentials file can be read by other users: chmod 600 it", "file", path, "mode", mode.String())
	}
	return creds, nil
}

// warnIfOff logs, after the node started, that anyone may use it.
func warnIfOff(cfg node.Config, log *slog.Logger, mode string) {
	if !cfg.Auth.Enabled {
		log.Warn("authentication is off: any access key is accepted, and the admin endpoint takes changes from anyone who reaches it" + mode)
	}
}

// printBootstrapKey shows the first key and admin token of a new
// cluster, once.
func printBootstrapKey(w io.Writer, n *node.Node, dataDir string) {
	printBootstrapAdminToken(w, n, dataDir)
	k := n.BootstrapCredentials()
	if k == nil {
		return
	}
	fmt.Fprintf(w, `
This node created a new cluster and its first user, %q, whose access key
may do everything. The secret is shown only this once (and kept in
%s/%s, readable by its owner only):

  AWS_ACCESS_KEY_ID=%s
  AWS_SECRET_ACCESS_KEY=%s

Create other users and keys with 'partita ctl user create' and 'partita ctl key create'.

`, k.User, dataDir, node.BootstrapCredentialsFile, k.AccessKeyID, k.Secret)
}

func fileMode(path string) (os.FileMode, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Mode().Perm(), nil
}

// printBootstrapAdminToken shows the first admin token of a new cluster,
// once.
func printBootstrapAdminToken(w io.Writer, n *node.Node, dataDir string) {
	tok := n.BootstrapAdminToken()
	if tok == "" {
		return
	}
	fmt.Fprintf(w, `
This node created the first admin token of the cluster: drains,
decommissions, jobs, users, keys and every other change need an admin.
The token is shown only this once (and kept in %s/%s, readable by its
owner only, where 'partita ctl --data-dir %s' finds it):

  PARTITA_ADMIN_TOKEN=%s

Create others with 'partita ctl admin-token create', revoke them with 'partita ctl admin-token revoke'.
`, dataDir, node.AdminTokenFile, dataDir, tok)
}
