package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
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
  partita ctl user delete NAME    the user and its keys (refused within a second)`,
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

func newCtlPolicyCmd(f *ctlFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "IAM-style policies of the users: put, list, delete, attach, detach, simulate",
		Long: `IAM-style policies say what the users of the DynamoDB API may do: Allow and
Deny statements over dynamodb: actions and table ARNs, with conditions on
dynamodb:LeadingKeys, Attributes, Select and ReturnValues. An explicit Deny
wins; what no statement allows is denied, so a user without a policy can
do nothing (docs/security.md).

  partita ctl policy put NAME FILE          create or replace a policy from a JSON file ("-": stdin)
  partita ctl policy list                   every policy and its document
  partita ctl policy delete NAME            a policy no user or group has attached
  partita ctl policy attach USER NAME       give USER the policy
  partita ctl policy detach USER NAME
  partita ctl policy attach-group GROUP NAME   give every member of GROUP the policy
  partita ctl policy detach-group GROUP NAME
  partita ctl policy simulate USER ACTION RESOURCE [--key K]...
                                            what USER's policies decide, and which statement decided`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "put NAME FILE",
		Short: "Create or replace the policy NAME from the JSON document in FILE (- for stdin)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := readFileOrStdin(cmd, args[1])
			if err != nil {
				return err
			}
			var p admin.Policy
			return f.runWith(cmd, http.MethodPut, "/auth/policies/"+url.PathEscape(args[0]), doc, ctlAuthTimeout, &p, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "put policy %s\n", p.Name)
			})
		},
	}, &cobra.Command{
		Use:   "list",
		Short: "List the policies with their documents",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ps []admin.Policy
			return f.run(cmd, http.MethodGet, "/auth/policies", ctlAuthTimeout, &ps, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "NAME\tUPDATED\tDOCUMENT")
				for _, p := range ps {
					fmt.Fprintf(w, "%s\t%s\t%s\n", p.Name, stamp(p.Updated), p.Document)
				}
			})
		},
	}, &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a policy that no user has attached",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var p admin.Policy
			return f.run(cmd, http.MethodDelete, "/auth/policies/"+url.PathEscape(args[0]), ctlAuthTimeout, &p, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "deleted policy %s\n", p.Name)
			})
		},
	}, attachCmd(f, "attach", http.MethodPost, "Attach the policy NAME to USER"),
		attachCmd(f, "detach", http.MethodDelete, "Detach the policy NAME from USER"), newCtlSimulateCmd(f),
		attachGroupCmd(f, "attach", http.MethodPost, "Attach the policy NAME to GROUP: every member gets it"),
		attachGroupCmd(f, "detach", http.MethodDelete, "Detach the policy NAME from GROUP"))
	return cmd
}

// attachCmd is `policy attach|detach USER NAME`.
func attachCmd(f *ctlFlags, verb, method, short string) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " USER NAME",
		Short: short,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var u admin.User
			path := "/auth/users/" + url.PathEscape(args[0]) + "/policies/" + url.PathEscape(args[1])
			return f.run(cmd, method, path, ctlAuthTimeout, &u, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "%sed policy %s; user %s has policies %s\n", verb, args[1], u.Name, list(u.Policies))
			})
		},
	}
}

func newCtlSimulateCmd(f *ctlFlags) *cobra.Command {
	var keys, attrs []string
	var sel, ret string
	cmd := &cobra.Command{
		Use:   "simulate USER ACTION RESOURCE",
		Short: "Say whether USER's policies allow ACTION (GetItem, dynamodb:Query...) on RESOURCE (a table, an ARN, *)",
		Long: `Decide a request as the DynamoDB API would under USER's policies, and say
which statement decided: an explicit Deny, the first Allow, or none (denied
by default). --key gives the partition key values (dynamodb:LeadingKeys),
--attribute the attributes read or written, --select and --return-values
the request's Select and ReturnValues.`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{"user": {args[0]}, "action": {args[1]}, "resource": {args[2]}, "key": keys, "attribute": attrs}
			if sel != "" {
				q.Set("select", sel)
			}
			if ret != "" {
				q.Set("return-values", ret)
			}
			var res admin.SimulateResult
			return f.run(cmd, http.MethodGet, "/auth/simulate?"+q.Encode(), ctlAuthTimeout, &res, func(w *tabwriter.Writer) {
				verdict := "ALLOWED"
				if !res.Allowed {
					verdict = "DENIED"
				}
				fmt.Fprintf(w, "%s: %s %s on %s\n%s\n", verdict, res.User, res.Action, res.Resource, res.Explanation)
				if res.Message != "" {
					fmt.Fprintf(w, "the API answers AccessDeniedException: %s\n", res.Message)
				}
			})
		},
	}
	cmd.Flags().StringSliceVar(&keys, "key", nil, "partition key value(s) of the request (dynamodb:LeadingKeys)")
	cmd.Flags().StringSliceVar(&attrs, "attribute", nil, "attributes the request reads or writes (dynamodb:Attributes)")
	cmd.Flags().StringVar(&sel, "select", "", "the request's Select (dynamodb:Select)")
	cmd.Flags().StringVar(&ret, "return-values", "", "the request's ReturnValues (dynamodb:ReturnValues)")
	return cmd
}

// readFileOrStdin reads path, or the command's input for "-".
func readFileOrStdin(cmd *cobra.Command, path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(cmd.InOrStdin())
	}
	return os.ReadFile(path)
}
