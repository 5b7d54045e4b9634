package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/admin"
)

// ctlAuthTimeout bounds one users' or keys' request.
const ctlAuthTimeout = 30 * time.Second

func newCtlUserCmd(f *ctlFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Users of the DynamoDB API: create, list, delete",
		Long: `Users of the DynamoDB API, kept in the cluster's directory. A user signs
requests with its access keys (partita ctl key); its policies say what it
may do (docs/security.md).

  partita ctl user create NAME    a new user, without keys
  partita ctl user list           every user, its keys and policies
  partita ctl user delete NAME    the user and its keys (refused at once)`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "create NAME",
		Short: "Create a user (1 to 64 letters, digits and _+=,.@-)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var u admin.User
			return f.run(cmd, http.MethodPost, "/auth/users/"+url.PathEscape(args[0]), ctlAuthTimeout, &u, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "created user %s\n", u.Name)
			})
		},
	}, &cobra.Command{
		Use:   "list",
		Short: "List the users with their access keys and policies",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var us []admin.User
			return f.run(cmd, http.MethodGet, "/auth/users", ctlAuthTimeout, &us, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "NAME\tACCESS KEYS\tPOLICIES\tCREATED")
				for _, u := range us {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", u.Name, list(u.Keys), list(u.Policies), stamp(u.Created))
				}
			})
		},
	}, &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a user and its access keys",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var u admin.User
			return f.run(cmd, http.MethodDelete, "/auth/users/"+url.PathEscape(args[0]), ctlAuthTimeout, &u, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "deleted user %s and its access keys %s\n", u.Name, list(u.Keys))
			})
		},
	})
	return cmd
}

func newCtlKeyCmd(f *ctlFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Access keys of the users: create, list, disable, enable, delete",
		Long: `Access keys of the users of the DynamoDB API. A user has at most two, so
that a key can be rotated without downtime: create the second, move the
clients to it, disable the first (refused within a second on every node),
then delete it.

  partita ctl key create USER     a new key; its secret is printed this once
  partita ctl key list USER       the user's keys and their status
  partita ctl key disable ID      refuse the key (UnrecognizedClientException)
  partita ctl key enable ID       accept it again
  partita ctl key delete ID       forget it`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "create USER",
		Short: "Create an access key for USER and print its secret (only this once)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var k admin.NewAccessKey
			return f.run(cmd, http.MethodPost, "/auth/users/"+url.PathEscape(args[0])+"/keys", ctlAuthTimeout, &k, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "created an access key for user %s; the secret is shown only this once:\n\n", k.User)
				fmt.Fprintf(w, "AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n", k.ID, k.Secret)
			})
		},
	}, &cobra.Command{
		Use:   "list USER",
		Short: "List the access keys of USER",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ks []admin.AccessKey
			return f.run(cmd, http.MethodGet, "/auth/users/"+url.PathEscape(args[0])+"/keys", ctlAuthTimeout, &ks, printKeys(&ks))
		},
	}, keyChangeCmd(f, "disable", http.MethodPost, "Refuse the access key ID from now on (within a second on every node)"),
		keyChangeCmd(f, "enable", http.MethodPost, "Accept the disabled access key ID again"),
		keyChangeCmd(f, "delete", http.MethodDelete, "Delete the access key ID"))
	return cmd
}

// keyChangeCmd is `key disable|enable|delete ID`.
func keyChangeCmd(f *ctlFlags, verb, method, short string) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/auth/keys/" + url.PathEscape(args[0])
			if method != http.MethodDelete {
				path += "/" + verb
			}
			var k admin.AccessKey
			ks := []admin.AccessKey{}
			return f.run(cmd, method, path, ctlAuthTimeout, &k, func(w *tabwriter.Writer) {
				ks = append(ks, k)
				printKeys(&ks)(w)
				fmt.Fprintf(w, "%sd access key %s of user %s\n", verb, k.ID, k.User)
			})
		},
	}
}

func printKeys(ks *[]admin.AccessKey) func(*tabwriter.Writer) {
	return func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "ACCESS KEY ID\tUSER\tSTATUS\tCREATED\tUPDATED")
		for _, k := range *ks {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.User, k.Status, stamp(k.Created), stamp(k.Updated))
		}
	}
}

func list(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}
