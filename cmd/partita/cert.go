package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/certs"
)

// newCertCmd groups the commands that make a cluster's certificates and
// admin tokens (package certs; docs/security.md).
func newCertCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "cert",
		Short: "Create the cluster CA, node and client certificates, and admin tokens",
		Long: `Create the files that secure a cluster (docs/security.md):

  partita cert create-ca --dir certs                          ca.crt, ca.key
  partita cert create-node --dir certs --host 10.0.0.1,db1 --out node1
                                                              node1/{ca.crt,node.crt,node.key}
  partita cert create-client --dir certs ops                  certs/client.ops.{crt,key}
  partita cert create-token --dir certs                       appends a token to certs/admin-tokens

Keys are ECDSA P-256, written readable by their owner only; nothing is
ever overwritten. Keep ca.key off the nodes: a node needs ca.crt,
node.crt and node.key (--certs-dir).`,
		Args: cobra.NoArgs,
	}
	cmd.PersistentFlags().StringVar(&dir, "dir", "", "directory of the cluster CA (ca.crt, ca.key)")
	_ = cmd.MarkPersistentFlagRequired("dir")
	cmd.AddCommand(newCertCreateCACmd(&dir), newCertCreateNodeCmd(&dir), newCertCreateClientCmd(&dir), newCertCreateTokenCmd(&dir))
	return cmd
}

func newCertCreateCACmd(dir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "create-ca",
		Short: "Create the cluster CA in --dir",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := certs.CreateCA(*dir, certs.Options{}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created the cluster CA: %s, %s (keep the key safe)\n",
				filepath.Join(*dir, certs.CAFile), filepath.Join(*dir, certs.CAKeyFile))
			return nil
		},
	}
}

func newCertCreateNodeCmd(dir *string) *cobra.Command {
	var (
		hosts []string
		out   string
	)
	cmd := &cobra.Command{
		Use:   "create-node",
		Short: "Create a node certificate for --host, signed by the CA of --dir",
		Long: `Create a node certificate signed by the CA of --dir, valid for every host
(IP address or DNS name) that other nodes and clients dial this node at,
in --out (default: --dir) with a copy of ca.crt.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(hosts) == 0 {
				return errors.New("--host: give the addresses or names the node is reached at")
			}
			if out == "" {
				out = *dir
			}
			if err := certs.CreateNode(*dir, out, hosts, certs.Options{}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created a node certificate for %v: %s, %s\n", hosts,
				filepath.Join(out, certs.NodeCertFile), filepath.Join(out, certs.NodeKeyFile))
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&hosts, "host", nil, "hosts of the node (comma-separated IP addresses and DNS names)")
	cmd.Flags().StringVar(&out, "out", "", "directory to write the node's files to (default --dir)")
	return cmd
}

func newCertCreateClientCmd(dir *string) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "create-client NAME",
		Short: "Create a client certificate for admin NAME, signed by the CA of --dir",
		Long: `Create a client certificate for admin NAME (client.NAME.crt and .key) in
--out (default: --dir). The admin endpoint of a node started with
--certs-dir takes it as an authenticated admin; give it to ctl with
--certs-dir.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				out = *dir
			}
			if err := certs.CreateClient(*dir, out, args[0], certs.Options{}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created a client certificate for %s: %s, %s\n", args[0],
				filepath.Join(out, certs.ClientCertFile(args[0])), filepath.Join(out, certs.ClientKeyFile(args[0])))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write the client's files to (default --dir)")
	return cmd
}

func newCertCreateTokenCmd(dir *string) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "create-token",
		Short: "Add a new admin token to the token file and print it",
		Long: `Add a new admin bearer token to --file (default <dir>/admin-tokens, created
readable by its owner only) and print it. Nodes started with
--admin-token-file FILE accept it at once, without a restart; ctl
sends it with --admin-token or PARTITA_ADMIN_TOKEN. To rotate, create a
new token, move clients to it, and delete the old line.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				file = filepath.Join(*dir, certs.TokensFile)
			}
			tok, err := certs.AppendToken(file)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			fmt.Fprintf(cmd.ErrOrStderr(), "added to %s\n", file)
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "token file (default <dir>/admin-tokens)")
	return cmd
}
