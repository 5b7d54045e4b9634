package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/partitadb/partita/certs"
	"github.com/partitadb/partita/node"
)

// ctlAuth is how ctl proves to a guarded admin endpoint that it is an
// admin: a bearer token, or a client certificate of the cluster CA.
type ctlAuth struct {
	token    string
	certsDir string
	client   string
	dataDir  string
}

func (a *ctlAuth) register(fs *pflag.FlagSet) {
	fs.StringVar(&a.token, "admin-token", "", "admin bearer token (`partita ctl admin-token create`; env PARTITA_ADMIN_TOKEN)")
	dataDir := os.Getenv("PARTITA_DATA_DIR")
	if dataDir == "" {
		dataDir = node.DefaultConfig().DataDir
	}
	fs.StringVar(&a.dataDir, "data-dir", dataDir, "data directory of a node on this machine whose "+node.AdminTokenFile+" file (made by the first node of a cluster) holds the admin token to use when none is given (env PARTITA_DATA_DIR)")
	fs.StringVar(&a.certsDir, "certs-dir", os.Getenv("PARTITA_CERTS_DIR"), "directory with the cluster's ca.crt and a client certificate (client.NAME.crt/.key): https to the admin endpoint (env PARTITA_CERTS_DIR)")
	fs.StringVar(&a.client, "client", "", "NAME of the client certificate in --certs-dir (default: the only one there)")
}

// scheme is the admin endpoint's default scheme: https with a certs dir.
func (a *ctlAuth) scheme() string {
	if a.certsDir != "" {
		return "https://"
	}
	return "http://"
}

// httpClient is the client of the admin endpoint: it trusts the cluster
// CA and presents the client certificate of the certs dir, if any, and
// keeps the token across redirects to other nodes.
func (a *ctlAuth) httpClient() (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if a.certsDir != "" {
		cfg, err := a.tlsConfig()
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = cfg
	}
	c := &http.Client{Transport: tr}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		// A node sends ctl to the admin endpoint of another node of the
		// same cluster, where the same token is valid.
		a.authorize(req)
		return nil
	}
	return c, nil
}

// authorize adds the bearer token to req: --admin-token, else
// PARTITA_ADMIN_TOKEN (read here, so that --help never prints it), else
// the admin token file of --data-dir, if it can be read.
func (a *ctlAuth) authorize(req *http.Request) {
	if tok := a.bearer(); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
}

func (a *ctlAuth) bearer() string {
	tok := a.token
	if tok == "" {
		tok = os.Getenv("PARTITA_ADMIN_TOKEN")
	}
	if tok == "" && a.dataDir != "" {
		raw, _ := os.ReadFile(filepath.Join(a.dataDir, node.AdminTokenFile))
		tok = string(raw)
	}
	return strings.TrimSpace(tok)
}

func (a *ctlAuth) tlsConfig() (*tls.Config, error) {
	pool, err := certs.LoadPool(filepath.Join(a.certsDir, certs.CAFile))
	if err != nil {
		return nil, fmt.Errorf("--certs-dir: %w", err)
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	name, err := a.clientName()
	if err != nil || name == "" {
		return cfg, err
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(a.certsDir, certs.ClientCertFile(name)), filepath.Join(a.certsDir, certs.ClientKeyFile(name)))
	if err != nil {
		return nil, fmt.Errorf("--certs-dir: client %s: %w", name, err)
	}
	cfg.Certificates = []tls.Certificate{pair}
	return cfg, nil
}

// clientName is --client, or the one client certificate of the certs
// dir ("" if there is none).
func (a *ctlAuth) clientName() (string, error) {
	if a.client != "" {
		return a.client, nil
	}
	found, err := filepath.Glob(filepath.Join(a.certsDir, "client.*.crt"))
	if err != nil {
		return "", err
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return strings.TrimSuffix(strings.TrimPrefix(filepath.Base(found[0]), "client."), ".crt"), nil
	}
	return "", fmt.Errorf("--certs-dir %s holds %d client certificates: choose one with --client", a.certsDir, len(found))
}
