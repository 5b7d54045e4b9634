package certs

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"sync"
)

// KeyPair is a certificate and its key on disk, read again whenever
// either file changes: replace both files and the next handshake uses
// the new certificate, without a restart. A change that does not load
// (the certificate written, its key not yet) keeps the previous pair and
// is logged; the next change is tried again. It is safe for concurrent
// use.
type KeyPair struct {
	certFile, keyFile string
	log               *slog.Logger

	mu   sync.Mutex
	cert *tls.Certificate
	seen []stamp // the files' stamps at the last attempt to load them
}

// NewKeyPair loads certFile and keyFile (PEM), failing if they do not
// make a pair.
func NewKeyPair(certFile, keyFile string, log *slog.Logger) (*KeyPair, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	k := &KeyPair{certFile: certFile, keyFile: keyFile, log: log}
	st, err := stampOf(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	if k.cert, err = loadPair(certFile, keyFile); err != nil {
		return nil, err
	}
	k.seen = st
	return k, nil
}

func loadPair(certFile, keyFile string) (*tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("certs: %s and %s: %w", certFile, keyFile, err)
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, fmt.Errorf("certs: %s: %w", certFile, err)
		}
	}
	return &c, nil
}

// Certificate returns the current pair, reading the files again first if
// they changed since the last look.
func (k *KeyPair) Certificate() *tls.Certificate {
	k.mu.Lock()
	defer k.mu.Unlock()
	st, err := stampOf(k.certFile, k.keyFile)
	if err != nil || sameStamps(st, k.seen) {
		return k.cert // a file being replaced: keep serving the old pair
	}
	k.seen = st
	c, err := loadPair(k.certFile, k.keyFile)
	if err != nil {
		k.log.Warn("keeping the previous certificate: the changed files do not load", "cert", k.certFile, "err", err)
		return k.cert
	}
	k.cert = c
	k.log.Info("certificate reloaded", "cert", k.certFile, "subject", c.Leaf.Subject.String(), "not_after", c.Leaf.NotAfter)
	return c
}

// GetCertificate is the tls.Config hook of a server.
func (k *KeyPair) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return k.Certificate(), nil
}

// GetClientCertificate is the tls.Config hook of a client.
func (k *KeyPair) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return k.Certificate(), nil
}
