package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// File names inside a certificates directory.
const (
	CAFile       = "ca.crt"
	CAKeyFile    = "ca.key"
	NodeCertFile = "node.crt"
	NodeKeyFile  = "node.key"
	TokensFile   = "admin-tokens"
)

// Roles, written as a certificate's organizational unit.
const (
	RoleNode   = "node"
	RoleClient = "client"
)

// organization is the subject organization of every certificate.
const organization = "Partita"

// Options tune the certificates the Create functions write.
type Options struct {
	// Now is the clock (default time.Now); certificates are valid from
	// an hour before it, for clocks a little behind.
	Now func() time.Time
	// CALifetime and Lifetime are how long a CA and a node or client
	// certificate stay valid (default 10 years and 1 year).
	CALifetime, Lifetime time.Duration
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CALifetime == 0 {
		o.CALifetime = 10 * 365 * 24 * time.Hour
	}
	if o.Lifetime == 0 {
		o.Lifetime = 365 * 24 * time.Hour
	}
	return o
}

// ClientCertFile and ClientKeyFile name the files of client name.
func ClientCertFile(name string) string { return "client." + name + ".crt" }

// ClientKeyFile is the key of ClientCertFile(name).
func ClientKeyFile(name string) string { return "client." + name + ".key" }

// CreateCA writes a new cluster CA to dir (ca.crt, ca.key), creating dir.
// It never replaces an existing CA key: that would orphan every
// certificate it signed.
func CreateCA(dir string, opt Options) error {
	opt = opt.withDefaults()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	key, err := newKey()
	if err != nil {
		return err
	}
	tmpl, err := template("", "ca", opt.Now(), opt.CALifetime)
	if err != nil {
		return err
	}
	// Each CA names itself apart, so that an error about a certificate of
	// another cluster's CA does not name two CAs alike.
	id := fmt.Sprintf("%032x", tmpl.SerialNumber)
	tmpl.Subject.CommonName = "Partita CA " + id[:8]
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return fmt.Errorf("certs: sign CA: %w", err)
	}
	return writePair(filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile), der, key)
}

// CreateNode writes a node certificate for hosts (IP addresses or DNS
// names; the ones other nodes and clients dial) to out (node.crt,
// node.key, and a copy of ca.crt), signed by the CA in dir. A node
// certificate serves and dials: peers check it both ways.
func CreateNode(dir, out string, hosts []string, opt Options) error {
	if len(hosts) == 0 {
		return fmt.Errorf("%w: a node certificate needs at least one host", ErrBadName)
	}
	opt = opt.withDefaults()
	tmpl, err := template(hosts[0], RoleNode, opt.Now(), opt.Lifetime)
	if err != nil {
		return err
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	return issue(dir, out, NodeCertFile, NodeKeyFile, tmpl)
}

// validName is a client name: it becomes part of file names.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// CreateClient writes a client certificate for name (client.NAME.crt and
// .key, and a copy of ca.crt) to out, signed by the CA in dir. The admin
// endpoint takes it as the authenticated admin name.
func CreateClient(dir, out, name string, opt Options) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("%w: client name %q: letters, digits, '.', '_' and '-', up to 64", ErrBadName, name)
	}
	opt = opt.withDefaults()
	tmpl, err := template(name, RoleClient, opt.Now(), opt.Lifetime)
	if err != nil {
		return err
	}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	return issue(dir, out, ClientCertFile(name), ClientKeyFile(name), tmpl)
}

// issue signs tmpl with the CA in dir and writes the pair to out.
func issue(dir, out, certName, keyName string, tmpl *x509.Certificate) error {
	ca, caKey, err := loadCA(dir)
	if err != nil {
		return err
	}
	key, err := newKey()
	if err != nil {
		return err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return fmt.Errorf("certs: sign %s: %w", certName, err)
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	if err := copyCA(dir, out); err != nil {
		return err
	}
	return writePair(filepath.Join(out, certName), filepath.Join(out, keyName), der, key)
}

// template is a certificate of role for cn, valid for life from an hour
// before now, with a random serial number.
func template(cn, role string, now time.Time, life time.Duration) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("certs: serial: %w", err)
	}
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{organization}, OrganizationalUnit: []string{role}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(life),
	}, nil
}

func newKey() (*ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("certs: generate key: %w", err)
	}
	return key, nil
}

// loadCA reads the CA certificate and key of dir.
func loadCA(dir string) (*x509.Certificate, any, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, CAFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%w: %s", ErrNoCA, dir)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("certs: %w", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%w: %s has ca.crt but not ca.key", ErrNoCA, dir)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("certs: %w", err)
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: %s: %w", CAFile, err)
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, nil, fmt.Errorf("certs: %s: no PEM block", CAKeyFile)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: %s: %w", CAKeyFile, err)
	}
	return cert, key, nil
}

func parseCert(raw []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no CERTIFICATE PEM block")
	}
	return x509.ParseCertificate(block.Bytes)
}

// copyCA puts dir's ca.crt into out (unless out is dir), so that out is a
// complete directory for a node or a client.
func copyCA(dir, out string) error {
	if filepath.Clean(dir) == filepath.Clean(out) {
		return nil
	}
	raw, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, CAFile), raw, 0o644); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	return nil
}

// writePair writes a certificate (0644) and its key (0600, PKCS #8),
// refusing to replace either.
func writePair(certPath, keyPath string, der []byte, key *ecdsa.PrivateKey) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("certs: encode key: %w", err)
	}
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%w: %s (remove it first to replace it)", ErrExists, p)
		}
	}
	if err := writeNew(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return writeNew(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// writeNew creates path with mode (never wider, whatever the umask
// allows) and writes data to it.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s", ErrExists, path)
	}
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	return nil
}
