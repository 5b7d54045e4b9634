package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/pflag"

	"github.com/partitadb/partita/auth"
	"github.com/partitadb/partita/node"
)

// authFlags turn SigV4 authentication on: `partita start
// --credentials-file F`, `partita dev --auth --credentials-file F`.
type authFlags struct {
	// on is dev's --auth; start turns authentication on with the file.
	on      bool
	file    string
	regions []string
}

func (f *authFlags) register(fs *pflag.FlagSet, dev bool) {
	if dev {
		fs.BoolVar(&f.on, "auth", false, "verify the SigV4 signature of every request against --credentials-file (off by default in development)")
	}
	fs.StringVar(&f.file, "credentials-file", "", "file of the access keys to accept, one \"ACCESS_KEY_ID SECRET USER\" per line (or JSON; docs/security.md); requests are then authenticated")
	fs.StringSliceVar(&f.regions, "auth-regions", nil, "regions a request's credential scope may name (comma-separated); empty: any")
}

// apply sets cfg.Auth from the flags; dev says whether --auth decides.
func (f *authFlags) apply(cfg *node.Config, dev bool) error {
	switch {
	case dev && f.on && f.file == "":
		return errors.New("--auth needs --credentials-file")
	case dev && !f.on && f.file != "":
		return errors.New("--credentials-file is used with --auth: add --auth to turn authentication on")
	case f.file == "":
		return nil
	}
	creds, err := auth.LoadCredentialsFile(f.file)
	if err != nil {
		return fmt.Errorf("--credentials-file: %w", err)
	}
	if cfg.Auth, err = auth.NewVerifier(auth.Config{Credentials: creds, Regions: f.regions, Logger: cfg.Logger}); err != nil {
		return err
	}
	if st, err := os.Stat(f.file); err == nil && st.Mode().Perm()&0o077 != 0 {
		cfg.Logger.Warn("the credentials file can be read by other users: chmod 600 it", "file", f.file, "mode", st.Mode().Perm().String())
	}
	cfg.Logger.Info("authentication is on: requests must be signed with SigV4", "credentials_file", f.file, "keys", creds.Len())
	return nil
}

// warnIfOff logs, after the node started, that anyone may use it.
func warnIfOff(cfg node.Config, log *slog.Logger, mode string) {
	if cfg.Auth == nil {
		log.Warn("authentication is off: any access key is accepted" + mode)
	}
}
