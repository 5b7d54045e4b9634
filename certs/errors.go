package certs

import "errors"

var (
	// ErrExists is returned instead of overwriting a key or certificate.
	ErrExists = errors.New("certs: file exists")
	// ErrNoCA is returned when a directory lacks the CA a command needs.
	ErrNoCA = errors.New("certs: no CA (ca.crt and ca.key) in the directory")
	// ErrBadName rejects a client name that cannot be a file name part.
	ErrBadName = errors.New("certs: bad name")
	// ErrRole is a verified certificate of the wrong role (a client
	// certificate on the peer port).
	ErrRole = errors.New("certs: certificate has the wrong role")
)
