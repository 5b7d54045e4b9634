package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/certs"
)

// TLSConfig secures a node's listeners and its peer connections
// (docs/security.md). Its zero value is plain text; the admin endpoint is
// then guarded if Config.Auth is enabled (by the directory's admin
// tokens), open otherwise, as in development.
type TLSConfig struct {
	// CertFile and KeyFile serve the DynamoDB API and the admin endpoint
	// over TLS; the files are read again when they change. Empty: plain
	// HTTP, except the admin endpoint, which serves the node certificate
	// of CertsDir when there is one.
	CertFile, KeyFile string
	// CertsDir holds the cluster CA and this node's certificate (ca.crt,
	// node.crt, node.key; see package certs). With it, nodes talk mutual
	// TLS and refuse, at the handshake, any peer whose certificate is not
	// a node certificate of the CA (a node cannot join without one); the
	// admin endpoint accepts the CA's client certificates as admins.
	CertsDir string
	// AdminTokenFile holds admin bearer tokens, one a line (read again
	// when it changes).
	AdminTokenFile string
}

// guarded reports whether the admin endpoint authenticates changes
// whatever Config.Auth says: as soon as there is a way to authenticate
// (with Auth.Enabled it always does, with the directory's admin tokens).
func (c TLSConfig) guarded() bool { return c.CertsDir != "" || c.AdminTokenFile != "" }

func (c TLSConfig) validate() error {
	if (c.CertFile == "") != (c.KeyFile == "") {
		return errors.New("node: a TLS certificate needs its key, and a key its certificate")
	}
	return nil
}

// security is the node's TLS configurations and admin guard, loaded once
// at start (key pairs reload themselves).
type security struct {
	api, admin             *tls.Config // nil: plain HTTP
	peerServer, peerClient *tls.Config // nil: plain gRPC
	guard                  *admin.Guard
	tokenFile              *certs.Tokens // nil without AdminTokenFile
}

// loadSecurity reads the certificates and tokens Config.TLS names.
func (n *Node) loadSecurity() error {
	c := n.cfg.TLS
	sec := &security{}
	var (
		pool     *x509.CertPool
		nodePair *certs.KeyPair
		err      error
	)
	if c.CertsDir != "" {
		if pool, err = certs.LoadPool(filepath.Join(c.CertsDir, certs.CAFile)); err != nil {
			return fmt.Errorf("node: certs dir: %w", err)
		}
		if nodePair, err = certs.NewKeyPair(filepath.Join(c.CertsDir, certs.NodeCertFile),
			filepath.Join(c.CertsDir, certs.NodeKeyFile), n.log); err != nil {
			return fmt.Errorf("node: certs dir: %w", err)
		}
		sec.peerServer = certs.PeerServerTLS(nodePair, pool, n.log)
		sec.peerClient = certs.PeerClientTLS(nodePair, pool)
		sec.admin = certs.ServerTLS(nodePair, pool)
	}
	if c.CertFile != "" {
		pair, err := certs.NewKeyPair(c.CertFile, c.KeyFile, n.log)
		if err != nil {
			return fmt.Errorf("node: TLS certificate: %w", err)
		}
		sec.api, sec.admin = certs.ServerTLS(pair, nil), certs.ServerTLS(pair, pool)
	}
	if c.guarded() || n.cfg.Auth.Enabled {
		sec.guard = &admin.Guard{ClientCerts: pool != nil, Logger: n.log, Token: n.adminToken}
		if c.AdminTokenFile != "" {
			if sec.tokenFile, err = certs.LoadTokens(c.AdminTokenFile, n.log); err != nil {
				return fmt.Errorf("node: admin token file: %w", err)
			}
		}
	}
	n.sec = sec
	n.logSecurity()
	return nil
}

func (n *Node) logSecurity() {
	c := n.cfg.TLS
	if c.CertsDir != "" {
		n.log.Info("mutual TLS between nodes: peers need a node certificate of the cluster CA", "certs_dir", c.CertsDir)
	}
	if c.CertFile != "" {
		n.log.Info("serving the DynamoDB API and the admin endpoint over TLS", "cert", c.CertFile)
	}
	switch {
	case n.sec.guard != nil:
		n.log.Info("admin changes need an authenticated admin", "client_certs", n.sec.guard.ClientCerts,
			"token_file", c.AdminTokenFile != "", "directory_tokens", true)
	case n.cfg.AdminAddr != "" && !loopbackAddr(n.cfg.AdminAddr):
		n.log.Warn("the admin endpoint is open: whoever reaches it can drain or decommission nodes (authentication is off; give --certs-dir or --admin-token-file)",
			"admin_addr", n.cfg.AdminAddr)
	case n.cfg.AdminAddr != "":
		n.log.Info("the admin endpoint is open to this machine: authentication is off", "admin_addr", n.cfg.AdminAddr)
	}
}

// loopbackAddr reports whether a listen address binds loopback only.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// peerServerOptions secure the peer gRPC server.
func (n *Node) peerServerOptions() []grpc.ServerOption {
	opts := n.clusterServerOptions()
	if n.sec == nil || n.sec.peerServer == nil {
		return append(opts, n.peerAuthServerOptions()...)
	}
	return append(opts, grpc.Creds(credentials.NewTLS(n.sec.peerServer)))
}

// peerDialOptions secure the connections to peers (they replace the
// transport's and the cluster client's default insecure credentials).
func (n *Node) peerDialOptions() []grpc.DialOption {
	opts := []grpc.DialOption{grpc.WithPerRPCCredentials(clusterCredentials{n.cluster})}
	if n.sec == nil || n.sec.peerClient == nil {
		return append(opts, n.peerAuthDialOptions()...)
	}
	return append(opts, grpc.WithTransportCredentials(credentials.NewTLS(n.sec.peerClient)))
}

// ErrPeerCertificate is a TLS handshake with a member refused for its
// certificate or ours: retrying cannot help.
var ErrPeerCertificate = errors.New("node: TLS handshake with a member refused")

// checkPeerHandshake shakes hands with the member at addr as the peer
// connections do, and returns an ErrPeerCertificate error if either side
// refused the other's certificate (another CA, not a node certificate,
// the wrong host). Other failures (unreachable) return nil: the join
// retries them.
func (n *Node) checkPeerHandshake(ctx context.Context, addr string) error {
	if n.sec == nil || n.sec.peerClient == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	cfg := n.sec.peerClient.Clone()
	cfg.ServerName, cfg.NextProtos = host, []string{"h2"}
	conn, err := (&tls.Dialer{Config: cfg}).DialContext(ctx, "tcp", addr)
	if err == nil {
		defer conn.Close()
		// TLS 1.3 tells a client its certificate was refused on its
		// first read; a member that accepted it sends its HTTP/2
		// settings.
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		_, err = conn.Read(make([]byte, 1))
		if err == io.EOF || isTimeout(err) {
			err = nil
		}
	}
	if certificateRefused(err) {
		return fmt.Errorf("%w: %s: %w (does this node's certs dir hold a node certificate of the cluster's CA, for the host it is dialled at?)",
			ErrPeerCertificate, addr, err)
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// certificateRefused reports whether err is a handshake failure over
// certificates: ours verifying the member's, the member's alert refusing
// ours, or a member answering in plain text.
func certificateRefused(err error) bool {
	if err == nil {
		return false
	}
	var (
		verify *tls.CertificateVerificationError
		op     *net.OpError
		plain  tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &verify), errors.Is(err, certs.ErrRole):
		return true
	case errors.As(err, &plain): // the member does not speak TLS
		return true
	case errors.As(err, &op) && op.Op == "remote error":
		return true
	}
	return false
}
