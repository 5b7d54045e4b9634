package main

import (
	"github.com/spf13/pflag"

	"github.com/partitadb/partita/node"
)

// tlsFlags secure a node's listeners and peers (docs/security.md,
// "Transport security"): `--tls-cert F --tls-key K` serve the DynamoDB API
// and the admin endpoint over TLS, `--certs-dir D` turns on mutual TLS
// between nodes with the cluster CA, `--admin-token-file T` admits admins
// by bearer token. With a certs dir or a token file, the admin endpoint's
// changes need an authenticated admin.
func registerTLSFlags(fs *pflag.FlagSet, c *node.TLSConfig) {
	fs.StringVar(&c.CertFile, "tls-cert", "", "certificate (PEM) to serve the DynamoDB API and the admin endpoint over TLS; read again when it changes")
	fs.StringVar(&c.KeyFile, "tls-key", "", "key (PEM) of --tls-cert")
	fs.StringVar(&c.CertsDir, "certs-dir", "", "directory of the cluster CA and this node's certificate (ca.crt, node.crt, node.key; `partita cert`): mutual TLS between nodes, client certificates for admins")
	fs.StringVar(&c.AdminTokenFile, "admin-token-file", "", "file of admin bearer tokens, one a line (`partita cert create-token`); the admin endpoint's changes then need one")
}
