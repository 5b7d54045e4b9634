package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/doctor/upgrade"
)

// newCtlUpgradeCmd groups the upgrade commands: the cluster version, what
// blocks its finalisation, and the hold on it.
func newCtlUpgradeCmd(f *ctlFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "upgrade", Short: "Follow a rolling upgrade: the cluster version and its finalisation", Args: cobra.NoArgs}
	cmd.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "Show each node's binary and versions, the active cluster version, and what blocks finalisation",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st upgrade.Status
			return f.run(cmd, http.MethodGet, "/upgrade/status", 20*time.Second, &st, func(w *tabwriter.Writer) {
				printUpgradeStatus(w, st)
			})
		},
	}, newCtlUpgradeHoldCmd(f, "hold"), newCtlUpgradeHoldCmd(f, "release"), newCtlUpgradePlanCmd(f))
	return cmd
}

// newCtlUpgradeHoldCmd holds or releases automatic finalisation.
func newCtlUpgradeHoldCmd(f *ctlFlags, verb string) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use: verb,
		Short: map[string]string{"hold": "Stop the cluster version from being finalised (a rollback stays safe meanwhile)",
			"release": "Let the Doctor finalise the cluster version again"}[verb],
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st upgrade.Status
			q := url.Values{"reason": {reason}}
			return f.run(cmd, http.MethodPost, "/upgrade/"+verb+"?"+q.Encode(), 20*time.Second, &st, func(w *tabwriter.Writer) {
				printUpgradeStatus(w, st)
			})
		},
	}
	if verb == "hold" {
		cmd.Flags().StringVar(&reason, "reason", "", "why (recorded with the hold)")
	}
	return cmd
}

func printUpgradeStatus(w *tabwriter.Writer, st upgrade.Status) {
	fmt.Fprintf(w, "cluster version %s\n", st.Active)
	switch {
	case st.Target > st.Active && st.Due():
		fmt.Fprintf(w, "finalisation to version %d: due now\n", st.Target)
	case st.Target > st.Active:
		fmt.Fprintf(w, "finalisation to version %d blocked:\n", st.Target)
		for _, b := range st.Blockers {
			fmt.Fprintf(w, "  - %s\n", b)
		}
	default:
		fmt.Fprintln(w, "nothing to finalise: no version newer than the active one is supported by every node")
	}
	if st.Hold {
		fmt.Fprintf(w, "held by %s\n", st.HoldBy)
	}
	fmt.Fprintf(w, "rollback: %s\n", st.Rollback)
	fmt.Fprintln(w, "\nNODE\tZONE\tBINARY\tVERSIONS\tLIVENESS\tWRITES")
	for _, n := range st.Nodes {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", n.ID, orDash(n.Zone), orDash(n.Binary), n.Versions, n.Liveness, orDash(n.Format))
	}
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
