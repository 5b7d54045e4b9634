package main

import (
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/admin"
)

func newCtlTableCmd(f *ctlFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "table", Short: "Operate on one table: its change log", Args: cobra.NoArgs}
	cmd.AddCommand(newCtlChangeViewCmd(f))
	return cmd
}

func newCtlChangeViewCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "change-view TABLE VIEW",
		Short: "Set what a table's change log keeps of each write",
		Long: `Set the change view of TABLE: what each partition's change log records of
every write applied from now on. VIEW is NONE (no log: the default, at no
cost), KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES, as DynamoDB
Streams' StreamViewType. Records are kept for changelog.retention (24h by
default; per table with --scope table:T). Every partition takes the view
before the command answers: a write acknowledged after it is logged with
it. A view that keeps less than the table's stream, global secondary
indexes or point-in-time recovery read is refused; those set the view
themselves, and this is the operator's switch for more.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var res admin.ChangeViewResult
			path := fmt.Sprintf("/cluster/tables/%s/change-view?%s", url.PathEscape(args[0]), url.Values{"view": {args[1]}}.Encode())
			return f.run(cmd, http.MethodPost, path, time.Minute, &res, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "table %s: change view %s\n", res.Table, res.View)
			})
		},
	}
}
