package main

import (
	"fmt"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/admin"
)

// newCtlDoctorCmd groups the Doctor's commands.
func newCtlDoctorCmd(f *ctlFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "doctor", Short: "Inspect the Doctor, the cluster's repair control plane", Args: cobra.NoArgs}
	cmd.AddCommand(newCtlDoctorStatusCmd(f))
	return cmd
}

// newCtlDoctorStatusCmd shows the Doctor lease and the role of the node at
// --addr.
func newCtlDoctorStatusCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show which node's Doctor is active, its epoch and lease, and this node's role",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st admin.DoctorStatus
			return f.run(cmd, http.MethodGet, "/doctor/status", 10*time.Second, &st, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "HOLDER\tEPOCH\tEXPIRES\tACQUIRED\tNODE\tROLE")
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%d\t%s\n", idOrDash(st.Holder), st.Epoch, until(st.Expires),
					stamp(st.Acquired), st.Node, st.Role)
			})
		},
	}
}

// until prints how long from now t is, to the tenth of a second.
func until(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := time.Until(t).Round(100 * time.Millisecond)
	if d < 0 {
		return "expired " + (-d).String() + " ago"
	}
	return "in " + d.String()
}
