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

func newCtlGroupCmd(f *ctlFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "Groups of users: create, list, delete, add-user, remove-user",
		Long: `Groups of users of the DynamoDB API, as IAM's: a user gets the policies
attached to its groups (partita ctl policy attach-group) beside its own.

  partita ctl group create NAME               a new group, without members or policies
  partita ctl group list                      every group, its members and policies
  partita ctl group delete NAME               the group (its members stay users)
  partita ctl group add-user GROUP USER
  partita ctl group remove-user GROUP USER`,
		Args: cobra.NoArgs,
	}
	one := func(use, short, method string, path func(args []string) string, done string) *cobra.Command {
		return &cobra.Command{
			Use: use, Short: short, Args: cobra.ExactArgs(len(strings.Fields(use)) - 1),
			RunE: func(cmd *cobra.Command, args []string) error {
				var g admin.Group
				return f.run(cmd, method, path(args), ctlAuthTimeout, &g, func(w *tabwriter.Writer) {
					fmt.Fprintf(w, "%s group %s; members %s, policies %s\n", done, g.Name, list(g.Users), list(g.Policies))
				})
			},
		}
	}
	groupPath := func(args []string) string { return "/auth/groups/" + url.PathEscape(args[0]) }
	memberPath := func(args []string) string {
		return "/auth/groups/" + url.PathEscape(args[0]) + "/users/" + url.PathEscape(args[1])
	}
	cmd.AddCommand(one("create NAME", "Create a group (1 to 128 letters, digits and _+=,.@-)", http.MethodPost, groupPath, "created"),
		one("delete NAME", "Delete a group", http.MethodDelete, groupPath, "deleted"),
		one("add-user GROUP USER", "Add USER to GROUP", http.MethodPost, memberPath, "updated"),
		one("remove-user GROUP USER", "Remove USER from GROUP", http.MethodDelete, memberPath, "updated"),
		&cobra.Command{
			Use: "list", Short: "List the groups with their members and policies", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				var gs []admin.Group
				return f.run(cmd, http.MethodGet, "/auth/groups", ctlAuthTimeout, &gs, func(w *tabwriter.Writer) {
					fmt.Fprintln(w, "NAME\tUSERS\tPOLICIES\tCREATED")
					for _, g := range gs {
						fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", g.Name, list(g.Users), list(g.Policies), stamp(g.Created))
					}
				})
			},
		})
	return cmd
}

// attachGroupCmd is `policy attach-group|detach-group GROUP NAME`.
func attachGroupCmd(f *ctlFlags, verb, method, short string) *cobra.Command {
	return &cobra.Command{
		Use:   verb + "-group GROUP NAME",
		Short: short,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var g admin.Group
			path := "/auth/groups/" + url.PathEscape(args[0]) + "/policies/" + url.PathEscape(args[1])
			return f.run(cmd, method, path, ctlAuthTimeout, &g, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "%sed policy %s; group %s has policies %s\n", verb, args[1], g.Name, list(g.Policies))
			})
		},
	}
}

func newCtlAdminTokenCmd(f *ctlFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin-token",
		Short: "Bearer tokens of the admin endpoint: create, list, revoke",
		Long: `Admin tokens, kept (as SHA-256 digests) in the cluster's directory: a token
works on every node, and a revoked one stops working on every node within
a second. ctl sends one with --admin-token or PARTITA_ADMIN_TOKEN, or reads
it from <data-dir>/admin-token, where the first node of a cluster keeps the
first one.

A token of scope read may read every admin route (GET: nodes, partitions,
jobs, metrics, the Doctor's views, users, keys, policies, tokens) and is
refused (403) every change. A token with a ttl stops working when it
expires, and is listed as expired until revoked.

  partita ctl admin-token create [--name N] [--ttl 24h] [--scope all|read]   prints a new token, once
  partita ctl admin-token list                ids, names, scopes, creation and expiry times (never the tokens)
  partita ctl admin-token revoke ID`,
		Args: cobra.NoArgs,
	}
	var name, scope string
	var ttl time.Duration
	create := &cobra.Command{
		Use: "create", Short: "Create an admin token (printed once)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ttl < 0 {
				return fmt.Errorf("--ttl %v: want 0 (until revoked) or more", ttl)
			}
			q := url.Values{"name": {name}, "scope": {scope}, "ttl": {ttl.String()}}
			var t admin.NewAdminToken
			return f.run(cmd, http.MethodPost, "/auth/admin-tokens?"+q.Encode(), ctlAuthTimeout, &t,
				func(w *tabwriter.Writer) {
					fmt.Fprintf(w, "created admin token %s (scope %s, %s); it is shown only this once:\n\n  PARTITA_ADMIN_TOKEN=%s\n",
						t.ID, t.Scope, expiryText(t.AdminToken), t.Token)
				})
		},
	}
	create.Flags().StringVar(&name, "name", "", "whose token, or what for (shown by list)")
	create.Flags().DurationVar(&ttl, "ttl", 0, "how long the token is valid, such as 24h (0: until revoked)")
	create.Flags().StringVar(&scope, "scope", admin.ScopeAll, "all (every admin request) or read (reads alone: GET of every admin route)")
	cmd.AddCommand(create, &cobra.Command{
		Use: "list", Short: "List the admin tokens", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ts []admin.AdminToken
			return f.run(cmd, http.MethodGet, "/auth/admin-tokens", ctlAuthTimeout, &ts, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "ID\tNAME\tSCOPE\tCREATED\tEXPIRES")
				for _, t := range ts {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.ID, dash(t.Name), t.Scope, stamp(t.Created), expiryText(t))
				}
			})
		},
	}, &cobra.Command{
		Use: "revoke ID", Short: "Revoke an admin token", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var t admin.AdminToken
			return f.run(cmd, http.MethodDelete, "/auth/admin-tokens/"+url.PathEscape(args[0]), ctlAuthTimeout, &t, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "revoked admin token %s\n", t.ID)
			})
		},
	})
	return cmd
}

func newCtlJoinTokenCmd(f *ctlFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "join-token",
		Short: "Tokens that let a node join a closed cluster: create, list, revoke",
		Long: `Join tokens let a new node join a closed cluster whose nodes have no
certificates (with --certs-dir, a node certificate is what admits a node).
A token admits one node, until it expires; only its SHA-256 digest is kept.

  partita ctl join-token create [--ttl 1h]   prints a new token, once
  partita start --join 10.0.0.1:7000 --join-token T ...   (or PARTITA_JOIN_TOKEN=T)
  partita ctl join-token list                ids, expiry, the node that used each
  partita ctl join-token revoke ID`,
		Args: cobra.NoArgs,
	}
	var ttl time.Duration
	create := &cobra.Command{
		Use: "create", Short: "Create a join token (printed once)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var t admin.NewJoinToken
			return f.run(cmd, http.MethodPost, "/auth/join-tokens?"+url.Values{"ttl": {ttl.String()}}.Encode(), ctlAuthTimeout, &t,
				func(w *tabwriter.Writer) {
					fmt.Fprintf(w, "created join token %s, valid until %s for one node; it is shown only this once:\n\n  PARTITA_JOIN_TOKEN=%s\n",
						t.ID, stamp(t.Expires), t.Token)
				})
		},
	}
	create.Flags().DurationVar(&ttl, "ttl", admin.DefaultJoinTokenTTL, "how long the token is valid (at most a week)")
	cmd.AddCommand(create, &cobra.Command{
		Use: "list", Short: "List the join tokens", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ts []admin.JoinToken
			return f.run(cmd, http.MethodGet, "/auth/join-tokens", ctlAuthTimeout, &ts, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "ID\tEXPIRES\tUSED BY\tCREATED")
				for _, t := range ts {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", t.ID, stamp(t.Expires), dash(t.UsedBy), stamp(t.Created))
				}
			})
		},
	}, &cobra.Command{
		Use: "revoke ID", Short: "Revoke a join token", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var t admin.JoinToken
			return f.run(cmd, http.MethodDelete, "/auth/join-tokens/"+url.PathEscape(args[0]), ctlAuthTimeout, &t, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "revoked join token %s\n", t.ID)
			})
		},
	})
	return cmd
}

// expiryText says when an admin token expires: "never", the time, or
// "EXPIRED at" the time.
func expiryText(t admin.AdminToken) string {
	switch {
	case t.Expires.IsZero():
		return "never"
	case t.Expired:
		return "EXPIRED at " + stamp(t.Expires)
	}
	return stamp(t.Expires)
}
