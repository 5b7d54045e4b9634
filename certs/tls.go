package certs

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
)

// LoadPool reads the CA certificates of caFile (PEM) into a pool.
func LoadPool(caFile string) (*x509.CertPool, error) {
	raw, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(raw) {
		return nil, fmt.Errorf("certs: %s holds no PEM certificate", caFile)
	}
	return pool, nil
}

// ServerTLS serves pair to clients that bring no certificate (the
// DynamoDB API). With a non-nil pool, a client may present a certificate,
// which must then be signed by the pool (the admin endpoint, where it
// authenticates an admin).
func ServerTLS(pair *KeyPair, pool *x509.CertPool) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: pair.GetCertificate}
	if pool != nil {
		c.ClientAuth, c.ClientCAs = tls.VerifyClientCertIfGiven, pool
	}
	return c
}

// PeerServerTLS is the peer port's side of mutual TLS: a client must
// present a node certificate signed by the pool, or the handshake fails
// (and log says who was refused, and why).
func PeerServerTLS(pair *KeyPair, pool *x509.CertPool, log *slog.Logger) *tls.Config {
	base := &tls.Config{
		MinVersion:     tls.VersionTLS13,
		GetCertificate: pair.GetCertificate,
		ClientAuth:     tls.RequireAnyClientCert,
		NextProtos:     []string{"h2"},
	}
	base.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		c := base.Clone()
		c.GetConfigForClient = nil
		from := remote(hello.Conn)
		c.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			err := verifyNode(raw, pool, x509.ExtKeyUsageClientAuth)
			if err != nil {
				log.Warn("refused a peer: its certificate is not a node certificate of this cluster's CA", "remote", from, "err", err)
			}
			return err
		}
		return c, nil
	}
	return base
}

// PeerClientTLS is the dialing side of mutual TLS: it presents pair and
// accepts only a node certificate signed by the pool, for the host
// dialled.
func PeerClientTLS(pair *KeyPair, pool *x509.CertPool) *tls.Config {
	return &tls.Config{
		MinVersion:           tls.VersionTLS13,
		RootCAs:              pool,
		GetClientCertificate: pair.GetClientCertificate,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !HasRole(cs.PeerCertificates[0], RoleNode) {
				return fmt.Errorf("%w: the server at %s is not a node", ErrRole, cs.ServerName)
			}
			return nil
		},
	}
}

// verifyNode checks that raw (a peer's chain, leaf first) is a node
// certificate signed by pool, for usage.
func verifyNode(raw [][]byte, pool *x509.CertPool, usage x509.ExtKeyUsage) error {
	if len(raw) == 0 {
		return fmt.Errorf("%w: no certificate", ErrRole)
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return fmt.Errorf("certs: peer certificate: %w", err)
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		return fmt.Errorf("certs: %q: %w", certs[0].Subject.String(), err)
	}
	if !HasRole(certs[0], RoleNode) {
		return fmt.Errorf("%w: %q is not a node certificate", ErrRole, certs[0].Subject.String())
	}
	return nil
}

// HasRole reports whether c was issued for role (RoleNode, RoleClient).
func HasRole(c *x509.Certificate, role string) bool {
	return slices.Contains(c.Subject.OrganizationalUnit, role)
}

func remote(c net.Conn) string {
	if c == nil {
		return ""
	}
	return c.RemoteAddr().String()
}
