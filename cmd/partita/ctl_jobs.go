package main

import (
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// jobRow is a background job as the node's jobs endpoint reports it.
type jobRow struct {
	Name                string    `json:"name"`
	Kind                string    `json:"kind"`
	State               string    `json:"state"`
	Paused              bool      `json:"paused"`
	LastOutcome         string    `json:"last_outcome"`
	LastError           string    `json:"last_error"`
	LastSuccess         time.Time `json:"last_success"`
	NextRun             time.Time `json:"next_run"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	Runs                uint64    `json:"runs"`
	Failures            uint64    `json:"failures"`
}

func printJobs(w *tabwriter.Writer, jobs []jobRow) {
	fmt.Fprintln(w, "NAME\tKIND\tSTATE\tLAST\tLAST SUCCESS\tNEXT RUN\tRUNS\tFAILURES\tERROR")
	for _, j := range jobs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", j.Name, j.Kind, j.State, dash(j.LastOutcome),
			ago(j.LastSuccess), stamp(j.NextRun), j.Runs, j.Failures, dash(j.LastError))
	}
}

// newCtlJobsCmd lists and controls one node's background jobs (the node
// whose admin address --addr names).
func newCtlJobsCmd(f *ctlFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List the background jobs of the node at --addr",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct {
				Jobs []jobRow `json:"jobs"`
			}
			return f.run(cmd, http.MethodGet, "/debug/jobs/", 10*time.Second, &out, func(w *tabwriter.Writer) {
				printJobs(w, out.Jobs)
			})
		},
	}
	for _, action := range []struct{ use, short, verb string }{
		{"pause NAME", "Pause a job (a running cycle finishes)", "pause"},
		{"resume NAME", "Resume a paused job", "resume"},
		{"run NAME", "Run a cycle of a job now", "run"},
	} {
		cmd.AddCommand(&cobra.Command{
			Use:   action.use,
			Short: action.short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				var j jobRow
				path := "/debug/jobs/" + url.PathEscape(args[0]) + "/" + action.verb
				return f.run(cmd, http.MethodPost, path, 30*time.Second, &j, func(w *tabwriter.Writer) {
					printJobs(w, []jobRow{j})
				})
			},
		})
	}
	return cmd
}
