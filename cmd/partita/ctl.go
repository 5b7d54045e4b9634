package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/topology"
)

// ctlFlags are the flags shared by the ctl subcommands.
type ctlFlags struct {
	addr   string
	output string
	auth   ctlAuth // ctl_client.go
}

// defaultCtlAddr is the admin address ctl talks to without --addr or
// PARTITA_ADDR.
const defaultCtlAddr = "127.0.0.1:9000"

func newCtlCmd() *cobra.Command {
	f := &ctlFlags{}
	addr := os.Getenv("PARTITA_ADDR")
	if addr == "" {
		addr = defaultCtlAddr
	}
	cmd := &cobra.Command{
		Use:   "ctl",
		Short: "Inspect and operate a running cluster",
		Long: `Inspect and operate a running Partita cluster through the admin endpoint
of any of its nodes (--addr, or PARTITA_ADDR; default 127.0.0.1:9000).

  partita ctl nodes                      nodes, addresses, zones, liveness
  partita ctl tables                     tables, status, partition counts
  partita ctl partitions [--table T]     replicas, leaders, applied index and lag
  partita ctl topology                   the view the topology reports build: liveness, health, load
  partita ctl node drain ID              move the node's leaderships away and keep them away until it restarts
  partita ctl node undrain ID            let a drained node lead again without a restart
  partita ctl node decommission ID       mark the node: the Doctor moves its replicas, then removes it
  partita ctl node recommission ID       clear the mark of a node still decommissioning
  partita ctl partition split T P [--at K]  split partition P of table T in two (at partition key K)
  partita ctl doctor status              the active Doctor (lease holder, epoch, expiry), this node's role
  partita ctl user create|list|delete    users of the DynamoDB API
  partita ctl key create|list|disable|enable|delete   their access keys (two per user, for rotation)
  partita ctl policy put|list|delete|attach|detach|simulate   what users may do (IAM-style policies)
  partita ctl config list|get|set|unset|history|diff|rollback|effective   run-time settings, live
  partita ctl policy put|list|delete|attach|detach|attach-group|detach-group|simulate
                                         what users may do (IAM-style policies)
  partita ctl group create|list|delete|add-user|remove-user   groups of users
  partita ctl admin-token create|list|revoke   bearer tokens of the admin endpoint
  partita ctl join-token create|list|revoke    tokens that let a node join a closed cluster

Output is an aligned table; -o json prints the endpoint's JSON for scripts.

A closed cluster (partita start without --insecure, dev --auth) takes
changes (drain, decommission, jobs, config, the Doctor's gates and
decisions) and every /auth request (users, keys, policies, groups, tokens)
from an authenticated admin only, as does a node started with --certs-dir
or --admin-token-file. Give ctl an admin token (--admin-token,
PARTITA_ADMIN_TOKEN, or the first node's <data-dir>/admin-token, which
ctl reads by itself from --data-dir, default partita-data), or --certs-dir
with the cluster's ca.crt and a client certificate (which also makes
--addr https unless it names its scheme).`,
		Args: cobra.NoArgs,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if f.output != "table" && f.output != "json" {
				return fmt.Errorf("-o %q: want table or json", f.output)
			}
			return nil
		},
	}
	cmd.PersistentFlags().StringVar(&f.addr, "addr", addr, "admin address (HOST:PORT) of any node of the cluster (env PARTITA_ADDR)")
	cmd.PersistentFlags().StringVarP(&f.output, "output", "o", "table", "output format: table or json")
	f.auth.register(cmd.PersistentFlags())
	nodeCmd := &cobra.Command{Use: "node", Short: "Operate on one node: drain, undrain, decommission, recommission", Args: cobra.NoArgs}
	nodeCmd.AddCommand(newCtlDrainCmd(f), newCtlUndrainCmd(f), newCtlDecommissionCmd(f), newCtlRecommissionCmd(f))
	cmd.AddCommand(newCtlNodesCmd(f), newCtlTablesCmd(f), newCtlPartitionsCmd(f), nodeCmd, newCtlJobsCmd(f), newCtlTopologyCmd(f),
		newCtlDoctorCmd(f), newCtlUpgradeCmd(f), newCtlPartitionCmd(f), newCtlTableCmd(f), newCtlUserCmd(f), newCtlKeyCmd(f), newCtlPolicyCmd(f), newCtlGroupCmd(f),
		newCtlAdminTokenCmd(f), newCtlJoinTokenCmd(f), newCtlConfigCmd(f), newCtlBackupCmd(f),
		newCtlExportCmd(f), newCtlImportCmd(f))
	return cmd
}

func newCtlNodesCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "nodes",
		Short: "List the cluster's nodes with their liveness",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var nodes []topology.NodeInfo
			return f.run(cmd, http.MethodGet, "/cluster/nodes", 10*time.Second, &nodes, func(w *tabwriter.Writer) {
				// Grouped by zone, each zone's line first: its state and
				// its nodes' liveness.
				slices.SortStableFunc(nodes, func(a, b topology.NodeInfo) int { return cmp.Compare(a.Zone, b.Zone) })
				zones := map[string][]topology.NodeInfo{}
				for _, n := range nodes {
					zones[n.Zone] = append(zones[n.Zone], n)
				}
				fmt.Fprintln(w, "ZONE\tID\tSTATUS\tAPI\tPEER\tADMIN\tVERSION\tWRITES\tMETA\tHEARTBEAT\tJOINED\tMEMBERSHIP")
				for i, n := range nodes {
					if i == 0 || n.Zone != nodes[i-1].Zone {
						in := zones[n.Zone]
						alive := 0
						for _, z := range in {
							if z.Status == directory.Alive {
								alive++
							}
						}
						state := checker.ZoneStateOf(n.Zone, len(in), alive, len(zones))
						fmt.Fprintf(w, "%s\t\t%s: %d of %d alive\t\t\t\t\t\t\t\t\t\n", dash(n.Zone), state, alive, len(in))
					}
					fmt.Fprintf(w, "\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.ID, n.Status, dash(n.APIAddr),
						dash(n.PeerAddr), dash(n.AdminAddr), dash(n.Version), dash(n.WriteFormat), yesNo(n.MetaVoter), ago(n.Heartbeat), stamp(n.Joined),
						membership(n))
				}
			})
		},
	}
}

func newCtlTablesCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "tables",
		Short: "List the tables with their status and partition count",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var tables []topology.TableInfo
			return f.run(cmd, http.MethodGet, "/cluster/tables", 10*time.Second, &tables, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "NAME\tID\tSTATUS\tPARTITIONS\tCREATED")
				for _, t := range tables {
					fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%s\n", t.Name, t.ID, t.Status, t.Partitions, stamp(t.Created))
				}
			})
		},
	}
}

func newCtlPartitionsCmd(f *ctlFlags) *cobra.Command {
	var table string
	cmd := &cobra.Command{
		Use:   "partitions",
		Short: "List partitions with their replicas, leaders, applied index and lag",
		Long: `List partitions (the meta partition and every table's, or one table's with
--table), one line per replica: its node, role (leader, follower, learner;
unreachable when the node did not answer, missing when it answered without
the replica), term, applied index, log entries, and lag behind the leader's
applied index.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := "/cluster/partitions"
			if table != "" {
				path += "?table=" + url.QueryEscape(table)
			}
			var parts []topology.PartitionInfo
			return f.run(cmd, http.MethodGet, path, 15*time.Second, &parts, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "TABLE\tPARTITION\tGEN\tHASH RANGE\tNODE\tROLE\tTERM\tAPPLIED\tLOG\tLAG")
				for _, p := range parts {
					rng := "-"
					if p.Table != topology.MetaTable {
						rng = fmt.Sprintf("%016x-%016x", p.HashStart, p.HashEnd)
					}
					if len(p.Status) == 0 {
						fmt.Fprintf(w, "%s\t%d\t%d\t%s\t-\t-\t-\t-\t-\t-\n", p.Table, p.ID, p.Generation, rng)
					}
					for i, r := range p.Status {
						lead := fmt.Sprintf("%s\t%d\t%d\t%s", p.Table, p.ID, p.Generation, rng)
						if i > 0 {
							lead = "\t\t\t"
						}
						role := r.Role
						if r.Role == topology.RoleUnreachable || r.Role == topology.RoleMissing {
							fmt.Fprintf(w, "%s\t%d\t%s\t-\t-\t-\t-\n", lead, r.Node, role)
							continue
						}
						fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%d\t%d\t%d\n", lead, r.Node, role, r.Term, r.Applied, r.LogEntries, r.Lag)
					}
				}
			})
		},
	}
	cmd.Flags().StringVar(&table, "table", "", "only this table's partitions")
	return cmd
}

func parseNodeID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("bad node id %q", s)
	}
	return id, nil
}

// run sends method path to the admin endpoint, decodes its JSON into out
// and prints it: as received with -o json, else through table.
func (f *ctlFlags) run(cmd *cobra.Command, method, path string, timeout time.Duration, out any, table func(*tabwriter.Writer)) error {
	return f.runWith(cmd, method, path, nil, timeout, out, table)
}

// runWith is run, sending reqBody (nil: none).
func (f *ctlFlags) runWith(cmd *cobra.Command, method, path string, reqBody []byte, timeout time.Duration, out any, table func(*tabwriter.Writer)) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
	defer cancel()
	body, err := f.call(ctx, method, path, reqBody)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s: %w: is %s the admin address of a cluster node?", path, err, f.addr)
	}
	if f.output == "json" {
		_, err := cmd.OutOrStdout().Write(body)
		return err
	}
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	table(w)
	return w.Flush()
}

// call sends one request and returns the body of a 200 answer.
func (f *ctlFlags) call(ctx context.Context, method, path string, reqBody []byte) ([]byte, error) {
	base := f.addr
	if !strings.Contains(base, "://") {
		base = f.auth.scheme() + base
	}
	var rd io.Reader
	if reqBody != nil {
		rd = bytes.NewReader(reqBody)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(base, "/")+path, rd)
	if err != nil {
		return nil, err
	}
	f.auth.authorize(req)
	client, err := f.auth.httpClient()
	if err != nil {
		return nil, err
	}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &verify):
		return nil, fmt.Errorf("%w (give --certs-dir with the cluster's ca.crt)", err)
	case err != nil:
		return nil, fmt.Errorf("%w (is --addr the admin address of a cluster node?)", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 == 2 {
		return body, nil
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return nil, fmt.Errorf("%s %s: %s: the node wants an admin: give ctl --admin-token (or PARTITA_ADMIN_TOKEN; the first node "+
			"of a cluster keeps one in <data-dir>/%s, which --data-dir finds), or --certs-dir with a client certificate of the cluster CA",
			method, path, resp.Status, node.AdminTokenFile)
	}
	var ei admin.ErrorInfo
	if json.Unmarshal(body, &ei) == nil && ei.Error != "" {
		return nil, &statusError{code: resp.StatusCode, msg: fmt.Sprintf("%s: %s", resp.Status, ei.Error)}
	}
	if resp.StatusCode == http.StatusNotFound && !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		return nil, fmt.Errorf("%s %s: not found: is %s a node of a cluster (partita start, or dev --nodes N)?", method, path, f.addr)
	}
	return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(body))
}

// statusError is an admin endpoint's error answer (an ErrorInfo), with
// its HTTP status.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return e.msg }

// isStatus says err is an admin endpoint's answer with HTTP status code.
func isStatus(err error, code int) bool {
	var se *statusError
	return errors.As(err, &se) && se.code == code
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func idOrDash(id uint64) string {
	if id == 0 {
		return "-"
	}
	return strconv.FormatUint(id, 10)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// ago prints how long ago t was, to the tenth of a second.
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return time.Since(t).Round(100*time.Millisecond).String() + " ago"
}
